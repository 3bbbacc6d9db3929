"""Text from a trained model: continue a prompt, or list the likeliest next words.

    python generate.py --save_path=runs/small --prompt="the company" --num_words=50
    python generate.py --save_path=runs/small --prompt="the company" --next_words=5

The prompt is read after an <eos>, as the start of a sentence, one word at a time with the
LSTM state carried; words not in the vocabulary are read as <unk>. Sampling draws each word
from the model's distribution sharpened or flattened by --temperature and cut to the --top_k
likeliest words; the same --seed gives the same text. <eos> is printed as a line break.
"""
import sys

import numpy as np
from absl import flags

import cli
import ptb_word_lm
import reader
import run_dir
from configs import MAX_SEED, parse_flag
from reader import EOS, UsageError


def prompt_ids(prompt, word_to_id):
    """Ids of <eos> and the prompt's words, and the prompt's words not in the vocabulary."""
    words = prompt.split()
    if not words:
        raise UsageError('the prompt is empty; give a few words, like --prompt="the company"')
    unknown = [word for word in words if word not in word_to_id]
    if len(unknown) == len(words):
        raise UsageError(f"no word of the prompt {prompt!r} is in the training vocabulary; "
                         f"give words the model was trained on")
    ids, _ = reader.words_to_ids([EOS] + words, word_to_id, "--prompt")
    return ids, unknown


def step(session, model, word_id, state):
    """Feed one word; return the logits of the next word and the new state (None: zeros)."""
    feed = {model.input_data: [[word_id]]}
    if state is not None:
        feed.update(ptb_word_lm.state_feed(model, state))
    logits, state = session.run([model.logits, model.final_state], feed)
    return logits[0].astype(np.float64), state


def read_prompt(session, model, ids):
    logits, state = None, None
    for word_id in ids:
        logits, state = step(session, model, word_id, state)
    return logits, state


def softmax(logits):
    p = np.exp(logits - logits.max())
    return p / p.sum()


def sample(logits, temperature, top_k, rng):
    """A word id drawn from softmax(logits / temperature), restricted to the top_k (0: all)."""
    logits = (logits - logits.max()) / temperature  # at most 0: a tiny temperature gives -inf, not inf - inf
    if top_k:
        logits = np.where(logits < np.sort(logits)[-min(top_k, len(logits))], -np.inf, logits)
    return rng.choice(len(logits), p=softmax(logits))


def generate(session, model, ids, num_words, temperature, top_k, seed):
    """num_words word ids sampled after the ids."""
    rng = np.random.RandomState(seed)
    logits, state = read_prompt(session, model, ids)
    sampled = []
    for _ in range(num_words):
        sampled.append(sample(logits, temperature, top_k, rng))
        logits, state = step(session, model, sampled[-1], state)
    return sampled


def next_words(session, model, ids, k):
    """The k likeliest (word id, probability) after the ids, likeliest first."""
    probabilities = softmax(read_prompt(session, model, ids)[0])
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(int(i), float(probabilities[i])) for i in order]


def as_text(words):
    """Words joined by spaces, with a line break for each <eos>."""
    return "\n".join(line.strip() for line in " ".join(words).split(EOS)).rstrip("\n")


def run(save_path, which, prompt, num_words, temperature, top_k, seed, k):
    config, word_to_id, prefix = run_dir.load_trained(save_path, which)
    id_to_word = sorted(word_to_id, key=word_to_id.get)
    ids, unknown = prompt_ids(prompt, word_to_id)
    if unknown:
        print(f"generate.py: note: not in the vocabulary, read as {reader.UNK}: {' '.join(unknown)}", file=sys.stderr)
    input_ = ptb_word_lm.PTBInput(np.zeros(0, np.int32), 1, 1)
    with ptb_word_lm.restored_model(config, prefix, input_) as (session, model):
        if k is not None:
            for i, p in next_words(session, model, ids, k):
                print(f"{id_to_word[i]} {p:.4f}")
            return
        sampled = generate(session, model, ids, num_words, temperature, top_k, seed)
    print(as_text(prompt.split() + [id_to_word[i] for i in sampled]))


FLAGS = flags.FLAGS


def define_flags():
    cli.define_trained_run_flags()
    flags.DEFINE_string("prompt", None, "The words to continue; read after an <eos>.")
    flags.DEFINE_string("num_words", "50", "Words to sample after the prompt.")
    flags.DEFINE_string("temperature", "1.0", "Divides the logits: below 1 sharper, above 1 flatter.")
    flags.DEFINE_string("top_k", "0", "Sample only from the top_k likeliest words; 0 for all.")
    flags.DEFINE_string("seed", "0", "Random seed of the sampling: the same seed gives the same text.")
    flags.DEFINE_string("next_words", None, "Instead of sampling, print the K likeliest next words "
                        "after the prompt with their probabilities.")


def main(argv):
    if len(argv) > 1:
        raise UsageError(f"unexpected argument {argv[1]!r}; all options are flags like --prompt=\"the company\"")
    if FLAGS.prompt is None:
        raise UsageError('give the words to continue, like --prompt="the company"')
    k = None if FLAGS.next_words is None else parse_flag("next_words", FLAGS.next_words, int, 1)
    run(FLAGS.save_path, FLAGS.checkpoint, FLAGS.prompt, parse_flag("num_words", FLAGS.num_words, int, 1),
        parse_flag("temperature", FLAGS.temperature, float, 0, strict=True), parse_flag("top_k", FLAGS.top_k, int, 0),
        parse_flag("seed", FLAGS.seed, int, 0, maximum=MAX_SEED), k)


if __name__ == "__main__":
    cli.run_program("generate.py", define_flags, main)
