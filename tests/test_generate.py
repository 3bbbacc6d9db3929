"""generate.py: sampling and the likeliest next words, on a model trained on the sample corpus."""
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import generate
from conftest import assert_one_line_error, in_session, run_cli, run_in_process, run_into_closed_pipe

tf.compat.v1.disable_eager_execution()


def test_as_text_breaks_lines_at_eos():
    assert generate.as_text(["a", "b", "<eos>", "c", "<eos>"]) == "a b\nc"


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
    # the first run a process of its own: the same text must not hang on this process's hash seed
    runs = [run(*args, f"--seed={seed}", program="generate.py")
            for run, seed in ((run_cli, 1), (run_in_process, 1), (run_in_process, 2))]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    texts = [r.stdout for r in runs]
    assert texts[0] == texts[1] != texts[2] and texts[0].startswith("the hotel ")


def test_generate_into_a_closed_pipe_ends_quietly(trained):
    result = run_into_closed_pipe("generate.py", f"--save_path={trained}", "--prompt=the hotel", "--num_words=5")
    assert (result.returncode, result.stderr) == (1, "")


def test_next_words_are_the_k_likeliest_with_their_probabilities(trained):
    result = run_in_process(f"--save_path={trained}", "--prompt=the hotel", "--next_words=6", program="generate.py")
    assert result.returncode == 0, result.stderr
    printed = [(word, float(p)) for word, p in (line.split() for line in result.stdout.splitlines())]
    probabilities = [p for _, p in printed]
    assert len(printed) == 6 and probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1
    expected = in_session(trained, generate.next_words, 6)
    vocab = (Path(trained) / "vocab.txt").read_text().split("\n")
    assert [word for word, _ in printed] == [vocab[i] for i, _ in expected]
    assert probabilities == pytest.approx([p for _, p in expected], abs=5e-5)


@pytest.mark.parametrize("args, message", [
    (["--prompt=the"], "give the directory of a training run"),
    (["SAVE", "--prompt= "], "prompt is empty"),
    (["SAVE", "--prompt=zorblax qwertyx"], "no word of the prompt"),
    (["SAVE", "--prompt=the", "--next_words=0"], "--next_words=0: give an integer of at least 1"),
    (["SAVE", "--prompt=the", "--num_words=-2"], "--num_words=-2: give an integer"),
    (["SAVE", "--prompt=the", "--temperature=0"], "--temperature=0: give a finite number greater than 0"),
    (["SAVE"], "give the words to continue"),
    (["SAVE", "--prompt=the", "stray"], "unexpected argument 'stray'"),
])
def test_bad_input_is_one_line_and_nonzero(trained, args, message):
    result = run_in_process(*[f"--save_path={trained}" if a == "SAVE" else a for a in args], program="generate.py")
    assert_one_line_error(result, "generate.py", message)
