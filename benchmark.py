"""Training and evaluation speed of PTBModel, as words/s and as shares of this machine's matmul peak.

    python benchmark.py --model=small --json=results/benchmark_small.json
    python benchmark.py --table=results/benchmark_small.json,results/benchmark_large.json

In one process, for each rnn_mode: trains on random PTB-shaped ids for --warmup batches, then
--rounds rounds of (the peaks; --steps training batches), and times the validation-shaped pass and
the batch-1 test pass over as many ids as PTB's test set. The peaks are fp32 GFLOP/s, best of 3:
- TensorFlow's matmul at the shapes one training batch multiplies (the softmax and its two
  gradients, the LSTM's input projection), in the timed graph and session;
- TensorFlow's matmul at a --square_size cube (4096 x 4096 x 4096), what the CPU can do at best;
- numpy's at the training shapes, the figure of earlier versions; numpy's OpenBLAS may run a
  kernel older than the CPU (OPENBLAS_CORETYPE=Haswell here reaches about half of TensorFlow's
  speed on AVX-512), so its core type is printed with it.
The TensorFlow recurrent matmul of one time step (batch x hidden x 4 hidden) is timed alongside,
for information. This VM's speed drifts by tens of percent within minutes, so each round's
words/s is divided by the peaks measured just before it, and the medians are reported. The
machine (CPU model and flags) and the versions are recorded: shares from an AVX2 machine and from
an AVX-512 machine are not comparable. --table prints the speed table of docs/speed.md from such JSONs.
"""
import collections
import dataclasses
import json
import os
import resource
import time

import numpy as np
from absl import flags

import cli
import configs
import lstm
import ptb_word_lm
import report
import run_dir
from quiet_tf import tf
from reader import UsageError

PTB_TEST_IDS = report.PTB["test_ids"]  # PTB's test set, which the test pass times are projected to
SQUARE_SIZE = 4096
OPENBLAS_CORETYPE = os.environ.get("OPENBLAS_CORETYPE", "default")


def flops_per_trained_word(config):
    """Multiply-adds of the forward pass (LSTM layers and softmax), x2 for flops, x3 with backward."""
    lstm_layers = config.num_layers * (2 * config.hidden_size) * (4 * config.hidden_size)
    softmax = config.hidden_size * config.vocab_size
    return 2 * (lstm_layers + softmax) * 3


def training_shapes(config):
    """(m, k, n) of the big matmuls of one training batch: logits, the softmax's two gradients,
    and the LSTM's input projection over all time steps."""
    rows = config.batch_size * config.num_steps
    h, v = config.hidden_size, config.vocab_size
    return [(rows, h, v), (rows, v, h), (h, rows, v), (rows, h, 4 * h)]


def repeats_for(shape):
    """Matmuls per timing: about 5 GFLOP; the cap is for tiny test shapes."""
    m, k, n = shape
    return min(max(1, int(5e9 / (2 * m * k * n))), 1000)


MatmulLoop = collections.namedtuple("MatmulLoop", "shape repeats total")


def matmul_loop(shape):
    """A loop of repeats_for(shape) fp32 matmuls, one at a time, run by one session.run; only the
    sum of the products' [0, 0] elements (k each, the operands are ones) is fetched, so feeding
    and fetching cost nothing. The operands are variables: constants would be folded away."""
    m, k, n = shape
    a = tf.Variable(tf.ones([m, k]), trainable=False)
    b = tf.Variable(tf.ones([k, n]), trainable=False)
    repeats = repeats_for(shape)
    _, total = tf.while_loop(lambda i, _: i < repeats, lambda i, total: (i + 1, total + tf.matmul(a, b)[0, 0]),
                             [0, 0.0], parallel_iterations=1)
    return MatmulLoop(shape, repeats, total)


def tf_matmul_peak(session, loops, tries=3):
    """Best GFLOP/s of the MatmulLoops over tries, 2*m*k*n flops per matmul."""
    best = 0.0
    for _ in range(tries):
        for (m, k, n), repeats, total in loops:
            start = time.perf_counter()
            session.run(total)
            best = max(best, 2 * m * k * n * repeats / (time.perf_counter() - start) / 1e9)
    return best


def numpy_matmul_peak(shapes, tries=3):
    """Best fp32 GFLOP/s of numpy matmuls at the shapes (m, k, n) over tries."""
    rng = np.random.RandomState(0)
    best = 0.0
    for _ in range(tries):
        for m, k, n in shapes:
            a, b = rng.rand(m, k).astype(np.float32), rng.rand(k, n).astype(np.float32)
            repeats = repeats_for((m, k, n))
            a @ b
            start = time.perf_counter()
            for _ in range(repeats):
                a @ b
            best = max(best, 2 * m * k * n * repeats / (time.perf_counter() - start) / 1e9)
    return best


def peak_loops(config, square_size):
    """The MatmulLoops of each TensorFlow peak, built in the current graph."""
    return {"tf_shape_peak_gflops": [matmul_loop(shape) for shape in training_shapes(config)],
            "tf_square_peak_gflops": [matmul_loop((square_size,) * 3)],
            "tf_recurrent_gflops": [matmul_loop((config.batch_size, config.hidden_size, 4 * config.hidden_size))]}


def measure_peaks(session, loops, config):
    """This round's peaks in GFLOP/s: TensorFlow's for each of peak_loops, and numpy's."""
    peaks = {name: tf_matmul_peak(session, shape_loops) for name, shape_loops in loops.items()}
    peaks["numpy_peak_gflops"] = numpy_matmul_peak(training_shapes(config))
    return peaks


def time_rnn_mode(config, rnn_mode, warmup, steps, rounds, test_ids, square_size=SQUARE_SIZE):
    """Training words/s, the peaks and the shares of them per round with their medians, and
    evaluation words/s, for one rnn_mode; the batch-1 test pass is timed over test_ids ids and its
    time projected to PTB's 82,430."""
    seed = 0  # the same ids and weights for every rnn_mode and run
    rng = np.random.RandomState(seed)
    words_per_batch = config.batch_size * config.num_steps
    ids = lambda batches: rng.randint(0, config.vocab_size, batches * words_per_batch + config.batch_size)
    train, valid = ids(max(warmup, steps)), ids(steps)
    test = rng.randint(0, config.vocab_size, test_ids + 1).astype(np.int32)
    flops = flops_per_trained_word(config)
    with tf.Graph().as_default():
        models = ptb_word_lm.build_models(config, train, valid, test, rnn_mode, seed)
        loops = peak_loops(config, square_size)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            # The warm-up runs the timed graph and the peaks' loops themselves, so their one-off costs
            # (XLA compilation, the loops' first run) are paid here.
            train_op = models["Train"].train_op
            ptb_word_lm.run_epoch(session, models["Train"], train_op, max_steps=warmup)
            for shape_loops in loops.values():
                tf_matmul_peak(session, shape_loops, tries=1)
            train_rounds = []
            for _ in range(rounds):
                peaks = measure_peaks(session, loops, config)
                _, wps = ptb_word_lm.run_epoch(session, models["Train"], train_op, max_steps=steps)
                gflops = wps * flops / 1e9
                train_rounds.append({
                    "train_wps": wps, **peaks,
                    "share_of_shape_peak": gflops / peaks["tf_shape_peak_gflops"],
                    "share_of_square_peak": gflops / peaks["tf_square_peak_gflops"],
                    "share_of_numpy_peak": gflops / peaks["numpy_peak_gflops"]})
            ptb_word_lm.run_epoch(session, models["Valid"])  # warm-up: the Valid graph's first run
            _, valid_wps = ptb_word_lm.run_epoch(session, models["Valid"])
            start = time.perf_counter()
            _, test_wps = ptb_word_lm.run_epoch(session, models["Test"])
            test_seconds = time.perf_counter() - start
    medians = {key: float(np.median([r[key] for r in train_rounds])) for key in train_rounds[0]}
    return {**medians, "train_rounds": train_rounds, "valid_wps": valid_wps, "test_wps": test_wps,
            "test_ids_timed": test_ids, "test_pass_seconds": test_seconds * PTB_TEST_IDS / test_ids}


def table_rows(results):
    """The rows (Markdown) of docs/speed.md's table for one benchmark JSON's results, one per rnn_mode."""
    rows = []
    for rnn_mode, s in results["modes"].items():
        shares = [r["share_of_square_peak"] for r in s["train_rounds"]]
        projected = " (projected)" if s["test_ids_timed"] < PTB_TEST_IDS else ""
        test_pass = report.duration(s["test_pass_seconds"])
        rows.append(f"| {results['model']} | {rnn_mode} | {report.machine(results['machine'])} | {s['train_wps']:,.0f} | "
                    f"{s['share_of_square_peak']:.0%} ({min(shares):.0%}–{max(shares):.0%}) | "
                    f"{s['tf_square_peak_gflops']:.0f} | {s['share_of_shape_peak']:.0%} of {s['tf_shape_peak_gflops']:.0f} | "
                    f"{s['valid_wps']:,.0f} | {test_pass}{projected} | {s['peak_memory_mb']:,.0f} MB |")
    return rows


def print_table(paths):
    """Print the speed table of the benchmark JSONs at paths."""
    rows = []
    for path in paths:
        try:
            with open(path) as f:
                results = json.load(f)
        except ValueError as e:
            raise UsageError(f"--table: {path} is not JSON ({e}); give files written by benchmark.py --json") from None
        except OSError as e:
            raise UsageError(f"--table: {path} cannot be read ({e.strerror}); give benchmark JSONs that exist") from None
        try:
            rows += table_rows(results)
        except (KeyError, TypeError, AttributeError) as e:
            raise UsageError(f"--table: {path} is not a JSON written by benchmark.py --json (no {e}); "
                             f"give files written by this version of benchmark.py") from None
    print(f"| model | rnn_mode | machine | train words/s | share of TF's {SQUARE_SIZE}³ peak, median (range) | "
          f"that peak, GFLOP/s | share of TF at the model's shapes, GFLOP/s | valid words/s | batch-1 test pass | "
          f"peak memory |\n|" + " --- |" * 10)
    print("\n".join(rows))


FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "small", "Config to time: small, medium, large or test.")
    flags.DEFINE_list("rnn_modes", list(lstm.RNN_MODES), "rnn_modes to time, comma-separated.")
    flags.DEFINE_integer("warmup", 20, "Training batches before timing.", lower_bound=1)
    flags.DEFINE_integer("steps", 40, "Training batches timed per round.", lower_bound=1)
    flags.DEFINE_integer("rounds", 5, "Rounds of (matmul peaks, training batches); medians reported.", lower_bound=1)
    flags.DEFINE_integer("test_ids", PTB_TEST_IDS, "Ids the batch-1 test pass is timed on; its time is "
                         "projected to PTB's 82,430 (the full pass is minutes for large).", lower_bound=100)
    flags.DEFINE_integer("square_size", SQUARE_SIZE, "Size of the square matmul of the large-square peak.",
                         lower_bound=1)
    flags.DEFINE_string("json", None, "Write the results here as JSON.")
    flags.DEFINE_list("table", None, "Print docs/speed.md's speed table from these benchmark JSONs, comma-separated, "
                      "and time nothing.")


def main(argv):
    if len(argv) > 1:
        raise UsageError(f"unexpected argument {argv[1]!r}; all options are flags like --model=small")
    if FLAGS.table:
        print_table(FLAGS.table)
        return
    config = configs.get_config(FLAGS.model)
    if not FLAGS.rnn_modes or not set(FLAGS.rnn_modes) <= set(lstm.RNN_MODES):
        raise UsageError(f"--rnn_modes={','.join(FLAGS.rnn_modes)}: give one or more of "
                         f"{', '.join(lstm.RNN_MODES)}, comma-separated")
    if FLAGS.json:
        run_dir.check_json_path(FLAGS.json)
    flops = flops_per_trained_word(config)
    machine, versions = run_dir.machine_description(), run_dir.versions()
    print(f"{report.machine(machine)}; TensorFlow {versions['tensorflow']}, numpy {versions['numpy']} "
          f"(OpenBLAS core type {OPENBLAS_CORETYPE})")
    print(f"{FLAGS.model}: {flops / 1e6:.2f} MFLOP per trained word")
    results = {"model": FLAGS.model, "config": dataclasses.asdict(config), "mflop_per_word": flops / 1e6,
               "machine": machine, "versions": versions, "openblas_coretype": OPENBLAS_CORETYPE,
               "warmup": FLAGS.warmup, "steps": FLAGS.steps, "rounds": FLAGS.rounds,
               "square_size": FLAGS.square_size, "modes": {}}
    square = f"{FLAGS.square_size}³"
    for rnn_mode in FLAGS.rnn_modes:
        s = time_rnn_mode(config, rnn_mode, FLAGS.warmup, FLAGS.steps, FLAGS.rounds, FLAGS.test_ids,
                          FLAGS.square_size)
        s["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results["modes"][rnn_mode] = s
        per_round = ", ".join(f"{r['train_wps']:,.0f} ({r['share_of_square_peak']:.0%})" for r in s["train_rounds"])
        print(f"{rnn_mode:>5}: train {s['train_wps']:,.0f} wps (rounds, share of the {square} peak: {per_round})\n"
              f"       share of peak: {s['share_of_shape_peak']:.0%} of TF at the model's shapes "
              f"({s['tf_shape_peak_gflops']:.0f} GFLOP/s), {s['share_of_square_peak']:.0%} of TF at {square} "
              f"({s['tf_square_peak_gflops']:.0f} GFLOP/s), {s['share_of_numpy_peak']:.0%} of numpy "
              f"(OpenBLAS {OPENBLAS_CORETYPE}) at the model's shapes ({s['numpy_peak_gflops']:.0f} GFLOP/s); "
              f"TF recurrent step matmul {s['tf_recurrent_gflops']:.0f} GFLOP/s\n"
              f"       valid {s['valid_wps']:,.0f} wps, test pass {s['test_pass_seconds']:.1f} s"
              f"{'' if FLAGS.test_ids == PTB_TEST_IDS else ' (projected)'} "
              f"({s['test_wps']:,.0f} wps), peak memory {s['peak_memory_mb']:,.0f} MB", flush=True)
    if FLAGS.json:
        run_dir.write_json(FLAGS.json, results)


if __name__ == "__main__":
    cli.run_program("benchmark.py", define_flags, main)
