"""Training and evaluation speed of PTBModel, as words/s and as a share of this machine's peak.

    python benchmark.py --model=small --json=results/benchmark_small.json

In one process, for each rnn_mode: trains on random PTB-shaped ids for --warmup batches, then
--rounds rounds of (the fp32 matrix-multiply peak at the model's own shapes, numpy, best of 3;
--steps training batches), and times the validation-shaped pass and the batch-1 test pass over as
many ids as PTB's test set. This VM's speed drifts by tens of percent within minutes, so each
round's words/s is divided by the peak measured just before it, and the medians are reported.
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
            repeats = min(max(1, int(5e9 / (2 * m * k * n))), 1000)  # the cap is for tiny test shapes
            a @ b
            start = time.perf_counter()
            for _ in range(repeats):
                a @ b
            best = max(best, 2 * m * k * n * repeats / (time.perf_counter() - start) / 1e9)
    return best


def time_rnn_mode(config, rnn_mode, warmup, steps, rounds, test_ids, seed=0):
    """Training words/s and share of peak per round, and evaluation words/s, for one rnn_mode;
    the batch-1 test pass is timed over test_ids ids and its time projected to PTB's 82,430."""
    rng = np.random.RandomState(seed)
    words_per_batch = config.batch_size * config.num_steps
    ids = lambda batches: rng.randint(0, config.vocab_size, batches * words_per_batch + config.batch_size)
    train, valid = ids(max(warmup, steps)), ids(steps)
    test = rng.randint(0, config.vocab_size, test_ids + 1).astype(np.int32)
    flops = flops_per_trained_word(config)
    with tf.Graph().as_default():
        models = ptb_word_lm.build_models(config, train, valid, test, rnn_mode, seed)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            # The warm-up runs the timed graph itself, so its one-off costs (XLA compilation) are paid here.
            train_op = models["Train"].train_op
            ptb_word_lm.run_epoch(session, models["Train"], train_op, max_steps=warmup)
            train_rounds = []
            for _ in range(rounds):
                peak = matmul_peak(config)
                _, wps = ptb_word_lm.run_epoch(session, models["Train"], train_op, max_steps=steps)
                train_rounds.append({"matmul_peak_gflops": peak, "train_wps": wps,
                                     "share_of_peak": wps * flops / 1e9 / peak})
            ptb_word_lm.run_epoch(session, models["Valid"])
            _, valid_wps = ptb_word_lm.run_epoch(session, models["Valid"])
            start = time.perf_counter()
            _, test_wps = ptb_word_lm.run_epoch(session, models["Test"])
            test_seconds = time.perf_counter() - start
    median = lambda key: float(np.median([r[key] for r in train_rounds]))
    return {"train_wps": median("train_wps"), "share_of_peak": median("share_of_peak"),
            "matmul_peak_gflops": median("matmul_peak_gflops"), "train_rounds": train_rounds,
            "valid_wps": valid_wps, "test_wps": test_wps, "test_ids_timed": test_ids,
            "test_pass_seconds": test_seconds * PTB_TEST_IDS / test_ids}


flags.DEFINE_string("model", "small", "Config to time: small, medium, large or test.")
flags.DEFINE_list("rnn_modes", list(ptb_word_lm.RNN_MODES), "rnn_modes to time.")
flags.DEFINE_integer("warmup", 20, "Training batches before timing.", lower_bound=1)
flags.DEFINE_integer("steps", 40, "Training batches timed per round.", lower_bound=1)
flags.DEFINE_integer("rounds", 5, "Rounds of (matmul peak, training batches); medians reported.", lower_bound=1)
flags.DEFINE_integer("test_ids", PTB_TEST_IDS, "Ids the batch-1 test pass is timed on; its time is "
                     "projected to PTB's 82,430 (the full pass is 13–20 min for large here).", lower_bound=100)
flags.DEFINE_string("json", None, "Write the results here as JSON.")
FLAGS = flags.FLAGS


def main(argv):
    config = configs.get_config(FLAGS.model)
    flops = flops_per_trained_word(config)
    print(f"{FLAGS.model}: {flops / 1e6:.2f} MFLOP per trained word")
    results = {"model": FLAGS.model, "config": dataclasses.asdict(config), "mflop_per_word": flops / 1e6,
               "machine": ptb_word_lm.machine_description(), "versions": ptb_word_lm.versions(),
               "warmup": FLAGS.warmup, "steps": FLAGS.steps, "rounds": FLAGS.rounds, "modes": {}}
    for rnn_mode in FLAGS.rnn_modes:
        speeds = time_rnn_mode(config, rnn_mode, FLAGS.warmup, FLAGS.steps, FLAGS.rounds, FLAGS.test_ids)
        speeds["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results["modes"][rnn_mode] = speeds
        per_round = ", ".join(f"{r['train_wps']:,.0f} ({r['share_of_peak']:.0%})" for r in speeds["train_rounds"])
        print(f"{rnn_mode:>5}: train {speeds['train_wps']:,.0f} wps ({speeds['share_of_peak']:.0%} of a "
              f"{speeds['matmul_peak_gflops']:.0f} GFLOP/s peak; rounds: {per_round}), "
              f"valid {speeds['valid_wps']:,.0f} wps, test pass {speeds['test_pass_seconds']:.1f} s"
              f"{'' if FLAGS.test_ids == PTB_TEST_IDS else ' (projected)'} "
              f"({speeds['test_wps']:,.0f} wps), peak memory {speeds['peak_memory_mb']:,.0f} MB", flush=True)
    if FLAGS.json:
        ptb_word_lm.write_json(FLAGS.json, results)


if __name__ == "__main__":
    tf.compat.v1.disable_eager_execution()
    app.run(main)
