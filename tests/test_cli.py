"""cli.py: how every TensorFlow program here reports a bad flag and takes a kill."""
import signal

import pytest

import cli
from conftest import assert_one_line_error, run_in_process

PROGRAMS = ["ptb_word_lm.py", "score.py", "generate.py", "export.py", "ensemble.py", "benchmark.py", "mnist_rnn.py"]


@pytest.mark.parametrize("program", PROGRAMS)
def test_an_unknown_flag_is_one_line_that_points_to_the_flags(program):
    result = run_in_process("--colour=red", program=program)
    assert_one_line_error(result, program, "Unknown command line flag 'colour'")
    assert result.stderr.rstrip().endswith("; see --helpfull for the flags")


def test_a_kill_stops_like_ctrl_c_and_a_second_kill_ends_the_program_at_once():
    before = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, cli.raise_terminated)
        with pytest.raises(KeyboardInterrupt) as raised:
            cli.raise_terminated(signal.SIGTERM, None)
        assert isinstance(raised.value, cli.Terminated)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)
