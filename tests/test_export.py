"""export.py: the SavedModel, used without this code, gives the checkpoint's probabilities."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import export
import generate
from conftest import assert_one_line_error, in_session, run_cli, run_in_process

tf.compat.v1.disable_eager_execution()


# In a process of its own, without this code: the [1, 1] export stepped through "<eos> the hotel"
# with the state fed back, and the [2, 3] export given "<eos> the hotel" and "<eos> the town" at once.
LOAD_AND_RUN = """
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf

def load(export_dir):
    vocab = open(os.path.join(export_dir, "vocab.txt")).read().split()
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    zeros = {name: tf.zeros(spec.shape) for name, spec in serve.structured_input_signature[1].items()
             if name != "word_ids"}
    def run(sentences, state=None):
        ids = tf.constant([[vocab.index(w) for w in s.split()] for s in sentences], tf.int32)
        return serve(word_ids=ids, **(state or zeros))
    return run

stepped, state = load(sys.argv[1]), None
for word in ["<eos>", "the", "hotel"]:
    out = stepped([word], state)
    state = {name: out[name] for name in out if name != "log_probs"}
batched = load(sys.argv[2])(["<eos> the hotel", "<eos> the town"])
print(json.dumps({"stepped": np.exp(out["log_probs"].numpy()[0, -1]).tolist(),
                  "batched": np.exp(batched["log_probs"].numpy()[:, -1]).tolist()}))
"""


def test_exported_model_gives_the_checkpoints_next_word_probabilities(trained, tmp_path):
    stepped, batched = tmp_path / "stepped", tmp_path / "batched"
    export.export(trained, "best", str(stepped))
    export.export(trained, "best", str(batched), batch_size=2, num_steps=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batched", "stepped"]  # no scratch left behind
    assert (stepped / "vocab.txt").read_text() == (Path(trained) / "vocab.txt").read_text()
    result = subprocess.run([sys.executable, "-c", LOAD_AND_RUN, str(stepped), str(batched)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout.splitlines()[-1])
    last_logits = lambda session, model, ids: generate.read_prompt(session, model, ids)[0]
    expected = [generate.softmax(in_session(trained, last_logits, prompt=p)) for p in ("the hotel", "the town")]
    np.testing.assert_allclose(exported["stepped"], expected[0], atol=1e-5)
    np.testing.assert_allclose(exported["batched"], expected, atol=1e-5)
    assert np.abs(expected[0] - expected[1]).max() > 1e-3


def test_export_refuses_a_non_empty_directory(trained, tmp_path):
    (tmp_path / "keep.txt").write_text("keep me")
    result = run_cli(f"--save_path={trained}", f"--export_dir={tmp_path}", program="export.py")
    assert_one_line_error(result, "export.py", "not an empty directory")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"] and (tmp_path / "keep.txt").read_text() == "keep me"


@pytest.mark.parametrize("args, message", [
    (["--export_dir=/tmp/unused"], "give the directory of a training run"),
    (["--save_path=/nonexistent", "--export_dir=/tmp/unused"], "no best checkpoint"),
    (["SAVE", "--export_dir=/tmp/unused", "--batch_size=0"], "--batch_size=0: give an integer of at least 1"),
    (["SAVE"], "give the directory to write"),
    (["SAVE", "--export_dir=/proc/ptb_export/model"], "cannot write in /proc/ptb_export"),
    (["SAVE", "--export_dir=/tmp/unused", "stray"], "unexpected argument 'stray'"),
])
def test_bad_input_is_one_line_and_nonzero(trained, args, message):
    result = run_in_process(*[f"--save_path={trained}" if a == "SAVE" else a for a in args], program="export.py")
    assert_one_line_error(result, "export.py", message)
