"""Model averaging, as in Table 1 of Zaremba et al. (2014): the perplexity of several trained runs
whose next-word probabilities are averaged.

    python ensemble.py --data_path=data/ptb --checkpoint=latest --json=results/ensemble_small_2.json runs/small_seed0 runs/small_seed1
    python ensemble.py --data_path=data/ptb --checkpoint=latest results/costs/medium_seed0.npz ...

Each member (a --save_path of ptb_word_lm.py; its best checkpoint, or with --checkpoint=latest the
model at the end of training, whose perplexities its results.json reports) is run over the validation
stream and the batch-1 test pass, the passes single models are measured with, and only its
probability of each target word is kept. A member may also be a costs file (.npz), those
probabilities as a run wrote them (run_dir.write_costs): then nothing is run. The ensemble's
probability of a word is the mean of the members' probabilities (not of their logits); its cost is
the negative log of that mean.
Members may be of different sizes but must share the vocabulary of --data_path. The validation
stream is cut as the first member's config cuts it (batch_size x num_steps), for every member.
"""
import dataclasses
import os
import sys
import time

import numpy as np
from absl import flags

import cli
import ptb_word_lm
import reader
import run_dir
from reader import UsageError


def check_member(save_path, inputs, word_to_id, which="best"):
    """The member's (config, checkpoint prefix); refuses a member trained on another corpus than the
    one of --data_path."""
    config, member_vocab, prefix = run_dir.load_trained(save_path, which)
    if member_vocab != word_to_id:
        raise UsageError(f"{save_path} was trained with another vocabulary than the one of --data_path; "
                         f"every member must be trained on the same corpus")
    data = run_dir.read_results(save_path).get("data", {})  # absent in runs from before it was recorded
    for name, input_ in inputs.items():
        if data.get(f"{name}_ids", len(input_.data)) != len(input_.data):
            raise UsageError(f"{save_path} was trained on other data ({data[f'{name}_ids']} {name} ids there, "
                             f"{len(input_.data)} in --data_path); every member must be trained on the same corpus")
    return config, prefix


def check_costs_file(path, inputs, digest, which):
    """The saved costs of path, refused unless they are of checkpoint `which` and score the words of inputs."""
    saved = run_dir.read_costs(path)
    if saved["checkpoint"] != which:
        raise UsageError(f"{path} holds the word costs of the {saved['checkpoint']} checkpoint, not the {which}; "
                         f"give --checkpoint={saved['checkpoint']}, or costs files of the {which} checkpoint")
    if saved["corpus_digest"] != digest:
        raise UsageError(f"{path} holds the word costs of another corpus than --data_path's; "
                         f"every member must be scored on the same corpus")
    cut = (saved["config"].batch_size, saved["config"].num_steps)
    first_cut = (inputs["valid"].batch_size, inputs["valid"].num_steps)
    if cut != first_cut or any(len(saved[name]) != input_.num_targets for name, input_ in inputs.items()):
        raise UsageError(f"{path} holds the {len(saved['valid'])} validation word costs of a stream cut into batch_size "
                         f"x num_steps = {cut[0]} x {cut[1]}, not the first member's {first_cut[0]} x {first_cut[1]} "
                         f"({inputs['valid'].num_targets} words); every member's validation stream must be cut alike")
    return saved


def member_costs(config, prefix, inputs):
    """The cost (nats) of every target word of each input, in order, under checkpoint prefix."""
    with ptb_word_lm.restored_model(config, prefix, *inputs.values()) as (session, *models):
        return {name: ptb_word_lm.word_costs(session, model, sys.stderr) for name, model in zip(inputs, models)}


def average_perplexity(member_costs_of_one_pass):
    """exp of the mean over words of -log(mean over members of the probability of the word)."""
    log_p = -np.stack(member_costs_of_one_pass)  # [members, words]
    log_mean_p = np.logaddexp.reduce(log_p, axis=0) - np.log(len(log_p))
    return float(np.exp(-log_mean_p.mean()))


def is_costs_file(member):
    return member.endswith(".npz")


def first_config(member, which):
    """The config of the first member, which cuts the validation stream for all."""
    return run_dir.read_costs(member)["config"] if is_costs_file(member) else run_dir.load_trained(member, which)[0]


def checked_member(member, inputs, word_to_id, digest, which):
    """(what it is, config, seed, a function giving its costs) of a member checked against inputs."""
    if is_costs_file(member):
        saved = check_costs_file(member, inputs, digest, which)
        return {"costs": member}, saved["config"], saved["seed"], lambda: saved
    config, prefix = check_member(member, inputs, word_to_id, which)
    seed = run_dir.read_results(member)["seed"]
    return {"results": os.path.join(member, "results.json")}, config, seed, lambda: member_costs(config, prefix, inputs)


def evaluate_ensemble(members, data_path, which="best"):
    """Results of the average of members (run directories, or costs files they wrote): per member
    and for the ensemble."""
    start = time.time()
    train_data, valid_data, test_data, word_to_id, _ = reader.load_corpus(data_path)
    first = first_config(members[0], which)
    ptb_word_lm.check_corpus_fits(first, train_data, valid_data, test_data)
    inputs = {"valid": ptb_word_lm.PTBInput(valid_data, first.batch_size, first.num_steps),
              "test": ptb_word_lm.scoring_input(test_data)}
    digest = run_dir.corpus_digest(word_to_id, valid_data, test_data)
    checked = [checked_member(member, inputs, word_to_id, digest, which) for member in members]  # refusals first
    described, costs = [], {"valid": [], "test": []}
    for member, (source, config, seed, member_costs_of) in zip(members, checked):
        scored = member_costs_of()
        described.append({**source, "config": dataclasses.asdict(config), "seed": seed,
                          "valid_perplexity": ptb_word_lm.perplexity(scored["valid"]),
                          "test_perplexity": ptb_word_lm.perplexity(scored["test"])})
        print(f"{member}: valid {described[-1]['valid_perplexity']:.3f}, test {described[-1]['test_perplexity']:.3f}",
              flush=True)
        for name in costs:
            costs[name].append(scored[name])
    return {"kind": "ensemble", "checkpoint": which, "members": described,
            "valid_perplexity": average_perplexity(costs["valid"]),
            "test_perplexity": average_perplexity(costs["test"]),
            "data_path": os.path.abspath(data_path),
            "data": {"naming": reader.corpus_files(data_path)[0], "vocab_size": len(word_to_id),
                     "valid_ids": len(valid_data), "test_ids": len(test_data)},
            "machine": run_dir.machine_description(), "versions": run_dir.versions(), "seconds": time.time() - start}


FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("data_path", None, "The corpus the members were trained on (default: as ptb_word_lm.py).")
    flags.DEFINE_string("checkpoint", "best", "Each member's best (lowest valid perplexity) or latest checkpoint "
                        "(a costs file must be of that checkpoint).")
    flags.DEFINE_string("json", None, "Write the results here as JSON.")


def main(argv):
    members = argv[1:]
    if not members:
        raise UsageError("give the runs to average, as --save_path directories or their costs files: "
                         "python ensemble.py --data_path=DIR RUN_OR_NPZ [RUN_OR_NPZ ...]")
    if FLAGS.checkpoint not in run_dir.EPOCH_CHECKPOINTS:
        raise UsageError(f"unknown --checkpoint={FLAGS.checkpoint}; use best or latest")
    if len(set(map(os.path.abspath, members))) < len(members):
        raise UsageError("a member is given twice; give each member once")
    if FLAGS.json:
        run_dir.check_json_path(FLAGS.json)
    results = evaluate_ensemble(members, ptb_word_lm.data_path_or_default(FLAGS.data_path), FLAGS.checkpoint)
    print(f"Average of {len(members)}: Valid Perplexity: {results['valid_perplexity']:.3f} "
          f"Test Perplexity: {results['test_perplexity']:.3f}")
    if FLAGS.json:
        run_dir.write_json(FLAGS.json, results)


if __name__ == "__main__":
    cli.run_program("ensemble.py", define_flags, main)
