import contextlib
import dataclasses
import io
import os
import runpy
import signal
import struct
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from absl import app, command_name, flags

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "data" / "sample"
sys.path.insert(0, str(ROOT))


def write_corpus(directory, train, valid, test, pattern="ptb.{}.txt"):
    """Write the three files named pattern.format(split) into directory and return its path as a string."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for split, text in (("train", train), ("valid", valid), ("test", test)):
        (directory / pattern.format(split)).write_text(text)
    return str(directory)


def tiny_corpus(tmp_path):
    """A corpus of 13 words, none of them in order, in tmp_path/corpus: 60 training lines, 10 of each other."""
    words = "the cat sat on a mat and the dog ran to the big red house".split()
    rng = np.random.RandomState(0)
    line = lambda: " " + " ".join(rng.choice(words, 8)) + " \n"
    return write_corpus(tmp_path / "corpus", "".join(line() for _ in range(60)),
                        "".join(line() for _ in range(10)), "".join(line() for _ in range(10)))


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, which follows the 8-byte signature."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.fixture
def shared_ptb():
    path = SHARED / "ptb"
    if not (path / "ptb.train.txt").is_file():
        pytest.skip(f"real PTB not available at {path}")
    return str(path)


def run_cli(*args, cwd=ROOT, program="ptb_word_lm.py", stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, str(ROOT / program), *args], cwd=cwd,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=300)


def run_in_process(*args, cwd=ROOT, program="ptb_word_lm.py"):
    """run_cli's result, with the program run as __main__ in this process: it spares the new process's
    TensorFlow import, most of a short command's time. An exit with a message becomes that line on
    stderr and exit code 1, as the interpreter makes it; an uncaught exception fails the test. Not for
    what only a process of its own shows: signals, pipes, the interpreter's exit, a restart (os.execv
    would replace the test's process, so it fails the test here). Ctrl-C or kill during the run still
    stops pytest: the program's exit codes for them, 130 and 143, become KeyboardInterrupt again."""
    stdout, stderr = io.StringIO(), io.StringIO()
    app.define_help_flags()  # absl defines these once per process: keep them out of the removal below
    defined_before = set(flags.FLAGS)
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        with contextlib.chdir(cwd), mock.patch.object(sys, "argv", [program, *args]), \
                mock.patch.object(os, "execv", side_effect=AssertionError("the program restarted itself")), \
                mock.patch.object(command_name, "make_process_name_useful"), \
                contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            runpy.run_path(str(ROOT / program), run_name="__main__")
        code = 0
    except SystemExit as e:
        code = e.code or 0
    except Exception as e:
        e.add_note(f"{program} printed:\n{stdout.getvalue()}{stderr.getvalue()}")
        raise
    finally:
        signal.signal(signal.SIGTERM, sigterm)
        for name in set(flags.FLAGS) - defined_before:  # the program's flags, defined again by its next run
            delattr(flags.FLAGS, name)
    if code in (130, 143):
        raise KeyboardInterrupt(f"{program} stopped by Ctrl-C or kill")
    if isinstance(code, str):
        print(code, file=stderr)
        code = 1
    return subprocess.CompletedProcess([program, *args], code, stdout.getvalue(), stderr.getvalue())


def run_into_closed_pipe(program, *args):
    """Run a program whose standard output nobody reads any more, as in `program | head -1`."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return run_cli(*args, program=program, stdout=write_end)
    finally:
        os.close(write_end)


def assert_one_line_error(result, program, message):
    """The program refused its input as every program here does: one line on stderr, a non-zero exit."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{program}: error: ") and message in lines[0]


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """The --save_path of one model trained on the sample corpus, which score, generate and export use.

    Two epochs at the test config's max_grad_norm=1 learn only word frequencies, and a scrambled
    sentence scores as well as the real one; four at max_grad_norm=5 learn some word order.
    """
    import configs
    import ptb_word_lm
    config = dataclasses.replace(configs.get_config("test"), hidden_size=64, num_steps=10, batch_size=8,
                                 num_layers=2, max_grad_norm=5, max_epoch=4, max_max_epoch=4)
    save_path = str(tmp_path_factory.mktemp("trained"))
    with contextlib.redirect_stdout(io.StringIO()):
        ptb_word_lm.train(config, str(SAMPLE), "block", 0, save_path)
    return save_path


def in_session(save_path, function, *args, prompt="the hotel"):
    """function(session, model, ids of the prompt, *args) with the checkpoint's batch-1 step model."""
    import generate
    import ptb_word_lm
    import run_dir
    config, word_to_id, prefix = run_dir.load_trained(save_path, "best")
    input_ = ptb_word_lm.PTBInput(np.zeros(0, np.int32), 1, 1)
    with ptb_word_lm.restored_model(config, prefix, input_) as (session, model):
        return function(session, model, generate.prompt_ids(prompt, word_to_id)[0], *args)
