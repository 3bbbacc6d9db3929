"""Penn Treebank text -> word ids -> batches, with the original tutorial's semantics.

A corpus is a directory with a training, a validation and a test file, named in one of three
ways: ptb.{train,valid,test}.txt (PTB), {train,valid,test}.txt (PyTorch's word_language_model
example and most corpora) or wiki.{train,valid,test}.tokens (WikiText). Files are
whitespace-separated words, one sentence a line; every newline becomes `<eos>`. The vocabulary
comes from the training file only, ids ordered by descending frequency and then alphabetically
(on PTB: the=0, <unk>=1, <eos>=2).

`python reader.py download [DIR]` fetches the PTB files into DIR (default: data/ptb next to
this file, DEFAULT_PTB_DIR). `python reader.py zipf DIR` writes a synthetic corpus of WikiText-2's
size into DIR, to time and size a large vocabulary without WikiText.
"""
import collections
import contextlib
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
import zlib

import numpy as np

EOS = "<eos>"
UNK = "<unk>"
PTB_URL = "http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz"
PTB_MD5 = {
    "ptb.train.txt": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "ptb.valid.txt": "aa0affc06ff7c36e977d7cd49e3839bf",
    "ptb.test.txt": "8b80168b89c18661a38ef683c0dc3721",
}
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PTB_DIR = os.path.join(HERE, "data", "ptb")
SAMPLE_DIR = os.path.join(HERE, "data", "sample")
SPLITS = ("train", "valid", "test")
# naming -> file name pattern, filled in with a split
NAMINGS = {"ptb": "ptb.{}.txt", "plain": "{}.txt", "wikitext": "wiki.{}.tokens"}


class UsageError(Exception):
    """A mistake in what the user gave us; the message says what is wrong and how to fix it."""


def end_on_closed_stdout():
    """Exit quietly when the reader of our output has gone (`report.py ... | head`), as Unix tools do."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit fails no more
    sys.exit(1)


def temporary_path(path):
    """Where replaced_atomically writes path first: beside it, named by this process, so that two
    programs writing one file at once (two downloads into one directory) never share it."""
    return f"{path}.{os.getpid()}.tmp"


@contextlib.contextmanager
def replaced_atomically(path, mode="w"):
    """A file opened to write that replaces path only once it is complete, so that a reader sees the
    old file or the new one, never a part; if anything fails, the temporary file is removed and the
    error raised again."""
    temporary = temporary_path(path)
    try:
        with open(temporary, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
        os.replace(temporary, path)
    except BaseException:
        if os.path.isfile(temporary):
            os.remove(temporary)
        raise


def read_words(filename):
    """The words of a file, with `<eos>` for every newline (so a blank line is one `<eos>`)."""
    if not os.path.isfile(filename):
        raise UsageError(f"{filename} does not exist or is not a file; give a plain-text file")
    try:
        with open(filename, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise UsageError(f"{filename} is not UTF-8 text ({e.reason} at byte {e.start}); "
                         f"give plain text, whitespace-separated words, one sentence a line") from None
    except OSError as e:
        raise UsageError(f"cannot read {filename} ({e.strerror}); give a file you can read") from None
    if not text.split():
        raise UsageError(f"{filename} is empty or blank; give a corpus with at least a few words")
    return text.replace("\n", f" {EOS} ").split()


def build_vocab(words):
    """word -> id, most frequent first, ties broken alphabetically."""
    counts = collections.Counter(words)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {word: i for i, (word, _) in enumerate(ordered)}


def words_to_ids(words, word_to_id, filename="text"):
    """Ids of `words`; unknown words become <unk> if the vocabulary has it.

    Returns (ids, number of words mapped to <unk>). Without <unk> in the vocabulary an
    unknown word is an error: dropping it would silently change the perplexity.
    """
    ids = np.fromiter((word_to_id.get(word, -1) for word in words), np.int32, len(words))
    unknown = ids < 0
    if unknown.any():
        if UNK not in word_to_id:
            word = words[int(np.argmax(unknown))]
            raise UsageError(f"{filename}: word {word!r} is not in the training vocabulary, "
                             f"which has no {UNK}; add it to the training file or replace it by {UNK}")
        ids[unknown] = word_to_id[UNK]
    return ids, int(unknown.sum())


def ptb_raw_data(data_path):
    """(train_ids, valid_ids, test_ids, vocab_size) from the corpus in data_path (see load_corpus): the
    tutorial's reader API, kept for code written against it."""
    train_ids, valid_ids, test_ids, word_to_id, _ = load_corpus(data_path)
    return train_ids, valid_ids, test_ids, len(word_to_id)


def file_names(naming):
    """{"train": name, "valid": name, "test": name} of one naming in NAMINGS."""
    return {split: NAMINGS[naming].format(split) for split in SPLITS}


def corpus_files(data_path):
    """(naming, {"train": path, "valid": path, "test": path}) of the one naming data_path holds.

    naming is "ptb", "plain" or "wikitext" (see NAMINGS). A directory without a complete set,
    or with files of more than one naming, is a UsageError saying which files it found.
    """
    if not os.path.isdir(data_path):
        raise UsageError(f"data directory {data_path} does not exist; pass --data_path=DIR "
                         f"(get PTB with: python reader.py download)")
    found = {naming: [name for name in file_names(naming).values()
                      if os.path.isfile(os.path.join(data_path, name))] for naming in NAMINGS}
    present = {naming: names for naming, names in found.items() if names}
    if len(present) > 1:
        found_names = ", ".join(name for names in present.values() for name in names)
        raise UsageError(f"{data_path} mixes {len(present)} namings (found {found_names}); "
                         f"keep one set of train/valid/test files per directory")
    naming = next(iter(present), None)
    if naming is None or len(present[naming]) < len(SPLITS):
        raise UsageError(incomplete_corpus_message(data_path, naming, present.get(naming, [])))
    return naming, {split: os.path.join(data_path, name) for split, name in file_names(naming).items()}


def incomplete_corpus_message(data_path, naming, found_names):
    """What to give when data_path holds found_names (of naming, or nothing) and no complete set."""
    if naming is None:
        found = "found none of these files"
    else:
        missing = [name for name in file_names(naming).values() if name not in found_names]
        found = f"found {', '.join(found_names)} only; missing {', '.join(missing)}"
    patterns = [pattern.format("{train,valid,test}") for pattern in NAMINGS.values()]
    return (f"{data_path} holds no complete corpus: give {', '.join(patterns[:-1])} or {patterns[-1]} "
            f"({found}); get PTB with: python reader.py download")


def load_corpus(data_path):
    """Like ptb_raw_data, but returns the vocabulary and the unknown-word counts as well:
    (train_ids, valid_ids, test_ids, word_to_id, {"valid": n, "test": n})."""
    _, paths = corpus_files(data_path)
    train_words = read_words(paths["train"])
    word_to_id = build_vocab(train_words)
    train_ids, _ = words_to_ids(train_words, word_to_id)
    valid_ids, valid_unknown = words_to_ids(read_words(paths["valid"]), word_to_id, paths["valid"])
    test_ids, test_unknown = words_to_ids(read_words(paths["test"]), word_to_id, paths["test"])
    return train_ids, valid_ids, test_ids, word_to_id, {"valid": valid_unknown, "test": test_unknown}


def unigram_perplexity(train_ids, ids):
    """Perplexity of ids under the training set's word frequencies alone, the baseline that a
    language model beats by using context. Every id comes from the training vocabulary, so every
    count is at least 1."""
    log_p = np.log(np.bincount(train_ids) / len(train_ids))
    return float(np.exp(-log_p[ids].mean()))


def default_data_path():
    """DEFAULT_PTB_DIR when the user has fetched PTB, else the small sample corpus shipped here."""
    return DEFAULT_PTB_DIR if os.path.isfile(os.path.join(DEFAULT_PTB_DIR, "ptb.train.txt")) else SAMPLE_DIR


def epoch_size(num_ids, batch_size, num_steps):
    """Batches in one pass over num_ids ids: the ids are cut into batch_size rows."""
    return (num_ids // batch_size - 1) // num_steps


def ptb_producer(raw_data, batch_size, num_steps):
    """Yield (x, y) int32 arrays of shape [batch_size, num_steps]; y is x one id ahead.

    The ids are cut into batch_size rows of consecutive ids, so row b of one batch continues
    row b of the previous batch: the LSTM state can be carried from batch to batch.
    """
    raw_data = np.asarray(raw_data, dtype=np.int32)
    batch_len = len(raw_data) // batch_size
    data = raw_data[:batch_size * batch_len].reshape(batch_size, batch_len)
    for i in range(epoch_size(len(raw_data), batch_size, num_steps)):
        x = data[:, i * num_steps:(i + 1) * num_steps]
        y = data[:, i * num_steps + 1:(i + 1) * num_steps + 1]
        yield x, y


def ptb_chunks(raw_data, num_steps):
    """Yield (x, y, weights) of shape [1, num_steps] that score every id after the first once.

    One sequence, as a pass with batch_size = num_steps = 1 would score it, but num_steps ids
    at a time; the last chunk is padded with id 0 at weight 0.
    """
    raw_data = np.asarray(raw_data, dtype=np.int32)
    for start in range(0, len(raw_data) - 1, num_steps):
        x = raw_data[start:start + num_steps]
        y = raw_data[start + 1:start + num_steps + 1]
        x = x[:len(y)]
        weights = np.zeros(num_steps, np.float32)
        weights[:len(y)] = 1
        pad = num_steps - len(y)
        yield np.pad(x, (0, pad))[None], np.pad(y, (0, pad))[None], weights[None]


def download_ptb(dest_dir, url=PTB_URL):
    """Fetch simple-examples.tgz, unpack the three PTB files into dest_dir, check their md5."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            archive = response.read()
    except OSError as e:
        raise UsageError(f"cannot download {url} ({e}); without network, copy ptb.train.txt, "
                         f"ptb.valid.txt and ptb.test.txt from simple-examples/data/ into {dest_dir}") from None
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
            contents = {name: tar.extractfile(members[f"simple-examples/data/{name}"]).read() for name in PTB_MD5}
    except (tarfile.TarError, EOFError, zlib.error, KeyError) as e:
        raise UsageError(f"{url} did not give the PTB archive ({type(e).__name__}: {e}); the download is "
                         f"corrupt, try again") from None
    for name, content in contents.items():
        if hashlib.md5(content).hexdigest() != PTB_MD5[name]:
            raise UsageError(f"{name} from {url} has the wrong md5; the download is corrupt, try again")
    os.makedirs(dest_dir, exist_ok=True)
    for name, content in contents.items():  # written only once all three are checked
        with replaced_atomically(os.path.join(dest_dir, name), "wb") as f:
            f.write(content)
    return dest_dir


# WikiText-2's vocabulary and its train / valid / test token counts, <eos> included.
WIKITEXT2_SIZE = {"vocab": 33278, "train": 2088628, "valid": 217646, "test": 245569}


def write_zipf_corpus(dest_dir, size=WIKITEXT2_SIZE, words_per_line=20, seed=0):
    """wiki.{train,valid,test}.tokens of size[split] tokens each, <eos> included, in lines of
    about words_per_line words drawn from size["vocab"] - 1 words w0, w1, ... with P(w_r) ~ 1/(r+1)."""
    existing = [name for name in file_names("wikitext").values() if os.path.exists(os.path.join(dest_dir, name))]
    if existing:
        raise UsageError(f"{dest_dir} already holds {', '.join(existing)}; give a new directory, nothing was "
                         f"overwritten")
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(size["vocab"] - 1)])
    p = 1.0 / np.arange(1, len(words) + 1)
    os.makedirs(dest_dir, exist_ok=True)
    for split, name in file_names("wikitext").items():
        lines = -(-size[split] // (words_per_line + 1))
        ids = rng.choice(len(words), size=size[split] - lines, p=p / p.sum())
        if split == "train":  # every word at least once, so valid and test need no <unk>
            ids[:len(words)] = rng.permutation(len(words))
        with replaced_atomically(os.path.join(dest_dir, name)) as f:
            f.writelines(" ".join(row) + "\n" for row in np.array_split(words[ids], lines))
    return dest_dir


def main(argv):
    usage = (f"usage: python reader.py download [DIR]   (DIR defaults to {DEFAULT_PTB_DIR})\n"
             f"       python reader.py zipf DIR          (a synthetic corpus of WikiText-2's size)")
    if len(argv) not in (2, 3) or argv[1] not in ("download", "zipf") or (argv[1] == "zipf" and len(argv) != 3):
        sys.exit(usage)
    try:
        if argv[1] == "zipf":
            print("Zipf corpus written to", write_zipf_corpus(argv[2]))
        else:
            print("PTB files written to", download_ptb(argv[2] if len(argv) == 3 else DEFAULT_PTB_DIR))
    except (UsageError, OSError) as e:
        sys.exit(f"reader.py: error: {e}")


if __name__ == "__main__":
    main(sys.argv)
