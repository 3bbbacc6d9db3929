"""Training and evaluation speed of PTBModel, as words/s and as a share of this machine's peak.

    python benchmark.py --model=small --json=results/benchmark_small.json

In one process: measures the fp32 matrix-multiply peak at the model's own shapes (numpy, best
of 3 rounds), then for each rnn_mode trains on random PTB-shaped ids for --steps batches after
--warmup batches, and times the validation-shaped pass and the batch-1 test pass over as many
ids as PTB's test set. Speeds from a shared machine vary from day to day; the share of peak,
measured in the same run, is the figure to compare.
"""
import dataclasses
import resource
import time

import numpy as np
from absl import app, flags

import configs
import ptb_word_lm
from ptb_word_lm import tf

PTB_TEST_IDS = 82430


def flops_per_trained_word(config):
    """Multiply-adds of the forward pass (LSTM layers and softmax), x2 for flops, x3 with backward."""
    lstm = config.num_layers * (2 * config.hidden_size) * (4 * config.hidden_size)
    softmax = config.hidden_size * config.vocab_size
    return 2 * (lstm + softmax) * 3


def matmul_peak(config, rounds=3):
    """Best fp32 GFLOP/s of numpy matmuls at the shapes one training batch multiplies."""
    rows = config.batch_size * config.num_steps
    h, v = config.hidden_size, config.vocab_size
    rng = np.random.RandomState(0)
    shapes = [(rows, h, v), (rows, v, h), (h, rows, v), (rows, h, 4 * h)]
    best = 0.0
    for _ in range(rounds):
        for m, k, n in shapes:
            a, b = rng.rand(m, k).astype(np.float32), rng.rand(k, n).astype(np.float32)
            repeats = max(1, int(5e9 / (2 * m * k * n)))
            a @ b
            start = time.perf_counter()
            for _ in range(repeats):
                a @ b
            best = max(best, 2 * m * k * n * repeats / (time.perf_counter() - start) / 1e9)
    return best


def time_rnn_mode(config, rnn_mode, warmup, steps, test_ids, seed=0):
    """Training words/s (steady state) and evaluation words/s for one rnn_mode; the batch-1 test
    pass is timed over test_ids ids and its time projected to PTB's 82,430."""
    rng = np.random.RandomState(seed)
    words_per_batch = config.batch_size * config.num_steps
    ids = lambda batches: rng.randint(0, config.vocab_size, batches * words_per_batch + config.batch_size)
    train_warmup, train_timed, valid = ids(warmup), ids(steps), ids(steps)
    test = rng.randint(0, config.vocab_size, test_ids + 1).astype(np.int32)
    with tf.Graph().as_default():
        models = ptb_word_lm.build_models(config, train_warmup, valid, test, rnn_mode, seed)
        with tf.compat.v1.variable_scope("Model", reuse=True):
            timed = ptb_word_lm.PTBModel(True, config, ptb_word_lm.PTBInput(
                train_timed, config.batch_size, config.num_steps), rnn_mode)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            ptb_word_lm.run_epoch(session, models["Train"], models["Train"].train_op)
            _, train_wps = ptb_word_lm.run_epoch(session, timed, timed.train_op)
            ptb_word_lm.run_epoch(session, models["Valid"])
            _, valid_wps = ptb_word_lm.run_epoch(session, models["Valid"])
            start = time.perf_counter()
            _, test_wps = ptb_word_lm.run_epoch(session, models["Test"])
            test_seconds = time.perf_counter() - start
    return {"train_wps": train_wps, "valid_wps": valid_wps, "test_wps": test_wps,
            "test_ids_timed": test_ids, "test_pass_seconds": test_seconds * PTB_TEST_IDS / test_ids}


flags.DEFINE_string("model", "small", "Config to time: small, medium, large or test.")
flags.DEFINE_list("rnn_modes", list(ptb_word_lm.RNN_MODES), "rnn_modes to time.")
flags.DEFINE_integer("warmup", 20, "Training batches before timing.")
flags.DEFINE_integer("steps", 100, "Training batches timed.")
flags.DEFINE_integer("test_ids", PTB_TEST_IDS, "Ids the batch-1 test pass is timed on; its time is "
                     "projected to PTB's 82,430 (the full pass is ~20 min for large here).", lower_bound=100)
flags.DEFINE_string("json", None, "Write the results here as JSON.")
FLAGS = flags.FLAGS


def main(argv):
    config = configs.get_config(FLAGS.model)
    peak = matmul_peak(config)
    flops = flops_per_trained_word(config)
    print(f"{FLAGS.model}: {flops / 1e6:.2f} MFLOP per trained word; matmul peak {peak:.1f} GFLOP/s")
    results = {"model": FLAGS.model, "config": dataclasses.asdict(config), "mflop_per_word": flops / 1e6,
               "matmul_peak_gflops": peak, "machine": ptb_word_lm.machine_description(),
               "versions": ptb_word_lm.versions(), "warmup": FLAGS.warmup, "steps": FLAGS.steps, "modes": {}}
    for rnn_mode in FLAGS.rnn_modes:
        speeds = time_rnn_mode(config, rnn_mode, FLAGS.warmup, FLAGS.steps, FLAGS.test_ids)
        speeds["share_of_peak"] = speeds["train_wps"] * flops / 1e9 / peak
        speeds["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results["modes"][rnn_mode] = speeds
        print(f"{rnn_mode:>5}: train {speeds['train_wps']:,.0f} wps ({speeds['share_of_peak']:.0%} of peak), "
              f"valid {speeds['valid_wps']:,.0f} wps, test pass {speeds['test_pass_seconds']:.1f} s"
              f"{'' if FLAGS.test_ids == PTB_TEST_IDS else ' (projected)'} "
              f"({speeds['test_wps']:,.0f} wps), peak memory {speeds['peak_memory_mb']:,.0f} MB", flush=True)
    if FLAGS.json:
        ptb_word_lm.write_json(FLAGS.json, results)


if __name__ == "__main__":
    tf.compat.v1.disable_eager_execution()
    app.run(main)
