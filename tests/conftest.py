import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))


def write_corpus(directory, train, valid, test):
    """Write the three PTB files into directory and return its path as a string."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for split, text in (("train", train), ("valid", valid), ("test", test)):
        (directory / f"ptb.{split}.txt").write_text(text)
    return str(directory)


@pytest.fixture
def shared_ptb():
    path = SHARED / "ptb"
    if not (path / "ptb.train.txt").is_file():
        pytest.skip(f"real PTB not available at {path}")
    return str(path)


def run_cli(*args, cwd=ROOT, program="ptb_word_lm.py", stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, str(ROOT / program), *args], cwd=cwd,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=300)


def run_into_closed_pipe(program, *args):
    """Run a program whose standard output nobody reads any more, as in `program | head -1`."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return run_cli(*args, program=program, stdout=write_end)
    finally:
        os.close(write_end)
