"""What a --save_path holds and how a run resumes: checkpoints every epoch and inside one, segments,
resume, eval_only, refusals, Ctrl-C, a full disk. Short configs on the sample corpus."""
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

import configs
import ptb_word_lm
import run_dir
from conftest import ROOT, assert_one_line_error, run_in_process

tf.compat.v1.disable_eager_execution()

SHORT_RUN = ["--model=test", "--data_path=data/sample", "--hidden_size=32", "--num_steps=5", "--batch_size=8",
             "--max_max_epoch=3", "--keep_prob=0.5", "--seed=3"]


def final_test_perplexity(output):
    return float(output.strip().splitlines()[-1].split()[-1])


def start_and_stop(save_path, sig, ready, *extra_flags):
    """Start SHORT_RUN into save_path and send it sig as soon as ready(save_path) holds."""
    # A shell's background job inherits SIGINT ignored, and Python then never raises KeyboardInterrupt:
    # restore the default so the test behaves the same however pytest was started.
    process = subprocess.Popen([sys.executable, str(ROOT / "ptb_word_lm.py"), *SHORT_RUN, *extra_flags,
                                f"--save_path={save_path}"],
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not ready(save_path):
        assert process.poll() is None, "finished before it could be stopped"
        time.sleep(0.01)
    process.send_signal(sig)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def start_and_stop_after_first_epoch(save_path, sig, *extra_flags):
    return start_and_stop(save_path, sig, lambda path: (path / "checkpoint").exists(), *extra_flags)


def kill_at_a_mid_epoch_checkpoint(save_path, epoch, epoch_size):
    """Start SHORT_RUN with a mid-epoch checkpoint every few batches and kill -9 it just after the
    first one inside epoch `epoch` is complete (its index file names it), long before the next."""
    def inside_the_epoch(path):
        index = run_dir.checkpoint_path(str(path), "mid_epoch")
        return index is not None and (epoch - 1) * epoch_size < int(index.rsplit("-", 1)[1]) < epoch * epoch_size
    returncode, _, _ = start_and_stop(save_path, signal.SIGKILL, inside_the_epoch, "--checkpoint_minutes=0.002")
    assert returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    save_path = tmp_path_factory.mktemp("full")
    result = run_in_process(*SHORT_RUN, f"--save_path={save_path}")
    assert result.returncode == 0, result.stderr
    # --eval_only tests rewrite costs_latest.npz: keep the one training wrote
    shutil.copy(save_path / "costs_latest.npz", save_path / "costs_written_by_training.npz")
    return save_path, result.stdout


def test_killed_run_resumes_to_the_same_result(tmp_path, uninterrupted):
    _, full_output = uninterrupted
    returncode, _, _ = start_and_stop_after_first_epoch(tmp_path, signal.SIGKILL)
    assert returncode == -signal.SIGKILL
    resumed = run_in_process(*SHORT_RUN, f"--save_path={tmp_path}")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming from" in resumed.stdout and "Epoch: 1 Train" not in resumed.stdout
    assert final_test_perplexity(resumed.stdout) == pytest.approx(final_test_perplexity(full_output), rel=1e-4)
    results = json.loads((tmp_path / "results.json").read_text())
    assert [e["epoch"] for e in results["epochs"]] == [1, 2, 3]


@pytest.mark.parametrize("epoch", [1, 2])  # 1: no results.json yet, and the first steps' record goes on
def test_a_run_killed_inside_an_epoch_resumes_at_its_mid_epoch_checkpoint_to_the_same_result(tmp_path, uninterrupted,
                                                                                               epoch):
    full = json.loads((uninterrupted[0] / "results.json").read_text())
    kill_at_a_mid_epoch_checkpoint(tmp_path, epoch, full["epochs"][0]["train_steps"])
    resumed = run_in_process(*SHORT_RUN, f"--save_path={tmp_path}")
    assert resumed.returncode == 0, resumed.stderr
    assert "mid_epoch.ckpt-" in resumed.stdout and f"continuing at epoch {epoch}, batch " in resumed.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    for field in ("train_perplexity", "valid_perplexity"):
        assert [e[field] for e in results["epochs"]] == pytest.approx([e[field] for e in full["epochs"]], rel=1e-5)
    for field, values in full["first_steps"].items():
        assert results["first_steps"][field] == pytest.approx(values, rel=1e-5)
    assert results["test_perplexity"] == pytest.approx(full["test_perplexity"], rel=1e-5)
    assert [s["first_epoch"] for s in results["segments"]] == [1, epoch]
    assert not list(tmp_path.glob("mid_epoch*")) and not (tmp_path / "checkpoint_mid_epoch").exists()


def test_a_mid_epoch_checkpoint_cut_short_is_passed_over_for_the_epochs_own(tmp_path, uninterrupted):
    full = json.loads((uninterrupted[0] / "results.json").read_text())
    kill_at_a_mid_epoch_checkpoint(tmp_path, 2, full["epochs"][0]["train_steps"])
    with np.load(tmp_path / run_dir.MID_EPOCH_PROGRESS) as saved:  # as if killed before its weights were saved
        progress = dict(saved, global_step=saved["global_step"] + 1)
    np.savez(tmp_path / run_dir.MID_EPOCH_PROGRESS, **progress)
    resumed = run_in_process(*SHORT_RUN, f"--save_path={tmp_path}")
    assert resumed.returncode == 0, resumed.stderr
    assert "model.ckpt-1: 1 epochs done, continuing at epoch 2\n" in resumed.stdout
    assert final_test_perplexity(resumed.stdout) == pytest.approx(full["test_perplexity"], rel=1e-5)


def test_eval_only_prints_the_trained_final_test_perplexity(uninterrupted):
    save_path, full_output = uninterrupted
    result = run_in_process("--data_path=data/sample", f"--save_path={save_path}", "--eval_only", "--checkpoint=latest")
    assert result.returncode == 0, result.stderr
    assert "Valid Perplexity:" in result.stdout and "Train" not in result.stdout
    assert final_test_perplexity(result.stdout) == pytest.approx(final_test_perplexity(full_output), rel=1e-5)
    best = run_in_process("--data_path=data/sample", f"--save_path={save_path}", "--eval_only")
    valid = float(best.stdout.split("Valid Perplexity: ")[1].split()[0])
    history = json.loads((save_path / "results.json").read_text())["epochs"]
    assert valid == pytest.approx(min(e["valid_perplexity"] for e in history), rel=1e-4)


@pytest.mark.parametrize("change, message", [
    ({"--rnn_mode=basic": None}, "drop --rnn_mode"),  # evaluation always runs basic
    ({"valid": "a b\n"}, "the validation data has 3 words, too few for one batch"),
    ({"train": (ROOT / "data" / "sample" / "ptb.train.txt").read_text() + " zebra \n"}, "is not the one"),
    ({"test": "the"}, "the test data has fewer than 2 words"),  # one word, no newline: no <eos> after it
])
def test_eval_only_refuses_what_it_cannot_evaluate_in_one_line(tmp_path, uninterrupted, change, message):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "sample", data)
    flags = [flag for flag in change if flag.startswith("--")]
    for split in set(change) - set(flags):
        (data / f"ptb.{split}.txt").write_text(change[split])
    result = run_in_process(f"--data_path={data}", f"--save_path={uninterrupted[0]}", "--eval_only", *flags)
    assert_one_line_error(result, "ptb_word_lm.py", message)


def snapshot(directory):
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_other_configuration_in_save_path_is_refused_untouched(uninterrupted):
    save_path, _ = uninterrupted
    before = snapshot(save_path)
    result = run_in_process(*SHORT_RUN[:-1], "--hidden_size=16", f"--save_path={save_path}")
    assert_one_line_error(result, "ptb_word_lm.py", "hidden_size: 32 there, 16 now")
    assert snapshot(save_path) == before


def test_corrupt_checkpoint_is_refused_untouched(tmp_path, uninterrupted):
    save_path = tmp_path / "run"
    shutil.copytree(uninterrupted[0], save_path)
    data_file = next(save_path.glob("model.ckpt-3.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:100])
    before = snapshot(save_path)
    result = run_in_process(*SHORT_RUN, "--max_max_epoch=4", f"--save_path={save_path}")
    assert_one_line_error(result, "ptb_word_lm.py", "corrupt or incomplete")
    assert snapshot(save_path) == before


def with_config(**fields):
    """An edit of a run's results.json: each config field set, or removed where None."""
    def edit(save_path):
        path = save_path / "results.json"
        results = json.loads(path.read_text())
        for name, value in fields.items():
            if value is None:
                del results["config"][name]
            else:
                results["config"][name] = value
        path.write_text(json.dumps(results))
    return edit


def without(name):
    return lambda save_path: (save_path / name).unlink()


def vocab_without_its_last_word(save_path):
    path = save_path / "vocab.txt"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))


@pytest.mark.parametrize("edit, message", [
    pytest.param(without("results.json"), "results.json is missing or unreadable", id="no results.json"),
    pytest.param(with_config(colour="red"), "has a config field this version does not know (colour)",
                 id="unknown field"),
    pytest.param(with_config(hidden_size=None), "has an incomplete config", id="missing field"),
    pytest.param(with_config(hidden_size=16), "does not fit the configuration in its results.json",
                 id="other hidden_size"),
    pytest.param(without("vocab.txt"), "vocab.txt is missing or unreadable", id="no vocab.txt"),
    pytest.param(vocab_without_its_last_word, "words but results.json says", id="short vocab.txt"),
])
def test_a_run_directory_changed_by_hand_is_refused_untouched(tmp_path, uninterrupted, edit, message):
    save_path = copy_of(uninterrupted, tmp_path)
    edit(save_path)
    before = snapshot(save_path)
    result = run_in_process("--data_path=data/sample", f"--save_path={save_path}", "--eval_only")
    assert_one_line_error(result, "ptb_word_lm.py", message)
    assert snapshot(save_path) == before


def test_eval_only_without_checkpoint(tmp_path):
    result = run_in_process("--data_path=data/sample", f"--save_path={tmp_path}", "--eval_only")
    assert_one_line_error(result, "ptb_word_lm.py", "no best checkpoint")


@pytest.mark.parametrize("sig, expected_returncode", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])  # Ctrl-C, kill
def test_ctrl_c_or_kill_keeps_the_checkpoint_and_says_how_to_resume(tmp_path, sig, expected_returncode):
    # 50 epochs: a loaded machine may take seconds to send the signal, and the run must still be going
    returncode, _, err = start_and_stop_after_first_epoch(tmp_path, sig, "--max_max_epoch=50")
    assert returncode == expected_returncode, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    assert tf.train.latest_checkpoint(str(tmp_path))


def test_divergence_stops_with_the_epoch_and_step(tmp_path):
    result = run_in_process(*SHORT_RUN, "--learning_rate=1e30", f"--save_path={tmp_path}")
    assert_one_line_error(result, "ptb_word_lm.py", "diverged in epoch 1")
    assert "step" in result.stderr


def copy_of(uninterrupted, tmp_path):
    save_path = tmp_path / "run"
    shutil.copytree(uninterrupted[0], save_path)
    return save_path


def latest_epochs_on_disk(save_path):
    return sorted(int(p.name.split("-")[1].split(".")[0]) for p in save_path.glob("model.ckpt-*.index"))


def test_segments_add_up_and_each_epoch_names_its_machine_and_layer(tmp_path, uninterrupted):
    start_and_stop_after_first_epoch(tmp_path, signal.SIGKILL)
    assert run_in_process(*SHORT_RUN, "--rnn_mode=basic", f"--save_path={tmp_path}").returncode == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert [s["first_epoch"] for s in results["segments"]] == [1, 2]
    assert [s["rnn_mode"] for s in results["segments"]] == ["block", "basic"] and results["rnn_mode"] == "block"
    assert results["wall_seconds"] == pytest.approx(sum(s["seconds"] for s in results["segments"]))
    assert [e["segment"] for e in results["epochs"]] == [1, 2, 2]
    assert set(results["epochs"][0]["machine"]) == {"cpu", "avx512"}
    full = json.loads((uninterrupted[0] / "results.json").read_text())
    assert results["num_parameters"] == full["num_parameters"] > 0


def test_a_finished_run_is_not_run_again_but_can_be_extended(tmp_path, uninterrupted):
    save_path = copy_of(uninterrupted, tmp_path)
    before = snapshot(save_path)
    again = run_in_process(*SHORT_RUN, f"--save_path={save_path}")
    assert again.returncode == 0 and "finished run of 3 epochs" in again.stdout and "Test Perplexity" not in again.stdout
    shortened = run_in_process(*SHORT_RUN, "--max_max_epoch=2", f"--save_path={save_path}")
    assert shortened.returncode != 0 and "holds a run of 3 epochs, more than --max_max_epoch=2" in shortened.stderr
    assert snapshot(save_path) == before
    extended = run_in_process(*SHORT_RUN, "--max_max_epoch=4", f"--save_path={save_path}")
    assert extended.returncode == 0 and "continuing at epoch 4" in extended.stdout, extended.stderr
    results = json.loads((save_path / "results.json").read_text())
    assert len(results["epochs"]) == 4 and results["test_perplexity"] is not None and len(results["segments"]) == 2
    assert latest_epochs_on_disk(save_path) == [3, 4]  # the checkpoints of the first segment are counted too


def test_the_schedule_may_change_if_every_trained_epoch_keeps_its_rate(tmp_path, uninterrupted):
    save_path = copy_of(uninterrupted, tmp_path)  # 3 epochs at rates 1, 0.5, 0.25 (max_epoch=1)
    before = snapshot(save_path)
    rewrites_history = run_in_process(*SHORT_RUN, "--max_max_epoch=4", "--max_epoch=2", f"--save_path={save_path}")
    assert rewrites_history.returncode != 0 and "max_epoch: 1 there, 2 now" in rewrites_history.stderr
    assert "epoch 2 was trained at rate 0.5, the new schedule gives it 1" in rewrites_history.stderr
    lower_rate = run_in_process(*SHORT_RUN, "--max_max_epoch=4", "--learning_rate=0.5", f"--save_path={save_path}")
    assert lower_rate.returncode != 0 and "epoch 1 was trained at rate 1, the new schedule gives it 0.5" in lower_rate.stderr
    assert snapshot(save_path) == before
    start_and_stop_after_first_epoch(tmp_path / "killed", signal.SIGKILL)
    later_decay = run_in_process(*SHORT_RUN, "--max_epoch=2", f"--save_path={tmp_path / 'killed'}")
    assert later_decay.returncode == 0, later_decay.stderr
    results = json.loads((tmp_path / "killed" / "results.json").read_text())
    assert [e["learning_rate"] for e in results["epochs"]] == [1, 1, 0.5]
    assert results["config"]["max_epoch"] == 2


def test_resume_keeps_the_saved_seed_and_refuses_another(tmp_path, uninterrupted):
    save_path = copy_of(uninterrupted, tmp_path)
    other = run_in_process(*SHORT_RUN[:-1], "--seed=7", "--max_max_epoch=4", f"--save_path={save_path}")
    assert other.returncode != 0 and "seed: 3 there, 7 now" in other.stderr
    unsaid = run_in_process(*SHORT_RUN[:-1], "--max_max_epoch=4", f"--save_path={save_path}")
    assert unsaid.returncode == 0, unsaid.stderr
    assert json.loads((save_path / "results.json").read_text())["seed"] == 3


def test_files_of_another_run_are_kept_even_without_a_checkpoint(tmp_path, uninterrupted):
    for name in ("results.json", "vocab.txt"):
        save_path = tmp_path / name
        save_path.mkdir()
        content = (uninterrupted[0] / name).read_text()
        # results.json of another configuration; vocab.txt of another corpus
        content = content.replace('"hidden_size": 32', '"hidden_size": 16') if name == "results.json" else "a\nb\n"
        (save_path / name).write_text(content)
        result = run_in_process(*SHORT_RUN, f"--save_path={save_path}")
        assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert (save_path / name).read_text() == content and os.listdir(save_path) == [name]


def test_a_run_killed_before_its_first_checkpoint_starts_over(tmp_path, uninterrupted):
    save_path = tmp_path / "run"
    save_path.mkdir()
    shutil.copy(uninterrupted[0] / "vocab.txt", save_path)  # what the killed run had written
    result = run_in_process(*SHORT_RUN, f"--save_path={save_path}")
    assert result.returncode == 0 and "Resuming" not in result.stdout, result.stderr


def test_resume_from_the_best_checkpoint_when_it_is_the_newest(tmp_path, uninterrupted):
    save_path = copy_of(uninterrupted, tmp_path)
    history = json.loads((save_path / "results.json").read_text())["epochs"]
    assert min(history, key=lambda e: e["valid_perplexity"])["epoch"] == 3  # best.ckpt holds epoch 3
    # As when saving model.ckpt-3 failed after best.ckpt was saved: the latest index still names epoch 2.
    for path in save_path.glob("model.ckpt-3.*"):
        path.unlink()
    index = save_path / "checkpoint"
    index.write_text(index.read_text().replace("model.ckpt-3", "model.ckpt-2"))
    result = run_in_process(*SHORT_RUN, "--max_max_epoch=4", f"--save_path={save_path}")
    assert result.returncode == 0, result.stderr
    assert "best.ckpt: 3 epochs done, continuing at epoch 4" in result.stdout


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB filesystem (a tmpfs mount, which needs root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a size-limited tmpfs needs root and mount")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def test_a_full_disk_keeps_the_earlier_checkpoints_and_resumes(small_disk):
    save_path = small_disk / "run"
    first = run_in_process(*SHORT_RUN, "--max_max_epoch=1", "--hidden_size=100", f"--save_path={save_path}")
    assert first.returncode == 0, first.stderr
    checkpoint_bytes = sum(p.stat().st_size for p in save_path.glob("model.ckpt-1.*"))
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - checkpoint_bytes // 2))
    before = snapshot(save_path)
    full = run_in_process(*SHORT_RUN, "--max_max_epoch=2", "--hidden_size=100", f"--save_path={save_path}")
    assert_one_line_error(full, "ptb_word_lm.py", "is full")
    assert not [p for p in os.listdir(save_path) if "temp" in p]
    assert {name: before[name] for name in before if "ckpt" in name} == \
        {name: content for name, content in snapshot(save_path).items() if name in before and "ckpt" in name}
    filler.unlink()
    again = run_in_process(*SHORT_RUN, "--max_max_epoch=2", "--hidden_size=100", f"--save_path={save_path}")
    assert again.returncode == 0, again.stderr
    assert "continuing at epoch 2" in again.stdout


@pytest.mark.parametrize("interrupted, message", [("test pass", "Interrupted during the test pass"),
                                                  ("second epoch", "Interrupted during epoch 2")])
def test_ctrl_c_says_where_and_the_record_stays_whole(interrupted, message, tmp_path, monkeypatch, capsys):
    config = dataclasses.replace(configs.get_config("test"), hidden_size=8, max_max_epoch=2)
    run_epoch, word_costs = ptb_word_lm.run_epoch, ptb_word_lm.word_costs
    training_passes = []

    def interrupting_training(session, model, train_op=None, *args, **kwargs):
        training_passes.extend([model] if train_op is not None else [])
        if interrupted == "second epoch" and len(training_passes) == 2:
            raise KeyboardInterrupt
        return run_epoch(session, model, train_op, *args, **kwargs)

    def interrupting_test(session, model, *args):
        if interrupted == "test pass" and model.input_.score_every_id:
            raise KeyboardInterrupt
        return word_costs(session, model, *args)

    monkeypatch.setattr(ptb_word_lm, "run_epoch", interrupting_training)
    monkeypatch.setattr(ptb_word_lm, "word_costs", interrupting_test)
    with pytest.raises(KeyboardInterrupt):
        ptb_word_lm.train(config, str(ROOT / "data" / "sample"), "block", 0, str(tmp_path))
    assert message in capsys.readouterr().err
    assert not [t for t in threading.enumerate() if type(t).__name__ == "_EventLoggerThread"]  # the writer closed
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["wall_seconds"] > 0 and results["test_perplexity"] is None
    assert len(results["epochs"]) == (2 if interrupted == "test pass" else 1)


def test_a_run_written_before_the_module_split_still_evaluates_and_resumes(tmp_path):
    # tests/data/run_86728ef: `ptb_word_lm.py --model=test --data_path=data/sample --hidden_size=8
    # --max_max_epoch=2` at commit 86728ef, the last before lstm.py and run_dir.py (model.ckpt-1 left out).
    save_path = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "data" / "run_86728ef", save_path)
    recorded = json.loads((save_path / "results.json").read_text())
    evaluated = run_in_process("--eval_only", f"--save_path={save_path}", "--data_path=data/sample")
    assert evaluated.returncode == 0, evaluated.stderr
    printed = dict(line.split(" Perplexity: ") for line in evaluated.stdout.splitlines() if " Perplexity: " in line)
    assert float(printed["Valid"]) == pytest.approx(recorded["epochs"][-1]["valid_perplexity"], abs=2e-3)
    assert float(printed["Test"]) == pytest.approx(recorded["test_perplexity"], abs=2e-3)
    resumed = run_in_process("--model=test", "--data_path=data/sample", "--hidden_size=8", "--max_max_epoch=3",
                             f"--save_path={save_path}")
    assert resumed.returncode == 0, resumed.stderr
    assert "2 epochs done, continuing at epoch 3" in resumed.stdout
    assert [e["epoch"] for e in json.loads((save_path / "results.json").read_text())["epochs"]] == [1, 2, 3]


def test_the_machine_record_names_the_cpu_family_that_tells_apart_cpus_of_one_name(tmp_path):
    processor = "processor\t: {}\nvendor_id\t: AuthenticAMD\ncpu family\t: {}\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n" \
                "flags\t\t: fpu avx2 fma avx512f avx512_bf16\n"
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(processor.format(0, 26) + "\n" + processor.format(1, 25))
    machine = run_dir.machine_description(cpuinfo)
    assert (machine["cpu"], machine["cpu_family"], machine["cpu_model"]) == ("AMD EPYC", 26, 2)
    assert machine["flags"] == ["avx2", "fma", "avx512f", "avx512_bf16"] and machine["avx512"]
    unknown = run_dir.machine_description(tmp_path / "absent")
    assert (unknown["cpu_family"], unknown["cpu_model"], unknown["flags"]) == (None, None, [])


def test_the_machine_record_names_the_thread_counts_set_in_the_environment(monkeypatch):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    assert run_dir.machine_description()["threads"] == {"intraop": "1", "interop": None}


@pytest.mark.parametrize("setting", ["0", "1"])
def test_the_machine_record_says_whether_tensorflow_runs_on_onednn_as_the_environment_set_it(setting):
    printed = subprocess.run([sys.executable, "-c", "import run_dir; print(run_dir.machine_description()['onednn'])"],
                             cwd=ROOT, env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS=setting), capture_output=True,
                             text=True, check=True).stdout.split()
    assert printed == [str(setting == "1")]


def test_a_run_with_model_flags_resumes_evaluates_and_serves_and_a_command_without_one_is_refused(tmp_path):
    save_path = tmp_path / "run"
    with_flags = [*SHORT_RUN, *(f"--{flag}" for flag in ptb_word_lm.MODEL_FLAGS), f"--save_path={save_path}"]
    assert run_in_process(*with_flags, "--max_max_epoch=1").returncode == 0
    before = snapshot(save_path)
    for flag in ptb_word_lm.MODEL_FLAGS:
        without = run_in_process(*(arg for arg in with_flags if arg != f"--{flag}"), "--max_max_epoch=2")
        assert without.returncode == 1 and f"{flag}: True there, False now" in without.stderr
        assert len(without.stderr.strip().splitlines()) == 1 and snapshot(save_path) == before
    resumed = run_in_process(*with_flags, "--max_max_epoch=2")
    assert resumed.returncode == 0 and "continuing at epoch 2" in resumed.stdout, resumed.stderr
    evaluated = run_in_process("--data_path=data/sample", f"--save_path={save_path}", "--eval_only")
    assert evaluated.returncode == 0 and "Test Perplexity: " in evaluated.stdout, evaluated.stderr
    for program, *args in (("score.py", str(ROOT / "data" / "sentences.txt")),
                           ("generate.py", "--prompt=the", "--next_words=3"),
                           ("export.py", f"--export_dir={tmp_path / 'exported'}")):
        served = run_in_process(f"--save_path={save_path}", *args, program=program)
        assert served.returncode == 0, f"{program}: {served.stderr}"


def test_versions_name_the_code_commit():
    code = run_dir.versions()["code"]
    commit = shutil.which("git") and subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                                    capture_output=True, text=True)
    if not commit or commit.returncode != 0:
        assert code is None  # no git, or not a git checkout
    else:
        assert code.split("+")[0] == commit.stdout.strip()


def test_a_finished_run_writes_the_word_costs_of_its_final_model(uninterrupted):
    save_path, _ = uninterrupted
    results = json.loads((save_path / "results.json").read_text())
    costs = run_dir.read_costs(str(save_path / "costs_written_by_training.npz"))
    assert costs["valid"].dtype == costs["test"].dtype == np.float32
    assert ptb_word_lm.perplexity(costs["test"]) == pytest.approx(results["test_perplexity"], rel=1e-6)
    assert ptb_word_lm.perplexity(costs["valid"]) == pytest.approx(results["epochs"][-1]["valid_perplexity"], rel=1e-5)
    assert len(costs["test"]) == results["data"]["test_ids"] - 1
    assert (costs["checkpoint"], costs["seed"], costs["config"].hidden_size) == ("latest", 3, 32)


COMMITTED_COSTS = sorted((ROOT / "results" / "costs").glob("*.npz"))
assert COMMITTED_COSTS, "results/costs/ holds the committed members' word costs"


@pytest.mark.parametrize("path", COMMITTED_COSTS, ids=lambda path: path.stem)
def test_a_committed_costs_file_is_the_final_model_of_the_results_file_of_its_name(path):
    results = json.loads((ROOT / "results" / f"{path.stem}.json").read_text())
    costs = run_dir.read_costs(str(path))
    assert (costs["checkpoint"], costs["seed"]) == ("latest", results["seed"])
    assert dataclasses.asdict(costs["config"]) == configs.with_defaults(results["config"])
    assert ptb_word_lm.perplexity(costs["test"]) == pytest.approx(results["test_perplexity"], rel=1e-6)
    assert ptb_word_lm.perplexity(costs["valid"]) == pytest.approx(results["epochs"][-1]["valid_perplexity"], rel=1e-5)


def test_eval_only_writes_the_word_costs_of_the_checkpoint_it_scored(uninterrupted):
    save_path, _ = uninterrupted
    result = run_in_process("--data_path=data/sample", f"--save_path={save_path}", "--eval_only")
    assert result.returncode == 0, result.stderr
    costs = run_dir.read_costs(str(save_path / "costs_best.npz"))
    assert ptb_word_lm.perplexity(costs["test"]) == pytest.approx(final_test_perplexity(result.stdout), rel=1e-5)
    assert costs["checkpoint"] == "best"


def test_training_again_removes_the_costs_files_of_the_checkpoints_it_replaces(tmp_path, uninterrupted):
    save_path = shutil.copytree(uninterrupted[0], tmp_path / "run")
    extended = run_in_process(*SHORT_RUN, "--max_max_epoch=4", "--skip_test", f"--save_path={save_path}")
    assert extended.returncode == 0, extended.stderr
    assert not (save_path / "costs_latest.npz").exists()
