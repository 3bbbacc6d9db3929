"""score.py: the perplexity of a text, line by line, on a model trained on the sample corpus."""
import io
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import ptb_word_lm
import run_dir
import score
from conftest import ROOT, SAMPLE, assert_one_line_error, run_in_process

tf.compat.v1.disable_eager_execution()


def sample_lines(n):
    return [line.split() for line in (SAMPLE / "ptb.test.txt").read_text().splitlines()[:n]]


def test_score_ranks_real_sentences_above_scrambled(trained):
    real = sample_lines(8)
    rng = np.random.RandomState(0)
    scrambled = [list(rng.permutation(line)) for line in real]
    assert scrambled != real
    model = run_dir.load_trained(trained, "best")
    real_total, scrambled_total = (score.score(*model, lines)[1] for lines in (real, scrambled))
    assert real_total < 0.7 * scrambled_total


def test_score_is_one_stream_and_lines_add_up_to_the_total(trained):
    lines = sample_lines(12)
    config, word_to_id, prefix = run_dir.load_trained(trained, "best")
    per_line, total, words, unknown = score.score(config, word_to_id, prefix, lines)
    assert [n for _, n in per_line] == [len(line) + 1 for line in lines] and words == sum(n for _, n in per_line)
    assert np.exp(sum(n * np.log(p) for p, n in per_line) / words) == pytest.approx(total, rel=1e-5)
    assert words > ptb_word_lm.TEST_CHUNK  # scored in more than one chunk
    # The same ids one at a time through run_epoch, the state carried by ptb_word_lm itself.
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
    result = run_in_process(f"--save_path={trained}", str(text), program="score.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[1].endswith("words   6  the zorblax said the qwertyx")
    assert lines[0].startswith("ppl ") and lines[0].split()[3] == "9"
    assert lines[2].startswith("Total: perplexity ") and lines[2].endswith("over 15 words (2 unknown mapped to <unk>)")


def test_score_cli_shows_progress_on_stderr_for_a_long_text_only(trained):
    long_text = SAMPLE / "ptb.train.txt"  # 5,465 words and <eos>: 55 chunks of TEST_CHUNK ids
    result = run_in_process(f"--save_path={trained}", str(long_text), program="score.py")
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if " perplexity: " in line]
    assert [line.split()[0] for line in progress] == [f"{i * 5 / 55:.3f}" for i in range(1, 12)]
    assert float(progress[-1].split()[2]) == pytest.approx(float(result.stdout.splitlines()[-1].split()[2]), abs=0.051)
    assert all(line.startswith("ppl ") for line in result.stdout.splitlines()[:-1])
    short = run_in_process(f"--save_path={trained}", str(SAMPLE / "ptb.valid.txt"), program="score.py")
    assert short.returncode == 0 and " perplexity: " not in short.stderr


@pytest.mark.parametrize("args, message", [
    (["data/sample/ptb.test.txt"], "give the directory of a training run"),
    (["--save_path=/nonexistent", "data/sample/ptb.test.txt"], "no best checkpoint"),
    (["SAVE", "/nonexistent.txt"], "cannot read /nonexistent.txt"),
    (["SAVE"], "give one text file to score"),
    (["SAVE", "data/sample/ptb.test.txt", "data/sample/ptb.valid.txt"], "give one text file to score"),
])
def test_bad_input_is_one_line_and_nonzero(trained, args, message):
    result = run_in_process(*[f"--save_path={trained}" if a == "SAVE" else a for a in args], program="score.py")
    assert_one_line_error(result, "score.py", message)


@pytest.mark.parametrize("content, message", [(b"the \xff hotel\n", "is not UTF-8 text"), (b" \n\n", "has no words")])
def test_a_text_that_cannot_be_scored_is_one_line_and_nonzero(trained, tmp_path, content, message):
    (tmp_path / "text.txt").write_bytes(content)
    result = run_in_process(f"--save_path={trained}", str(tmp_path / "text.txt"), program="score.py")
    assert_one_line_error(result, "score.py", message)


def test_a_vocabulary_without_eos_cannot_end_lines():
    with pytest.raises(score.UsageError, match="has no <eos>"):
        score.text_ids([["a", "b"]], {"a": 0, "b": 1}, "text")


def test_a_missing_save_path_is_refused_before_standard_input_is_read():
    process = subprocess.Popen([sys.executable, str(ROOT / "score.py"), "-"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=120)  # standard input stays open: a program reading it first would wait here
        assert process.returncode == 1 and "give the directory of a training run" in process.stderr.read()
    finally:
        process.kill()
        process.communicate()
