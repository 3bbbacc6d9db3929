"""Compare training runs with the paper's Table 1 and the TensorFlow tutorial, as Markdown.

    python report.py results/*.json

Each file is a results.json written by ptb_word_lm.py (--save_path). A run cut short
(--max_steps_per_epoch, or fewer epochs than its config) is listed with its speed and the
time a full run would take on the machine it ran on.
"""
import json
import sys

import configs


def describe(run, full_epochs):
    """Speed, how much of a full run of full_epochs was trained, and the full run's projected hours."""
    config, epochs = run["config"], run["epochs"]
    epoch_size = run.get("epoch_size")
    steps = [e.get("train_steps", epoch_size) for e in epochs]
    complete = len(epochs) == full_epochs and all(s == epoch_size for s in steps)
    wps = sum(e["train_wps"] for e in epochs) / len(epochs)
    described = {"complete": complete, "wps": wps, "trained": f"{len(epochs)} of {full_epochs} epochs",
                 "projected_hours": None}
    if not complete and epoch_size:  # results.json from before epoch_size was recorded: no projection
        epoch_hours = (epoch_size * config["batch_size"] * config["num_steps"] / wps
                       + epochs[-1]["valid_seconds"]) / 3600
        described.update(trained=f"{sum(steps) / epoch_size:.2f} of {full_epochs} epochs",
                         projected_hours=full_epochs * epoch_hours + (run["test_seconds"] or 0) / 3600)
    return described


def reference(config):
    """The paper's size (small, medium or large) with this run's layers and units, if any."""
    for name in ("small", "medium", "large"):
        size = configs.get_config(name)
        if (size.num_layers, size.hidden_size) == (config["num_layers"], config["hidden_size"]):
            return size
    return configs.Config(**{field: None for field in configs.OVERRIDABLE})


def fmt(value):
    return "—" if value is None else f"{value:.1f}"


def diff(value, reference):
    return "—" if value is None or reference is None else f"{value - reference:+.1f}"


def report(runs):
    lines = ["| run | trained | valid | test | paper valid / test | tutorial valid / test | test − paper | "
             "test − tutorial | words/s | full run here |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, run in runs:
        c = reference(run["config"])
        d = describe(run, c.max_max_epoch or run["config"]["max_max_epoch"])
        valid = run["epochs"][-1]["valid_perplexity"]
        test = run["test_perplexity"]
        if d["complete"]:
            full = f"{run['wall_seconds'] / 60:.0f} min (measured)"
        else:
            without_test = "" if run["test_seconds"] is not None else ", without the test pass"
            full = "—" if d["projected_hours"] is None else f"~{d['projected_hours']:.1f} h (projected{without_test})"
        lines.append(f"| {name} | {d['trained']} | {fmt(valid)} | {fmt(test)} | "
                     f"{fmt(c.paper_valid)} / {fmt(c.paper_test)} | "
                     f"{fmt(c.tutorial_valid)} / {fmt(c.tutorial_test)} | "
                     f"{diff(test, c.paper_test) if d['complete'] else '(partial)'} | "
                     f"{diff(test, c.tutorial_test) if d['complete'] else '(partial)'} | "
                     f"{d['wps']:,.0f} | {full} |")
    machines = sorted({f"{run['machine']['cpu']}, {run['machine']['cores']} cores" for _, run in runs})
    lines.append("")
    lines.append("Machine: " + "; ".join(machines) + ".")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python report.py RESULTS.json [...]")
    try:
        runs = [(path.rsplit("/", 1)[-1].removesuffix(".json"), json.load(open(path))) for path in sys.argv[1:]]
    except (OSError, ValueError) as e:
        sys.exit(f"report.py: error: cannot read {e}; give results.json files written by ptb_word_lm.py")
    for name, run in runs:
        if not run.get("epochs"):
            sys.exit(f"report.py: error: {name} holds no trained epochs; give results.json files "
                     f"written by ptb_word_lm.py --save_path")
    print(report(runs))
