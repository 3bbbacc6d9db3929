"""score.py, generate.py and export.py on one model trained on the sample corpus."""
import contextlib
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import configs
import export
import generate
import ptb_word_lm
import run_dir
import score
from conftest import ROOT, run_cli as run_program, run_into_closed_pipe

tf.compat.v1.disable_eager_execution()
SAMPLE = ROOT / "data" / "sample"
# Two epochs at the test config's max_grad_norm=1 learn only word frequencies, and a scrambled
# sentence scores as well as the real one; four at max_grad_norm=5 learn some word order.
CONFIG = dataclasses.replace(configs.get_config("test"), hidden_size=64, num_steps=10, batch_size=8,
                             num_layers=2, max_grad_norm=5, max_epoch=4, max_max_epoch=4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    save_path = str(tmp_path_factory.mktemp("trained"))
    with contextlib.redirect_stdout(io.StringIO()):
        ptb_word_lm.train(CONFIG, str(SAMPLE), "block", 0, save_path)
    return save_path


def run_cli(program, *args):
    return run_program(*args, program=program)


def sample_lines(n):
    return [line.split() for line in (SAMPLE / "ptb.test.txt").read_text().splitlines()[:n]]


def test_score_ranks_real_sentences_above_scrambled(trained):
    real = sample_lines(8)
    rng = np.random.RandomState(0)
    scrambled = [list(rng.permutation(line)) for line in real]
    assert scrambled != real
    real_total, scrambled_total = (score.score(trained, "best", lines)[1] for lines in (real, scrambled))
    assert real_total < 0.7 * scrambled_total


def test_score_is_one_stream_and_lines_add_up_to_the_total(trained):
    lines = sample_lines(12)
    per_line, total, words, unknown = score.score(trained, "best", lines)
    assert [n for _, n in per_line] == [len(line) + 1 for line in lines] and words == sum(n for _, n in per_line)
    assert np.exp(sum(n * np.log(p) for p, n in per_line) / words) == pytest.approx(total, rel=1e-5)
    assert words > ptb_word_lm.TEST_CHUNK  # scored in more than one chunk
    # The same ids one at a time through run_epoch, the state carried by ptb_word_lm itself.
    config, word_to_id, prefix = run_dir.load_trained(trained, "best")
    ids, _ = score.text_ids(lines, word_to_id, "text")
    with ptb_word_lm.restored_model(config, prefix, ptb_word_lm.PTBInput(ids, 1, 1)) as (session, model):
        reference, _ = ptb_word_lm.run_epoch(session, model)
    assert total == pytest.approx(reference, rel=1e-5) and unknown == 0


def test_read_lines_from_stdin_skips_blank_lines(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b" a b \n\n  \nc\n")))
    assert score.read_lines("-") == [["a", "b"], ["c"]]


def test_score_cli_prints_each_line_and_counts_unknown_words(trained, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text(" the hotel said it would add N rooms \n\n the zorblax said the qwertyx \n")
    result = run_cli("score.py", f"--save_path={trained}", str(text))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[1].endswith("words   6  the zorblax said the qwertyx")
    assert lines[0].startswith("ppl ") and lines[0].split()[3] == "9"
    assert lines[2].startswith("Total: perplexity ") and lines[2].endswith("over 15 words (2 unknown mapped to <unk>)")


def test_score_cli_shows_progress_on_stderr_for_a_long_text_only(trained, tmp_path):
    long_text = SAMPLE / "ptb.train.txt"  # 5,465 words and <eos>: 55 chunks of TEST_CHUNK ids
    result = run_cli("score.py", f"--save_path={trained}", str(long_text))
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if " perplexity: " in line]
    assert [line.split()[0] for line in progress] == [f"{i * 5 / 55:.3f}" for i in range(1, 12)]
    assert float(progress[-1].split()[2]) == pytest.approx(float(result.stdout.splitlines()[-1].split()[2]), abs=0.051)
    assert all(line.startswith("ppl ") for line in result.stdout.splitlines()[:-1])
    short = run_cli("score.py", f"--save_path={trained}", str(SAMPLE / "ptb.valid.txt"))
    assert short.returncode == 0 and " perplexity: " not in short.stderr


def test_as_text_breaks_lines_at_eos():
    assert generate.as_text(["a", "b", "<eos>", "c", "<eos>"]) == "a b\nc"


def in_session(save_path, function, *args, prompt="the hotel"):
    """function(session, model, ids of the prompt, *args) with the checkpoint's batch-1 step model."""
    config, word_to_id, prefix = run_dir.load_trained(save_path, "best")
    input_ = ptb_word_lm.PTBInput(np.zeros(0, np.int32), 1, 1)
    with ptb_word_lm.restored_model(config, prefix, input_) as (session, model):
        return function(session, model, generate.prompt_ids(prompt, word_to_id)[0], *args)


def test_top_k_one_and_a_cold_temperature_are_greedy(trained):
    def greedy(session, model, ids, num_words):
        (logits, state), words = generate.read_prompt(session, model, ids), []
        for _ in range(num_words):
            words.append(int(np.argmax(logits)))
            logits, state = generate.step(session, model, words[-1], state)
        return words

    expected = in_session(trained, greedy, 12)
    assert in_session(trained, generate.generate, 12, 1.0, 1, 5) == expected
    assert in_session(trained, generate.generate, 12, 1e-4, 0, 6) == expected
    assert len(set(in_session(trained, generate.generate, 12, 1.0, 0, 7))) > 1


def test_generate_same_seed_same_text_other_seed_other(trained):
    args = [f"--save_path={trained}", "--prompt=the hotel", "--num_words=30"]
    runs = [run_cli("generate.py", *args, f"--seed={seed}") for seed in (1, 1, 2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    texts = [r.stdout for r in runs]
    assert texts[0] == texts[1] != texts[2] and texts[0].startswith("the hotel ")


def test_generate_into_a_closed_pipe_ends_quietly(trained):
    result = run_into_closed_pipe("generate.py", f"--save_path={trained}", "--prompt=the hotel", "--num_words=5")
    assert (result.returncode, result.stderr) == (1, "")


def test_next_words_are_the_k_likeliest_with_their_probabilities(trained):
    result = run_cli("generate.py", f"--save_path={trained}", "--prompt=the hotel", "--next_words=6")
    assert result.returncode == 0, result.stderr
    printed = [(word, float(p)) for word, p in (line.split() for line in result.stdout.splitlines())]
    probabilities = [p for _, p in printed]
    assert len(printed) == 6 and probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1
    expected = in_session(trained, generate.next_words, 6)
    vocab = (Path(trained) / "vocab.txt").read_text().split("\n")
    assert [word for word, _ in printed] == [vocab[i] for i, _ in expected]
    assert probabilities == pytest.approx([p for _, p in expected], abs=5e-5)


# In a process of its own, without this code: the [1, 1] export stepped through "<eos> the hotel"
# with the state fed back, and the [2, 3] export given "<eos> the hotel" and "<eos> the town" at once.
LOAD_AND_RUN = """
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf

def load(export_dir):
    vocab = open(os.path.join(export_dir, "vocab.txt")).read().split()
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    zeros = {name: tf.zeros(spec.shape) for name, spec in serve.structured_input_signature[1].items()
             if name != "word_ids"}
    def run(sentences, state=None):
        ids = tf.constant([[vocab.index(w) for w in s.split()] for s in sentences], tf.int32)
        return serve(word_ids=ids, **(state or zeros))
    return run

stepped, state = load(sys.argv[1]), None
for word in ["<eos>", "the", "hotel"]:
    out = stepped([word], state)
    state = {name: out[name] for name in out if name != "log_probs"}
batched = load(sys.argv[2])(["<eos> the hotel", "<eos> the town"])
print(json.dumps({"stepped": np.exp(out["log_probs"].numpy()[0, -1]).tolist(),
                  "batched": np.exp(batched["log_probs"].numpy()[:, -1]).tolist()}))
"""


def test_exported_model_gives_the_checkpoints_next_word_probabilities(trained, tmp_path):
    stepped, batched = tmp_path / "stepped", tmp_path / "batched"
    export.export(trained, "best", str(stepped))
    export.export(trained, "best", str(batched), batch_size=2, num_steps=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batched", "stepped"]  # no scratch left behind
    assert (stepped / "vocab.txt").read_text() == (Path(trained) / "vocab.txt").read_text()
    result = subprocess.run([sys.executable, "-c", LOAD_AND_RUN, str(stepped), str(batched)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout.splitlines()[-1])
    last_logits = lambda session, model, ids: generate.read_prompt(session, model, ids)[0]
    expected = [generate.softmax(in_session(trained, last_logits, prompt=p)) for p in ("the hotel", "the town")]
    np.testing.assert_allclose(exported["stepped"], expected[0], atol=1e-5)
    np.testing.assert_allclose(exported["batched"], expected, atol=1e-5)
    assert np.abs(expected[0] - expected[1]).max() > 1e-3


def test_export_refuses_a_non_empty_directory(trained, tmp_path):
    (tmp_path / "keep.txt").write_text("keep me")
    result = run_cli("export.py", f"--save_path={trained}", f"--export_dir={tmp_path}")
    assert result.returncode != 0 and "not an empty directory" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"] and (tmp_path / "keep.txt").read_text() == "keep me"


@pytest.mark.parametrize("program, args, message", [
    ("score.py", ["--save_path=/nonexistent", "data/sample/ptb.test.txt"], "no best checkpoint"),
    ("score.py", ["SAVE", "/nonexistent.txt"], "cannot read /nonexistent.txt"),
    ("export.py", ["--save_path=/nonexistent", "--export_dir=/tmp/unused"], "no best checkpoint"),
    ("export.py", ["SAVE", "--export_dir=/tmp/unused", "--batch_size=0"], "--batch_size=0: give an integer of at least 1"),
    ("generate.py", ["SAVE", "--prompt= "], "prompt is empty"),
    ("generate.py", ["SAVE", "--prompt=zorblax qwertyx"], "no word of the prompt"),
    ("generate.py", ["SAVE", "--prompt=the", "--next_words=0"], "--next_words=0: give an integer of at least 1"),
    ("generate.py", ["SAVE", "--prompt=the", "--num_words=-2"], "--num_words=-2: give an integer"),
    ("generate.py", ["SAVE", "--prompt=the", "--temperature=0"], "--temperature=0: give a finite number greater than 0"),
])
def test_bad_input_is_one_line_and_nonzero(trained, program, args, message):
    result = run_cli(program, *[f"--save_path={trained}" if a == "SAVE" else a for a in args])
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{program}: error: ") and message in lines[0]
