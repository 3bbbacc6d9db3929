"""A trained model as a TensorFlow SavedModel that other programs can use without this code.

    python export.py --save_path=runs/small --export_dir=exported/small

The export holds the PTBModel graph with the checkpoint's weights and one signature,
serving_default, for a fixed [--batch_size, --num_steps] of word ids (default [1, 1]: one
word at a time, the state carried by the caller):

    inputs   word_ids [batch, time] int32; c0, h0, c1, h1, ... [batch, hidden] float32, the LSTM
             state of each layer (zeros to start)
    outputs  log_probs [batch, time, vocab], the log-probability of every next word after each
             input word; c0, h0, ... the state after the last word, to feed back in

vocab.txt beside it lists the words, line i being word id i.
"""
import os
import shutil
import tempfile

import numpy as np
from absl import flags

import cli
import ptb_word_lm
import run_dir
from configs import parse_flag
from quiet_tf import tf
from reader import UsageError


def signature(model):
    """The serving SignatureDef of model: word ids and state in, next-word log-probs and state out."""
    batch_size, num_steps = model.input_.batch_size, model.input_.num_steps
    # model.logits rows are time-major (row t * batch_size + b).
    log_probs = tf.nn.log_softmax(tf.reshape(model.logits, [num_steps, batch_size, -1]))
    inputs, outputs = {"word_ids": model.input_data}, {"log_probs": tf.transpose(log_probs, [1, 0, 2])}
    for layer, ((c, h), (c_next, h_next)) in enumerate(zip(model.initial_state, model.final_state)):
        inputs[f"c{layer}"], inputs[f"h{layer}"] = c, h
        outputs[f"c{layer}"], outputs[f"h{layer}"] = c_next, h_next
    return tf.compat.v1.saved_model.predict_signature_def(inputs, outputs)


def check_export_dir(export_dir):
    if not export_dir:
        raise UsageError("give the directory to write, like --export_dir=exported/small")
    empty_dir = os.path.isdir(export_dir) and not os.listdir(export_dir)
    if os.path.lexists(export_dir) and not empty_dir:
        raise UsageError(f"--export_dir={export_dir} already exists and is not an empty directory; "
                         f"give a new directory, nothing was overwritten")


def export(save_path, which, export_dir, batch_size=1, num_steps=1):
    """Write the checkpoint in save_path to export_dir as a SavedModel; return the checkpoint's prefix.

    The export is built beside export_dir and moved into place when complete.
    """
    config, word_to_id, prefix = run_dir.load_trained(save_path, which)
    check_export_dir(export_dir)
    parent = os.path.dirname(os.path.abspath(export_dir))
    try:
        os.makedirs(parent, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=os.path.basename(os.path.abspath(export_dir)) + ".tmp", dir=parent)
    except OSError as e:
        raise UsageError(f"cannot write in {parent} ({e.strerror}); give an --export_dir you can write to") from None
    try:
        built = os.path.join(scratch, "export")
        input_ = ptb_word_lm.PTBInput(np.zeros(0, np.int32), batch_size, num_steps)
        with ptb_word_lm.restored_model(config, prefix, input_) as (session, model):
            builder = tf.compat.v1.saved_model.Builder(built)
            builder.add_meta_graph_and_variables(session, [tf.saved_model.SERVING],
                                                 signature_def_map={"serving_default": signature(model)},
                                                 strip_default_attrs=True)
            builder.save()
        run_dir.write_vocab(built, word_to_id)
        os.replace(built, export_dir)
    finally:
        shutil.rmtree(scratch)
    return prefix


FLAGS = flags.FLAGS


def define_flags():
    cli.define_trained_run_flags()
    flags.DEFINE_string("export_dir", None, "Directory to create with the SavedModel and vocab.txt.")
    flags.DEFINE_string("batch_size", "1", "Sequences per call of the exported signature.")
    flags.DEFINE_string("num_steps", "1", "Words per sequence per call of the exported signature.")


def main(argv):
    if len(argv) > 1:
        raise UsageError(f"unexpected argument {argv[1]!r}; all options are flags like --export_dir=DIR")
    batch_size = parse_flag("batch_size", FLAGS.batch_size, int, 1)
    num_steps = parse_flag("num_steps", FLAGS.num_steps, int, 1)
    prefix = export(FLAGS.save_path, FLAGS.checkpoint, FLAGS.export_dir, batch_size, num_steps)
    print(f"Exported {prefix} to {FLAGS.export_dir}: word_ids [{batch_size}, {num_steps}] and state in, "
          f"log_probs [{batch_size}, {num_steps}, vocab] and state out; words in {FLAGS.export_dir}/vocab.txt")


if __name__ == "__main__":
    cli.run_program("export.py", define_flags, main)
