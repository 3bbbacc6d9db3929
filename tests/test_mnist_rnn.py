"""Tests of mnist_rnn.py: IDX files, the model on a toy task, the CLI, real digits."""
import gzip
import hashlib
import os
import re

import numpy as np
import pytest

import mnist_rnn
from conftest import SHARED, assert_one_line_error, run_cli, run_in_process, run_into_closed_pipe
from reader import UsageError, temporary_path

REAL_MNIST = SHARED / "mnist"


def bright_row_task(n, seed):
    """Images of noise with one bright row at 2 * label + 4; labels 0..9."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(10, size=n)
    images = rng.randint(0, 80, size=(n, 28, 28)).astype(np.uint8)
    images[np.arange(n), 2 * labels + 4] = 255
    return images, labels


def write_split(data_dir, prefix, images, labels, suffix=".gz"):
    data_dir.mkdir(exist_ok=True)
    mnist_rnn.write_idx(str(data_dir / f"{prefix}-images-idx3-ubyte{suffix}"), images)
    mnist_rnn.write_idx(str(data_dir / f"{prefix}-labels-idx1-ubyte{suffix}"), labels)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_round_trip(tmp_path, suffix):
    images, labels = bright_row_task(5, seed=0)
    write_split(tmp_path, "train", images, labels, suffix)
    assert (tmp_path / "train-images-idx3-ubyte.gz").exists() == (suffix == ".gz")
    got_images, got_labels = mnist_rnn.load_split(str(tmp_path), "train")
    assert got_images.shape == (5, 28, 28) and got_images.dtype == np.float32
    np.testing.assert_array_equal(got_images, images / np.float32(255))
    np.testing.assert_array_equal(got_labels, labels)


def test_bad_magic(tmp_path):
    images, labels = bright_row_task(3, seed=0)
    write_split(tmp_path, "train", images, labels)
    mnist_rnn.write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), labels)  # a labels file
    with pytest.raises(UsageError, match="magic number 2049, not 2051"):
        mnist_rnn.load_split(str(tmp_path), "train")


def test_truncated_files(tmp_path):
    images, _ = bright_row_task(3, seed=0)
    raw = tmp_path / "images"
    mnist_rnn.write_idx(str(raw), images)
    raw.write_bytes(raw.read_bytes()[:-10])
    with pytest.raises(UsageError, match="truncated"):
        mnist_rnn.read_idx(str(raw), mnist_rnn.IMAGES_MAGIC)
    cut_gzip = tmp_path / "images.gz"
    cut_gzip.write_bytes(gzip.compress(raw.read_bytes())[:-20])
    with pytest.raises(UsageError, match="cannot read .*images.gz"):
        mnist_rnn.read_idx(str(cut_gzip), mnist_rnn.IMAGES_MAGIC)


def test_count_mismatch(tmp_path):
    images, labels = bright_row_task(5, seed=0)
    write_split(tmp_path, "t10k", images, labels[:4])
    with pytest.raises(UsageError, match="5 images but 4 labels"):
        mnist_rnn.load_split(str(tmp_path), "t10k")


def test_images_of_another_size_and_labels_that_are_not_digits(tmp_path):
    images, labels = bright_row_task(3, seed=0)
    write_split(tmp_path, "train", images[:, :, :20], labels)
    with pytest.raises(UsageError, match="images are 28x20, not 28x28"):
        mnist_rnn.load_split(str(tmp_path), "train")
    labels[1] = 10
    write_split(tmp_path, "train", images, labels)
    with pytest.raises(UsageError, match="label 10 is not a digit"):
        mnist_rnn.load_split(str(tmp_path), "train")


def test_missing_dir_and_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist; pass --data_dir"):
        mnist_rnn.load_split(str(tmp_path / "nowhere"), "train")
    images, labels = bright_row_task(3, seed=0)
    mnist_rnn.write_idx(str(tmp_path / "train-images-idx3-ubyte"), images)
    with pytest.raises(UsageError, match="train-labels-idx1-ubyte.gz not found"):
        mnist_rnn.load_split(str(tmp_path), "train")


def test_download_checks_md5_and_reports_no_network(tmp_path, monkeypatch):
    # A file:// "mirror" stands in for the network.
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    md5 = {}
    for name in mnist_rnn.MD5:
        (mirror / f"{name}.gz").write_bytes(name.encode())
        md5[name] = hashlib.md5(name.encode()).hexdigest()
    monkeypatch.setattr(mnist_rnn, "URL", mirror.as_uri() + "/")
    with pytest.raises(UsageError, match="wrong md5"):
        mnist_rnn.download(str(tmp_path / "data"))
    monkeypatch.setattr(mnist_rnn, "MD5", md5)
    mnist_rnn.download(str(tmp_path / "data"))
    downloaded = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert downloaded == sorted(f"{name}.gz" for name in md5)  # and no temporary files left
    (tmp_path / "data" / "train-images-idx3-ubyte.gz").unlink()
    temporary = temporary_path(str(tmp_path / "data" / "train-images-idx3-ubyte.gz"))
    os.mkdir(temporary)  # a file that cannot be written
    with pytest.raises(UsageError, match="cannot write .*train-images-idx3-ubyte.gz \\(Is a directory\\)"):
        mnist_rnn.download(str(tmp_path / "data"))
    os.rmdir(temporary)
    monkeypatch.setattr(mnist_rnn, "URL", (tmp_path / "offline").as_uri() + "/")
    (tmp_path / "data" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(UsageError, match="cannot download .*by hand"):
        mnist_rnn.download(str(tmp_path / "data"))


def test_model_learns_toy_task_and_seed_repeats(capsys):
    train, test = (mnist_rnn.model_inputs(*bright_row_task(n, seed)) for n, seed in ((300, 1), (200, 2)))
    args = dict(hidden_size=32, learning_rate=0.01, batch_size=32, num_epoch=4)
    history, (_, test_acc) = mnist_rnn.train_and_test(train, test, seed=5, **args)
    assert test_acc > 0.6  # chance is 0.1
    assert mnist_rnn.train_and_test(train, test, seed=5, **args)[0] == history
    assert mnist_rnn.train_and_test(train, test, seed=6, **args)[0] != history
    assert "Epoch: 4, Train Loss: " in capsys.readouterr().out


def toy_cli_flags(data_dir):
    write_split(data_dir, "train", *bright_row_task(64, seed=1))
    write_split(data_dir, "t10k", *bright_row_task(32, seed=2), suffix="")
    return [f"--data_dir={data_dir}", "--num_epoch=1", "--batch_size=16", "--batch_per_log=2", "--hidden_size=8"]


def test_cli_end_to_end(tmp_path):
    result = run_cli(*toy_cli_flags(tmp_path), program="mnist_rnn.py")
    assert result.returncode == 0, result.stderr
    assert "epoch 1 batch 2/4 loss " in result.stdout
    epoch_line = r"^Epoch: 1, Train Loss: \d+\.\d{3}, Train Acc: \d\.\d{3}$"
    assert re.search(epoch_line, result.stdout, re.M)
    assert re.search(r"^Test Loss: \d+\.\d{3}, Test Acc: \d\.\d{3}$", result.stdout, re.M)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("flag, message", [
    ("--data_dir=/nonexistent/mnist", "data directory /nonexistent/mnist does not exist; "),
    ("--batch_size=0", "--batch_size=0 must be positive and finite; "),
    ("--learning_rate=nan", "--learning_rate=nan must be positive and finite; "),
    ("--learning_rate=inf", "--learning_rate=inf must be positive and finite; "),
    ("--seed=-1", "--seed=-1 is out of range; "),
    ("stray", "unexpected argument 'stray'; "),
])
def test_cli_usage_error_is_one_line(flag, message):
    result = run_in_process(flag, program="mnist_rnn.py")
    assert_one_line_error(result, "mnist_rnn.py", message)


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    result = run_into_closed_pipe("mnist_rnn.py", *toy_cli_flags(tmp_path))
    assert (result.returncode, result.stderr) == (1, "")


def test_real_digits_held_out(tmp_path):
    # Only the official test set is here, so this trains on its first 8,000 images and tests on
    # its last 2,000: a held-out check, NOT the MNIST benchmark (60,000 training images).
    # 5 epochs reach 0.932 with seed 111 (3 epochs: 0.909, too close to the bar).
    if not (REAL_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"no MNIST test set in {REAL_MNIST}")
    mnist_rnn.make_test_split(str(REAL_MNIST), str(tmp_path))
    train, test = (mnist_rnn.load_split(str(tmp_path), p) for p in ("train", "t10k"))
    assert len(train[1]) == 8000 and len(test[1]) == 2000
    _, (_, test_acc) = mnist_rnn.train_and_test(train, test, hidden_size=128, learning_rate=0.001,
                                                batch_size=128, num_epoch=5, seed=111)
    assert test_acc >= 0.90, test_acc
