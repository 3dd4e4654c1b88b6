"""A sweep's --csv file is written as the runs finish and can be resumed (engine/sweep_stream.py and `sweep --resume`)."""

import csv
import errno
import io
import json
import os
import signal

import numpy as np
import pytest

import main
from engine import TrainConfig
from engine.reports import sweep_csv
from engine.sweep import BATCH_RUNS, SweepSpec, run_sweep, sweep_blocks
from engine.sweep_stream import ResumeError, SweepFile, sidecar_path

SWEEP = ["sweep", "--seeds", "150", "--learning-rate", "0.5,2", "--epochs", "200"]  # 300 runs: 6 blocks
RUNS = 300


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The CSV text of the sweep run at once."""
    path = tmp_path_factory.mktemp("whole") / "s.csv"
    assert main.main([*SWEEP, "--csv", str(path)]) == 0
    return path.read_text()


class Bar:
    """Stands in for main.progress_bar; `on_update` runs after each update."""

    instances: list = []  # noqa: RUF012

    def __init__(self, total, unit, on_update=None):
        self.total, self.unit, self.n, self.on_update = total, unit, 0, on_update
        Bar.instances.append(self)

    def update(self, k):
        self.n += k
        if self.on_update is not None:
            self.on_update(self)

    def close(self):
        pass


def bar_with(monkeypatch, on_update=None):
    Bar.instances = []
    monkeypatch.setattr(main, "progress_bar", lambda total, unit: Bar(total, unit, on_update))


def ctrl_c_after(blocks):
    def on_update(bar):
        if bar.n >= blocks * BATCH_RUNS:
            signal.raise_signal(signal.SIGINT)

    return on_update


def test_the_in_process_sweep_streams_each_block_to_the_file_as_it_finishes(tmp_path, monkeypatch, uninterrupted):
    path = tmp_path / "s.csv"
    seen = []
    bar_with(monkeypatch, lambda bar: seen.append((bar.n, len(path.read_text().splitlines()) - 1)))
    assert main.main([*SWEEP, "--csv", str(path)]) == 0
    assert seen == [(n, n) for n in (64, 128, 150, 214, 278, 300)]  # the rows are in the file when the bar moves
    assert path.read_text() == uninterrupted
    assert uninterrupted == sweep_csv(run_sweep(SweepSpec(TrainConfig(), tuple(range(150)), (0.5, 2.0), (2,), ("sgd",), 200)))


def test_a_resumed_sweep_trains_only_the_missing_runs_and_its_file_equals_the_uninterrupted_one(
    tmp_path, monkeypatch, capsys, uninterrupted
):
    path = tmp_path / "s.csv"
    bar_with(monkeypatch, ctrl_c_after(2))
    assert main.main([*SWEEP, "--csv", str(path)]) == main.EXIT_INTERRUPTED
    assert path.read_text() == uninterrupted[: len("".join(uninterrupted.splitlines(keepends=True)[: 1 + 128]))]
    with open(path, "a") as handle:  # a crash in the middle of the next block's write
        handle.write("7,0.5,2,sg")
    capsys.readouterr()
    bar_with(monkeypatch)
    assert main.main([*SWEEP, "--csv", str(path), "--resume"]) == 0
    assert [(bar.total, bar.n) for bar in Bar.instances] == [(RUNS - 128, RUNS - 128)]
    assert path.read_text() == uninterrupted
    out = capsys.readouterr().out
    assert f"300 runs (128 of them from {path}) of 200 epochs in " in out
    bar_with(monkeypatch)
    assert main.main([*SWEEP, "--csv", str(path)]) == 0  # the table of the resumed sweep is the uninterrupted one's
    assert out.split("\n", 1)[1] == capsys.readouterr().out.split("\n", 1)[1]


def test_resuming_a_cluster_order_file_and_more_seeds(tmp_path, uninterrupted):
    """Rows in any order (as a cluster finishes them), a run twice, and a sweep grown by more seeds: the file ends in the
    sweep's order, each run once."""
    lines = uninterrupted.splitlines(keepends=True)
    path = tmp_path / "s.csv"
    small = ["sweep", "--seeds", "100", "--learning-rate", "0.5,2", "--epochs", "200"]
    assert main.main([*small, "--csv", str(path)]) == 0
    rows = path.read_text().splitlines(keepends=True)
    path.write_text(rows[0] + "".join(reversed(rows[1:])) + rows[5])  # and one run twice
    assert main.main([*SWEEP, "--csv", str(path), "--resume"]) == 0
    assert path.read_text() == "".join(lines)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (["--epochs", "300"], "holds another sweep (other epochs (200 in the file, 300 here))"),
        (["--l2", "0.001"], "holds another sweep (other settings (l2))"),
        (["--dataset", "moons"], "holds another sweep (other data"),
        (["--seeds", "10"], "line 12: '10,0.5,2,sgd,"),  # a row that is not a run of this (smaller) sweep
    ],
)
def test_resuming_the_file_of_another_sweep_is_one_clear_error_and_keeps_the_file(tmp_path, capsys, change, needle):
    path = tmp_path / "s.csv"
    assert main.main(["sweep", "--seeds", "20", "--learning-rate", "0.5", "--epochs", "200", "--csv", str(path)]) == 0
    before = path.read_text()
    capsys.readouterr()
    argv = ["sweep", "--seeds", "20", "--learning-rate", "0.5", "--epochs", "200", *change, "--csv", str(path), "--resume"]
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --resume: {path}" if "line" not in needle else "error: --resume: s.csv, line 12")
    assert needle in err and err.count("\n") == 1 and "run without --resume to start it over" in err
    assert path.read_text() == before


def test_files_that_cannot_be_resumed(tmp_path, capsys):
    spec = SweepSpec(TrainConfig(), seeds=(1, 2), learning_rates=(0.5,), hidden=(2,), optimizers=("sgd",), epochs=10)
    path = tmp_path / "s.csv"
    path.write_text("seed,learning_rate\n1,0.5\n")
    with pytest.raises(ResumeError, match=r"s\.csv\.sweep\.json, which says which sweep wrote it, is missing"):
        SweepFile.open(path, spec, resume=True)
    sidecar_path(path).write_text("{not json")
    with pytest.raises(ResumeError, match="is not the description of a sweep"):
        SweepFile.open(path, spec, resume=True)
    SweepFile.open(tmp_path / "other.csv", spec)
    sidecar_path(path).write_text(sidecar_path(tmp_path / "other.csv").read_text())
    with pytest.raises(ResumeError, match="is not a sweep's CSV file"):
        SweepFile.open(path, spec, resume=True)
    assert path.read_text() == "seed,learning_rate\n1,0.5\n"
    assert json.loads(sidecar_path(tmp_path / "other.csv").read_text())["sweep"]["epochs"] == 10
    with pytest.raises(SystemExit) as info:
        main.main(["sweep", "--seeds", "3", "--resume"])
    assert info.value.code == 2
    assert "--resume needs --csv PATH" in capsys.readouterr().err


def test_resume_without_a_file_starts_the_sweep(tmp_path, uninterrupted):
    path = tmp_path / "new.csv"
    assert main.main([*SWEEP, "--csv", str(path), "--resume"]) == 0
    assert path.read_text() == uninterrupted


def test_a_failed_append_is_one_line_and_keeps_the_rows_written(tmp_path, monkeypatch, capsys, uninterrupted):
    path = tmp_path / "s.csv"
    real_write, calls = os.write, []

    def write_until_the_disk_is_full(fd, data):
        calls.append(len(data))
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write_until_the_disk_is_full)
    assert main.main([*SWEEP, "--csv", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: could not write {path}: No space left on device (the finished runs are in {path})\n"
    monkeypatch.setattr(os, "write", real_write)
    assert path.read_text() == uninterrupted[: len("".join(uninterrupted.splitlines(keepends=True)[: 1 + 128]))]
    assert len(calls) == 3  # one write per block


def test_run_sweep_skips_the_given_runs_and_streams_blocks():
    spec = SweepSpec(
        TrainConfig(), seeds=tuple(range(100)), learning_rates=(0.5, 2.0), hidden=(2,), optimizers=("sgd",), epochs=150
    )
    whole = run_sweep(spec)
    skip = frozenset((index, seed) for index in (0, 1) for seed in range(0, 100, 3))
    streamed = []
    part = run_sweep(spec, on_block=streamed.append, skip=skip)
    assert part.complete and len(part) == 200 - len(skip) == sum(len(block) for block in streamed)
    keep = np.array([(index, seed) not in skip for index in (0, 1) for seed in range(100)])
    for name in ("seed", "learning_rate", "final_loss", "epochs_to_solve", "outcome", "final_predictions"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[keep])
    assert [len(seeds) for _index, seeds in sweep_blocks(spec, skip=skip)] == [64, 2, 64, 2]
    rows = list(csv.DictReader(io.StringIO(sweep_csv(part))))
    assert len(rows) == len(part)
