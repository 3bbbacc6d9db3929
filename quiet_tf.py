"""TensorFlow, imported without the CUDA probing chatter the GPU-enabled wheel prints to stderr
on a machine without a GPU (at import and at the first device query, whatever
TF_CPP_MIN_LOG_LEVEL says). `from quiet_tf import tf` instead of `import tensorflow as tf`."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # 3: also the oneDNN DT_INT32 notice, an E-level line
_stderr, _devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
os.dup2(_devnull, 2)
try:
    import tensorflow as tf
    tf.config.list_physical_devices("GPU")
finally:
    os.dup2(_stderr, 2)
    os.close(_stderr)
    os.close(_devnull)
tf.get_logger().setLevel("ERROR")
