"""Perplexity of a text under a trained model, line by line and in total.

    python score.py --save_path=runs/small sentences.txt     # or - to read standard input

Every line ends in <eos>, as in the PTB files, and the text is scored as one stream with the
LSTM state carried from line to line. The first word has no context: the stream starts with
an <eos>, as if the text followed a sentence, so every word of the text is predicted. Words
not in the training vocabulary are scored as <unk>. Blank lines are skipped.
"""
import sys

import numpy as np
from absl import flags

import cli
import ptb_word_lm
import reader
import run_dir
from reader import EOS, UsageError


def read_lines(path):
    """The non-blank lines of the file at path (- for standard input), each a list of words."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
        text = data.decode("utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {path} ({e.strerror}); give a text file, or - for standard input") from None
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines:
        raise UsageError(f"{path} has no words to score")
    return lines


def text_ids(lines, word_to_id, name):
    """(ids of <eos> then every line followed by <eos>, words mapped to <unk>)."""
    if EOS not in word_to_id:
        raise UsageError(f"the training vocabulary has no {EOS}, so lines cannot be ended as in training")
    return reader.words_to_ids([EOS] + [word for line in lines for word in line + [EOS]], word_to_id, name)


def score(config, word_to_id, prefix, lines, name="text", progress=False):
    """Score lines (lists of words) with checkpoint prefix of a run, as run_dir.load_trained gives it.

    Returns ([(perplexity, words scored) per line], total perplexity, words scored, words
    mapped to <unk>); a line's words scored are its words and its <eos>.
    """
    ids, unknown = text_ids(lines, word_to_id, name)
    input_ = ptb_word_lm.scoring_input(ids)
    with ptb_word_lm.restored_model(config, prefix, input_) as (session, model):
        costs = ptb_word_lm.word_costs(session, model, sys.stderr if progress else None)
    ends = np.cumsum([len(line) + 1 for line in lines])
    per_line = [(ptb_word_lm.perplexity(c), len(c)) for c in np.split(costs, ends[:-1])]
    return per_line, ptb_word_lm.perplexity(costs), len(costs), unknown


FLAGS = flags.FLAGS


def define_flags():
    cli.define_trained_run_flags()


def main(argv):
    if len(argv) != 2:
        raise UsageError("give one text file to score, or - for standard input: "
                         "python score.py --save_path=DIR FILE")
    path = argv[1]
    trained = run_dir.load_trained(FLAGS.save_path, FLAGS.checkpoint)  # refuses a bad --save_path before stdin is read
    lines = read_lines(path)
    per_line, total, words, unknown = score(*trained, lines, "standard input" if path == "-" else path, progress=True)
    for line, (perplexity, count) in zip(lines, per_line):
        print(f"ppl {perplexity:8.1f}  words {count:3d}  {' '.join(line)}")
    print(f"Total: perplexity {total:.1f} over {words} words ({unknown} unknown mapped to {reader.UNK})")


if __name__ == "__main__":
    cli.run_program("score.py", define_flags, main)
