import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import configs
import ptb_word_lm
import reader
from conftest import ROOT, assert_one_line_error, run_cli, run_in_process, tiny_corpus, write_corpus

tf.compat.v1.disable_eager_execution()
TINY = dataclasses.replace(configs.get_config("test"), num_layers=2, hidden_size=8, num_steps=5,
                           batch_size=3, vocab_size=11, max_grad_norm=5)


def random_ids(n, seed=0):
    return np.random.RandomState(seed).randint(0, TINY.vocab_size, n).astype(np.int32)


def build(config=TINY, rnn_mode="block", data=None, seed=1):
    data = random_ids(200) if data is None else data
    return ptb_word_lm.build_models(config, data, data, data, rnn_mode, seed)


def test_basic_and_block_give_the_same_outputs_and_gradients():
    config = dataclasses.replace(TINY, init_scale=0.5)
    input_ = ptb_word_lm.PTBInput(random_ids(200), config.batch_size, config.num_steps)
    rng = np.random.RandomState(3)
    x, y = rng.randint(0, 11, (2, 3, 5))
    with tf.Graph().as_default():
        models, grads = {}, {}
        for mode in ("basic", "block"):
            with tf.compat.v1.variable_scope("Model", reuse=mode == "block",
                                             initializer=tf.compat.v1.random_uniform_initializer(-0.5, 0.5, seed=1)):
                models[mode] = ptb_word_lm.PTBModel(False, config, input_, mode)
            grads[mode] = tf.gradients(models[mode].cost, tf.compat.v1.trainable_variables())
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            carried_state = rng.randn(config.num_layers, 2, 3, 8)  # a non-zero state from a previous batch
            values = {}
            for mode, model in models.items():
                feed = {model.input_data: x, model.targets: y}
                for (c, h), (c_value, h_value) in zip(model.initial_state, carried_state):
                    feed[c], feed[h] = c_value, h_value
                values[mode] = session.run([model.cost, model.final_state, grads[mode]], feed)
    basic, block = (tf.nest.flatten(values[m]) for m in ("basic", "block"))
    assert len(basic) == len(block) > 10
    for a, b in zip(basic, block):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_train_valid_test_share_one_set_of_weights():
    with tf.Graph().as_default():
        models = build()
        names = sorted(v.name for v in tf.compat.v1.trainable_variables())
        assert names == ["Model/embedding:0", "Model/lstm_0/bias:0", "Model/lstm_0/kernel:0",
                         "Model/lstm_1/bias:0", "Model/lstm_1/kernel:0", "Model/softmax_b:0", "Model/softmax_w:0"]
        assert (models["Test"].input_.batch_size, models["Valid"].input_.num_steps) == (1, TINY.num_steps)


def test_small_model_has_the_papers_parameter_count():
    with tf.Graph().as_default():
        build(configs.get_config("small"), data=np.zeros(1000, np.int32))
        count = sum(np.prod(v.shape) for v in tf.compat.v1.trainable_variables())
        assert count == 4_651_600


def test_tied_small_model_shares_the_embedding_with_the_softmax():
    with tf.Graph().as_default():
        build(dataclasses.replace(configs.get_config("small"), tie_weights=True), data=np.zeros(1000, np.int32))
        count = sum(np.prod(v.shape) for v in tf.compat.v1.trainable_variables())
        assert count == 4_651_600 - 2_000_000
        assert "Model/softmax_w:0" not in [v.name for v in tf.compat.v1.trainable_variables()]


def test_uniform_biases_are_two_per_layer_drawn_like_the_weights_and_trained_alike():
    config = dataclasses.replace(TINY, uniform_biases=True, init_scale=0.3)
    x, y = np.random.RandomState(5).randint(0, 11, (2, 3, 5))
    with tf.Graph().as_default():
        m = build(config)["Train"]
        biases = [v for v in tf.compat.v1.trainable_variables() if "bias" in v.name]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            before = session.run(biases)
            session.run(m.train_op, {m.input_data: x, m.targets: y})
            after = session.run(biases)
    assert [v.name for v in biases] == ["Model/lstm_0/bias_input:0", "Model/lstm_0/bias_recurrent:0",
                                        "Model/lstm_1/bias_input:0", "Model/lstm_1/bias_recurrent:0"]
    assert all(0 < np.abs(b).max() <= 0.3 for b in before)
    for layer in (0, 2):  # the sum is the layer's bias: both get its gradient
        np.testing.assert_allclose(after[layer] - before[layer], after[layer + 1] - before[layer + 1], atol=1e-7)
        assert np.abs(after[layer] - before[layer]).max() > 0


def test_cost_falls_when_training_on_tiny_data():
    data = np.tile(np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], np.int32), 30)[:320]  # learnable: periodic
    with tf.Graph().as_default():
        m = build(dataclasses.replace(TINY, init_scale=0.5), data=data)["Train"]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            first, _ = ptb_word_lm.run_epoch(session, m, m.train_op)
            for _ in range(5):
                last, _ = ptb_word_lm.run_epoch(session, m, m.train_op)
    assert last < 0.5 * first


def test_a_step_with_a_gradient_norm_that_is_not_finite_stops_the_pass(monkeypatch):
    with tf.Graph().as_default():
        m = build()["Train"]
        monkeypatch.setattr(m, "grad_norm", tf.constant(np.inf))  # as when the gradient overflows
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            steps = []
            with pytest.raises(FloatingPointError, match="the gradient norm is inf at step 1 of"):
                ptb_word_lm.run_epoch(session, m, m.train_op, on_step=lambda *args: steps.append(args))
    assert steps == []  # no step was reported, so no checkpoint of the damaged weights is saved


@pytest.mark.parametrize("max_grad_norm", [0.1, 1e6])  # clipped, not clipped
def test_one_step_is_sgd_on_the_tutorials_clipped_gradient(max_grad_norm):
    config = dataclasses.replace(TINY, init_scale=0.5, max_grad_norm=max_grad_norm, learning_rate=0.7)
    x, y = np.random.RandomState(4).randint(0, 11, (2, 3, 5))
    with tf.Graph().as_default():
        m = build(config)["Train"]
        tvars = tf.compat.v1.trainable_variables()
        clipped, norm = tf.clip_by_global_norm(tf.gradients(m.cost, tvars), max_grad_norm)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            feed = {m.input_data: x, m.targets: y}
            before, clipped_values, norm_value = session.run([tvars, list(map(tf.convert_to_tensor, clipped)), norm], feed)
            session.run(m.train_op, feed)
            after = session.run(tvars)
    assert (norm_value > max_grad_norm) == (max_grad_norm < 1)
    for w0, g, w1 in zip(before, clipped_values, after):
        np.testing.assert_allclose(w1, w0 - 0.7 * g, atol=1e-6)


def test_only_the_trained_model_runs_rnn_mode_evaluation_runs_the_basic_forward():
    with tf.Graph().as_default() as graph:
        build(rnn_mode="block")
        fused = {op.name.split("/")[0] for op in graph.get_operations() if op.type == "BlockLSTMV2"}
    assert fused == {"Train"}


def test_chunked_test_pass_equals_batch_one_step_one_of_the_block_layer():
    # The tutorial's pass, one id per call through the fused kernel, and ours: 100 ids per call
    # through the basic layer.
    data = random_ids(57, seed=4)
    with tf.Graph().as_default():
        test_model = build(data=data)["Test"]
        with tf.compat.v1.variable_scope("Model", reuse=True):
            one_step = ptb_word_lm.PTBModel(False, TINY, ptb_word_lm.PTBInput(data, 1, 1), "block")
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            chunked, _ = ptb_word_lm.run_epoch(session, test_model)
            reference, _ = ptb_word_lm.run_epoch(session, one_step)
    assert test_model.input_.num_steps > 1
    assert chunked == pytest.approx(reference, rel=1e-5)


def test_dropout_only_in_training_and_a_function_of_the_step():
    config = dataclasses.replace(TINY, keep_prob=0.5)
    with tf.Graph().as_default():
        models = build(config)
        global_step = tf.compat.v1.train.get_or_create_global_step()
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            costs = {}
            for step in (0, 1):
                session.run(global_step.assign(step))
                for name in ("Train", "Valid"):
                    feed = {models[name].input_data: np.ones((3, 5)), models[name].targets: np.ones((3, 5))}
                    costs[name, step] = [session.run(models[name].cost, feed) for _ in range(2)]
    assert costs["Train", 0][0] == costs["Train", 0][1] != costs["Train", 1][0]  # same step, same mask
    assert costs["Valid", 0] == costs["Valid", 1] and costs["Valid", 0][0] != costs["Train", 0][0]


def test_same_seed_same_perplexities_other_seed_other(tmp_path):
    data_path, config = tiny_corpus(tmp_path), dataclasses.replace(TINY, max_max_epoch=2)
    runs = [ptb_word_lm.train(config, data_path, "block", seed) for seed in (5, 5, 6)]
    summary = [(r["epochs"][-1]["valid_perplexity"], r["test_perplexity"]) for r in runs]
    assert summary[0] == summary[1] != summary[2]


def test_skip_test_leaves_out_the_test_pass(tmp_path):
    results = ptb_word_lm.train(dataclasses.replace(TINY, max_max_epoch=1), tiny_corpus(tmp_path), "block", 0,
                                skip_test=True)
    assert results["test_perplexity"] is None and results["test_seconds"] is None
    assert results["epochs"][0]["valid_perplexity"] > 1


@pytest.mark.parametrize("unigram, max_steps, warned", [(1.0, None, True), (1e9, None, False), (1.0, 3, False)])
def test_a_model_no_better_than_word_frequencies_is_flagged(tmp_path, capsys, monkeypatch, unigram, max_steps, warned):
    # An epoch cut short (--max_steps_per_epoch) is not flagged: the first tenth of a healthy large
    # epoch validates above the unigram's perplexity.
    monkeypatch.setattr(reader, "unigram_perplexity", lambda train_ids, ids: unigram)
    monkeypatch.setattr(configs, "DEAD_START_FACTOR", float("inf"))  # a unigram of 1 would stop it at 5% of epoch 1
    results = ptb_word_lm.train(dataclasses.replace(TINY, max_max_epoch=1), tiny_corpus(tmp_path), "block", 0,
                                max_steps_per_epoch=max_steps, skip_test=True)
    assert results["data"]["unigram_valid_perplexity"] == unigram
    assert ("Warning: epoch 1: valid perplexity" in capsys.readouterr().err) == warned


def test_cli_end_to_end_on_the_sample(tmp_path):
    result = run_cli("--model=test", f"--save_path={tmp_path / 'run'}", "--data_path=data/sample")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Epoch: 1 Learning rate: 1.000" in out
    assert "Word frequencies alone (a unigram model) give valid perplexity 171.4" in out
    assert "Epoch: 1 Train Perplexity:" in out and "Epoch: 1 Valid Perplexity:" in out
    assert len([line for line in out.splitlines() if " wps" in line]) >= 9
    assert out.splitlines()[-1].startswith("Test Perplexity: ")
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["test_perplexity"] == pytest.approx(float(out.splitlines()[-1].split()[-1]), abs=1e-3)
    assert results["config"]["hidden_size"] == 2 and results["versions"]["tensorflow"] == tf.__version__
    assert len(results["epochs"]) == 1 and results["seed"] == 0
    assert tf.train.latest_checkpoint(str(tmp_path / "run"))
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "run"))


@pytest.mark.parametrize("model, flag, uniform_biases", [
    ("medium", None, True), ("medium", "--nouniform_biases", False), ("small", None, False),
    ("small", "--uniform_biases", True)])
def test_the_bias_flag_given_overrides_the_models_default(tmp_path, model, flag, uniform_biases):
    shrunk = ["--hidden_size=4", "--num_steps=3", "--batch_size=4", "--max_max_epoch=1", "--max_steps_per_epoch=2"]
    result = run_in_process(f"--model={model}", "--data_path=data/sample", *shrunk, "--skip_test",
                            f"--save_path={tmp_path / 'run'}", *([flag] if flag else []))
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["config"]["uniform_biases"] is uniform_biases
    biases = [name for name, _ in tf.train.list_variables(tf.train.latest_checkpoint(str(tmp_path / "run")))
              if "bias" in name and "lstm" in name]
    assert len(biases) == 2 * (2 if uniform_biases else 1)


def test_cli_without_data_path_says_it_uses_the_sample(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "DEFAULT_PTB_DIR", str(tmp_path))  # as if `reader.py download` was never run
    result = run_in_process("--model=test", "--max_max_epoch=1")
    assert result.returncode == 0, result.stderr
    assert f"Data: {reader.SAMPLE_DIR}:" in result.stdout and "not PTB numbers" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--data_path=/nonexistent"], "does not exist"),
    (["--model=huge"], "unknown model"),
    (["--rnn_mode=cudnn"], "unknown --rnn_mode"),
    (["--hidden_size=-3"], "--hidden_size=-3: give an integer greater than 0"),
    (["--num_steps=0"], "greater than 0"),
    (["--keep_prob=x"], "--keep_prob=x: give a finite number"),
    (["--seed=-1"], "--seed=-1: give an integer of at least 0"),
    (["--hidden_size=1" + "0" * 400], "give an integer greater than 0 and"),
    (["--batch_size=500"], "too few for one batch"),
    (["stray"], "unexpected argument"),
    (["--checkpoint=latest"], "--checkpoint only applies with --eval_only"),
    (["--save_path=/proc/ptb_run"], "--save_path=/proc/ptb_run cannot be written"),
])
def test_bad_input_is_one_line_and_nonzero(args, message):
    assert_one_line_error(run_in_process("--model=test", "--data_path=data/sample", *args), "ptb_word_lm.py", message)


def test_save_path_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    result = run_cli("--model=test", "--data_path=data/sample", f"--save_path={target}")
    assert_one_line_error(result, "ptb_word_lm.py", "is a file")
    assert target.read_text() == "keep me"


def test_bad_corpus_files(tmp_path):
    data = write_corpus(tmp_path, " a b \n" * 100, "", " a \n")
    assert_one_line_error(run_in_process("--model=test", f"--data_path={data}"), "ptb_word_lm.py", "empty")
    (tmp_path / "ptb.valid.txt").write_bytes(b"\xff\xfe\x00")
    assert_one_line_error(run_in_process("--model=test", f"--data_path={data}"), "ptb_word_lm.py", "UTF-8")


def test_a_new_run_without_a_seed_takes_its_models_default_seed():
    config = dataclasses.replace(configs.get_config("large"), num_layers=1, hidden_size=4, num_steps=5, batch_size=4,
                                 max_max_epoch=1, keep_prob=1.0)
    results = ptb_word_lm.train(config, str(ROOT / "data" / "sample"), "block", None, max_steps_per_epoch=2, skip_test=True)
    assert results["seed"] == configs.LargeConfig.default_seed == 1


def replay_first_steps(costs, epoch_size, unigram, vocab_size=10000):
    """Feed costs to a FirstSteps as training would; the batch it stops at, or None."""
    watch = ptb_word_lm.FirstSteps({}, epoch_size, unigram, vocab_size)
    for step, cost in enumerate(costs, 1):
        try:
            watch(step, cost, 1.0)
        except ptb_word_lm.DeadStart:
            return step
    return None


def test_a_start_is_stopped_at_5_percent_of_epoch_1_when_its_second_half_is_far_above_the_unigram():
    unigram, epoch_size, factor = 700.0, 1327, configs.DEAD_START_FACTOR
    first, last = configs.dead_start_window(epoch_size)
    assert (first, last) == (34, 67) and configs.dead_start_window(399) is None  # too short to check
    spike = [25.0] * (first - 1)  # the blow-up of the first batches does not count
    assert replay_first_steps(spike + [np.log(1.05 * factor * unigram)] * 200, epoch_size, unigram) == last
    assert replay_first_steps(spike + [np.log(0.95 * factor * unigram)] * 200, epoch_size, unigram) is None


def test_a_start_that_never_blew_up_is_learning_slowly_and_goes_on():
    # small at --learning_rate=0.005 (PTB, 2026-12-01): batches 59-117 at 8,614, 12.5 times the unigram's
    # 687, its highest cost 9.215 nats a word, uniform guessing's ln 10,000 = 9.210; it was stopped before
    unigram, epoch_size = 687.0, 2323
    slow = [9.2146] + [np.log(8614.0)] * 200
    assert replay_first_steps(slow, epoch_size, unigram) is None
    assert replay_first_steps([np.log(10000) + 1.1] + slow[1:], epoch_size, unigram) == 117


PROBES = sorted((ROOT / "results" / "probe").glob("*.json"))
assert PROBES, "results/probe/ holds the probe runs the check was chosen from"


@pytest.mark.parametrize("path", PROBES, ids=lambda path: path.stem)
def test_the_check_stops_exactly_the_probed_starts_that_died(path):
    # results/probe: the first tenth of epoch 1 of seeds 0-9 (docs/reproducing.md); the dead starts of
    # large validate at 1,934 and 2,611 after it, every other probed run at 1,310 or below.
    run = json.loads(path.read_text())
    dead = run["epochs"][0]["valid_perplexity"] > 1500
    stopped_at = replay_first_steps(run["first_steps"]["cost_per_word"], run["epoch_size"],
                                    run["data"]["unigram_valid_perplexity"])
    assert (stopped_at is not None) == dead and stopped_at in (None, configs.dead_start_window(run["epoch_size"])[1])


def test_a_dead_start_ends_the_run_with_one_line_and_keeps_its_first_steps(tmp_path, monkeypatch):
    monkeypatch.setattr(configs, "DEAD_START_FACTOR", 0.01)  # every start is dead by these two lines
    monkeypatch.setattr(configs, "BLOW_UP_NATS", -math.inf)
    config = dataclasses.replace(TINY, batch_size=2)  # 544 batches an epoch on the sample: at least the 400 checked
    stopped = (r"stopped in epoch 1: batches \d+-\d+ have perplexity .* after a blow-up to .* nats a word in its "
               r"first batches: this start will not recover .* another --seed")
    with pytest.raises(reader.UsageError, match=stopped):
        ptb_word_lm.train(config, str(ROOT / "data" / "sample"), "block", 0, str(tmp_path),
                          checkpoint_minutes=1e-9)  # a mid-epoch checkpoint after every batch, all removed
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["epochs"] == [] and "times the unigram" in results["stopped"]
    assert len(results["first_steps"]["cost_per_word"]) == configs.dead_start_window(results["epoch_size"])[1]
    assert not list(tmp_path.glob("*.ckpt*")) and not list(tmp_path.glob("mid_epoch*"))


@pytest.mark.parametrize("model, user_setting, onednn_on, restarts", [
    ("large", None, False, True),   # an AVX2-only EPYC: TensorFlow left oneDNN off
    ("large", None, True, False),   # an AVX-512 machine: TensorFlow turned it on
    ("large", "0", False, False),   # the user's choice stands
    ("small", None, False, False),  # small keeps TensorFlow's choice
])
def test_large_starts_again_with_onednn_only_where_tensorflow_left_it_off(monkeypatch, model, user_setting,
                                                                          onednn_on, restarts):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "unset below; restored after the test")
    if user_setting is None:
        monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    else:
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", user_setting)
    monkeypatch.setattr(ptb_word_lm.run_dir, "onednn_enabled", lambda: onednn_on)
    started = []
    monkeypatch.setattr(os, "execv", lambda path, args: started.append((path, args, os.environ["TF_ENABLE_ONEDNN_OPTS"])))
    ptb_word_lm.restart_with_onednn_if_faster(configs.get_config(model))
    assert started == ([(sys.executable, [sys.executable, *sys.argv], "1")] if restarts else [])


def test_the_restart_with_onednn_comes_before_anything_it_would_print_again(tmp_path):
    # ptb_word_lm.py as on an AVX2-only EPYC (TensorFlow left oneDNN off), stopped where it would start again
    program = tmp_path / "as_on_avx2.py"
    program.write_text(f"""import os, runpy, sys
sys.path.insert(0, {str(ROOT)!r})
import reader, run_dir
reader.default_data_path = lambda: reader.SAMPLE_DIR  # even where data/ptb holds PTB
run_dir.onednn_enabled = lambda: False
def execv(path, args):
    print("(started again here)")
    sys.exit(0)
os.execv = execv
sys.argv = [{str(ROOT / "ptb_word_lm.py")!r}, "--model=large"]
runpy.run_path(sys.argv[0], run_name="__main__")
""")
    env = {name: value for name, value in os.environ.items() if name != "TF_ENABLE_ONEDNN_OPTS"}
    done = subprocess.run([sys.executable, str(program)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "TensorFlow left oneDNN off on this CPU, and this model trains faster with it (docs/speed.md): "
        "starting again with TF_ENABLE_ONEDNN_OPTS=1", "(started again here)"]
    assert "No --data_path" not in done.stdout  # printed once, by the program started again
