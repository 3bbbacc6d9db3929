import dataclasses
import itertools
import json
import time

import pytest
import tensorflow as tf

import benchmark
import configs
import report
from conftest import assert_one_line_error, run_cli, run_in_process

tf.compat.v1.disable_eager_execution()
TINY = dataclasses.replace(configs.get_config("test"), vocab_size=50)


def test_flops_per_word_is_the_issues_count_for_small():
    # forward 2 x (2 layers x 320,000 + 2,000,000) multiply-adds, backward twice that
    assert benchmark.flops_per_trained_word(configs.get_config("small")) == 15_840_000


def test_a_matmul_loop_runs_its_repeats_and_counts_2mkn_flops_each(monkeypatch):
    with tf.Graph().as_default():
        loop = benchmark.matmul_loop((8, 16, 32))
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            assert loop.repeats == 1000
            assert session.run(loop.total) == 1000 * 16  # each product of ones has [0, 0] = k
            assert 0.01 < benchmark.tf_matmul_peak(session, [loop]) < 1e5  # GFLOP/s
            monkeypatch.setattr(time, "perf_counter", itertools.count().__next__)  # each run takes 1 s
            assert benchmark.tf_matmul_peak(session, [loop]) == pytest.approx(2 * 8 * 16 * 32 * 1000 / 1e9)


def test_a_short_timing_of_the_test_config():
    speeds = benchmark.time_rnn_mode(TINY, "block", warmup=2, steps=3, rounds=3, test_ids=200, square_size=64)
    assert speeds["train_wps"] > 0 and speeds["valid_wps"] > 0 and speeds["test_ids_timed"] == 200
    assert speeds["train_wps"] == sorted(r["train_wps"] for r in speeds["train_rounds"])[1]  # the median
    for key in "tf_shape_peak_gflops", "tf_square_peak_gflops", "tf_recurrent_gflops", "numpy_peak_gflops":
        assert speeds[key] > 0
    # timed on 200 ids, projected to PTB's 82,430
    assert speeds["test_pass_seconds"] == pytest.approx(82430 / speeds["test_wps"], rel=0.5)


def test_each_round_is_divided_by_the_peaks_measured_before_it(monkeypatch):
    peaks = iter([{"tf_shape_peak_gflops": 10.0 * i, "tf_square_peak_gflops": 20.0 * i,
                   "tf_recurrent_gflops": 1.0, "numpy_peak_gflops": 5.0 * i} for i in (1, 2, 3)])
    monkeypatch.setattr(benchmark, "measure_peaks", lambda session, loops, config: next(peaks))
    speeds = benchmark.time_rnn_mode(TINY, "block", warmup=1, steps=2, rounds=3, test_ids=100, square_size=8)
    gflops = benchmark.flops_per_trained_word(TINY) / 1e9
    rounds = speeds["train_rounds"]
    assert [r["tf_square_peak_gflops"] for r in rounds] == [20.0, 40.0, 60.0]
    for r in rounds:
        assert r["share_of_shape_peak"] == pytest.approx(r["train_wps"] * gflops / r["tf_shape_peak_gflops"])
        assert r["share_of_square_peak"] == pytest.approx(r["train_wps"] * gflops / r["tf_square_peak_gflops"])
        assert r["share_of_numpy_peak"] == pytest.approx(r["train_wps"] * gflops / r["numpy_peak_gflops"])
    assert speeds["tf_shape_peak_gflops"] == 20.0 and speeds["tf_square_peak_gflops"] == 40.0
    assert speeds["share_of_square_peak"] == sorted(r["share_of_square_peak"] for r in rounds)[1]


@pytest.mark.parametrize("args, message", [
    (["--model=foo"], "unknown model 'foo'"),
    (["--rnn_modes=block,foo"], "--rnn_modes=block,foo: give one or more of"),
    (["--json=/proc/x.json"], "--json=/proc/x.json cannot be written"),
    (["--json=results"], "--json=results is a directory"),
    (["stray"], "unexpected argument 'stray'"),
    (["--steps=0"], "flag --steps=0: 0 is not a positive integer"),
    (["--no_such_flag=1"], "no_such_flag"),
    (["--table=/no/such.json"], "--table: /no/such.json cannot be read (No such file or directory)"),
    (["--table=README.md"], "--table: README.md is not JSON"),
    (["--table=results/small.json"], "--table: results/small.json is not a JSON written by benchmark.py --json"),
])
def test_bad_input_is_one_line_before_any_timing(args, message):
    result = run_in_process("--model=test", "--rounds=1", "--steps=1", "--warmup=1", "--test_ids=100",
                            "--square_size=8", *args, program="benchmark.py")
    assert_one_line_error(result, "benchmark.py", message)
    assert result.stdout == ""  # nothing was timed


def test_the_table_has_a_row_per_rnn_mode_with_the_jsons_medians_and_machine(tmp_path):
    path = tmp_path / "benchmark_test.json"
    timed = run_cli("--model=test", "--rnn_modes=basic,block", "--rounds=1", "--steps=1", "--warmup=1",
                    "--test_ids=100", "--square_size=8", f"--json={path}", program="benchmark.py")
    assert timed.returncode == 0 and timed.stderr == "", timed.stderr
    result = run_in_process(f"--table={path}", program="benchmark.py")
    assert result.returncode == 0 and result.stderr == ""
    header, rule, *rows = result.stdout.splitlines()
    assert header.startswith("| model | rnn_mode | machine |") and rule.count("---") == header.count("|") - 1
    saved = json.loads(path.read_text())
    assert [row.split(" | ")[1] for row in rows] == ["basic", "block"]
    for row, s in zip(rows, saved["modes"].values()):
        cells = row.strip("| ").split(" | ")
        assert len(cells) == 10 and cells[0] == "test"
        assert cells[3] == f"{s['train_wps']:,.0f}"
        assert cells[4].startswith(f"{s['share_of_square_peak']:.0%} (")
        assert cells[2] == report.machine(saved["machine"]) and ("AVX" in cells[2]) == ("flags" in saved["machine"])
        assert cells[8].endswith("(projected)")  # 100 ids timed, not PTB's 82,430
