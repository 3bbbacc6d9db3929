"""Row-by-row RNN classifier for MNIST digits, rebuilt on TensorFlow 2.

Reproduces the recurrent classifier of the TensorFlow-Course tutorials (rnn.py):
each 28x28 image is read as a sequence of 28 rows of 28 pixels by a basic tanh
RNN, and a dense layer maps its final state to the 10 digit classes.

    python mnist_rnn.py --data_dir=MNIST_data/ --download

--download fetches the four MNIST files once; later runs read them from
--data_dir. The model is a tf.compat.v1 graph run in a Session.
"""
import gzip
import hashlib
import os
import pathlib
import struct
import urllib.request
import zlib

import numpy as np
from absl import flags

import cli
from configs import MAX_SEED
from quiet_tf import tf
from reader import UsageError, replaced_atomically

URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
MD5 = {"train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
       "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
       "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
       "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c"}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x08 (unsigned byte) << 8 | ndim


def download(data_dir):
    """Fetches the four gzipped MNIST files into data_dir, checking their md5."""
    os.makedirs(data_dir, exist_ok=True)
    for name, md5 in MD5.items():
        path = os.path.join(data_dir, name + ".gz")
        if os.path.isfile(path) and hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest() == md5:
            continue
        try:
            with urllib.request.urlopen(URL + name + ".gz", timeout=60) as response:
                data = response.read()
        except OSError as e:
            raise UsageError(f"cannot download {URL}{name}.gz ({e}); without network, put the "
                             f"four MNIST files {', '.join(MD5)} (.gz or not) in {data_dir} "
                             f"by hand") from None
        if hashlib.md5(data).hexdigest() != md5:
            raise UsageError(f"{URL}{name}.gz has the wrong md5 checksum; "
                             f"try --download again later or fetch the file by hand")
        try:
            with replaced_atomically(path, "wb") as f:
                f.write(data)
        except OSError as e:
            raise UsageError(f"cannot write {path} ({e.strerror}); give a --data_dir you can write to") from None


def find_file(data_dir, name):
    """Returns the path of data_dir/name.gz or data_dir/name, whichever exists."""
    if not os.path.isdir(data_dir):
        raise UsageError(f"data directory {data_dir} does not exist; "
                         f"pass --data_dir=DIR with the MNIST files, or add --download")
    for candidate in (name + ".gz", name):
        if os.path.isfile(os.path.join(data_dir, candidate)):
            return os.path.join(data_dir, candidate)
    raise UsageError(f"{name}.gz not found in {data_dir}; put it there (gzipped or not) "
                     f"or add --download")


def read_idx(path, magic):
    """Returns the uint8 array in an IDX file (gzipped or raw) with this magic."""
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == b"\x1f\x8b"
        with (gzip.open if gzipped else open)(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise UsageError(f"cannot read {path} ({e}); fetch the file again") from None
    fix = "fetch the file again"
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        kind = "images" if magic == IMAGES_MAGIC else "labels"
        raise UsageError(f"{path} has magic number {found}, not {magic} of IDX {kind}; {fix}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", data[4:header]) if len(data) >= header else ()
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise UsageError(f"{path} is truncated or corrupt ({len(data)} bytes, header says "
                         f"{expected}); {fix}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def write_idx(path, array):
    """Writes a uint8 array as an IDX file, gzipped if path ends in .gz."""
    array = np.asarray(array, np.uint8)
    header = struct.pack(f">{1 + array.ndim}i", 0x800 | array.ndim, *array.shape)
    with (gzip.open if path.endswith(".gz") else open)(path, "wb") as f:
        f.write(header + array.tobytes())


def load_split(data_dir, prefix):
    """Returns images (n, 28, 28) scaled to [0, 1] and labels (n,) of 'train' or 't10k'."""
    images = read_idx(find_file(data_dir, f"{prefix}-images-idx3-ubyte"), IMAGES_MAGIC)
    labels = read_idx(find_file(data_dir, f"{prefix}-labels-idx1-ubyte"), LABELS_MAGIC)
    where = f"{prefix} files in {data_dir}"
    if images.shape[1:] != (28, 28):
        raise UsageError(f"{where}: images are {images.shape[1]}x{images.shape[2]}, not 28x28; "
                         f"use the MNIST files")
    if len(images) != len(labels) or not len(images):
        raise UsageError(f"{where}: {len(images)} images but {len(labels)} labels; "
                         f"use matching, non-empty images and labels files")
    if labels.max() > 9:
        raise UsageError(f"{where}: label {labels.max()} is not a digit; fetch the files again")
    return model_inputs(images, labels)


def model_inputs(images, labels):
    """The model's inputs from the files' bytes: pixels scaled to [0, 1], labels as int64."""
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)


def make_test_split(src_dir, dst_dir, num_train=8000):
    """Splits src_dir's t10k set into dst_dir's 'train' (first num_train images) and 't10k'
    (the rest) sets: a held-out check without the training set, not the MNIST benchmark."""
    images = read_idx(find_file(src_dir, "t10k-images-idx3-ubyte"), IMAGES_MAGIC)
    labels = read_idx(find_file(src_dir, "t10k-labels-idx1-ubyte"), LABELS_MAGIC)
    os.makedirs(dst_dir, exist_ok=True)
    for prefix, part in (("train", slice(num_train)), ("t10k", slice(num_train, None))):
        write_idx(os.path.join(dst_dir, f"{prefix}-images-idx3-ubyte"), images[part])
        write_idx(os.path.join(dst_dir, f"{prefix}-labels-idx1-ubyte"), labels[part])


class RowRNNClassifier:
    """Basic tanh RNN over the rows of an image; a dense layer on its final state."""

    def __init__(self, hidden_size, learning_rate, num_rows=28, row_size=28, num_classes=10):
        v1 = tf.compat.v1
        self.images = v1.placeholder(tf.float32, [None, num_rows, row_size], "images")
        self.labels = v1.placeholder(tf.int64, [None], "labels")
        glorot, zeros = v1.glorot_uniform_initializer(), v1.zeros_initializer()
        w_x = v1.get_variable("rnn/w_x", [row_size, hidden_size], initializer=glorot)
        w_h = v1.get_variable("rnn/w_h", [hidden_size, hidden_size], initializer=glorot)
        b = v1.get_variable("rnn/b", [hidden_size], initializer=zeros)
        h = tf.zeros([tf.shape(self.images)[0], hidden_size])
        for t in range(num_rows):  # h = tanh(x_t W_x + h W_h + b), unrolled over rows
            h = tf.tanh(tf.matmul(self.images[:, t], w_x) + tf.matmul(h, w_h) + b)
        w_out = v1.get_variable("dense/w", [hidden_size, num_classes], initializer=glorot)
        b_out = v1.get_variable("dense/b", [num_classes], initializer=zeros)
        self.logits = tf.matmul(h, w_out) + b_out
        self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=self.labels, logits=self.logits))
        correct = tf.equal(tf.argmax(self.logits, 1), self.labels)
        self.accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        self.train_op = v1.train.AdamOptimizer(learning_rate).minimize(self.loss)


def run_epoch(session, model, images, labels, batch_size, rng=None, epoch=0, batch_per_log=0):
    """One pass over the data, training on shuffled batches if rng is given; returns loss and
    accuracy averaged over the examples (batches weighted by their size)."""
    order = rng.permutation(len(labels)) if rng is not None else np.arange(len(labels))
    num_batches = -(-len(order) // batch_size)
    fetches = [model.loss, model.accuracy] + ([model.train_op] if rng is not None else [])
    total_loss = total_acc = 0.0
    for i in range(num_batches):
        batch = order[i * batch_size:(i + 1) * batch_size]
        feed = {model.images: images[batch], model.labels: labels[batch]}
        loss, acc = session.run(fetches, feed)[:2]
        total_loss += loss * len(batch)
        total_acc += acc * len(batch)
        if batch_per_log and (i + 1) % batch_per_log == 0:
            print(f"epoch {epoch} batch {i + 1}/{num_batches} loss {loss:.3f} acc {acc:.3f}")
    return total_loss / len(order), total_acc / len(order)


def train_and_test(train_set, test_set, hidden_size, learning_rate, batch_size, num_epoch, seed,
                   batch_per_log=0):
    """Trains a fresh model, printing progress; returns [(train loss, acc)] per epoch and
    (test loss, acc). The same seed gives the same numbers."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(seed)
        model = RowRNNClassifier(hidden_size, learning_rate)
        init = tf.compat.v1.global_variables_initializer()
    rng = np.random.RandomState(seed)
    history = []
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(init)
        for epoch in range(1, num_epoch + 1):
            loss, acc = run_epoch(session, model, *train_set, batch_size, rng, epoch, batch_per_log)
            print(f"Epoch: {epoch}, Train Loss: {loss:.3f}, Train Acc: {acc:.3f}")
            history.append((loss, acc))
        test_loss, test_acc = run_epoch(session, model, *test_set, batch_size)
    print(f"Test Loss: {test_loss:.3f}, Test Acc: {test_acc:.3f}")
    return history, (test_loss, test_acc)


FLAGS = flags.FLAGS


def define_flags():
    """The command line; defined only when this file is the program, so that importing it (tests)
    adds nothing to absl's global flags, where ptb_word_lm.py defines --seed, --learning_rate too."""
    flags.DEFINE_float("learning_rate", 0.001, "Adam learning rate.")
    flags.DEFINE_integer("seed", 111, "Seed of the batch shuffling and of the weights.")
    flags.DEFINE_integer("batch_size", 128, "Images per training batch.")
    flags.DEFINE_integer("num_epoch", 10, "Passes over the training set.")
    flags.DEFINE_integer("batch_per_log", 10, "Print a progress line every this many batches.")
    flags.DEFINE_integer("hidden_size", 128, "Units in the RNN state.")
    flags.DEFINE_string("data_dir", "MNIST_data/", "Directory with the four MNIST IDX files.")
    flags.DEFINE_boolean("download", False, "First fetch the MNIST files into --data_dir.")


def main(argv):
    if len(argv) > 1:
        raise UsageError(f"unexpected argument {argv[1]!r}; write flags as --name=value")
    for name in ("batch_size", "num_epoch", "batch_per_log", "hidden_size", "learning_rate"):
        if not 0 < FLAGS[name].value < float("inf"):  # also refuses nan
            raise UsageError(f"--{name}={FLAGS[name].value} must be positive and finite; "
                             f"pass e.g. --{name}={FLAGS[name].default}")
    if not 0 <= FLAGS.seed <= MAX_SEED:
        raise UsageError(f"--seed={FLAGS.seed} is out of range; pass 0 <= seed <= {MAX_SEED}")
    if FLAGS.download:
        download(FLAGS.data_dir)
    train_set, test_set = load_split(FLAGS.data_dir, "train"), load_split(FLAGS.data_dir, "t10k")
    train_and_test(train_set, test_set, FLAGS.hidden_size, FLAGS.learning_rate, FLAGS.batch_size, FLAGS.num_epoch,
                   FLAGS.seed, FLAGS.batch_per_log)


if __name__ == "__main__":
    cli.run_program("mnist_rnn.py", define_flags, main)
