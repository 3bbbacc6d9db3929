"""Model averaging, as in Table 1 of Zaremba et al. (2014): the perplexity of several trained runs
whose next-word probabilities are averaged.

    python ensemble.py --data_path=data/ptb --json=results/ensemble_small_2.json runs/small runs/small_seed1

Each member (a --save_path of ptb_word_lm.py; its best checkpoint, or with --checkpoint=latest the
model at the end of training, whose perplexities its results.json reports) is run over the validation
stream and the batch-1 test pass, the passes single models are measured with, and only its
probability of each target word is kept. The ensemble's probability of a word is the mean of the
members' probabilities (not of their logits); its cost is the negative log of that mean.
Members may be of different sizes but must share the vocabulary of --data_path. The validation
stream is cut as the first member's config cuts it (batch_size x num_steps), for every member.
"""
import dataclasses
import os
import time

import numpy as np
from absl import flags

import cli
import ptb_word_lm
import reader
import run_dir
import score
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


def member_costs(config, prefix, inputs):
    """The cost (nats) of every target word of each input, in order, under checkpoint prefix."""
    with ptb_word_lm.restored_model(config, prefix, *inputs.values()) as (session, *models):
        return {name: score.word_costs(session, model, progress=True) for name, model in zip(inputs, models)}


def average_perplexity(member_costs_of_one_pass):
    """exp of the mean over words of -log(mean over members of the probability of the word)."""
    log_p = -np.stack(member_costs_of_one_pass)  # [members, words]
    log_mean_p = np.logaddexp.reduce(log_p, axis=0) - np.log(len(log_p))
    return float(np.exp(-log_mean_p.mean()))


def evaluate_ensemble(save_paths, data_path, which="best"):
    """Results of the average of the runs in save_paths: per member and for the ensemble."""
    start = time.time()
    train_data, valid_data, test_data, word_to_id, _ = reader.load_corpus(data_path)
    first, _, _ = run_dir.load_trained(save_paths[0], which)
    ptb_word_lm.check_corpus_fits(first, train_data, valid_data, test_data)
    inputs = {"valid": ptb_word_lm.PTBInput(valid_data, first.batch_size, first.num_steps),
              "test": ptb_word_lm.scoring_input(test_data)}
    checked = [check_member(save_path, inputs, word_to_id, which) for save_path in save_paths]  # refusals first
    members, costs = [], {"valid": [], "test": []}
    for save_path, (config, prefix) in zip(save_paths, checked):
        member = member_costs(config, prefix, inputs)
        results = run_dir.read_results(save_path)
        members.append({"results": os.path.join(save_path, "results.json"), "config": dataclasses.asdict(config),
                        "seed": results["seed"], "valid_perplexity": float(np.exp(member["valid"].mean())),
                        "test_perplexity": float(np.exp(member["test"].mean()))})
        print(f"{save_path}: valid {members[-1]['valid_perplexity']:.3f}, test {members[-1]['test_perplexity']:.3f}",
              flush=True)
        for name in costs:
            costs[name].append(member[name])
    return {"kind": "ensemble", "checkpoint": which, "members": members,
            "valid_perplexity": average_perplexity(costs["valid"]), "test_perplexity": average_perplexity(costs["test"]),
            "data_path": os.path.abspath(data_path),
            "data": {"naming": reader.corpus_files(data_path)[0], "vocab_size": len(word_to_id),
                     "valid_ids": len(valid_data), "test_ids": len(test_data)},
            "machine": run_dir.machine_description(), "versions": run_dir.versions(), "seconds": time.time() - start}


FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("data_path", None, "The corpus the members were trained on (default: as ptb_word_lm.py).")
    flags.DEFINE_string("checkpoint", "best", "Each member's best (lowest valid perplexity) or latest checkpoint.")
    flags.DEFINE_string("json", None, "Write the results here as JSON.")


def main(argv):
    save_paths = argv[1:]
    if not save_paths:
        raise UsageError("give the --save_path directories of the runs to average: "
                         "python ensemble.py --data_path=DIR RUN [RUN ...]")
    if len(set(map(os.path.abspath, save_paths))) < len(save_paths):
        raise UsageError("a run is given twice; give each member once")
    if FLAGS.json and (os.path.isdir(FLAGS.json) or not os.path.isdir(os.path.dirname(os.path.abspath(FLAGS.json)))):
        raise UsageError(f"--json={FLAGS.json} is a directory or in a directory that does not exist; "
                         f"give a file path like results/ensemble.json")
    results = evaluate_ensemble(save_paths, FLAGS.data_path or reader.default_data_path(), FLAGS.checkpoint)
    print(f"Average of {len(save_paths)}: Valid Perplexity: {results['valid_perplexity']:.3f} "
          f"Test Perplexity: {results['test_perplexity']:.3f}")
    if FLAGS.json:
        run_dir.write_json(FLAGS.json, results)


if __name__ == "__main__":
    cli.run_program("ensemble.py", define_flags, main)
