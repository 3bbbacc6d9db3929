import dataclasses

import pytest

import benchmark
import configs


def test_flops_per_word_is_the_issues_count_for_small():
    # forward 2 x (2 layers x 320,000 + 2,000,000) multiply-adds, backward twice that
    assert benchmark.flops_per_trained_word(configs.get_config("small")) == 15_840_000


def test_a_short_timing_of_the_test_config():
    config = dataclasses.replace(configs.get_config("test"), vocab_size=50)
    speeds = benchmark.time_rnn_mode(config, "block", warmup=2, steps=3, rounds=3, test_ids=200)
    assert speeds["train_wps"] > 0 and speeds["valid_wps"] > 0 and speeds["test_ids_timed"] == 200
    assert speeds["train_wps"] == sorted(r["train_wps"] for r in speeds["train_rounds"])[1]  # the median
    # timed on 200 ids, projected to PTB's 82,430
    assert speeds["test_pass_seconds"] == pytest.approx(82430 / speeds["test_wps"], rel=0.5)


def test_each_round_is_divided_by_the_peak_measured_before_it(monkeypatch):
    peaks = iter([100.0, 200.0, 300.0])
    monkeypatch.setattr(benchmark, "matmul_peak", lambda config: next(peaks))
    config = dataclasses.replace(configs.get_config("test"), vocab_size=50)
    speeds = benchmark.time_rnn_mode(config, "block", warmup=1, steps=2, rounds=3, test_ids=100)
    flops = benchmark.flops_per_trained_word(config)
    assert [r["matmul_peak_gflops"] for r in speeds["train_rounds"]] == [100.0, 200.0, 300.0]
    for r in speeds["train_rounds"]:
        assert r["share_of_peak"] == pytest.approx(r["train_wps"] * flops / 1e9 / r["matmul_peak_gflops"])
    assert speeds["matmul_peak_gflops"] == 200.0
