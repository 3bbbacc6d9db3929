import dataclasses

import pytest

import configs
import report


def run(model, epochs, steps_per_epoch, epoch_size, test=None):
    config = dataclasses.asdict(configs.get_config(model))
    history = [{"epoch": e, "train_wps": 1000.0, "train_steps": steps_per_epoch, "valid_perplexity": 200.0 - e,
                "valid_seconds": 36.0} for e in range(1, epochs + 1)]
    return {"config": config, "epochs": history, "epoch_size": epoch_size, "test_perplexity": test,
            "test_seconds": 360.0, "wall_seconds": 600.0, "machine": {"cpu": "X", "cores": 2}}


def test_complete_run_is_compared_with_paper_and_tutorial():
    table = report.report([("small", run("small", 13, 100, 100, test=115.0))])
    row = table.splitlines()[2]
    assert "| small | 13 of 13 epochs | 187.0 | 115.0 | 120.7 / 114.5 | 121.4 / 115.9 | +0.5 | -0.9 |" in row
    assert "10 min (measured)" in row


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
    assert report.report([("small", first), ("medium", second)]).endswith("\nMachine: X, 2 cores.")
