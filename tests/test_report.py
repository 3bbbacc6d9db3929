import dataclasses
import json

import pytest

import configs
import report
from conftest import png_size, run_into_closed_pipe

PTB = {"naming": "ptb", "vocab_size": 10000, "train_ids": 929589, "valid_ids": 73760, "test_ids": 82430}


def run(model, epochs, steps_per_epoch, epoch_size, test=None):
    config = dataclasses.asdict(configs.get_config(model))
    history = [{"epoch": e, "train_wps": 1000.0, "train_steps": steps_per_epoch, "valid_perplexity": 200.0 - e,
                "train_seconds": 70.0, "valid_seconds": 36.0} for e in range(1, epochs + 1)]
    return {"config": config, "epochs": history, "epoch_size": epoch_size, "test_perplexity": test,
            "test_seconds": 360.0, "wall_seconds": 600.0, "machine": {"cpu": "X", "cores": 2}, "data": dict(PTB),
            "seed": 0, "rnn_mode": "block", "data_path": "/data/ptb"}


def row_of(table, name):
    return next(line for line in table.splitlines() if line.startswith(f"| {name} |"))


def test_complete_run_is_compared_with_paper_and_tutorial():
    table = report.report([("small", run("small", 13, 100, 100, test=115.0))])
    row = table.splitlines()[2]
    assert "| small | 13 of 13 epochs | 187.0 | 115.0 | 120.7 / 114.5 | 121.4 / 115.9 | +0.5 | -0.9 |" in row
    assert "10.0 min (measured)" in row


def test_partial_run_is_projected_from_its_speed():
    partial = run("medium", 1, 10, 100)
    partial["config"]["max_max_epoch"] = 1  # as a segment is run: --max_max_epoch=1 --max_steps_per_epoch=10
    described = report.describe(partial, 39)
    # an epoch: 100 batches x 20 x 35 words at 1000 words/s = 70 s, plus 36 s validation
    assert described["projected_hours"] == pytest.approx((39 * (70 + 36) + 360) / 3600)
    assert described["trained"] == "0.10 of 39 epochs" and not described["complete"]
    assert "(partial)" in report.report([("medium", partial)])


def test_segment_without_test_pass_is_projected_without_it():
    segment = run("large", 1, 10, 100)
    segment.update(test_seconds=None)
    assert report.describe(segment, 55)["projected_hours"] == pytest.approx(55 * (70 + 36) / 3600)
    row = report.report([("large", segment)]).splitlines()[2]
    assert "| — | 82.2 / 78.4 |" in row and "without the test pass" in row


def test_one_machine_line_per_cpu_even_when_the_kernel_differs():
    first, second = run("small", 13, 100, 100, test=115.0), run("medium", 1, 10, 100)
    first["machine"]["system"], second["machine"]["system"] = "Linux-6.18-v669", "Linux-6.18-v782"
    assert report.report([("small", first), ("medium", second)]).endswith("\nMachine: X (flags not recorded), 2 cores.")


def test_the_machine_line_names_the_cpu_family_when_the_run_recorded_it():
    epyc = {"cpu": "AMD EPYC", "cores": 2, "avx512": True, "flags": ["avx2", "avx512f"]}
    assert report.machine(dict(epyc, cpu_family=26)) == "AMD EPYC, CPU family 26 (AVX-512), 2 cores"
    assert report.machine(epyc) == "AMD EPYC (AVX-512), 2 cores"


def test_rows_are_named_after_the_run_directory_or_the_file():
    assert report.name_of("runs/medium/results.json") == "medium"
    assert report.name_of("results/small_seed3.json") == "small_seed3"


def test_only_ptb_runs_are_compared_with_the_paper():
    sample = run("small", 13, 100, 100, test=40.0)
    sample["data"] = {"naming": "ptb", "vocab_size": 33, "train_ids": 3000, "valid_ids": 300, "test_ids": 300}
    row = row_of(report.report([("sample", sample)]), "sample")
    assert "not PTB" in row and "120.7" not in row and "121.4" not in row
    assert row.startswith("| sample | 13 of 13 epochs, not PTB | 187.0 | 40.0 | — | — | — | — |")
    # Files from before "data": PTB's vocabulary and PTB's epoch size, ((929589 // 20) - 1) // 20 = 2323.
    old = run("small", 13, 2323, 2323, test=115.0)
    del old["data"]
    assert "| 120.7 / 114.5 |" in row_of(report.report([("old", old)]), "old")
    old["epoch_size"] = old["epochs"][0]["train_steps"] = 100
    assert "not PTB" in row_of(report.report([("old", old)]), "old")


def test_a_run_longer_than_the_paper_is_complete():
    longer = run("small", 20, 100, 100, test=110.0)
    longer["config"]["max_max_epoch"] = 20
    row = row_of(report.report([("small", longer)]), "small")
    assert "| 20 of 20 epochs |" in row and "| -4.5 |" in row and "10.0 min (measured)" in row
    assert "partial" not in row and "~" not in row
    stopped = run("small", 15, 100, 100)  # told to train 20 epochs, stopped after 15
    stopped["config"]["max_max_epoch"] = 20
    assert "| 15.00 of 20 epochs |" in row_of(report.report([("small", stopped)]), "small")


def test_a_row_names_the_fields_changed_from_its_models_config():
    later_decay = run("medium", 39, 100, 100, test=82.0)
    later_decay["config"].update(max_epoch=6, lr_decay=0.8, uniform_biases=False)
    assert "| 39 of 39 epochs (max_epoch=6, lr_decay=0.8, zero biases) |" in row_of(
        report.report([("m", later_decay)]), "m")
    assert "| 39 of 39 epochs |" in row_of(report.report([("m", run("medium", 39, 100, 100, test=82.0))]), "m")
    from_before_the_flag = run("medium", 39, 100, 100, test=82.0)
    del from_before_the_flag["config"]["uniform_biases"]
    assert "| 39 of 39 epochs (zero biases) |" in row_of(report.report([("m", from_before_the_flag)]), "m")
    small = run("small", 13, 100, 100, test=115.0)
    small["config"]["uniform_biases"] = True
    assert "| 13 of 13 epochs (uniform biases) |" in row_of(report.report([("s", small)]), "s")


def test_a_run_without_wall_time_shows_what_is_known():
    interrupted = run("small", 13, 100, 100, test=115.0)
    del interrupted["wall_seconds"]
    # 13 epochs of 70 + 36 s, and the 360 s test pass
    assert "29.0 min (epochs only)" in row_of(report.report([("small", interrupted)]), "small")
    for epoch in interrupted["epochs"]:
        del epoch["train_seconds"]
        epoch["valid_seconds"] = 0
    interrupted["test_seconds"] = None
    assert row_of(report.report([("small", interrupted)]), "small").endswith("| 1,000 | — |")


def segmented(model, epochs, steps, cpus):
    """A run resumed in len(cpus) segments, the epochs shared out among them; cpus: avx512 per segment."""
    resumed = run(model, epochs, steps, 100, test=80.0)
    resumed["segments"] = [{"segment": i + 1, "first_epoch": 1 + i * epochs // len(cpus), "seconds": 8280.0,
                            "machine": {"cpu": "AMD EPYC", "cores": 2, "avx512": avx512,
                                        "flags": ["avx2", "fma"] + ["avx512f"] * avx512}}
                           for i, avx512 in enumerate(cpus)]
    for epoch in resumed["epochs"]:
        segment = [s for s in resumed["segments"] if s["first_epoch"] <= epoch["epoch"]][-1]
        epoch.update(segment=segment["segment"], machine={"cpu": "AMD EPYC", "avx512": segment["machine"]["avx512"]})
    resumed["wall_seconds"] = 8280.0 * len(cpus)
    resumed["machine"] = resumed["segments"][-1]["machine"]
    return resumed


def test_a_run_over_segments_says_how_many_and_on_which_machines():
    table = report.report([("medium", segmented("medium", 39, 100, [True, True, True]))])
    assert row_of(table, "medium").endswith("| 6 h 54 min over 3 segments (measured) |")
    assert table.endswith("\nMachine: AMD EPYC (AVX-512), 2 cores.")
    mixed = report.report([("medium", segmented("medium", 39, 100, [True, False, True]))])
    assert "AVX-512 and on AVX2-only" in row_of(mixed, "medium")
    assert mixed.endswith("\nMachine: AMD EPYC (AVX-512), 2 cores; AMD EPYC (AVX2 only), 2 cores.")


def test_a_partial_run_over_segments_keeps_its_projection():
    row = row_of(report.report([("medium", segmented("medium", 2, 10, [True, True]))]), "medium")
    assert "0.20 of 39 epochs" in row and "(partial)" in row
    assert "(projected; 2 segments so far)" in row


def test_tied_weights_are_compared_with_press_and_wolf_beyond_the_paper():
    tied = run("small", 13, 100, 100, test=113.0)
    tied["config"]["tie_weights"] = True
    table = report.report([("plain", run("small", 13, 100, 100, test=115.0)), ("tied", tied)])
    main, beyond = table.split("### Beyond the paper")
    assert "| tied |" not in main and "| plain |" in main
    assert "| tied | 13 of 13 epochs | 187.0 | 113.0 | 117.5 / 112.4 | +0.6 | 1,000 | 10.0 min (measured) |" in beyond
    assert "Press & Wolf (2017), Table 6" in beyond


def test_runs_differing_only_in_seed_show_their_spread():
    runs = []
    for seed, test in enumerate([114.0, 115.0, 117.0]):
        runs.append((f"small_seed{seed}", run("small", 13, 100, 100, test=test)))
        runs[-1][1]["seed"] = seed
        runs[-1][1]["epochs"][-1]["valid_perplexity"] = test + 5
    from_before_data = runs[0][1]  # as results/small.json: no "data", no tie_weights, another data_path
    del from_before_data["data"], from_before_data["config"]["tie_weights"]
    from_before_data.update(data_path="/elsewhere/ptb", epoch_size=2323)  # PTB's, at small's batch shape
    for epoch in from_before_data["epochs"]:
        epoch["train_steps"] = 2323
    from_before_data["config"]["vocab_size"] = 10000
    other = run("small", 13, 100, 100, test=100.0)
    other["config"]["keep_prob"] = 0.9  # another config: not in the group
    partial = run("small", 1, 100, 100, test=200.0)  # not complete: not in the group
    table = report.report(runs + [("other", other), ("partial", partial)])
    main, spread = table.split("### Seed spread")
    assert all(f"| small_seed{seed} |" in main for seed in range(3)) and "| other |" in main
    # mean 115.33, sample sd sqrt(((-1.33)^2 + (-0.33)^2 + 1.67^2) / 2) = 1.53
    assert ("| small | 3 (seeds 0–2) | 120.3 ± 1.5 | 119.0–122.0 | 115.3 ± 1.5 | 114.0–117.0 | 120.7 / 114.5 |"
            in spread)
    assert "keep_prob" not in spread and spread.count("\n| small") == 1


def test_a_seed_trained_twice_counts_once_in_the_spread():
    runs = []
    for name, seed, test in [("medium", 0, 83.0), ("medium_seed0", 0, 82.0), ("medium_seed1", 1, 84.0)]:
        runs.append((name, run("medium", 39, 100, 100, test=test)))
        runs[-1][1]["seed"] = seed
    spread = report.report(runs).split("### Seed spread")[1]
    assert "| 2 (seeds 0, 1; medium left out: a second run of a seed) |" in spread
    assert "| 83.0 ± 1.4 | 82.0–84.0 |" in spread  # medium_seed0 and medium_seed1, not medium
    assert "### Seed spread" not in report.report(runs[:2])  # one seed twice is no spread


def ensemble(sizes_and_seeds, test=80.0):
    members = [{"results": f"runs/{size}_{seed}/results.json", "config": dataclasses.asdict(configs.get_config(size)),
                "seed": seed, "valid_perplexity": 130.0 + seed, "test_perplexity": 120.0 + seed}
               for size, seed in sizes_and_seeds]
    return {"kind": "ensemble", "members": members, "valid_perplexity": test + 4, "test_perplexity": test,
            "data": dict(PTB), "machine": {"cpu": "X", "cores": 2}, "seconds": 100.0}


def test_ensembles_are_compared_with_the_papers_model_averaging():
    five = ensemble([("small", seed) for seed in range(5)], test=85.0)
    five["checkpoint"] = "latest"
    mixed = ensemble([("small", 0), ("medium", 1)])
    three = ensemble([("small", seed) for seed in range(3)])
    table = report.report([("small_x5", five), ("mixed", mixed), ("small_x3", three)])
    assert table.startswith("### Model averaging")
    assert "| small_x5 | 5 small (seeds 0–4), final epoch | 89.0 | 85.0 | 87.9 / 84.1 | +0.9 | 120.0 | 122.0 |" in table
    assert "| mixed | 1 small (seed 0), 1 medium (seed 1) | 84.0 | 80.0 | — | — |" in table
    assert "| small_x3 | 3 small (seeds 0–2) | 84.0 | 80.0 | — | — |" in table


def test_an_ensemble_is_on_ptb_by_its_recorded_counts():
    ensemble_py = ensemble([("medium", 0), ("medium", 1)], test=78.0)
    del ensemble_py["data"]["train_ids"]  # ensemble.py does not record them
    assert "| 2 medium (seeds 0, 1) | 82.0 | 78.0 | 80.6 / 77.0 | +1.0 |" in report.report([("e", ensemble_py)])
    ensemble_py["data"]["test_ids"] = 300
    assert "| 2 medium (seeds 0, 1), not PTB | 82.0 | 78.0 | — | — |" in report.report([("e", ensemble_py)])


def test_tables_come_in_order_with_headings():
    tied = run("small", 13, 100, 100, test=113.0)
    tied["config"]["tie_weights"] = True
    seeds = [run("small", 13, 100, 100, test=115.0) for _ in range(2)]
    seeds[1]["seed"] = 1
    table = report.report([("a", seeds[0]), ("b", seeds[1]), ("tied", tied),
                           ("ens", ensemble([("small", 0), ("small", 1)]))])
    order = [table.index(text) for text in ("| a |", "### Beyond the paper", "### Seed spread",
                                            "### Model averaging", "\nMachine:")]
    assert order == sorted(order) and table.startswith("| run |")


def write(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


def test_files_that_are_not_training_runs_are_skipped(tmp_path, capsys):
    paths = [write(tmp_path / "runs/medium/results.json", run("medium", 1, 10, 100)),
             write(tmp_path / "benchmark_large.json", {"config": {}, "modes": {}, "mflop_per_word": 306.0}),
             write(tmp_path / "list.json", [1, 2]),
             write(tmp_path / "other.json", {"epochs": []}),
             write(tmp_path / "empty.json", ""),
             write(tmp_path / "broken.json", "{not json"),
             write(tmp_path / "no_wps.json", {**run("small", 1, 10, 100), "epochs": [{"valid_perplexity": 1.0}]})]
    report.main(["report.py"] + paths)
    out, err = capsys.readouterr()
    assert "| medium | 0.10 of 39 epochs |" in out and out.count("\n| ") == 2
    lines = err.splitlines()
    assert len(lines) == 6 and all(line.startswith(f"skipped {path}: ") for line, path in zip(lines, paths[1:]))
    assert lines[0].endswith("a benchmark, not a training run") and "list" in lines[1]
    assert "not a training run" in lines[2] and "empty" in lines[3] and "not JSON" in lines[4]
    assert "train_wps" in lines[5]


def test_epochs_puts_the_curves_side_by_side(tmp_path, capsys):
    short, long = run("medium", 2, 100, 100), run("medium", 3, 100, 100)
    for e in long["epochs"]:
        e["learning_rate"] = 1.0 if e["epoch"] < 3 else 1 / 1.2
    short["epochs"][0]["learning_rate"] = short["epochs"][1]["learning_rate"] = 1.0
    paths = [write(tmp_path / "short.json", short), write(tmp_path / "long.json", long),
             write(tmp_path / "ensemble.json", ensemble([("small", 0), ("small", 1)]))]
    report.main(["report.py", "--epochs", *paths])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "| epoch | short | long |"
    assert lines[2:5] == ["| 1 | 199.0 (1) | 199.0 (1) |", "| 2 | 198.0 (1) | 198.0 (1) |", "| 3 | — | 197.0 (0.833) |"]
    assert "skipped" in err and "an ensemble, which has no epochs" in err


def test_nothing_left_is_a_one_line_error(tmp_path):
    with pytest.raises(SystemExit) as exited:
        report.main(["report.py", write(tmp_path / "list.json", [])])
    assert str(exited.value.code).startswith("report.py: error: ") and "\n" not in str(exited.value.code)


def test_help_and_no_arguments(capsys):
    report.main(["report.py", "--help"])
    assert capsys.readouterr().out.startswith("usage: python report.py")
    with pytest.raises(SystemExit) as exited:
        report.main(["report.py"])
    assert exited.value.code == 2 and capsys.readouterr().err.startswith("usage:")
    with pytest.raises(SystemExit) as exited:
        report.main(["report.py", "--model=small"])
    assert exited.value.code == 2 and "unknown option --model=small" in capsys.readouterr().err


def test_output_into_a_closed_pipe_ends_quietly():
    result = run_into_closed_pipe("report.py", "results/small.json")
    assert (result.returncode, result.stderr) == (1, "")


def test_duration_says_seconds_minutes_or_hours_and_minutes():
    assert [report.duration(s) for s in (4.34, 59.6, 59.96, 450, 3590, 3600, 7500, 7529)] == [
        "4.3 s", "59.6 s", "1.0 min", "7.5 min", "59.8 min", "1 h 00 min", "2 h 05 min", "2 h 05 min"]


def test_table1_has_the_papers_twelve_lstm_rows_each_filled_from_its_file(tmp_path):
    small_seed1 = run("small", 13, 100, 100, test=116.0)
    small_seed1["seed"] = 1
    write(tmp_path / "small.json", run("small", 13, 100, 100, test=115.0))
    write(tmp_path / "small_seed1.json", small_seed1)
    write(tmp_path / "medium.json", run("medium", 39, 100, 100, test=83.0))
    write(tmp_path / "ensemble_small_2.json", ensemble([("small", 0), ("small", 1)], test=96.0))
    write(tmp_path / "ensemble_small_5.json", ensemble([("small", seed) for seed in range(5)], test=84.0))
    (tmp_path / "costs").mkdir()
    for member in ["medium_seed0", "medium_seed1", "small_tied_seed0"]:
        (tmp_path / "costs" / f"{member}.npz").write_bytes(b"")
    lines = report.table1(str(tmp_path)).splitlines()
    assert lines[0] == ("| Table 1 row | paper valid / test | ours valid / test | tutorial valid / test "
                        "| training time, 2 cores | results file |")
    rows = lines[2:14]
    assert [row.split(" | ")[0] for row in rows] == [
        "| non-regularized LSTM", "| medium regularized LSTM", "| large regularized LSTM",
        "| 2 non-regularized LSTMs", "| 5 non-regularized LSTMs", "| 10 non-regularized LSTMs",
        "| 2 medium regularized LSTMs", "| 5 medium regularized LSTMs", "| 10 medium regularized LSTMs",
        "| 2 large regularized LSTMs", "| 10 large regularized LSTMs", "| 38 large regularized LSTMs"]
    assert rows[0] == ("| non-regularized LSTM | 120.7 / 114.5 | 187.0 / 115.0 | 121.4 / 115.9 "
                       "| 10.0 min (measured) | small.json |")
    assert rows[2] == "| large regularized LSTM | 82.2 / 78.4 | in progress | 82.6 / 78.3 | — | — |"
    # Both members' files are in the folder: the sum of their times; of five members only two are.
    assert rows[3] == "| 2 non-regularized LSTMs | 100.4 / 96.1 | 100.0 / 96.0 | — | 20.0 min, 2 runs | ensemble_small_2.json |"
    assert rows[4].endswith("| 5 × 10.0 min = 50.0 min | ensemble_small_5.json |")
    # An average in progress counts its members by their committed word costs.
    assert rows[8] == ("| 10 medium regularized LSTMs | 75.2 / 72.0 | in progress: 2 of 10 medium runs | — "
                       "| 10 × 10.0 min = 1 h 40 min | — |")
    assert rows[9].startswith("| 2 large regularized LSTMs | 76.9 / 73.6 | in progress: 0 of 2 large runs |")
    assert "| 38 large regularized LSTMs | 71.9 / 68.7 | not run here: 38 large runs | — | — | — |" == rows[11]
    assert lines[-1] == "Machine: X (flags not recorded), 2 cores."


def test_table1_refuses_a_folder_without_its_files_or_with_a_broken_one(tmp_path):
    with pytest.raises(report.UsageError, match="not a directory"):
        report.table1(str(tmp_path / "missing"))
    write(tmp_path / "small_seed1.json", run("small", 13, 100, 100, test=115.0))
    with pytest.raises(report.UsageError, match="none of Table 1's files"):
        report.table1(str(tmp_path))
    write(tmp_path / "small.json", ensemble([("small", 0), ("small", 1)]))
    with pytest.raises(report.UsageError, match="small.json is an ensemble"):
        report.table1(str(tmp_path))
    write(tmp_path / "small.json", run("small", 13, 100, 100, test=115.0))
    write(tmp_path / "medium.json", "{not json")
    with pytest.raises(report.UsageError, match="medium.json: not JSON"):
        report.table1(str(tmp_path))


def test_plot_draws_the_curves_of_two_runs_into_a_png(tmp_path, capsys):
    paths = [write(tmp_path / "small.json", run("small", 13, 100, 100, test=115.0)),
             write(tmp_path / "medium.json", run("medium", 9, 100, 100))]
    report.main(["report.py", f"--plot={tmp_path / 'curves.png'}", *paths])
    report.main(["report.py", "--plot", str(tmp_path / "again.png"), paths[0]])
    assert capsys.readouterr() == ("", "")
    assert png_size(tmp_path / "curves.png") == png_size(tmp_path / "again.png") == (800, 500)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.png", "curves.png", "medium.json", "small.json"]


def test_plot_bad_input_gets_one_line(tmp_path, capsys):
    good = write(tmp_path / "small.json", run("small", 13, 100, 100, test=115.0))
    benchmark = write(tmp_path / "benchmark.json", {"modes": {}})
    report.main(["report.py", f"--plot={tmp_path / 'curves.png'}", str(tmp_path / "missing.json"), benchmark, good])
    assert capsys.readouterr().err.splitlines() == [
        f"skipped {tmp_path / 'missing.json'}: cannot read it (No such file or directory)",
        f"skipped {benchmark}: a benchmark, not a training run"]
    assert png_size(tmp_path / "curves.png") == (800, 500)
    (tmp_path / "directory.png").mkdir()
    for unwritable in (tmp_path / "no_such_dir" / "curves.png", tmp_path / "directory.png"):
        with pytest.raises(SystemExit) as exited:
            report.main(["report.py", f"--plot={unwritable}", good])
        message = str(exited.value.code)
        assert message.startswith(f"report.py: error: --plot={unwritable} cannot be written") and "\n" not in message
    assert not list(tmp_path.glob("*.tmp"))


def test_plot_draws_only_into_a_png_file_name(tmp_path, capsys):
    good = write(tmp_path / "small.json", run("small", 13, 100, 100, test=115.0))
    before = (tmp_path / "small.json").read_text()
    with pytest.raises(SystemExit):  # `--plot a.json b.json` would otherwise draw over a.json
        report.main(["report.py", "--plot", good, good])
    assert "needs a .png file name" in capsys.readouterr().err and (tmp_path / "small.json").read_text() == before


def test_one_mode_at_a_time(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        report.main(["report.py", "--epochs", f"--plot={tmp_path / 'x.png'}", "results/small.json"])
    assert exited.value.code == 2 and "give one of --epochs, --plot, --table1" in capsys.readouterr().err


def probe(model, costs):
    """A run cut to its first batches, as results/probe holds them."""
    probed = run(model, 1, len(costs), 1327)
    probed["data"]["unigram_valid_perplexity"] = 687.0
    probed["epochs"][0].update(train_perplexity=2000.0)
    probed["first_steps"] = {"cost_per_word": costs, "grad_norm": [10.0] * len(costs)}
    return probed


def test_first_steps_show_a_run_the_check_stopped_and_one_too_short_to_check():
    stopped = probe("large", [30.0] * 33 + [9.0] * 34)
    stopped["epochs"], stopped["stopped"] = [], "batches 34-67 have perplexity 8103"
    short = probe("large", [9.0] * 20)
    tables = report.first_steps_tables([("stopped", stopped), ("short", short)])
    assert "| stopped | 67 of 1327 | — | — | 8103 (34–67) | 11.8 | stopped |" in row_of(tables, "stopped")
    assert "| — | — | not checked |" in row_of(tables, "short") and "| 20 | 30.0 / 10 | 9.0 / 10 |" in tables
    assert "| 21 |" not in tables


def test_first_steps_mark_the_runs_the_dead_start_check_stops_and_show_their_first_batches():
    dead, healthy = [30.0] * 33 + [9.0] * 100, [30.0] * 33 + [7.0] * 100  # e^9 = 8,103 = 11.8x the unigram's 687
    tables = report.first_steps_tables([("large_seed0", probe("large", dead)), ("large_seed1", probe("large", healthy))])
    assert "| 8103 (34–67) | 11.8 | stopped | 30.0 (1) | 10 |" in row_of(tables, "large_seed0")
    assert "| 1097 (34–67) | 1.6 | — |" in row_of(tables, "large_seed1")
    slow = report.first_steps_tables([("slow", probe("large", [9.0] * 67 + [30.0]))])  # no blow-up by batch 67
    assert "| 8103 (34–67) | 11.8 | — |" in row_of(slow, "slow")
    assert "| batch | large_seed0 | large_seed1 |" in tables and "| 30 | 30.0 / 10 | 30.0 / 10 |" in tables
    assert "| 31 |" not in tables
