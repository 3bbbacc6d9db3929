"""How every program here starts: its flags, graph mode, and a user's mistake as one line."""
import sys

from absl import app, flags

from quiet_tf import tf
from reader import UsageError


def run_program(name, define_program_flags, program_main):
    """Define the program's flags and run program_main(argv) in TensorFlow's graph mode.

    A UsageError or a bad flag ends the program with one line on stderr and exit code 1,
    Ctrl-C with exit code 130.
    """
    define_program_flags()
    tf.compat.v1.disable_eager_execution()

    def parse_flags(argv):
        try:
            return flags.FLAGS(argv)
        except flags.Error as e:
            sys.exit(f"{name}: error: {e}; see --helpfull for the flags")

    try:
        app.run(program_main, flags_parser=parse_flags)
    except UsageError as e:
        sys.exit(f"{name}: error: {e}")
    except KeyboardInterrupt:
        sys.exit(130)
