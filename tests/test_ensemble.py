import contextlib
import dataclasses
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import configs
import ensemble
import ptb_word_lm
from conftest import ROOT, SAMPLE, assert_one_line_error, run_cli, run_in_process, tiny_corpus, write_corpus

tf.compat.v1.disable_eager_execution()
CONFIG = dataclasses.replace(configs.get_config("test"), hidden_size=16, num_steps=5, batch_size=4, max_max_epoch=2)


def train(save_path, seed, data_path=str(SAMPLE), config=CONFIG):
    with contextlib.redirect_stdout(io.StringIO()):
        ptb_word_lm.train(config, data_path, "block", seed, str(save_path))
    return str(save_path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return [train(root / f"seed{seed}", seed) for seed in (1, 2)]


def test_an_ensemble_of_one_is_the_model_itself(runs):
    with contextlib.redirect_stdout(io.StringIO()):
        valid, test = ptb_word_lm.evaluate(runs[0], SAMPLE, "best")
        results = ensemble.evaluate_ensemble(runs[:1], SAMPLE)
    assert results["valid_perplexity"] == pytest.approx(valid, rel=1e-5)
    assert results["test_perplexity"] == pytest.approx(test, rel=1e-5)
    assert results["members"][0]["seed"] == 1 and results["members"][0]["test_perplexity"] == pytest.approx(test, rel=1e-5)


def test_latest_members_are_the_models_their_results_report(runs):
    with contextlib.redirect_stdout(io.StringIO()):
        results = ensemble.evaluate_ensemble(runs, SAMPLE, "latest")
    assert results["checkpoint"] == "latest"
    for member, run in zip(results["members"], runs):
        recorded = json.loads(Path(run, "results.json").read_text())
        assert member["valid_perplexity"] == pytest.approx(recorded["epochs"][-1]["valid_perplexity"], rel=1e-5)
        assert member["test_perplexity"] == pytest.approx(recorded["test_perplexity"], rel=1e-5)


def test_two_identical_members_are_one(runs, tmp_path):
    twin = shutil.copytree(runs[0], tmp_path / "twin")
    with contextlib.redirect_stdout(io.StringIO()):
        one, two = ensemble.evaluate_ensemble(runs[:1], SAMPLE), ensemble.evaluate_ensemble([runs[0], str(twin)], SAMPLE)
    assert two["test_perplexity"] == pytest.approx(one["test_perplexity"], rel=1e-6)
    assert two["valid_perplexity"] == pytest.approx(one["valid_perplexity"], rel=1e-6)


def test_the_average_is_of_probabilities(runs):
    _, _, test, word_to_id, _ = ptb_word_lm.reader.load_corpus(SAMPLE)
    inputs = {"test": ptb_word_lm.PTBInput(test, 1, ptb_word_lm.TEST_CHUNK, score_every_id=True)}
    costs = [ensemble.member_costs(*ensemble.check_member(run, inputs, word_to_id), inputs)["test"] for run in runs]
    with contextlib.redirect_stdout(io.StringIO()):
        results = ensemble.evaluate_ensemble(runs, SAMPLE)
    mean_probability = (np.exp(-costs[0]) + np.exp(-costs[1])) / 2
    assert results["test_perplexity"] == pytest.approx(np.exp(-np.log(mean_probability).mean()), rel=1e-5)
    mean_log_probability = np.exp((costs[0] + costs[1]).mean() / 2)  # what averaging logits would resemble
    assert results["test_perplexity"] < mean_log_probability * (1 - 1e-4)
    assert results["test_perplexity"] < max(m["test_perplexity"] for m in results["members"])


def test_members_of_another_vocabulary_are_refused_in_one_line(runs, tmp_path):
    other = train(tmp_path / "other", 0, tiny_corpus(tmp_path))
    result = run_cli(f"--data_path={SAMPLE}", runs[0], other, program="ensemble.py")
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and "another vocabulary" in lines[0], result.stderr


def test_a_validation_file_shorter_than_one_batch_is_refused_in_one_line(runs, tmp_path):
    old = shutil.copytree(runs[0], tmp_path / "old")  # a run from before results.json recorded the data sizes
    results = json.loads((old / "results.json").read_text())
    del results["data"]
    (old / "results.json").write_text(json.dumps(results))
    sample = Path(SAMPLE)
    short = write_corpus(tmp_path / "short", (sample / "ptb.train.txt").read_text(), "a b\n",
                         (sample / "ptb.test.txt").read_text())
    result = run_in_process(f"--data_path={short}", str(old), program="ensemble.py")
    assert_one_line_error(result, "ensemble.py", "the validation data has 3 words, too few for one batch")


@pytest.mark.parametrize("args, message", [
    ([], "give the runs to average"),
    (["--checkpoint=final", "RUN0"], "unknown --checkpoint=final; use best or latest"),
    (["RUN0", "RUN0"], "a member is given twice"),
    (["--json=/nonexistent/e.json", "RUN0"], "--json=/nonexistent/e.json cannot be written (No such file"),
    (["--json=results", "RUN0"], "--json=results is a directory"),
])
def test_bad_arguments_are_one_line_before_any_member_is_read(runs, args, message):
    result = run_in_process(f"--data_path={SAMPLE}", *[runs[0] if a == "RUN0" else a for a in args],
                            program="ensemble.py")
    assert_one_line_error(result, "ensemble.py", message)


def test_a_member_trained_on_other_data_is_refused_in_one_line(runs, tmp_path):
    other = shutil.copytree(runs[0], tmp_path / "other")
    results = json.loads((other / "results.json").read_text())
    results["data"]["valid_ids"] += 1
    (other / "results.json").write_text(json.dumps(results))
    result = run_in_process(f"--data_path={SAMPLE}", runs[1], str(other), program="ensemble.py")
    assert_one_line_error(result, "ensemble.py", "was trained on other data")


@pytest.mark.parametrize("first", [True, False])
def test_a_member_that_is_not_a_run_is_refused_in_one_line(runs, tmp_path, first):
    members = [str(tmp_path / "typo"), runs[0]] if first else [runs[0], str(tmp_path / "typo")]
    result = run_in_process(f"--data_path={SAMPLE}", *members, program="ensemble.py")
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert f"no best checkpoint in --save_path={tmp_path / 'typo'}" in lines[0]


def test_the_cli_writes_a_json_naming_its_members(runs, tmp_path):
    result = run_cli(f"--data_path={SAMPLE}", f"--json={tmp_path / 'e.json'}", *runs, program="ensemble.py")
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "e.json").read_text())
    assert [m["seed"] for m in written["members"]] == [1, 2] and written["kind"] == "ensemble"
    assert f"Test Perplexity: {written['test_perplexity']:.3f}" in result.stdout


def test_costs_files_give_the_perplexities_of_their_run_directories(runs):
    with contextlib.redirect_stdout(io.StringIO()):
        from_runs = ensemble.evaluate_ensemble(runs, SAMPLE, "latest")
        from_files = ensemble.evaluate_ensemble([f"{run}/costs_latest.npz" for run in runs], SAMPLE, "latest")
    for key in ("valid_perplexity", "test_perplexity"):
        assert from_files[key] == pytest.approx(from_runs[key], rel=1e-6)
    assert [m["seed"] for m in from_files["members"]] == [1, 2] and "costs" in from_files["members"][0]
    assert from_files["members"][0]["config"] == from_runs["members"][0]["config"]


def rewritten_costs(run, path, **changes):
    """A copy of the run's costs file with some of its arrays replaced."""
    with np.load(Path(run, "costs_latest.npz")) as saved:
        np.savez(path, **{**dict(saved), **changes})
    return str(path)


@pytest.mark.parametrize("change, message", [
    (lambda costs: {"valid": costs["valid"][:-20]}, "every member's validation stream must be cut alike"),
    (lambda costs: {"config": str(costs["config"]).replace('"batch_size": 4', '"batch_size": 2')},  # same length
     "cut into batch_size x num_steps = 2 x 5, not the first member's 4 x 5"),
    (lambda costs: {"corpus_digest": "0" * 64}, "the word costs of another corpus"),
    (lambda costs: {"checkpoint": "best"}, "holds the word costs of the best checkpoint, not the latest"),
])
def test_a_costs_file_that_does_not_fit_is_refused_in_one_line(runs, tmp_path, change, message):
    with np.load(Path(runs[1], "costs_latest.npz")) as saved:
        changed = rewritten_costs(runs[1], tmp_path / "changed.npz", **change(saved))
    result = run_in_process(f"--data_path={SAMPLE}", "--checkpoint=latest", f"{runs[0]}/costs_latest.npz", changed,
                            program="ensemble.py")
    assert_one_line_error(result, "ensemble.py", message)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 broken", b"not numpy at all"])
def test_a_file_that_is_not_a_costs_file_is_refused_in_one_line(runs, tmp_path, content):
    (tmp_path / "bad.npz").write_bytes(content)
    result = run_in_process(f"--data_path={SAMPLE}", "--checkpoint=latest", f"{runs[0]}/costs_latest.npz",
                            str(tmp_path / "bad.npz"), program="ensemble.py")
    assert_one_line_error(result, "ensemble.py", "is not a costs file written by ptb_word_lm.py")


def averages_of_committed_costs_files():
    """results/ensemble_*.json whose every member is a costs file: what anyone can check without the runs."""
    averages = [(path, json.loads(path.read_text())) for path in sorted((ROOT / "results").glob("ensemble_*.json"))]
    params = [pytest.param(saved, id=path.stem) for path, saved in averages
              if all("costs" in member for member in saved["members"])]
    assert params, "results/ holds the medium averages, made from committed costs files"
    return params


@pytest.mark.parametrize("saved", averages_of_committed_costs_files())
def test_a_committed_average_is_what_its_committed_costs_files_give(saved, shared_ptb):
    members = [str(ROOT / member["costs"]) for member in saved["members"]]
    results = ensemble.evaluate_ensemble(members, shared_ptb, saved["checkpoint"])
    for key in ("valid_perplexity", "test_perplexity"):
        assert results[key] == pytest.approx(saved[key], rel=1e-6)
    assert [m["test_perplexity"] for m in results["members"]] == pytest.approx(
        [m["test_perplexity"] for m in saved["members"]], rel=1e-6)
