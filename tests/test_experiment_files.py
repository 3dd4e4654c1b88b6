"""Experiment files: exact round trips, atomic saves, and one clear error for every kind of bad file."""

import errno
import io
import json
import os
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import History, TrainConfig, Trainer
from engine import experiment as E
from engine.datasets import DataSpec, make_dataset
from engine.experiment import Experiment, ExperimentError, default_name, load_experiment, save_experiment
from engine.history import n_series_for


def trained(config: TrainConfig, epochs: int, exact_limit: int = 1_000_000, data=None) -> tuple[Trainer, History]:
    trainer = Trainer(config, data=data)
    history = History(n_series=n_series_for(trainer.data), exact_limit=exact_limit, summary_capacity=16)
    for n in (epochs // 3, epochs - epochs // 3):
        chunk = trainer.run(n)
        history.extend(chunk.rows())
    return trainer, history


@pytest.fixture
def saved(tmp_path):
    trainer, history = trained(TrainConfig(shuffle=True, optimizer="momentum", mode="minibatch", batch_size=3), 700)
    path = tmp_path / "run.bplab"
    save_experiment(path, Experiment.capture(trainer, history, "my run"))
    return path, trainer, history


@pytest.mark.parametrize(
    "config",
    [TrainConfig(), TrainConfig(shuffle=True, optimizer="adam"), TrainConfig(hidden=(3, 2), activation="tanh", loss="bce"),
     TrainConfig(hidden=(), mode="batch", init="he", seed=9)],
)  # fmt: skip
def test_round_trip_continues_bit_identically(tmp_path, config):
    trainer, history = trained(config, 1000)
    path = tmp_path / "x.bplab"
    save_experiment(path, Experiment.capture(trainer, history))
    loaded = load_experiment(path)
    assert loaded.config == config and loaded.name == "x"
    resumed = loaded.trainer()
    assert resumed.epoch == trainer.epoch == loaded.history.n_epochs == 1000 and resumed.updates == trainer.updates
    np.testing.assert_array_equal(loaded.history.exact(), history.exact())
    np.testing.assert_array_equal(loaded.history.last, history.last)
    a, b = trainer.run(777), resumed.run(777)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(trainer.theta, resumed.theta)
    never_saved = Trainer(config)
    np.testing.assert_array_equal(never_saved.run(1777).loss[1000:], b.loss)


def test_round_trip_with_a_summarised_history(tmp_path):
    trainer, history = trained(TrainConfig(), 5000, exact_limit=1000)
    path = tmp_path / "long.bplab"
    save_experiment(path, Experiment.capture(trainer, history))
    loaded = load_experiment(path).history
    assert loaded.n_epochs == 5000 and loaded.n_exact == 1000
    for a, b in zip(loaded.summary(), history.summary()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.view(max_points=100).y, history.view(max_points=100).y)


def test_diverged_runs_save_and_load(tmp_path):
    trainer, history = trained(TrainConfig(learning_rate=1e308, optimizer="adam"), 10)
    assert trainer.diverged
    save_experiment(tmp_path / "d.bplab", Experiment.capture(trainer, history))
    loaded = load_experiment(tmp_path / "d.bplab")
    assert loaded.state.diverged and loaded.trainer().run(5).diverged


def test_saving_is_atomic(tmp_path, saved, monkeypatch):
    path, trainer, history = saved
    before = path.read_bytes()
    trainer.run(10)

    def disk_full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        save_experiment(path, Experiment.capture(trainer, history))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.bplab"]  # no temporary file left behind


# --- bad files --------------------------------------------------------------------------------------
def rewrite(path, **changes):
    """Rewrite a saved experiment with some members replaced (None removes one)."""
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files}
    for key, value in changes.items():
        if value is None:
            members.pop(key)
        else:
            members[key] = value
    with open(path, "wb") as handle:
        np.savez(handle, **members)


def header_of(path):
    with np.load(path, allow_pickle=False) as data:
        return json.loads(data["header"].tobytes())


def encode(header):
    return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


def expect_error(path, needle):
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert needle in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_missing_empty_folder_and_garbage(tmp_path):
    expect_error(tmp_path / "nope.bplab", "no such file")
    expect_error(tmp_path, "is a folder")
    (tmp_path / "empty.bplab").write_bytes(b"")
    expect_error(tmp_path / "empty.bplab", "is empty")
    (tmp_path / "text.bplab").write_text("hello")
    expect_error(tmp_path / "text.bplab", "not an .npz file")


def test_errors_carry_the_file_name_and_the_reason(saved, tmp_path):
    """The window writes "Could not open NAME: REASON" and the command line "error: NAME: REASON" from these parts."""
    cases = [(tmp_path / "nope.bplab", "no such file"), (tmp_path / "empty.bplab", "it is empty"), (tmp_path, "it is a folder")]
    (tmp_path / "empty.bplab").write_bytes(b"")
    path = saved[0]
    header = header_of(path)
    rewrite(path, header=encode({**header, "trainer": {**header["trainer"], "partial": "junk"}}))
    cases.append((path, "the epoch in progress is malformed"))  # it named no file
    for where, reason in cases:
        with pytest.raises(ExperimentError) as info:
            load_experiment(where)
        err = info.value
        assert err.name == where.name and err.reason.startswith(reason) and str(err) == f"{err.name}: {err.reason}"
    rewrite(path, header=encode({**header, "config": {**header["config"], "learning_rate": -1}}))
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert info.value.reason == "its settings are not valid: learning_rate -1 is not allowed; it must be a finite number > 0"


def test_truncated_file(saved):
    path = saved[0]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExperimentError):
        load_experiment(path)


def test_wrong_version_and_format(saved):
    path = saved[0]
    header = header_of(path)
    rewrite(path, header=encode({**header, "version": 7}))
    expect_error(path, "newer Backprop Lab (format version 7)")
    rewrite(path, header=encode({**header, "format": "something.else"}))
    expect_error(path, "wrong format name")
    rewrite(path, header=np.frombuffer(b"{not json", dtype=np.uint8))
    expect_error(path, "not valid JSON")


def test_wrong_shapes_and_values(saved):
    path, trainer, _ = saved
    theta = trainer.state().theta
    rewrite(path, theta=np.zeros(3))
    expect_error(path, "theta has shape (3,)")
    rewrite(path, theta=np.full_like(theta, np.nan))
    expect_error(path, "NaN or infinity")
    rewrite(path, theta=theta, history_exact=np.zeros((700, 3)))
    expect_error(path, "history has shape")
    rewrite(path, history_exact=np.full((700, 5), 0.5))
    expect_error(path, "history has shape (700, 5), expected (epochs, 8)")
    good = np.full((700, 8), 0.5)
    good[:, [1, 3]] = np.nan  # XOR has no test set
    rewrite(path, history_exact=good)
    header = header_of(path)
    rewrite(path, header=encode({**header, "config": {**header["config"], "hidden": [0]}}))
    expect_error(path, "settings are not valid")
    rewrite(path, header=encode({**header, "trainer": {**header["trainer"], "epoch": 5}}))
    expect_error(path, "history has 700 epochs but the run 5")
    rewrite(path, header=encode(header), history_exact=np.where(np.isnan(good), np.nan, 2.0))
    expect_error(path, "outside [0, 1]")
    rewrite(path, header=encode(header), history_exact=np.full((700, 8), 0.5))
    expect_error(path, "the history has test values, but the data has no test points")
    nan_loss = good.copy()
    nan_loss[5, 0] = np.nan
    rewrite(path, history_exact=nan_loss)
    expect_error(path, "NaN or infinity before its last epoch")


def test_hostile_files(saved, tmp_path):
    path = saved[0]
    original = path.read_bytes()
    rewrite(path, theta=np.array([{"evil": 1}], dtype=object))  # a pickled object array
    expect_error(path, "not a readable Backprop Lab experiment")
    path.write_bytes(original)
    rewrite(path, theta=None)
    expect_error(path, "lacks theta.npy")
    other = tmp_path / "extra.bplab"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("../../etc/passwd.npy", b"x")
    expect_error(other, "not a Backprop Lab experiment")


def test_enormous_files(saved, monkeypatch):
    path = saved[0]
    data = bytearray(path.read_bytes())
    entry = data.find(b"PK\x01\x02")  # first central-directory entry: claim 4 GB uncompressed
    data[entry + 24 : entry + 28] = struct.pack("<I", 0xFFFF0000)
    path.write_bytes(bytes(data))
    expect_error(path, "declares")
    monkeypatch.setattr(E, "MAX_FILE_BYTES", 1000)
    expect_error(path, "more than an experiment can be")


def test_a_failed_open_changes_nothing(saved):
    path = saved[0]
    good = load_experiment(path)
    path.write_bytes(b"garbage")
    with pytest.raises(ExperimentError):
        load_experiment(path)
    assert good.history.n_epochs == 700  # objects loaded earlier are untouched


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_files_give_one_clear_error(saved, data):
    """Thousands of damaged files: truncated, bytes flipped, chunks inserted or deleted. Each either loads
    (damage in an unused place) or raises ExperimentError; nothing else, no hang."""
    path = saved[0]
    original = FUZZ_CACHE.setdefault("bytes", path.read_bytes())
    blob = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "zero"]))
        at = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        if kind == "flip" and blob:
            blob[at] ^= data.draw(st.integers(1, 255))
        elif kind == "truncate":
            del blob[at:]
        elif kind == "insert":
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del blob[at : at + data.draw(st.integers(1, 64))]
        elif blob:
            blob[at : at + 8] = bytes(min(8, len(blob) - at))
    target = path.with_name("fuzz.bplab")
    target.write_bytes(bytes(blob))
    try:
        experiment = load_experiment(target)
    except ExperimentError as err:
        assert str(err) and "\n" not in str(err)
    else:
        assert experiment.history.n_epochs == experiment.state.epoch


FUZZ_CACHE: dict = {}


def test_file_is_plain_npz(saved):
    with np.load(saved[0], allow_pickle=False) as data:
        assert set(data.files) >= {"header", "theta", "history_exact"}
    assert io  # (io is used by the fuzz helpers' imports)


# --- format version 2: the data travels with the experiment -------------------------------------------
def test_a_generated_dataset_round_trips_and_continues_bit_identically(tmp_path):
    data = make_dataset(DataSpec("spiral", points=60, noise=0.2, train_fraction=0.7, data_seed=3))
    config = TrainConfig(hidden=(5,), activation="tanh", features=("x1", "x2", "x1x2"), l2=0.001, learning_rate=0.05)
    trainer, history = trained(config, 300, data=data)
    assert history.n_series == 4 and data.n_test  # metrics only, with test columns
    save_experiment(tmp_path / "s.bplab", Experiment.capture(trainer, history))
    loaded = load_experiment(tmp_path / "s.bplab")
    assert loaded.data.spec == data.spec and loaded.config == config
    for name in ("inputs", "targets", "train"):
        np.testing.assert_array_equal(getattr(loaded.data, name), getattr(data, name))
    np.testing.assert_array_equal(loaded.history.exact(), history.exact())
    assert np.isfinite(loaded.history.exact()).all()  # test loss and accuracy are recorded
    resumed = loaded.trainer()
    a, b = trainer.run(50), resumed.run(50)
    np.testing.assert_array_equal(a.rows(), b.rows())
    np.testing.assert_array_equal(trainer.theta, resumed.theta)


def test_a_csv_experiment_reopens_without_the_csv(tmp_path):
    from engine.datasets import load_csv

    rng = np.random.default_rng(5)
    points = rng.uniform(-2, 2, size=(40, 2))
    as_text = points.tolist()
    csv_path = tmp_path / "mine.csv"
    lines = ["x1,x2,label,split"] + [
        f"{x!r},{y!r},{int(x * y > 0)},{'test' if i % 4 == 0 else 'train'}" for i, (x, y) in enumerate(as_text)
    ]
    csv_path.write_text("\n".join(lines) + "\n")
    data = load_csv(csv_path)
    trainer, history = trained(TrainConfig(hidden=(4,), shuffle=True, seed=3), 200, data=data)
    save_experiment(tmp_path / "mine.bplab", Experiment.capture(trainer, history))
    csv_path.unlink()
    loaded = load_experiment(tmp_path / "mine.bplab")
    assert loaded.data.spec.name == "csv" and loaded.data.n_train == 30 and loaded.data.n_test == 10
    np.testing.assert_array_equal(loaded.data.inputs, points)
    resumed = loaded.trainer()
    np.testing.assert_array_equal(trainer.run(100).rows(), resumed.run(100).rows())


def test_small_data_records_predictions_through_a_file(tmp_path):
    trainer = Trainer(TrainConfig(), inputs=[[0, 0], [1, 1], [2, 0]], targets=[0, 1, 1])
    history = History(n_series=n_series_for(trainer.data))
    history.extend(trainer.run(40).rows())
    assert history.n_series == 4 + 3
    save_experiment(tmp_path / "c.bplab", Experiment.capture(trainer, history))
    loaded = load_experiment(tmp_path / "c.bplab")
    np.testing.assert_array_equal(loaded.history.exact(), history.exact())
    np.testing.assert_array_equal(loaded.trainer().run(5).rows(), trainer.run(5).rows())


def test_the_header_has_the_data_spec(saved):
    header = header_of(saved[0])
    assert header["version"] >= 2 and header["data"] == DataSpec().to_dict()
    with np.load(saved[0], allow_pickle=False) as data:
        assert data["data_inputs"].shape == (4, 2) and data["data_train"].dtype == bool


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"data_inputs": np.zeros((4, 3))}, "data_inputs has shape (4, 3), expected (points, 2)"),
        ({"data_inputs": np.zeros((0, 2))}, "data_inputs has shape (0, 2)"),
        ({"data_targets": np.zeros(3)}, "4 points need 4 targets and split flags"),
        ({"data_train": np.ones(5, dtype=bool)}, "4 points need 4 targets and split flags"),
        ({"data_inputs": np.array([[0, 0], [0, 1], [1, np.inf], [1, 1.0]])}, "the points contain NaN or infinity"),
        ({"data_targets": np.array([0, 1, 0.5, 0])}, "a label is not 0 or 1"),
        ({"data_train": np.array([1, 1, 2, 1], dtype=np.uint8)}, "a split flag is not 0 or 1"),
        ({"data_train": np.zeros(4, dtype=bool)}, "it has no training points"),
        ({"data_train": np.ones(4)}, "part data_train holds float64 values, expected bool"),
        ({"data_targets": None}, "lacks data_targets.npy"),
    ],
)
def test_bad_data_gives_one_clear_error(saved, changes, needle):
    rewrite(saved[0], **changes)
    expect_error(saved[0], needle)


def test_bad_data_settings_and_data_that_does_not_fit_the_run(saved):
    path = saved[0]
    header = header_of(path)
    rewrite(path, header=encode({**header, "data": {**header["data"], "noise": -1}}))
    expect_error(path, "its data is not valid: the data settings are not valid")
    rewrite(path, header=encode({**header, "data": "xor"}))
    expect_error(path, "its data is not valid")
    # five training points: the history of XOR (4 predictions) no longer fits
    rewrite(path, header=encode(header), data_inputs=np.zeros((5, 2)), data_targets=np.zeros(5), data_train=np.ones(5, bool))
    expect_error(path, "expected (epochs, 9) for this data")


def test_the_uint8_split_of_other_writers_is_read(saved):
    rewrite(saved[0], data_train=np.ones(4, dtype=np.uint8))
    assert load_experiment(saved[0]).data.train.dtype == bool


def test_saving_a_history_of_another_layout_is_refused(tmp_path):
    trainer = Trainer()
    with pytest.raises(ValueError, match="5 values per epoch; this data needs 8"):
        save_experiment(tmp_path / "x.bplab", Experiment.capture(trainer, History(n_series=5)))
    assert not (tmp_path / "x.bplab").exists()


def test_default_names_say_the_data():
    assert default_name(TrainConfig()) == "xor-2-sigmoid-sgd-lr0.1-seed42.bplab"
    assert default_name(TrainConfig(), DataSpec("spiral")).startswith("spiral-2-")
    assert default_name(TrainConfig(), DataSpec("csv", points=10, path="/tmp/my points.csv")).startswith("my points-2-")


def test_a_diverged_run_with_a_test_set_saves_and_loads(tmp_path):
    data = make_dataset(DataSpec("moons", points=40))
    trainer, history = trained(TrainConfig(learning_rate=1e308, optimizer="adam"), 10, data=data)
    assert trainer.diverged and not np.isfinite(history.last[0])
    save_experiment(tmp_path / "d.bplab", Experiment.capture(trainer, history))
    loaded = load_experiment(tmp_path / "d.bplab")
    assert loaded.state.diverged and loaded.history.n_epochs == trainer.epoch
    np.testing.assert_array_equal(loaded.history.exact(), history.exact())
