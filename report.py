"""Compare training runs with the paper's Table 1 and the TensorFlow tutorial, as Markdown.

    python report.py --table1 results/     # Table 1's twelve LSTM rows beside ours
    python report.py results/*.json
    python report.py --epochs results/medium.json results/large.json   # their curves side by side
    python report.py --plot=curves.png results/small.json results/medium.json   # the curves as a picture
    python report.py --first_steps results/probe/large_seed?.json   # epoch 1's first tenth, batch by batch

Each results.json written by ptb_word_lm.py (--save_path) is a row named after its directory, any
other file after itself. Only runs on PTB are compared with the paper; a run cut short is listed with
the time a full run would take on its machine. Then, when there are any: runs with tied weights,
the spread of runs that differ only in their seed, and ensembles. Other files are skipped.

--table1 DIR fills each of Table 1's rows from DIR's file of that name (small.json, medium.json,
large.json, ensemble_SIZE_N.json); a row without its file says so. --plot draws the validation
perplexity of each run per epoch (matplotlib), with the paper's as a dashed line.
"""
import collections
import dataclasses
import glob
import json
import os
import statistics
import sys

import configs
import reader
from reader import UsageError

USAGE = ("usage: python report.py [--epochs | --first_steps | --plot=FILE.png] RESULTS.json [...]  "
         "or  python report.py --table1 DIR")
PTB = {"vocab_size": 10000, "train_ids": 929589, "valid_ids": 73760, "test_ids": 82430}
# Press & Wolf (2017), Table 6: the small model with tied input and output embeddings, (valid, test).
TIED = {"small": (117.5, 112.4)}
# Zaremba et al. Table 1, model averaging: members -> (valid, test); small is the "non-regularized LSTM".
AVERAGING = {"small": {2: (100.4, 96.1), 5: (87.9, 84.1), 10: (83.5, 80.0)},
             "medium": {2: (80.6, 77.0), 5: (76.7, 73.3), 10: (75.2, 72.0)},
             "large": {2: (76.9, 73.6), 10: (72.8, 69.5), 38: (71.9, 68.7)}}
# Table 1's name of each size's models.
PAPER_NAMES = {"small": "non-regularized", "medium": "medium regularized", "large": "large regularized"}
# Table 1 rows not trained here: 10 and 38 large runs, at about 14 hours each on 2 cores.
NOT_RUN_HERE = {("large", 10), ("large", 38)}


def read(path, with_first_steps=False):
    """The training run or ensemble in the JSON file path; ValueError saying why when it is neither.
    with_first_steps: a run stopped in epoch 1 that recorded its first steps counts as a run."""
    try:
        with open(path) as f:
            run = json.load(f)
    except OSError as e:
        raise ValueError(f"cannot read it ({e.strerror})") from None
    except ValueError as e:  # not JSON, or not text
        raise ValueError("empty file" if os.path.getsize(path) == 0 else f"not JSON ({e})") from None
    if not isinstance(run, dict):
        raise ValueError(f"a JSON {type(run).__name__}, not a training run")
    if "modes" in run or "mflop_per_word" in run:
        raise ValueError("a benchmark, not a training run")
    if run.get("kind") == "ensemble":
        if not run.get("members") or not all("config" in member for member in run["members"]):
            raise ValueError("an ensemble without members")
        return run
    if not isinstance(run.get("config"), dict) or not isinstance(run.get("epochs"), list):
        raise ValueError("no config or epochs, not a training run")
    if not run["epochs"] and not (with_first_steps and "first_steps" in run):
        raise ValueError("no epoch finished yet")
    missing = {"num_layers", "hidden_size", "num_steps", "batch_size", "max_max_epoch"} - set(run["config"])
    missing |= {"train_wps", "valid_perplexity", "valid_seconds"} - set(run["epochs"][-1] if run["epochs"] else {})
    if missing:
        raise ValueError(f"no {', '.join(sorted(missing))}, not a results.json of ptb_word_lm.py")
    return run


def name_of(path):
    """runs/medium/results.json: "medium"; results/small_seed3.json: "small_seed3"."""
    if os.path.basename(path) == "results.json":
        return os.path.basename(os.path.dirname(os.path.abspath(path)))
    return os.path.splitext(os.path.basename(path))[0]


def is_ptb(run):
    """PTB's vocabulary and id counts; in files from before "data", PTB's vocabulary and epoch size."""
    if "data" in run:  # every count recorded must be PTB's; an ensemble records no train_ids
        data = run["data"]
        return {"vocab_size", "valid_ids", "test_ids"} <= set(data) and all(
            data.get(field, value) == value for field, value in PTB.items())
    config = run.get("config", {})
    return (config.get("vocab_size") == PTB["vocab_size"] and run.get("epoch_size") ==
            reader.epoch_size(PTB["train_ids"], config["batch_size"], config["num_steps"]))


def size_of(config):
    """The paper's model (small, medium or large) with this config's layers and units, or None."""
    for name in ("small", "medium", "large"):
        size = configs.get_config(name)
        if (size.num_layers, size.hidden_size) == (config["num_layers"], config["hidden_size"]):
            return name
    return None


def reference(config):
    """The paper's size (small, medium or large) with this run's layers and units, if any."""
    name = size_of(config)
    return configs.get_config(name) if name else configs.Config(**{field: None for field in configs.OVERRIDABLE})


def paper(run, source="paper"):
    """(valid, test) of the paper or the tutorial for the run's size; Press & Wolf's for tied weights."""
    if not is_ptb(run):
        return None, None
    if run["config"].get("tie_weights"):
        return TIED.get(size_of(run["config"]), (None, None))
    config = reference(run["config"])
    return getattr(config, f"{source}_valid"), getattr(config, f"{source}_test")


def changed_fields(config):
    """['max_epoch=6', 'zero biases']: what flags changed from the paper's model of this size (but tying)."""
    name = size_of(config)
    fields = dataclasses.asdict(configs.get_config(name)) if name else {}
    uniform_biases = configs.with_defaults(config)["uniform_biases"]
    return [f"{field}={config[field]:g}" for field in configs.OVERRIDABLE
            if fields and field in config and config[field] != fields[field]] \
        + ([("uniform" if uniform_biases else "zero") + " biases"]
           if uniform_biases != fields.get("uniform_biases", False) else [])


def label(config):
    """'small', or 'small, max_max_epoch=20, tied' for a config that is not the paper's."""
    name = size_of(config)
    tied = ["tied"] if config.get("tie_weights") else []
    return ", ".join([name or f"{config['num_layers']}×{config['hidden_size']}"] + changed_fields(config) + tied)


def full_epochs(run):
    """Epochs in a full run: the paper's on PTB, or the run's own when it was told to train longer."""
    paper_epochs = reference(run["config"]).max_max_epoch if is_ptb(run) else None
    return max(paper_epochs or 0, run["config"]["max_max_epoch"])


def describe(run, epochs_in_full_run):
    """Speed, how much of a full run of epochs_in_full_run was trained, and the full run's projected hours."""
    config, epochs = run["config"], run["epochs"]
    epoch_size = run.get("epoch_size")
    steps = [e.get("train_steps", epoch_size) for e in epochs]
    complete = len(epochs) >= epochs_in_full_run and all(s == epoch_size for s in steps)
    wps = sum(e["train_wps"] for e in epochs) / len(epochs)
    described = {"complete": complete, "wps": wps, "projected_hours": None,
                 "trained": f"{len(epochs)} of {max(epochs_in_full_run, len(epochs))} epochs"}
    if not complete and epoch_size:  # results.json from before epoch_size was recorded: no projection
        epoch_hours = (epoch_size * config["batch_size"] * config["num_steps"] / wps
                       + epochs[-1]["valid_seconds"]) / 3600
        described.update(trained=f"{sum(steps) / epoch_size:.2f} of {epochs_in_full_run} epochs",
                         projected_hours=epochs_in_full_run * epoch_hours + (run.get("test_seconds") or 0) / 3600)
    return described


def duration(seconds):
    """'2 h 05 min', '7.5 min' or '4.3 s': how every program here says how long something took."""
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    if round(seconds / 60, 1) < 60:
        return f"{seconds / 60:.1f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"


def measured_seconds(run):
    """The run's wall time; for a run interrupted before wall_seconds was written, what its epochs and
    test pass took (0 when not even that is known)."""
    if run.get("wall_seconds") is not None:
        return run["wall_seconds"]
    return sum(e.get("train_seconds", 0) + e["valid_seconds"] for e in run["epochs"]) + (run.get("test_seconds") or 0)


def full_run(run, described):
    """The last column: a complete run's measured time, or a full run's time projected from its speed."""
    segments = len(run.get("segments", []))
    kinds = {e["machine"]["avx512"] for e in run["epochs"] if "avx512" in e.get("machine", {})}
    mixed = "; epochs on AVX-512 and on AVX2-only CPUs" if len(kinds) > 1 else ""
    if described["complete"]:
        over = f" over {segments} segments" if segments > 1 else ""
        how = "measured" if run.get("wall_seconds") is not None else "epochs only"
        seconds = measured_seconds(run)
        return f"{duration(seconds)}{over} ({how}{mixed})" if seconds else "—"
    if described["projected_hours"] is None:
        return "—"
    notes = ("" if run.get("test_seconds") is not None else ", without the test pass") + mixed
    notes += f"; {segments} segment{'s' if segments > 1 else ''} so far" if segments else ""
    return f"~{duration(described['projected_hours'] * 3600)} (projected{notes})"


def fmt(*values):
    """'114.8', '120.7 / 114.5', or '—' when there is no value."""
    return "—" if all(v is None for v in values) else " / ".join("—" if v is None else f"{v:.1f}" for v in values)


def diff(value, reference_value):
    return "—" if value is None or reference_value is None else f"{value - reference_value:+.1f}"


def single_row(name, run, references):
    """One run: what it trained, its perplexities, and each reference (valid, test) with its difference."""
    described, test = describe(run, full_epochs(run)), run.get("test_perplexity")
    # The number of epochs is in the column already; any other change of the config is named.
    changed = [change for change in changed_fields(run["config"]) if not change.startswith("max_max_epoch=")]
    trained = described["trained"] + (f" ({', '.join(changed)})" if changed else "")
    cells = [name, trained + ("" if is_ptb(run) else ", not PTB"),
             fmt(run["epochs"][-1]["valid_perplexity"]), fmt(test)] + [fmt(*ref) for ref in references]
    cells += ["(partial)" if not described["complete"] and ref_test is not None else diff(test, ref_test)
              for _, ref_test in references]
    return cells + [f"{described['wps']:,.0f}", full_run(run, described)]


def seeds(numbers):
    """'0–9' for a range of three or more, else '0, 3'."""
    numbers = sorted(numbers)
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}–{numbers[-1]}"
    return ", ".join(map(str, numbers))


def seed_groups(runs):
    """Complete runs with the same config, rnn_mode and data, in groups of two or more seeds, each as
    (runs, names of runs left out). A seed trained twice (a rerun on another machine) counts once: the
    run given later stands, as it does for the members of Table 1's averages."""
    groups = collections.defaultdict(dict)
    for name, run in runs:
        if describe(run, full_epochs(run))["complete"]:
            config = configs.with_defaults(run["config"])
            data = "PTB" if is_ptb(run) else run.get("data") or run.get("data_path")
            key = [config, run.get("rnn_mode"), data]
            groups[json.dumps(key, sort_keys=True)].setdefault(run["seed"], []).append((name, run))
    return [([named[-1][1] for named in by_seed.values()],
             [name for named in by_seed.values() for name, _ in named[:-1]])
            for by_seed in groups.values() if len(by_seed) > 1]


def spread_row(runs, left_out):
    """Mean ± sample standard deviation and range of the valid and test perplexities of a seed group;
    left_out names the second runs of a seed that the group leaves out."""
    reruns = f"; {', '.join(left_out)} left out: a second run of a seed" if left_out else ""
    cells = [label(runs[0]["config"]) + ("" if is_ptb(runs[0]) else " (not PTB)"),
             f"{len(runs)} (seeds {seeds(run['seed'] for run in runs)}{reruns})"]
    for values in ([run["epochs"][-1]["valid_perplexity"] for run in runs],
                   [run["test_perplexity"] for run in runs if run.get("test_perplexity") is not None]):
        sd = f" ± {statistics.stdev(values):.1f}" if len(values) > 1 else ""
        cells += ([f"{statistics.mean(values):.1f}{sd}", f"{min(values):.1f}–{max(values):.1f}"] if values
                  else ["—", "—"])
    tied = " (Press & Wolf)" if runs[0]["config"].get("tie_weights") and is_ptb(runs[0]) else ""
    return cells + [fmt(*paper(runs[0])) + tied]


def ensemble_row(name, ensemble):
    """An ensemble against the paper's average of as many models of its members' size."""
    members, seeds_by_label = ensemble["members"], collections.defaultdict(list)
    for member in members:
        seeds_by_label[label(member["config"])].append(member["seed"])
    described = ", ".join(f"{len(s)} {config} (seed{'s' * (len(s) > 1)} {seeds(s)})"
                          for config, s in seeds_by_label.items())
    sizes = {size_of(member["config"]) for member in members}
    tied = any(member["config"].get("tie_weights") for member in members)
    averaged = {} if len(sizes) > 1 or tied or not is_ptb(ensemble) else AVERAGING.get(sizes.pop(), {})
    ref_valid, ref_test = averaged.get(len(members), (None, None))
    tests = [member["test_perplexity"] for member in members if member.get("test_perplexity") is not None]
    test = ensemble.get("test_perplexity")
    described += {"latest": ", final epoch", "best": ", best valid epoch"}.get(ensemble.get("checkpoint"), "")
    return [name, described + ("" if is_ptb(ensemble) else ", not PTB"), fmt(ensemble.get("valid_perplexity")),
            fmt(test), fmt(ref_valid, ref_test), diff(test, ref_test),
            fmt(min(tests) if tests else None), fmt(statistics.mean(tests) if tests else None)]


def machine(m):
    """'AMD EPYC, CPU family 26 (AVX-512), 2 cores'; without the family, or with '(flags not recorded)',
    for files from before they were recorded."""
    kind = " (flags not recorded)"
    if m.get("avx512") is not None:
        kind = " (AVX-512)" if m["avx512"] else " (AVX2 only)" if "avx2" in m.get("flags", ["avx2"]) else " (no AVX2)"
    family = f", CPU family {m['cpu_family']}" if m.get("cpu_family") is not None else ""
    return f"{m.get('cpu', 'unknown CPU')}{family}{kind}, {m.get('cores', '?')} cores"


def table(heading, columns, rows):
    return ([heading, ""] if heading else []) + ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)] \
        + ["| " + " | ".join(row) + " |" for row in rows]


def report(runs):
    singles = [(name, run) for name, run in runs if run.get("kind") != "ensemble"]
    untied = [(name, run) for name, run in singles if not run["config"].get("tie_weights")]
    tied = [(name, run) for name, run in singles if run["config"].get("tie_weights")]
    ensembles = [(name, run) for name, run in runs if run.get("kind") == "ensemble"]
    groups, tables = seed_groups(singles), []
    if untied:
        tables.append(table(None, ["run", "trained", "valid", "test", "paper valid / test", "tutorial valid / test",
                                   "test − paper", "test − tutorial", "words/s", "full run here"],
                            [single_row(name, run, [paper(run), paper(run, "tutorial")]) for name, run in untied]))
    if tied:
        tables.append(table("### Beyond the paper", ["run", "trained", "valid", "test", "reference valid / test",
                                                     "test − reference", "words/s", "full run here"],
                            [single_row(name, run, [paper(run)]) for name, run in tied])
                      + ["", "Reference: Press & Wolf (2017), Table 6, small model with tied weights."])
    if groups:
        tables.append(table("### Seed spread", ["config", "runs", "valid mean ± sd", "valid min–max",
                                                "test mean ± sd", "test min–max", "paper valid / test"],
                            [spread_row(*group) for group in groups]))
    if ensembles:
        tables.append(table("### Model averaging", ["ensemble", "members", "valid", "test", "paper valid / test",
                                                    "test − paper", "best member's test", "mean member's test"],
                            [ensemble_row(name, run) for name, run in ensembles]))
    return "\n\n".join("\n".join(lines) for lines in tables) + "\n\n" + machines_line(run for _, run in runs)


def machines_line(runs):
    """'Machine: A; B.', one entry per kind of machine: each segment's of a resumed run, else the run's own."""
    machines = sorted({machine(m) for run in runs
                       for m in [s["machine"] for s in run.get("segments", [])] or [run.get("machine") or {}]})
    return "Machine: " + "; ".join(machines) + "."


def epochs_table(runs):
    """The validation perplexity after every epoch, a column per run, with the epoch's learning rate."""
    by_epoch = [{e["epoch"]: e for e in run["epochs"]} for _, run in runs]
    rows = [[str(epoch)] + [f"{e[epoch]['valid_perplexity']:.1f} ({e[epoch]['learning_rate']:.3g})"
                            if epoch in e else "—" for e in by_epoch]
            for epoch in range(1, max(max(e) for e in by_epoch) + 1)]
    return "\n".join(table(None, ["epoch"] + [name for name, _ in runs], rows)
                     + ["", "Each cell: validation perplexity after the epoch (its learning rate)."])


def table1_rows():
    """Table 1's LSTM rows in its order, as (size, models averaged): the three models, then the averages."""
    return [(size, 1) for size in AVERAGING] + [(size, n) for size, by_n in AVERAGING.items() for n in by_n]


def table1_file(size, n):
    return f"{size}.json" if n == 1 else f"ensemble_{size}_{n}.json"


def complete_runs_by_seed(directory):
    """The complete single runs on PTB in directory, by (label, seed): where an average's members are."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        try:
            run = read(path)
        except ValueError:
            continue
        if run.get("kind") != "ensemble" and is_ptb(run) and describe(run, full_epochs(run))["complete"]:
            runs[(label(run["config"]), run.get("seed"))] = run
    return runs


def times(n, single):
    """'10 × 2 h 43 min = 27 h 11 min': n runs at the single model's time."""
    if single is None:
        return "—"
    return f"{n} × {duration(measured_seconds(single))} = {duration(n * measured_seconds(single))}"


def members_time(ensemble, single, runs_by_seed):
    """The sum of the members' training times when every member's results are in the folder."""
    members = [runs_by_seed.get((label(m["config"]), m["seed"])) for m in ensemble["members"]]
    if not all(members):
        return times(len(members), single)
    return f"{duration(sum(map(measured_seconds, members)))}, {len(members)} runs"


def committed_members(directory, size):
    """How many members of size have their word costs committed, as costs/SIZE_seedS.npz in directory."""
    return len(glob.glob(os.path.join(directory, "costs", f"{size}_seed*.npz")))


def table1_row(size, n, run, single, runs_by_seed, members_done):
    """One row of Table 1: the paper's, ours from run (None when not measured), the tutorial's, the time."""
    config = configs.get_config(size)
    name = f"{PAPER_NAMES[size]} LSTM" if n == 1 else f"{n} {PAPER_NAMES[size]} LSTMs"
    paper_cell = fmt(config.paper_valid, config.paper_test) if n == 1 else fmt(*AVERAGING[size][n])
    tutorial_cell = fmt(config.tutorial_valid, config.tutorial_test) if n == 1 else "—"
    if run is None:
        if n == 1:
            status = "in progress"
        elif (size, n) in NOT_RUN_HERE:
            status = f"not run here: {n} {size} runs"
        else:
            status = f"in progress: {min(members_done, n)} of {n} {size} runs"
        return [name, paper_cell, status, tutorial_cell, times(n, single), "—"]
    if n == 1:
        ours = fmt(run["epochs"][-1]["valid_perplexity"], run.get("test_perplexity"))
        time = full_run(run, describe(run, full_epochs(run)))
    else:
        ours = fmt(run["valid_perplexity"], run["test_perplexity"])
        time = members_time(run, single, runs_by_seed)
    return [name, paper_cell, ours, tutorial_cell, time, table1_file(size, n)]


def read_table1_files(directory):
    """{(size, n): run} for each of Table 1's files in directory; UsageError when none is, or one is broken."""
    if not os.path.isdir(directory):
        raise UsageError(f"--table1 {directory}: not a directory; give the folder of results files, e.g. results/")
    found = {}
    for size, n in table1_rows():
        path = os.path.join(directory, table1_file(size, n))
        if os.path.exists(path):
            try:
                found[(size, n)] = read(path)
            except ValueError as e:
                raise UsageError(f"--table1: {path}: {e}; give the results.json of a run or ensemble.py's JSON") from None
            if (found[(size, n)].get("kind") == "ensemble") != (n > 1):
                raise UsageError(f"--table1: {path} is {'not ' if n > 1 else ''}an ensemble; give "
                                 f"{'ensemble.py --json' if n > 1 else 'the results.json of a run'} for this name")
    if not found:
        raise UsageError(f"--table1 {directory}: none of Table 1's files (small.json, medium.json, large.json, "
                         "ensemble_SIZE_N.json) is there; give the folder of results files, e.g. results/")
    return found


def table1(directory):
    """Table 1's twelve LSTM rows: the paper's perplexities, ours, the tutorial's, and the training time."""
    found, runs_by_seed = read_table1_files(directory), complete_runs_by_seed(directory)
    members_done = {size: committed_members(directory, size) for size in AVERAGING}
    rows = [table1_row(size, n, found.get((size, n)), found.get((size, 1)), runs_by_seed, members_done[size])
            for size, n in table1_rows()]
    return "\n".join(table(None, ["Table 1 row", "paper valid / test", "ours valid / test", "tutorial valid / test",
                                  "training time, 2 cores", "results file"], rows)
                     + ["", "Training time: the run's wall time; an average's, the sum of its members' runs; a row "
                            "not measured here, its number of runs × the single model's time. In progress: how many members' "
                            "word costs are committed (costs/SIZE_seedS.npz).",
                        "", machines_line(found.values())])


def plot(png_path, runs):
    """Draw each run's validation perplexity per epoch into png_path (800 × 500 pixels), with the paper's
    as a dashed line in the colour of its run and a point where the learning rate starts to decay."""
    from matplotlib.figure import Figure  # imported here: only the picture needs matplotlib; no display used
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(8, 5), dpi=100)
    axes = figure.subplots()
    run_lines, drawn_references = [], set()
    for name, run in runs:
        epochs = [e["epoch"] for e in run["epochs"]]
        valid = [e["valid_perplexity"] for e in run["epochs"]]
        run_lines += axes.plot(epochs, valid, label=name)
        colour = run_lines[-1].get_color()
        first_decayed = run["config"]["max_epoch"] + 1  # configs.learning_rate: decays after max_epoch
        if first_decayed in epochs:
            axes.plot(first_decayed, valid[epochs.index(first_decayed)], "o", color=colour)
        reference_valid = paper(run)[0]
        if reference_valid is not None and reference_valid not in drawn_references:
            axes.axhline(reference_valid, linestyle="--", linewidth=1, color=colour)
            drawn_references.add(reference_valid)
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter("{x:g}")
    axes.yaxis.set_minor_formatter("{x:g}")
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation perplexity (log scale)")
    axes.legend(handles=run_lines + [
        Line2D([], [], color="grey", linestyle="--", linewidth=1, label="paper's valid perplexity"),
        Line2D([], [], color="grey", marker="o", linestyle="", label="learning rate starts to decay")])
    save_png(figure, png_path)


def save_png(figure, path):
    """Write the figure to path so that a reader sees the old picture or the new one, never a part."""
    try:
        with reader.replaced_atomically(path, "wb") as f:
            figure.savefig(f, format="png")
    except OSError as e:
        raise UsageError(f"--plot={path} cannot be written ({e.strerror}); give a file name in a directory "
                         "you can write to") from None


def parse(args):
    """(mode, the --plot file or None, the other arguments); mode is --epochs, --table1, --first_steps,
    --plot or None."""
    modes, png_path, rest = [], None, []
    args = list(args)
    while args:
        arg = args.pop(0)
        if arg in ("--epochs", "--table1", "--first_steps"):
            modes.append(arg)
        elif arg == "--plot" or arg.startswith("--plot="):
            png_path = arg.partition("=")[2] or (args.pop(0) if args else "")
            modes.append("--plot")
        else:
            rest.append(arg)
    problem = usage_problem(modes, png_path, rest)
    if not rest or problem:
        print(USAGE + (f"\nreport.py: error: {problem}" if problem else ""), file=sys.stderr)
        sys.exit(2)
    return modes[0] if modes else None, png_path, rest


def usage_problem(modes, png_path, rest):
    """What is wrong with the command line, or None."""
    options = [arg for arg in rest if arg.startswith("-")]
    if options:
        return f"unknown option {options[0]}"
    if len(modes) > 1:
        return "give one of --epochs, --plot, --table1, --first_steps"
    if png_path is not None and not png_path.endswith(".png"):
        return "--plot needs a .png file name, e.g. --plot=curves.png"
    if modes == ["--table1"] and len(rest) != 1:
        return "--table1 takes one folder, e.g. --table1 results/"
    return None


def first_steps_tables(runs):
    """Epoch 1's first tenth of each run: where it stood, and whether ptb_word_lm's dead-start check
    stops it; then the first 30 batches of the runs it stops, beside the first run it lets go on."""
    rows, stopped, healthy = [], [], []
    for name, run in runs:
        costs, unigram = run["first_steps"]["cost_per_word"], run["data"]["unigram_valid_perplexity"]
        ratio, window = configs.dead_start_ratio(costs, run["epoch_size"], unigram), configs.dead_start_window(run["epoch_size"])
        dead = configs.is_dead_start(costs, run["epoch_size"], unigram, run["config"]["vocab_size"])
        (stopped if dead else healthy).append((name, run))
        epoch = run["epochs"][0] if run["epochs"] else {}
        peak = max(range(len(costs)), key=costs.__getitem__)
        checked = "not checked" if ratio is None else "stopped" if dead else "—"
        rows.append([name, f"{len(costs)} of {run['epoch_size']}", fmt(epoch.get("train_perplexity")),
                     fmt(epoch.get("valid_perplexity")),
                     "—" if ratio is None else f"{ratio * unigram:.0f} ({window[0]}–{window[1]})",
                     "—" if ratio is None else f"{ratio:.1f}", checked, f"{costs[peak]:.1f} ({peak + 1})",
                     f"{max(run['first_steps']['grad_norm']):.0f}"])
    tables = [table(None, ["run", "batches", "train", "valid", "check window", "× unigram", "check",
                           "highest cost (batch)", "highest gradient norm"], rows)]
    shown = stopped + healthy[:1]
    if stopped:
        first_batches = min(30, *(len(run["first_steps"]["cost_per_word"]) for _, run in shown))
        batches = [[str(step + 1)] + [f"{run['first_steps']['cost_per_word'][step]:.1f} / "
                                      f"{run['first_steps']['grad_norm'][step]:.0f}" for _, run in shown]
                   for step in range(first_batches)]
        tables.append(table(None, ["batch"] + [name for name, _ in shown], batches))
    notes = (f"Train and valid: perplexities after these batches. Check window: the perplexity of those batches of "
             f"epoch 1; the check stops a run that blew up (a batch over {configs.BLOW_UP_NATS:g} nat a word above "
             f"uniform guessing, ln vocab_size) and stands above {configs.DEAD_START_FACTOR} × the unigram's. "
             "Second table: each batch's cost (nats per word) / gradient norm before clipping.")
    return "\n\n".join(["\n".join(lines) for lines in tables] + [notes, machines_line(run for _, run in runs)])


def read_runs(paths, with_epochs, with_first_steps=False):
    """(name, run) of each file that is a training run (with_epochs: not an ensemble; with_first_steps:
    one that recorded its first steps); a line for each other."""
    runs = []
    for path in paths:
        try:
            run = read(path, with_first_steps)
            if with_epochs and run.get("kind") == "ensemble":
                raise ValueError("an ensemble, which has no epochs")
            if with_first_steps and "first_steps" not in run:
                raise ValueError("no first_steps: a resumed run, or one from before they were recorded")
            runs.append((name_of(path), run))
        except ValueError as e:
            print(f"skipped {path}: {e}", file=sys.stderr)
    if not runs:
        raise UsageError(f"none of the {len(paths)} files is a training run; give results.json files "
                         "written by ptb_word_lm.py --save_path")
    return runs


def run_report(argv):
    mode, png_path, paths = parse(argv[1:])
    if mode == "--table1":
        print(table1(paths[0]))
        return
    runs = read_runs(paths, with_epochs=mode in ("--epochs", "--plot", "--first_steps"),
                     with_first_steps=mode == "--first_steps")
    if mode == "--plot":
        plot(png_path, runs)
    elif mode == "--first_steps":
        print(first_steps_tables(runs))
    else:
        print(epochs_table(runs) if mode == "--epochs" else report(runs))


def main(argv):
    if "-h" in argv[1:] or "--help" in argv[1:]:
        print(f"{USAGE}\n\n{__doc__.strip()}")
        return
    try:
        run_report(argv)
    except UsageError as e:
        sys.exit(f"report.py: error: {e}")


if __name__ == "__main__":
    try:
        main(sys.argv)
        sys.stdout.flush()  # a closed pipe raises here and not at exit
    except BrokenPipeError:
        reader.end_on_closed_stdout()
