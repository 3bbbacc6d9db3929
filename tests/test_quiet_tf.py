"""quiet_tf.py: TensorFlow imported without the CUDA probing lines on stderr."""
import os
import subprocess
import sys

from conftest import ROOT


def stderr_of(code):
    env = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}  # quiet_tf's default
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120).stderr


def test_importing_tensorflow_through_quiet_tf_prints_nothing():
    assert stderr_of("from quiet_tf import tf; tf.config.list_physical_devices('GPU'); tf.constant(1)") == ""


def test_a_warning_of_the_program_itself_still_shows():
    assert "the program's own warning" in stderr_of(
        "import sys; from quiet_tf import tf; print(\"the program's own warning\", file=sys.stderr)")
