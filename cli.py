"""How every TensorFlow program here starts: its flags, graph mode, and a user's mistake as one line."""
import signal
import sys

from absl import app, flags

from quiet_tf import tf
from reader import UsageError, end_on_closed_stdout


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`), handled like Ctrl-C: the way to stop a run in the background (`nohup ... &`),
    which Ctrl-C does not reach and which ignores SIGINT when a script started it."""


def raise_terminated(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second kill ends the program at once
    raise Terminated


def define_trained_run_flags():
    """--save_path and --checkpoint: the trained run that score.py, generate.py and export.py use."""
    flags.DEFINE_string("save_path", None, "Directory of a run of ptb_word_lm.py.")
    flags.DEFINE_string("checkpoint", "best", "The best (lowest valid perplexity) or latest checkpoint.")


def run_program(name, define_program_flags, program_main):
    """Define the program's flags and run program_main(argv) in TensorFlow's graph mode.

    A UsageError or a bad flag ends the program with one line on stderr and exit code 1,
    Ctrl-C with exit code 130 and SIGTERM with 143, and a closed standard output
    (`generate.py ... | head`) quietly with exit code 1.
    """
    define_program_flags()
    tf.compat.v1.disable_eager_execution()
    signal.signal(signal.SIGTERM, raise_terminated)

    def parse_flags(argv):
        try:
            return flags.FLAGS(argv)
        except flags.Error as e:
            sys.exit(f"{name}: error: {e}; see --helpfull for the flags")

    def main_then_flush(argv):
        exit_code = program_main(argv)
        sys.stdout.flush()  # a closed pipe raises here, inside the try below, and not at exit
        return exit_code

    try:
        app.run(main_then_flush, flags_parser=parse_flags)
    except UsageError as e:
        sys.exit(f"{name}: error: {e}")
    except KeyboardInterrupt as e:
        sys.exit(143 if isinstance(e, Terminated) else 130)
    except BrokenPipeError:
        end_on_closed_stdout()
