"""Experiment files: a run's data, config, parameters, optimizer state, epoch and whole history, in one file.

Format: NumPy's ``.npz`` (a zip of ``.npy`` arrays) read with ``allow_pickle=False``; the member
``header.npy`` holds UTF-8 JSON with a format name and version. Saving is atomic. Loading checks
everything (sizes before reading, dtypes, shapes, values, consistency) and turns any fault into one
`ExperimentError` whose message says what is wrong; nothing else is touched until a file has passed.

Version 2 stores the data: its `DataSpec` in the header ("data") and its arrays (``data_inputs`` (n, 2),
``data_targets`` (n,), ``data_train`` (n,) bool), so an experiment on a CSV file reopens without the file; its
history rows are `engine.history.history_columns(data)`. Version 1 (before data was part of an experiment) is
XOR, with rows (loss, 4 predictions): it loads as XOR with each row widened to today's layout (test loss and test
accuracy NaN, train accuracy from the recorded predictions, as training XOR records it).

Version 3 adds the tree of runs (`engine.timeline.RunTree`): the header's "tree" lists each run (id, parent, branch
epoch, label, its segments of settings, whether its past is known, its checkpoint interval), and members
``r{id}_ck_floats`` (k, 3, n_params), ``r{id}_ck_ints`` (k, 3) and ``r{id}_ck_rng`` (k, 6) hold its checkpoints
(thinned to `CHECKPOINT_FILE_BYTES` in all; the rest are recomputed when needed). The current run is the file's
top-level run, as in version 2; every other run has its end state and history in members ``r{id}_theta`` ...
``r{id}_history_last`` and its header entry's "head" and "history". A file without a tree (version 1 and 2, or an
experiment saved without one) opens as a single run whose past is checked on first use: it is recomputed from the
initial weights with the file's settings and compared with the saved state, bit for bit.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import ConfigError, TrainConfig
from .datasets import Dataset, DataSpec, make_dataset
from .files import write_atomically
from .history import History, n_series_for
from .network import Layout
from .timeline import DEFAULT_BUDGET, Run, RunTree, Scratch, Segment, Timeline
from .trainer import METRIC_COLUMNS, Trainer, TrainerState

FORMAT = "backprop-lab.experiment"
VERSION = 3
SUFFIX = ".bplab"
MAX_FILE_BYTES = 512 * 2**20  # the exact history of 10^6 epochs is 64 MB for XOR; leave room, refuse the absurd
MAX_HEADER_BYTES = 8 * 2**20  # a tree of runs lists every change of settings
CHECKPOINT_FILE_BYTES = 16 * 2**20  # checkpoints kept in a file, all runs together
MAX_RUNS = 10_000
V1_SERIES = 5  # format version 1: the loss and XOR's 4 predictions
ARRAYS = {
    "theta": (np.float64,), "initial_theta": (np.float64,), "opt_m": (np.float64,), "opt_v": (np.float64,),
    "history_exact": (np.float64,), "summary_first": (np.int64,), "summary_min": (np.float64,),
    "summary_max": (np.float64,), "history_last": (np.float64,),
}  # fmt: skip
DATA_ARRAYS = {"data_inputs": (np.float64,), "data_targets": (np.float64,), "data_train": (np.bool_, np.uint8)}
MEMBERS = {1: set(ARRAYS), 2: set(ARRAYS) | set(DATA_ARRAYS), 3: set(ARRAYS) | set(DATA_ARRAYS)}  # of each version
CHECKPOINT_ARRAYS = {"ck_floats": (np.float64,), "ck_ints": (np.int64,), "ck_rng": (np.uint64,)}
RUN_ARRAYS = {**CHECKPOINT_ARRAYS, **{k: ARRAYS[k] for k in ARRAYS if k != "initial_theta"}}  # r{id}_KEY, version 3
_LOSS_COLUMNS = [i for i, c in enumerate(METRIC_COLUMNS) if c.endswith("loss")]  # >= 0; the rest lie in [0, 1]
_TEST_COLUMNS = [i for i, c in enumerate(METRIC_COLUMNS) if c.startswith("test")]  # NaN without a test set


class ExperimentError(ValueError):
    """An experiment file that cannot be read. `name`: the file's name; `reason`: what is wrong, for the user
    ("no such file", "it is empty"). The message is "NAME: REASON"; the window says "Could not open NAME: REASON"
    and the command line "error: PATH: REASON" with the path as typed."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


@dataclass
class Experiment:
    """A run as saved: its config, the trainer's state, the window's history and the data (XOR unless given)."""

    config: TrainConfig
    state: TrainerState
    history: History
    name: str = ""
    data: Dataset = field(default_factory=make_dataset)
    tree: RunTree | None = None  # the runs it branched into; its current run is this experiment's run

    @classmethod
    def capture(cls, trainer: Trainer, history: History, name: str = "", tree: RunTree | None = None) -> Experiment:
        return cls(trainer.config, trainer.state(), history, name, trainer.data, tree)

    def trainer(self) -> Trainer:
        """A trainer that continues exactly where this experiment stopped."""
        trainer = Trainer(self.config, data=self.data)
        trainer.restore(self.state)
        return trainer


def save_experiment(path: str | os.PathLike[str], experiment: Experiment) -> None:
    """Write `experiment` to `path` atomically (the previous file survives any failure)."""
    s, data = experiment.state, experiment.data
    if experiment.history.n_series != n_series_for(data):
        raise ValueError(f"the history has {experiment.history.n_series} values per epoch; this data needs {n_series_for(data)}")
    hist = experiment.history.state()
    header = {
        "format": FORMAT,
        "version": VERSION,
        "name": experiment.name or Path(path).stem,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": experiment.config.to_dict(),
        "data": data.spec.to_dict(),
        "trainer": {
            "updates": s.updates,
            "epoch": s.epoch,
            "diverged": s.diverged,
            "rng_state": s.rng_state,
            "partial": _partial_to_json(s.partial),
        },
        "history": {k: int(hist[k]) for k in ("n_epochs", "bucket", "fill", "exact_limit", "capacity")},
    }
    tree_members: dict[str, np.ndarray] = {}
    if experiment.tree is not None:
        header["tree"], tree_members = _tree_to_file(experiment)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        theta=s.theta, initial_theta=s.initial_theta, opt_m=s.opt_m, opt_v=s.opt_v,
        history_exact=hist["exact"], summary_first=hist["summary_first"].astype(np.int64),
        summary_min=hist["summary_min"], summary_max=hist["summary_max"], history_last=hist["last"],
        data_inputs=np.asarray(data.inputs, dtype=np.float64), data_targets=np.asarray(data.targets, dtype=np.float64),
        data_train=np.asarray(data.train, dtype=bool), **tree_members,
    )  # fmt: skip
    write_atomically(path, buffer.getvalue())


def _trainer_json(s: TrainerState) -> dict:
    return {"updates": s.updates, "epoch": s.epoch, "diverged": s.diverged, "rng_state": s.rng_state,
            "partial": _partial_to_json(s.partial)}  # fmt: skip


def _tree_to_file(experiment: Experiment) -> tuple[dict, dict[str, np.ndarray]]:
    """The header's "tree" and the members ``r{id}_...`` of `experiment.tree` (its current run must be at
    `experiment.state`: the top-level run)."""
    tree, s = experiment.tree, experiment.state
    head = tree.current_run.timeline.head
    if (head.epoch, head.partial is None) != (s.epoch, s.partial is None) or head.theta.tobytes() != s.theta.tobytes():
        raise ValueError("the tree's current run is not at the experiment's state: record the trainer in its timeline first")
    runs, members = [], {}
    share = CHECKPOINT_FILE_BYTES // len(tree.runs())
    for run in tree.runs():
        timeline = run.timeline
        every, floats, ints, rng = timeline.checkpoints(share)
        segments = [{"epoch": g.epoch, "position": g.position, "config": g.config.to_dict()} for g in timeline.segments]
        entry = {"id": run.id, "parent": run.parent, "branch_epoch": run.branch_epoch, "label": run.label,
                 "known": timeline.known, "every": every, "segments": segments}  # fmt: skip
        members.update({f"r{run.id}_ck_floats": floats, f"r{run.id}_ck_ints": ints, f"r{run.id}_ck_rng": rng})
        if run.id != tree.current:
            state, hist = timeline.head, run.history.state()
            entry["head"] = _trainer_json(state)
            entry["history"] = {k: int(hist[k]) for k in ("n_epochs", "bucket", "fill", "exact_limit", "capacity")}
            own = {"theta": state.theta, "opt_m": state.opt_m, "opt_v": state.opt_v, "history_exact": hist["exact"],
                   "summary_first": hist["summary_first"].astype(np.int64), "summary_min": hist["summary_min"],
                   "summary_max": hist["summary_max"], "history_last": hist["last"]}  # fmt: skip
            members.update({f"r{run.id}_{key}": value for key, value in own.items()})
        runs.append(entry)
    return {"current": tree.current, "runs": runs}, members


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read and check an experiment file; raises `ExperimentError` with a clear message on any fault."""
    path = Path(path)
    try:
        return _load(path)
    except ExperimentError:
        raise
    except MemoryError:
        raise ExperimentError(path.name, "too large to open") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError, ValueError, TypeError, OverflowError) as err:
        raise ExperimentError(path.name, f"it is not a readable Backprop Lab experiment ({_describe(err)})") from None


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    text = str(err) or type(err).__name__
    return text if len(text) < 200 else text[:200] + "…"


def _load(path: Path) -> Experiment:
    name = path.name
    if not path.exists():
        raise ExperimentError(name, "no such file")
    if path.is_dir():
        raise ExperimentError(name, "it is a folder, not an experiment file")
    if not path.is_file():  # a device or a pipe: reading it could block or never end
        raise ExperimentError(name, "it is not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise ExperimentError(name, "it is empty")
    if size > MAX_FILE_BYTES:
        raise ExperimentError(
            name, f"it is {size / 2**20:,.0f} MB, more than an experiment can be ({MAX_FILE_BYTES // 2**20} MB)"
        )
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ExperimentError(name, "it is not a Backprop Lab experiment (not an .npz file)")
    arrays = _read_members(name, data)
    header = _read_header(name, arrays.pop("header"))
    version = header["version"]
    run_arrays = {k: arrays.pop(k) for k in [k for k in arrays if _run_member(k)]} if version >= 3 else {}
    if set(arrays) != MEMBERS[version]:
        missing, extra = sorted(MEMBERS[version] - set(arrays)), sorted(set(arrays) - MEMBERS[version])
        what = f"lacks {', '.join(k + '.npy' for k in missing)}" if missing else f"has unexpected parts {', '.join(extra)}"
        raise ExperimentError(name, f"it is not a Backprop Lab experiment of format version {version} (it {what})")
    dataset = _dataset(name, header, arrays) if version >= 2 else make_dataset()
    try:
        config = TrainConfig.from_dict(header.get("config"))
    except ConfigError as err:
        raise ExperimentError(name, f"its settings are not valid: {err.field} {err.reason}") from None
    except ValueError as err:
        raise ExperimentError(name, f"its settings are not valid: {err}") from None
    layout = Layout.from_sizes(config.layer_sizes)
    trainer_info, history_info = header.get("trainer"), header.get("history")
    if not isinstance(trainer_info, dict) or not isinstance(history_info, dict):
        raise ExperimentError(name, "the header lacks the trainer or history section")
    epoch, updates = _int(name, trainer_info, "epoch"), _int(name, trainer_info, "updates")
    diverged = trainer_info.get("diverged")
    if not isinstance(diverged, bool):
        raise ExperimentError(name, "'diverged' must be true or false")
    for key in ("theta", "initial_theta", "opt_m", "opt_v"):
        if arrays[key].shape != (layout.n_params,):
            raise ExperimentError(name, f"{key} has shape {arrays[key].shape}; this network needs ({layout.n_params},)")
    if not np.isfinite(arrays["initial_theta"]).all():
        raise ExperimentError(name, "the initial weights contain NaN or infinity")
    if not diverged and not all(np.isfinite(arrays[k]).all() for k in ("theta", "opt_m", "opt_v")):
        raise ExperimentError(name, "the weights contain NaN or infinity, but the run is not marked as diverged")
    if version == 1:
        _widen_v1_history(name, arrays, dataset)
    history = _history(name, arrays, history_info, diverged, dataset)
    if history.n_epochs != epoch:
        raise ExperimentError(name, f"the history has {history.n_epochs:,} epochs but the run {epoch:,}")
    state = TrainerState(
        theta=arrays["theta"], initial_theta=arrays["initial_theta"], opt_m=arrays["opt_m"], opt_v=arrays["opt_v"],
        updates=updates, epoch=epoch, diverged=diverged, rng_state=trainer_info.get("rng_state"),
        partial=_partial_from_json(name, trainer_info.get("partial")),
    )  # fmt: skip
    try:
        Trainer(config, data=dataset).restore(state)
    except ValueError as err:
        raise ExperimentError(name, str(err)) from None
    label = header.get("name") if isinstance(header.get("name"), str) else path.stem
    if "tree" in header and version >= 3:
        tree = _tree_from_file(name, header["tree"], run_arrays, config, state, history, dataset, layout)
    else:
        if run_arrays:
            raise ExperimentError(name, f"it has parts of runs ({sorted(run_arrays)[0]}) but no tree of runs")
        tree = _single_run(config, state, history, dataset)
    return Experiment(config, state, history, label[:200], dataset, tree)


def _start_state(config: TrainConfig, initial_theta: np.ndarray) -> TrainerState:
    """A run's state at epoch 0: its initial weights, a fresh optimizer and shuffle generator."""
    zeros = np.zeros_like(initial_theta)
    rng_state = np.random.default_rng(config.seed).bit_generator.state
    return TrainerState(theta=initial_theta.copy(), initial_theta=initial_theta.copy(), opt_m=zeros, opt_v=zeros.copy(),
                        updates=0, epoch=0, diverged=False, rng_state=rng_state)  # fmt: skip


def _single_run(config: TrainConfig, state: TrainerState, history: History, data: Dataset) -> RunTree:
    """A file that did not record its runs: one run whose past is checked on first use (`Timeline.unverified`)."""
    timeline = Timeline.unverified(config, data, _start_state(config, state.initial_theta), state)
    return RunTree(config, data, history=history, timeline=timeline)


def _run_member(key: str) -> bool:
    prefix, _, rest = key.partition("_")
    return prefix[:1] == "r" and prefix[1:].isdigit() and rest in RUN_ARRAYS


def _tree_from_file(
    name: str, info, arrays: dict, config: TrainConfig, state: TrainerState, history: History, data: Dataset, layout: Layout
) -> RunTree:
    """The tree of runs a version-3 file records, checked: one `ExperimentError` saying what is wrong."""
    if not isinstance(info, dict) or not isinstance(info.get("runs"), list) or not 1 <= len(info["runs"]) <= MAX_RUNS:
        raise ExperimentError(name, "its tree of runs is malformed")
    current = info.get("current")
    runs, scratch = [], Scratch(data)  # one trainer recomputes every run's past
    for entry in info["runs"]:
        if not isinstance(entry, dict):
            raise ExperimentError(name, "its tree of runs is malformed")
        run_id = _int(name, entry, "id")
        what = f"run {run_id}"
        parent = entry.get("parent")
        if parent is not None:
            parent = _int(name, entry, "parent")
        label = entry.get("label")
        known = entry.get("known")
        segments_info = entry.get("segments")
        if (
            not isinstance(label, str)
            or known not in (True, False, None)
            or not isinstance(segments_info, list)
            or not segments_info
        ):
            raise ExperimentError(name, f"{what} is malformed")
        segments = []
        for item in segments_info:
            if not isinstance(item, dict):
                raise ExperimentError(name, f"{what}'s settings are malformed")
            try:
                segment_config = TrainConfig.from_dict(item.get("config"))
            except ValueError as err:
                raise ExperimentError(name, f"{what}'s settings are not valid: {err}") from None
            segments.append(Segment(_int(name, item, "epoch"), _int(name, item, "position"), segment_config))
        try:
            ck = [arrays.pop(f"r{run_id}_{key}") for key in CHECKPOINT_ARRAYS]
        except KeyError:
            raise ExperimentError(name, f"{what}'s checkpoints are missing") from None
        if run_id == current:
            head, run_history = state, history
            if segments[-1].config != config:
                raise ExperimentError(name, f"{what}'s last settings are not the file's settings")
        else:
            head, run_history = _other_run(name, what, entry, run_id, arrays, layout, state.initial_theta, data)
        try:
            timeline = Timeline.from_checkpoints(segments, data, state.initial_theta, _int(name, entry, "every") or 1, *ck, head,
                                                 known=known, scratch=scratch)  # fmt: skip
        except (ValueError, TypeError, OverflowError) as err:
            raise ExperimentError(name, f"{what} does not fit together: {_describe(err)}") from None
        if run_history.n_epochs != head.epoch:
            raise ExperimentError(name, f"{what}'s history has {run_history.n_epochs:,} epochs but the run {head.epoch:,}")
        runs.append(Run(run_id, parent, _int(name, entry, "branch_epoch"), label[:200], timeline, run_history))
    if arrays:
        raise ExperimentError(name, f"it has parts of runs its tree does not list ({', '.join(sorted(arrays)[:3])})")
    try:
        return RunTree.from_runs(runs, current, DEFAULT_BUDGET)
    except (ValueError, TypeError) as err:
        raise ExperimentError(name, f"its tree of runs is not valid: {_describe(err)}") from None


def _other_run(
    name: str, what: str, entry: dict, run_id: int, arrays: dict, layout: Layout, initial_theta: np.ndarray, data: Dataset
) -> tuple[TrainerState, History]:
    """The end state and the history of a run that is not the file's current run."""
    head_info, history_info = entry.get("head"), entry.get("history")
    if not isinstance(head_info, dict) or not isinstance(history_info, dict):
        raise ExperimentError(name, f"{what} lacks its end state or its history")
    try:
        own = {key: arrays.pop(f"r{run_id}_{key}") for key in RUN_ARRAYS if key not in CHECKPOINT_ARRAYS}
    except KeyError as err:
        raise ExperimentError(name, f"{what} lacks its part {err.args[0]}") from None
    diverged = head_info.get("diverged")
    if not isinstance(diverged, bool):
        raise ExperimentError(name, f"{what}: 'diverged' must be true or false")
    for key in ("theta", "opt_m", "opt_v"):
        if own[key].shape != (layout.n_params,):
            raise ExperimentError(name, f"{what}: {key} has shape {own[key].shape}; this network needs ({layout.n_params},)")
        if not diverged and not np.isfinite(own[key]).all():
            raise ExperimentError(name, f"{what}: the weights contain NaN or infinity, but the run is not marked as diverged")
    head = TrainerState(
        theta=own["theta"], initial_theta=initial_theta, opt_m=own["opt_m"], opt_v=own["opt_v"],
        updates=_int(name, head_info, "updates"), epoch=_int(name, head_info, "epoch"), diverged=diverged,
        rng_state=head_info.get("rng_state"), partial=_partial_from_json(name, head_info.get("partial")),
    )  # fmt: skip
    return head, _history(name, own, history_info, diverged, data)


def _read_members(name: str, data: bytes) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        core, allowed = {f"{k}.npy" for k in ARRAYS} | {"header.npy"}, {f"{k}.npy" for k in DATA_ARRAYS}
        allowed |= {n for n in names if n.endswith(".npy") and _run_member(n[:-4])}
        if not core <= names <= core | allowed:
            missing, extra = sorted(core - names), sorted(names - core - allowed)
            what = f"lacks {', '.join(missing)}" if missing else f"has unexpected parts {', '.join(extra[:5])}"
            raise ExperimentError(name, f"it is not a Backprop Lab experiment (it {what})")
        declared = sum(info.file_size for info in infos)
        if declared > MAX_FILE_BYTES or any(info.file_size > MAX_FILE_BYTES for info in infos):
            raise ExperimentError(name, f"it declares {declared / 2**20:,.0f} MB of contents, more than an experiment can hold")
        arrays = {}
        for info in infos:
            key = info.filename[:-4]
            raw = archive.read(info)  # checks the CRC: a damaged file fails here
            if len(raw) != info.file_size:
                raise ExperimentError(name, f"part {key} is damaged")
            array = np.load(io.BytesIO(raw), allow_pickle=False)
            want = (np.uint8,) if key == "header" else {**ARRAYS, **DATA_ARRAYS}.get(key) or RUN_ARRAYS[key.partition("_")[2]]
            if array.dtype not in [np.dtype(w) for w in want]:
                raise ExperimentError(name, f"part {key} holds {array.dtype} values, expected {np.dtype(want[0])}")
            arrays[key] = array
    return arrays


def _read_header(name: str, raw: np.ndarray) -> dict:
    if raw.ndim != 1 or raw.size > MAX_HEADER_BYTES:
        raise ExperimentError(name, "its header is malformed")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ExperimentError(name, "its header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ExperimentError(name, "it is not a Backprop Lab experiment (wrong format name)")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ExperimentError(name, "its format version is missing")
    if version > VERSION:
        raise ExperimentError(
            name, f"it was written by a newer Backprop Lab (format version {version}); this one reads version {VERSION}"
        )
    if version < 1:
        raise ExperimentError(name, f"format version {version} does not exist")
    return header


def _int(name: str, section: dict, key: str) -> int:
    value = section.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 2**62:
        raise ExperimentError(name, f"'{key}' must be a whole number >= 0, got {value!r}")
    return value


def _dataset(name: str, header: dict, arrays: dict) -> Dataset:
    """The data a version-2 file stores, checked: one `ExperimentError` saying what is wrong."""

    def bad(reason: str) -> ExperimentError:
        return ExperimentError(name, f"its data is not valid: {reason}")

    try:
        spec = DataSpec.from_dict(header.get("data"))
    except (TypeError, ValueError) as err:
        raise bad(f"the data settings are not valid ({_describe(err)})") from None
    inputs, targets, train = arrays["data_inputs"], arrays["data_targets"], arrays["data_train"]
    n = inputs.shape[0] if inputs.ndim == 2 else -1
    if inputs.ndim != 2 or inputs.shape[1] != 2 or n < 1:
        raise bad(f"data_inputs has shape {inputs.shape}, expected (points, 2)")
    if targets.shape != (n,) or train.shape != (n,):
        raise bad(f"{n:,} points need {n:,} targets and split flags, got shapes {targets.shape} and {train.shape}")
    if not np.isfinite(inputs).all():
        raise bad("the points contain NaN or infinity")
    if not np.isin(targets, (0.0, 1.0)).all():
        raise bad("a label is not 0 or 1")
    if train.dtype == np.uint8 and not np.isin(train, (0, 1)).all():
        raise bad("a split flag is not 0 or 1")
    train = train.astype(bool)
    if not train.any():
        raise bad("it has no training points")
    try:
        return Dataset(spec, _readonly(inputs.copy()), _readonly(targets.copy()), _readonly(train))
    except (TypeError, ValueError) as err:
        raise bad(_describe(err)) from None


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _widen_v1_history(name: str, arrays: dict, data: Dataset) -> None:
    """Version 1's rows (loss, XOR's 4 predictions) in today's layout, in place in `arrays`: test loss and test
    accuracy NaN, train accuracy from the predictions (as training XOR records it). A summary bucket kept only the
    predictions' min and max, so its accuracy is bounded: the points on one side of 0.5 throughout count as right
    or wrong throughout, the others as either (an envelope that holds the true min and max)."""
    exact, last = arrays["history_exact"], arrays["history_last"]
    if exact.ndim != 2 or exact.shape[1] != V1_SERIES or last.shape != (V1_SERIES,):
        raise ExperimentError(name, f"the history has shape {exact.shape}, expected (epochs, {V1_SERIES})")
    if any(arrays[k].ndim != 2 or arrays[k].shape[1] != V1_SERIES for k in ("summary_min", "summary_max")):
        raise ExperimentError(
            name, f"the history summary has shape {arrays['summary_min'].shape}, expected (buckets, {V1_SERIES})"
        )
    positive = np.asarray(data.train_targets) >= 0.5
    n = len(positive)

    def widen(rows: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
        out = np.full((len(rows), n_series_for(data)), np.nan)
        out[:, 0], out[:, len(METRIC_COLUMNS) :] = rows[:, 0], rows[:, 1:]
        out[:, METRIC_COLUMNS.index("train_accuracy")] = accuracy
        return out

    def accuracy(predictions: np.ndarray) -> np.ndarray:
        return np.count_nonzero((predictions >= 0.5) == positive, axis=1) / n

    arrays["history_exact"] = widen(exact, accuracy(exact[:, 1:]))
    arrays["history_last"] = widen(last.reshape(1, -1), accuracy(last[None, 1:]))[0]
    lo, hi = arrays["summary_min"][:, 1:] >= 0.5, arrays["summary_max"][:, 1:] >= 0.5
    always_right = np.count_nonzero((lo == hi) & (lo == positive), axis=1)
    either = np.count_nonzero(lo != hi, axis=1)
    arrays["summary_min"] = widen(arrays["summary_min"], always_right / n)
    arrays["summary_max"] = widen(arrays["summary_max"], (always_right + either) / n)


def _history(name: str, arrays: dict, info: dict, diverged: bool, data: Dataset) -> History:
    n_series = n_series_for(data)
    exact = arrays["history_exact"]
    if exact.ndim != 2 or exact.shape[1] != n_series:
        raise ExperimentError(name, f"the history has shape {exact.shape}, expected (epochs, {n_series}) for this data")
    test = [] if data.n_test else _TEST_COLUMNS
    kept = [c for c in range(n_series) if c not in test]
    for block in (exact, arrays["summary_min"], arrays["summary_max"]):
        if block.ndim != 2 or not block.size:
            continue  # a summary of the wrong shape is refused by History.from_state
        losses = block[:, _LOSS_COLUMNS]
        others = block[:, [c for c in range(block.shape[1]) if c not in _LOSS_COLUMNS]]
        if (losses[np.isfinite(losses)] < 0).any() or ((others < 0) | (others > 1)).any():
            raise ExperimentError(name, "the history has a negative loss or an accuracy or output outside [0, 1]")
        body = block[:-1] if diverged else block
        if not np.isfinite(body[:, kept]).all():
            raise ExperimentError(name, "the history contains NaN or infinity before its last epoch")
        if test and not np.isnan(block[:, test]).all():
            raise ExperimentError(name, "the history has test values, but the data has no test points")
    state = {key: arrays[key] for key in ("summary_first", "summary_min", "summary_max")}
    state.update(exact=exact, last=arrays["history_last"])
    state.update({key: _int(name, info, key) for key in ("n_epochs", "bucket", "fill", "exact_limit", "capacity")})
    try:
        return History.from_state(state, n_series=n_series)
    except ValueError as err:
        raise ExperimentError(name, str(err)) from None


def _partial_to_json(partial: dict | None) -> dict | None:
    if partial is None:
        return None
    preds = [None if not np.isfinite(v) else float(v) for v in partial["predictions"].tolist()]
    return {"order": [int(i) for i in partial["order"]], "position": int(partial["position"]),
            "loss_sum": float(partial["loss_sum"]), "predictions": preds}  # fmt: skip


def _partial_from_json(name: str, data) -> dict | None:
    """The epoch in progress as saved (checked by `Trainer.restore`)."""
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("predictions"), list):
        raise ExperimentError(name, "the epoch in progress is malformed")
    preds = [np.nan if v is None else v for v in data["predictions"]]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in preds):
        raise ExperimentError(name, "the epoch in progress is malformed")
    return {**data, "predictions": np.array(preds, dtype=np.float64)}


def default_name(config: TrainConfig, data: DataSpec | None = None) -> str:
    """A file name for a new experiment on `data` (XOR unless given), e.g. 'xor-2-sigmoid-sgd-lr0.1-seed42.bplab';
    a CSV file's experiment is named after the file ('points-2-...')."""
    data = DataSpec() if data is None else data
    what = (Path(data.path).stem or "csv") if data.name == "csv" else data.name
    hidden = "-".join(map(str, config.hidden)) or "none"
    return f"{what}-{hidden}-{config.activation}-{config.mode}-lr{config.learning_rate:g}-seed{config.seed}{SUFFIX}"


__all__ = ["SUFFIX", "Experiment", "ExperimentError", "default_name", "load_experiment", "save_experiment"]
