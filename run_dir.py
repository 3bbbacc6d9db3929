"""What a --save_path holds, and the rules for writing, resuming and restoring it.

A run directory holds:
- results.json: configuration, seed, data, versions, the segments the run was trained in (one per
  start of the program, each with its machine) and every epoch's perplexities and timings;
  written at the end of each epoch, before that epoch's checkpoints;
- vocab.txt: the training vocabulary, one word a line in id order;
- model.ckpt-EPOCH: the latest KEPT_CHECKPOINTS checkpoints (index file "checkpoint");
- best.ckpt: the checkpoint of the lowest validation perplexity (index file "checkpoint_best");
- mid_epoch.ckpt-STEP and mid_epoch.npz: inside an epoch, its newest mid-epoch checkpoint (index
  file "checkpoint_mid_epoch"), removed when the epoch's own are written (remove_mid_epoch);
- costs_latest.npz (written after the test pass) and costs_best.npz (by --eval_only): the word
  costs of that checkpoint, as write_costs describes them;
- TensorBoard events.
TensorFlow replaces a checkpoint's index file only once its data is complete, so a crash at any
moment leaves the previous checkpoint the one that is loaded.
"""
import dataclasses
import errno
import glob
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import time
import zipfile

import numpy as np

import configs
import reader
from quiet_tf import tf
from reader import UsageError, replaced_atomically, temporary_path
from tensorflow.python.util import _pywrap_util_port  # whether oneDNN is on: no public API says it

EPOCH_CHECKPOINTS = ("latest", "best")  # what a trained model is restored from; "mid_epoch" is inside one
CHECKPOINT_INDEX = {"latest": "checkpoint", "best": "checkpoint_best", "mid_epoch": "checkpoint_mid_epoch"}
CHECKPOINT_PREFIX = {"latest": "model.ckpt", "best": "best.ckpt", "mid_epoch": "mid_epoch.ckpt"}
MID_EPOCH_PROGRESS = "mid_epoch.npz"
KEPT_CHECKPOINTS = 2
# Fields that may differ when a run is resumed: it can be extended with more epochs.
RESUMABLE_CHANGES = {"max_max_epoch"}
# Fields of the learning-rate schedule: they may differ on resume if every trained epoch keeps its rate.
SCHEDULE_FIELDS = {"learning_rate", "max_epoch", "lr_decay"}
# The CPU flags that decide how fast the matmuls run: figures from machines that differ in them
# are not comparable.
SPEED_FLAGS = ("avx2", "fma", "avx_vnni", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16")


def create_and_remove(path):
    """Raise OSError if a file cannot be created at path: the check before any work is done."""
    with open(path, "w"):
        pass
    os.remove(path)


def prepare(save_path):
    """Create save_path if needed and check that it can be written."""
    if os.path.exists(save_path) and not os.path.isdir(save_path):
        raise UsageError(f"--save_path={save_path} is a file; give a directory (it is created if missing)")
    try:
        os.makedirs(save_path, exist_ok=True)
        create_and_remove(os.path.join(save_path, ".write_test"))
    except OSError as e:
        raise UsageError(f"--save_path={save_path} cannot be written ({e.strerror}); "
                         f"give a directory you can write to") from None


def write_atomically(path, text):
    with replaced_atomically(path) as f:
        f.write(text)


def write_json(path, value):
    write_atomically(path, json.dumps(value, indent=2))


def check_json_path(path):
    """Raise UsageError now, before any work, if write_json cannot write to path (--json=path)."""
    if os.path.isdir(path):
        raise UsageError(f"--json={path} is a directory; give the path of a file to write")
    try:
        create_and_remove(temporary_path(path))  # the file write_json writes first
    except OSError as e:
        raise UsageError(f"--json={path} cannot be written ({e.strerror}); give a file in an "
                         f"existing directory you can write to") from None


def write_npz_atomically(path, **arrays):
    with replaced_atomically(path, "wb") as f:
        np.savez(f, **arrays)


def read_results(save_path):
    path = os.path.join(save_path, "results.json")
    try:
        with open(path) as f:
            results = json.load(f)
        results["config"]["batch_size"]  # raises unless it holds a config, like every results.json written here
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise UsageError(f"{path} is missing or unreadable ({type(e).__name__}: {e}); move the directory "
                         f"away or use another --save_path") from None
    return results


def saved_config(save_path, results):
    """The configs.Config that results.json records."""
    fields = {f.name for f in dataclasses.fields(configs.Config)}
    unknown = sorted(set(results["config"]) - fields)
    if unknown:
        raise UsageError(f"{save_path}/results.json has a config field this version does not know "
                         f"({', '.join(unknown)}); it was edited or written by another program")
    try:
        return configs.Config(**results["config"])
    except TypeError as e:
        raise UsageError(f"{save_path}/results.json has an incomplete config ({e})") from None


def write_vocab(save_path, word_to_id):
    write_atomically(os.path.join(save_path, "vocab.txt"),
                     "".join(word + "\n" for word in sorted(word_to_id, key=word_to_id.get)))


def read_vocab(save_path):
    path = os.path.join(save_path, "vocab.txt")
    try:
        with open(path, encoding="utf-8") as f:
            return {word: i for i, word in enumerate(f.read().split("\n")[:-1])}
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path} is missing or unreadable ({e}); the run directory is incomplete, "
                         f"train again with another --save_path") from None


def checkpoint_path(save_path, which="latest"):
    """The prefix of the latest, best or mid_epoch checkpoint in save_path, or None."""
    return tf.compat.v1.train.latest_checkpoint(save_path, latest_filename=CHECKPOINT_INDEX[which])


def checkpoint_step(prefix):
    """The global step of checkpoint prefix: the training batches it has seen."""
    try:
        return int(tf.train.load_variable(prefix, "Model/global_step"))
    except (tf.errors.OpError, ValueError, IndexError) as e:
        raise corrupt_checkpoint(prefix, e) from None


def epochs_in_checkpoint(prefix, epochs):
    """How many of the recorded epochs (results.json's history) the checkpoint prefix holds."""
    done = np.cumsum([e["train_steps"] for e in epochs])
    return int(np.searchsorted(done, checkpoint_step(prefix), side="right"))


def newest_checkpoint(save_path, epochs):
    """(prefix, epochs done) of the newest complete checkpoint, latest or best, or (None, 0).

    The best one is the newer when saving the latest failed, e.g. on a full disk.
    """
    prefixes = [checkpoint_path(save_path, which) for which in EPOCH_CHECKPOINTS]
    found = [(epochs_in_checkpoint(p, epochs), p) for p in prefixes if p is not None]
    if not found:
        return None, 0
    done, prefix = max(found)
    return prefix, done


def check_same_run(save_path, saved, results, trained_epochs):
    """A resumed run keeps its configuration, and its seed when one is given. It may be extended,
    and its schedule changed if every epoch in trained_epochs keeps its learning rate."""
    there = dict(configs.with_defaults(saved["config"]), seed=saved["seed"])
    now = dict(results["config"], seed=saved["seed"] if results["seed"] is None else results["seed"])
    config_now = configs.Config(**results["config"])
    new_rates = [(e["epoch"], e["learning_rate"], configs.learning_rate(config_now, e["epoch"]))
                 for e in trained_epochs]
    rate_changes = [change for change in new_rates if not math.isclose(change[1], change[2])]
    if config_now.max_max_epoch < len(trained_epochs):
        raise UsageError(f"--save_path={save_path} holds a run of {len(trained_epochs)} epochs, more than "
                         f"--max_max_epoch={config_now.max_max_epoch}; give at least {len(trained_epochs)}, "
                         f"or another --save_path")
    for field, value in now.items():
        if field in RESUMABLE_CHANGES or there.get(field) == value or (field in SCHEDULE_FIELDS and not rate_changes):
            continue
        why = ""
        if field in SCHEDULE_FIELDS:
            epoch, trained_rate, new_rate = rate_changes[0]
            why = f": epoch {epoch} was trained at rate {trained_rate:.4g}, the new schedule gives it {new_rate:.4g}"
        raise UsageError(f"--save_path={save_path} holds a run of another configuration "
                         f"({field}: {there.get(field)} there, {value} now){why}; use another --save_path "
                         f"or the settings it was trained with")


def resume(save_path, results, word_to_id):
    """(results, checkpoint prefix or None, progress or None): the run in save_path to be
    continued, or the new results when save_path holds no checkpoint.

    A run is resumed from its newest complete checkpoint with its own seed; epochs that were
    recorded but whose checkpoint never landed are dropped and trained again. When the newest is
    a mid-epoch checkpoint, progress is its epoch's progress (read_mid_epoch), else None.
    """
    saved_files = [name for name in ("results.json", "vocab.txt") if os.path.exists(os.path.join(save_path, name))]
    mid_epoch = read_mid_epoch(save_path)
    has_epoch_checkpoint = any(checkpoint_path(save_path, which) for which in EPOCH_CHECKPOINTS)
    if not has_epoch_checkpoint and mid_epoch is None:
        # Files of this very run, killed before its first checkpoint, may be overwritten; others not.
        if "results.json" in saved_files:
            check_same_run(save_path, read_results(save_path), results, trained_epochs=[])
        if "vocab.txt" in saved_files and read_vocab(save_path) != word_to_id:
            raise UsageError(f"--save_path={save_path} holds the vocab.txt of another corpus and no "
                             f"checkpoint; use another --save_path or move it away")
        return results, None, None
    progress = None
    if has_epoch_checkpoint:
        saved = read_results(save_path)
        prefix, done = newest_checkpoint(save_path, saved["epochs"])
    if mid_epoch is not None and (not has_epoch_checkpoint or len(mid_epoch[1]["epochs"]) >= done):
        prefix, saved, progress = mid_epoch
        done = len(saved["epochs"])
    check_same_run(save_path, saved, results, trained_epochs=saved["epochs"][:done])
    segments = saved.get("segments") or [  # results.json from before segments were recorded
        {"segment": 1, "first_epoch": 1, "machine": saved["machine"], "seconds": saved.get("wall_seconds", 0.0)}]
    resumed = dict(saved, config=results["config"], data=results["data"], versions=results["versions"],
                   machine=results["machine"], epochs=saved["epochs"][:done],
                   segments=[s for s in segments if s["first_epoch"] <= done + (progress is not None)])
    if done < len(saved["epochs"]) or done < results["config"]["max_max_epoch"]:
        resumed.update(test_perplexity=None, test_seconds=None)  # the test pass is of the final model
    return resumed, prefix, progress


def load_trained(save_path, which="best"):
    """(config, word_to_id, checkpoint prefix) of the run saved in save_path."""
    if which not in EPOCH_CHECKPOINTS:
        raise UsageError(f"unknown --checkpoint={which}; use best or latest")
    if not save_path:
        raise UsageError("give the directory of a training run, like --save_path=runs/small")
    prefix = checkpoint_path(save_path, which) if os.path.isdir(save_path) else None
    if prefix is None:
        raise UsageError(f"no {which} checkpoint in --save_path={save_path}; train first with "
                         f"python ptb_word_lm.py --save_path={save_path}")
    config = saved_config(save_path, read_results(save_path))
    word_to_id = read_vocab(save_path)
    if len(word_to_id) != config.vocab_size:
        raise UsageError(f"{save_path}/vocab.txt has {len(word_to_id)} words but results.json says "
                         f"{config.vocab_size}; the run directory is inconsistent")
    return config, word_to_id, prefix


def restore(saver, session, prefix):
    """Restore the graph's variables from checkpoint prefix, first checking that the checkpoint
    holds each of them with the same shape."""
    try:
        saved = dict(tf.train.list_variables(prefix))
    except (tf.errors.OpError, ValueError, IndexError) as e:
        raise corrupt_checkpoint(prefix, e) from None
    for variable in tf.compat.v1.global_variables():
        name, shape = variable.op.name, variable.shape.as_list()
        if name not in saved or saved[name] != shape:
            there = "is missing" if name not in saved else f"has shape {saved[name]}"
            raise UsageError(f"checkpoint {prefix} does not fit the configuration in its results.json "
                             f"({name} {there}, the model needs {shape}); results.json or the "
                             f"checkpoint comes from another run")
    try:
        saver.restore(session, prefix)
    except (tf.errors.OpError, ValueError, IndexError) as e:
        raise corrupt_checkpoint(prefix, e) from None


def corrupt_checkpoint(prefix, error):
    """The one-line error for a checkpoint that TensorFlow cannot read."""
    return UsageError(f"checkpoint {prefix} is corrupt or incomplete ({str(error).strip().splitlines()[0]}); "
                      f"move it away to start again, nothing was overwritten")


def latest_saver(save_path):
    """A Saver of the latest checkpoints that also counts, and deletes in turn, those of earlier
    segments of the run."""
    saver = tf.compat.v1.train.Saver(max_to_keep=KEPT_CHECKPOINTS, save_relative_paths=True)
    state = tf.train.get_checkpoint_state(save_path, latest_filename=CHECKPOINT_INDEX["latest"]) if save_path else None
    if state is not None:
        saver.recover_last_checkpoints([os.path.join(save_path, os.path.basename(p))
                                        for p in state.all_model_checkpoint_paths])
    return saver


def save_checkpoint(session, saver, save_path, number, which):
    """Save the latest (model.ckpt-EPOCH), best (best.ckpt) or mid-epoch (mid_epoch.ckpt-STEP) checkpoint.

    On a full disk, the partial files are removed and the previous checkpoints stay untouched.
    """
    prefix = os.path.join(save_path, CHECKPOINT_PREFIX[which])
    try:
        saver.save(session, prefix, global_step=None if which == "best" else number,
                   latest_filename=CHECKPOINT_INDEX[which], write_meta_graph=False)
    except (tf.errors.OpError, OSError) as e:
        remove_partial_checkpoints(save_path)
        if "No space left" not in str(e) and getattr(e, "errno", None) != errno.ENOSPC:
            raise
        raise disk_full(save_path) from None


def disk_full(save_path):
    """The one-line error for a checkpoint that did not fit, once its partial files are removed."""
    size = sum(v.shape.num_elements() * v.dtype.size for v in tf.compat.v1.global_variables())
    free = shutil.disk_usage(save_path).free
    return UsageError(f"the disk of --save_path={save_path} is full: a checkpoint needs {size / 1e6:,.0f} MB "
                      f"and {free / 1e6:,.0f} MB are free; the partial checkpoint was removed and the earlier "
                      f"ones are kept: make room and run the same command again to resume")


def save_mid_epoch(session, saver, save_path, results, progress):
    """A checkpoint inside an epoch: the weights as mid_epoch.ckpt-STEP (STEP the global step) and
    mid_epoch.npz, the run's record (results) and the epoch's progress (a dict of arrays) at that
    batch, with the step. Each replaces its previous one only once complete; read_mid_epoch uses the
    two only when their steps agree."""
    step = int(session.run(tf.compat.v1.train.get_global_step()))
    try:
        write_npz_atomically(os.path.join(save_path, MID_EPOCH_PROGRESS), global_step=step,
                             results=json.dumps(results), **progress)
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        raise disk_full(save_path) from None
    save_checkpoint(session, saver, save_path, step, "mid_epoch")


def read_mid_epoch(save_path):
    """(prefix, results, progress) of the mid-epoch checkpoint in save_path, as save_mid_epoch wrote
    it; None when there is none, or its two files are of different steps (a save cut short), or
    mid_epoch.npz is unreadable: the run then resumes from the epoch's own checkpoint."""
    prefix = checkpoint_path(save_path, "mid_epoch")
    path = os.path.join(save_path, MID_EPOCH_PROGRESS)
    if prefix is None or not os.path.exists(path):
        return None
    try:
        with np.load(path) as saved:
            if int(saved["global_step"]) != checkpoint_step(prefix):
                return None
            progress = {name: saved[name][()] for name in saved.files if name not in ("global_step", "results")}
            return prefix, json.loads(str(saved["results"])), progress
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def remove_mid_epoch(save_path):
    """The mid-epoch checkpoint, once the epoch's own checkpoint has replaced it."""
    names = [MID_EPOCH_PROGRESS, CHECKPOINT_INDEX["mid_epoch"]]
    for path in [os.path.join(save_path, name) for name in names] + glob.glob(
            os.path.join(save_path, CHECKPOINT_PREFIX["mid_epoch"] + "-*")):
        if os.path.exists(path):
            os.remove(path)


def remove_partial_checkpoints(save_path):
    """The temporary files a checkpoint save leaves when it fails half way."""
    for path in glob.glob(os.path.join(save_path, "*tempstate*")) + glob.glob(os.path.join(save_path, "*_temp*")):
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def costs_path(save_path, which):
    return os.path.join(save_path, f"costs_{which}.npz")


def corpus_digest(word_to_id, valid_data, test_data):
    """A fingerprint of the words a costs file scores: the vocabulary and the validation and test ids."""
    digest = hashlib.sha256("\n".join(sorted(word_to_id, key=word_to_id.get)).encode())
    for ids in (valid_data, test_data):
        digest.update(np.asarray(ids, np.int32).tobytes())
    return digest.hexdigest()


def write_costs(path, costs, which, config, seed, digest):
    """Write a costs file atomically: the cost (nats) of every target word of the validation
    stream (cut as config cuts it) and of the batch-1 test pass, in order, as float32 arrays
    "valid" and "test", with the checkpoint they are of (best or latest), the run's config and
    seed, and the corpus_digest of the words scored. exp of the mean of "test" is the model's test
    perplexity."""
    try:
        write_npz_atomically(path, valid=np.asarray(costs["valid"], np.float32),
                             test=np.asarray(costs["test"], np.float32), checkpoint=which,
                             config=json.dumps(dataclasses.asdict(config)), seed=seed, corpus_digest=digest)
    except OSError as e:
        raise UsageError(f"cannot write {path} ({e.strerror}); the word costs need about "
                         f"{4 * (len(costs['valid']) + len(costs['test'])) // 1000} KB in a directory you can write to") from None


def remove_costs(save_path):
    """Costs files describe checkpoints that training is about to replace: remove them."""
    for which in EPOCH_CHECKPOINTS:
        if os.path.exists(costs_path(save_path, which)):
            os.remove(costs_path(save_path, which))


def read_costs(path):
    """A costs file as write_costs wrote it: {"valid", "test", "checkpoint", "config" (a Config), "seed",
    "corpus_digest"}."""
    try:
        with np.load(path) as saved:
            return {"valid": saved["valid"], "test": saved["test"], "checkpoint": str(saved["checkpoint"]),
                    "seed": int(saved["seed"]),
                    "config": configs.Config(**configs.with_defaults(json.loads(str(saved["config"])))),
                    "corpus_digest": str(saved["corpus_digest"])}
    except OSError as e:
        raise UsageError(f"cannot read {path} ({e.strerror or e}); give a costs file written by "
                         f"ptb_word_lm.py (costs_latest.npz in a run directory)") from None
    except KeyError as e:
        raise UsageError(f"{path} is not a costs file written by ptb_word_lm.py (it has no {e.args[0].split()[0]}); "
                         f"give costs_latest.npz of a run directory, or a copy of one") from None
    except (ValueError, TypeError, EOFError, zipfile.BadZipFile):
        raise UsageError(f"{path} is not a costs file written by ptb_word_lm.py (not a NumPy .npz archive of "
                         f"one); give costs_latest.npz of a run directory, or a copy of one") from None


def cpu_info(path):
    """The first processor's fields in a /proc/cpuinfo file; {} where there is no such file."""
    try:
        with open(path) as f:
            return dict(map(str.strip, line.split(":", 1)) for line in f.read().split("\n\n")[0].splitlines()
                        if ":" in line)
    except OSError:
        return {}


def machine_description(cpuinfo_path="/proc/cpuinfo"):
    """CPU model name, family and model number (the VMs name two generations of EPYC alike, "AMD
    EPYC", families 25 and 26), cores, system, which of SPEED_FLAGS the CPU has, the TensorFlow thread
    counts set in the environment (None: TensorFlow's default, one per core), and whether TensorFlow's
    matmuls run on oneDNN (decided once, at import: TF_ENABLE_ONEDNN_OPTS, else on only with AVX-512
    VNNI/BF16, AVX-VNNI or AMX, so off on the AVX2-only EPYCs)."""
    info = cpu_info(cpuinfo_path)
    cpu_flags = set(info.get("flags", "").split())
    family, model = (info.get(field, "") for field in ("cpu family", "model"))
    return {"cpu": info.get("model name", platform.processor()),
            "cpu_family": int(family) if family.isdigit() else None,
            "cpu_model": int(model) if model.isdigit() else None,
            "cores": os.cpu_count(), "system": platform.platform(),
            "flags": [flag for flag in SPEED_FLAGS if flag in cpu_flags], "avx512": "avx512f" in cpu_flags,
            "threads": {name: os.environ.get(f"TF_NUM_{name.upper()}_THREADS") for name in ("intraop", "interop")},
            "onednn": onednn_enabled()}


def onednn_enabled():
    """Whether TensorFlow runs its matmuls on oneDNN in this process."""
    return bool(_pywrap_util_port.IsMklEnabled())


def code_version():
    """The project's git commit, with "+changes" when files differ from it; None outside a git checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+changes" if changed else "")


def versions():
    return {"python": platform.python_version(), "tensorflow": tf.__version__, "numpy": np.__version__,
            "code": code_version()}


def new_results(config, rnn_mode, seed, data_path, word_to_id, train_data, valid_data, test_data):
    """The results.json of a run about to start: what it trains, on which data, with what."""
    return {"config": dataclasses.asdict(config), "rnn_mode": rnn_mode, "seed": seed,
            "epoch_size": reader.epoch_size(len(train_data), config.batch_size, config.num_steps),
            "data_path": os.path.abspath(data_path),
            "data": {"naming": reader.corpus_files(data_path)[0], "vocab_size": len(word_to_id),
                     "train_ids": len(train_data), "valid_ids": len(valid_data), "test_ids": len(test_data),
                     "unigram_valid_perplexity": reader.unigram_perplexity(train_data, valid_data)},
            "versions": versions(), "machine": machine_description(), "num_parameters": None,
            "segments": [], "epochs": [], "test_perplexity": None, "test_seconds": None, "wall_seconds": 0.0}


def finished_message(save_path, results):
    """What a finished run's command, given again, says instead of training."""
    test = f"{results['test_perplexity']:.3f}" if results["test_perplexity"] is not None else "not run"
    return (f"{save_path} holds a finished run of {len(results['epochs'])} epochs (valid perplexity "
            f"{results['epochs'][-1]['valid_perplexity']:.3f}, test {test}); its results are in "
            f"{os.path.join(save_path, 'results.json')}. Nothing to do; a larger --max_max_epoch extends it.")


def start_segment(results, rnn_mode):
    """Add a segment, this start of the program on this machine with this layer, to results; returns it."""
    segment = {"segment": len(results["segments"]) + 1, "first_epoch": len(results["epochs"]) + 1,
               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_description(),
               "rnn_mode": rnn_mode, "seconds": 0.0}
    results["segments"].append(segment)
    return segment


def record_segment(save_path, results, segment, seconds):
    """The segment has run for seconds: update the run's total and write results.json."""
    segment["seconds"] = seconds
    results["wall_seconds"] = sum(s["seconds"] for s in results["segments"])
    if save_path:
        write_json(os.path.join(save_path, "results.json"), results)


def add_epoch(save_path, results, segment, record, seconds):
    """Append an epoch's record, with the segment and machine it ran on, and write results.json."""
    machine = {key: segment["machine"][key] for key in ("cpu", "avx512")}
    results["epochs"].append(dict(record, segment=segment["segment"], machine=machine))
    record_segment(save_path, results, segment, seconds)


def save_epoch(session, saver, best_saver, writer, save_path, record, is_best):
    """The epoch's checkpoints (latest, and best when it is) and TensorBoard scalars."""
    epoch = record["epoch"]
    if is_best:
        save_checkpoint(session, best_saver, save_path, epoch, "best")
    save_checkpoint(session, saver, save_path, epoch, "latest")
    summary = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag=tag, simple_value=value) for tag, value in {
        "train/perplexity": record["train_perplexity"], "train/loss": math.log(record["train_perplexity"]),
        "valid/perplexity": record["valid_perplexity"], "learning_rate": record["learning_rate"]}.items()])
    writer.add_summary(summary, epoch)
    writer.flush()
