"""engine/run_log.py: the run history survives restarts, keeps the last runs, reopens each exactly, skips damaged
entries with one message each, and never leaves half an entry."""

import json
import threading

import numpy as np
import pytest

import engine.run_log as run_log
from engine import TrainConfig, Trainer
from engine.datasets import DataSpec, make_dataset
from engine.diagnosis import diagnose_rows
from engine.experiment import Experiment
from engine.history import History, n_series_for
from engine.run_log import CURVE_POINTS, THUMB_SIDE, RunEntry, RunLog, decision_thumbnail

DIVERGING = TrainConfig(learning_rate=1e308, activation="tanh", loss="bce")


def experiment(config: TrainConfig, epochs: int, data=None) -> Experiment:
    trainer = Trainer(config, data=data)
    history = History(n_series=n_series_for(trainer.data))
    history.extend(trainer.run(epochs).rows())
    return Experiment.capture(trainer, history)


def log_run(log: RunLog, config: TrainConfig, epochs: int = 50, **kw) -> str:
    return log.append(RunEntry.from_experiment(experiment(config, epochs), **kw))


def test_an_entry_reopens_exactly_and_continues_bit_for_bit(tmp_path):
    log = RunLog(tmp_path / "runs")  # the folder is made
    config = TrainConfig(shuffle=True, optimizer="adam", seed=7)
    run_id = log_run(log, config, 300)
    (entry,) = log.entries()
    assert entry.id == run_id and entry.config == config and entry.seed == 7 and entry.epoch == 300
    assert entry.dataset == "xor" and entry.data == DataSpec().to_dict() and entry.created.endswith("+00:00")
    reference = Trainer(config)
    rows = reference.run(300).rows()
    assert entry.final["loss"] == rows[-1, 0] and entry.final["train_accuracy"] == rows[-1, 2]
    assert np.isnan(entry.final["test_loss"])  # XOR has no test set
    x, y = entry.loss_curve
    assert x[0] == 1 and x[-1] == 300 and np.array_equal(y, rows[x - 1, 0])
    expected = diagnose_rows(config, reference.data, reference.theta, np.arange(1, 301), rows)
    assert entry.diagnoses == tuple(d.to_dict() for d in expected) and [d.kind for d in expected] == ["solved"]
    opened = log.load(run_id)
    trainer = opened.trainer()
    np.testing.assert_array_equal(trainer.theta, reference.theta)
    assert opened.history.n_epochs == 300 and np.array_equal(opened.history.exact(), rows, equal_nan=True)
    np.testing.assert_array_equal(trainer.run(40).loss, reference.run(40).loss)  # and it continues exactly


def test_the_thumbnail_is_the_decision_map_over_the_datas_bounds(tmp_path):
    log = RunLog(tmp_path)
    data = make_dataset(DataSpec("circle", points=80))
    run = experiment(TrainConfig(hidden=(4,), activation="tanh"), 30, data=data)
    log.append(RunEntry.from_experiment(run))
    (entry,) = log.entries()
    assert entry.dataset == "circle, 80 points" and entry.thumbnail_bounds == data.bounds()
    assert entry.thumbnail.dtype == np.float32 and entry.thumbnail.shape == (THUMB_SIDE, THUMB_SIDE)
    np.testing.assert_array_equal(entry.thumbnail, decision_thumbnail(run.trainer(), data.bounds()))
    corner = run.trainer().predict(np.array([[data.bounds()[0], data.bounds()[2]]]))[0]
    assert entry.thumbnail[0, 0] == np.float32(corner)  # row 0 is the bottom (x2 low), column 0 the left
    given = np.arange(12, dtype=np.float32).reshape(3, 4) / 12  # the window's own thumbnail is kept as given
    log.append(RunEntry.from_experiment(run, thumbnail=given))
    newest = log.entries()[0]
    np.testing.assert_array_equal(newest.thumbnail, given)
    assert newest.thumbnail_bounds is None


def test_a_diverged_run_is_logged_with_its_diagnosis(tmp_path):
    log = RunLog(tmp_path)
    log_run(log, DIVERGING, 10)
    (entry,) = log.entries()
    assert entry.diverged and entry.epoch == 1
    assert [(d["kind"], d["epoch"]) for d in entry.diagnoses] == [("diverged", 1)]
    assert not np.isfinite(entry.final["loss"])  # null in the summary, NaN again when read
    broken = experiment(DIVERGING, 10)
    broken.state.theta[:] = np.nan  # weights that are no longer numbers: no thumbnail
    assert RunEntry.from_experiment(broken).thumbnail is None


def test_the_history_survives_a_restart_newest_first(tmp_path):
    first = RunLog(tmp_path)
    ids = [log_run(first, TrainConfig(seed=seed), 20) for seed in (1, 2, 3)]
    again = RunLog(tmp_path)  # the window started again
    entries = again.entries()
    assert [e.id for e in entries] == ids[::-1] and [e.seed for e in entries] == [3, 2, 1]
    assert again.problems == []


def test_at_most_limit_runs_are_kept_the_oldest_deleted(tmp_path):
    log = RunLog(tmp_path, limit=3)
    ids = [log_run(log, TrainConfig(seed=seed), 5) for seed in range(5)]
    assert [e.id for e in log.entries()] == ids[:1:-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{i}{s}" for i in ids[2:] for s in (".json", ".bplab"))
    with pytest.raises(ValueError, match="not in the history"):
        log.load(ids[0])
    with pytest.raises(ValueError):
        RunLog(tmp_path, limit=0)


def damage(log: RunLog, run_id: str, how: str) -> None:
    summary, bplab = log.directory / f"{run_id}.json", log.directory / f"{run_id}.bplab"
    if how == "truncated":
        summary.write_bytes(summary.read_bytes()[:100])
    elif how == "garbage":
        summary.write_bytes(b"\x00\xffgarbage{")
    elif how == "no experiment":
        bplab.unlink()
    elif how == "not an entry":
        summary.write_text(json.dumps({"format": "something else"}))
    elif how == "bad thumbnail":
        record = json.loads(summary.read_text())
        record["thumbnail"]["shape"] = [5, 5]
        summary.write_text(json.dumps(record))


HOW = ("truncated", "garbage", "no experiment", "not an entry", "bad thumbnail")


def test_damaged_entries_are_skipped_with_one_message_each(tmp_path):
    log = RunLog(tmp_path)
    ids = [log_run(log, TrainConfig(seed=seed), 5) for seed in range(len(HOW) + 1)]
    for run_id, how in zip(ids, HOW):
        damage(log, run_id, how)
    restarted = RunLog(tmp_path)
    assert [e.id for e in restarted.entries()] == [ids[-1]]
    assert len(restarted.problems) == len(HOW)
    assert all("damaged" in p for p in restarted.problems)
    for run_id in ids[:-1]:
        assert sum(run_id in p for p in restarted.problems) == 1
    assert "not readable JSON" in " ".join(restarted.problems) and "experiment file is missing" in " ".join(restarted.problems)
    restarted.entries()
    assert restarted.problems == []  # said once
    assert len(RunLog(tmp_path).entries()) == 1  # and the next start says them once again
    newest = log_run(restarted, TrainConfig(seed=99), 5)  # the log goes on
    assert restarted.entries()[0].id == newest
    with pytest.raises(ValueError):  # a damaged experiment file: one ValueError (ExperimentError), no crash
        (tmp_path / f"{newest}.bplab").write_bytes(b"PK\x03\x04 not a zip")
        restarted.load(newest)
    with pytest.raises(ValueError, match="is not a run history entry"):
        restarted.load("../../etc/passwd")


def test_a_failed_write_leaves_no_half_entry(tmp_path, monkeypatch):
    log = RunLog(tmp_path)
    kept = log_run(log, TrainConfig(seed=1), 5)

    def full_disk(path, data):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(run_log, "write_atomically", full_disk)
    with pytest.raises(OSError):
        log_run(log, TrainConfig(seed=2), 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{kept}.bplab", f"{kept}.json"]  # no temporary files either
    assert [e.id for e in log.entries()] == [kept] and log.problems == []


def test_two_windows_logging_at_once_do_not_corrupt_it(tmp_path):
    logs = [RunLog(tmp_path, limit=500), RunLog(tmp_path, limit=500)]
    runs = [experiment(TrainConfig(seed=seed), 5) for seed in range(2)]
    ids: list[str] = []

    def window(i: int) -> None:
        for _ in range(8):
            ids.append(logs[i].append(RunEntry.from_experiment(runs[i], diagnoses=False)))

    threads = [threading.Thread(target=window, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = RunLog(tmp_path).entries()
    assert len(set(ids)) == 16 and sorted(e.id for e in entries) == sorted(ids)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_a_long_runs_curve_stays_small(tmp_path):
    trainer = Trainer(TrainConfig(mode="batch"))
    history = History(n_series=n_series_for(trainer.data), exact_limit=20_000)
    for _ in range(5):
        history.extend(trainer.run(20_000).rows())
    log = RunLog(tmp_path)
    log.append(RunEntry.from_experiment(Experiment.capture(trainer, history)))
    (entry,) = log.entries()
    x, _ = entry.loss_curve
    assert len(x) <= 5 * CURVE_POINTS and x[-1] <= 100_000 and (tmp_path / f"{entry.id}.json").stat().st_size < 64_000
    assert entry.epoch == 100_000 and [d["kind"] for d in entry.diagnoses] == ["solved"]
