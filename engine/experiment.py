"""Experiment files: a run's config, parameters, optimizer state, epoch and whole history, in one file.

Format: NumPy's ``.npz`` (a zip of ``.npy`` arrays) read with ``allow_pickle=False``; the member
``header.npy`` holds UTF-8 JSON with a format name and version. Saving is atomic. Loading checks
everything (sizes before reading, dtypes, shapes, values, consistency) and turns any fault into one
`ExperimentError` whose message says what is wrong; nothing else is touched until a file has passed.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import ConfigError, TrainConfig
from .files import write_atomically
from .history import History
from .network import Layout
from .trainer import Trainer, TrainerState

FORMAT = "backprop-lab.experiment"
VERSION = 1
SUFFIX = ".bplab"
MAX_FILE_BYTES = 512 * 2**20  # the exact history of 10^6 epochs is 40 MB; leave room, refuse the absurd
MAX_HEADER_BYTES = 2**20
N_SERIES = 5  # loss and the 4 XOR predictions
ARRAYS = {
    "theta": np.float64, "initial_theta": np.float64, "opt_m": np.float64, "opt_v": np.float64,
    "history_exact": np.float64, "summary_first": np.int64, "summary_min": np.float64, "summary_max": np.float64,
    "history_last": np.float64,
}  # fmt: skip


class ExperimentError(ValueError):
    """An experiment file that cannot be read. `name`: the file's name; `reason`: what is wrong, for the user
    ("no such file", "it is empty"). The message is "NAME: REASON"; the window says "Could not open NAME: REASON"
    and the command line "error: PATH: REASON" with the path as typed."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


@dataclass
class Experiment:
    """A run as saved: its config, the trainer's state and the window's history."""

    config: TrainConfig
    state: TrainerState
    history: History
    name: str = ""

    @classmethod
    def capture(cls, trainer: Trainer, history: History, name: str = "") -> Experiment:
        return cls(trainer.config, trainer.state(), history, name)

    def trainer(self) -> Trainer:
        """A trainer that continues exactly where this experiment stopped."""
        trainer = Trainer(self.config)
        trainer.restore(self.state)
        return trainer


def save_experiment(path: str | os.PathLike[str], experiment: Experiment) -> None:
    """Write `experiment` to `path` atomically (the previous file survives any failure)."""
    s = experiment.state
    hist = experiment.history.state()
    header = {
        "format": FORMAT,
        "version": VERSION,
        "name": experiment.name or Path(path).stem,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": experiment.config.to_dict(),
        "trainer": {
            "updates": s.updates,
            "epoch": s.epoch,
            "diverged": s.diverged,
            "rng_state": s.rng_state,
            "partial": _partial_to_json(s.partial),
        },
        "history": {k: int(hist[k]) for k in ("n_epochs", "bucket", "fill", "exact_limit", "capacity")},
    }
    buffer = io.BytesIO()
    np.savez(
        buffer,
        header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        theta=s.theta, initial_theta=s.initial_theta, opt_m=s.opt_m, opt_v=s.opt_v,
        history_exact=hist["exact"], summary_first=hist["summary_first"].astype(np.int64),
        summary_min=hist["summary_min"], summary_max=hist["summary_max"], history_last=hist["last"],
    )  # fmt: skip
    write_atomically(path, buffer.getvalue())


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
    history = _history(name, arrays, history_info, diverged)
    if history.n_epochs != epoch:
        raise ExperimentError(name, f"the history has {history.n_epochs:,} epochs but the run {epoch:,}")
    state = TrainerState(
        theta=arrays["theta"], initial_theta=arrays["initial_theta"], opt_m=arrays["opt_m"], opt_v=arrays["opt_v"],
        updates=updates, epoch=epoch, diverged=diverged, rng_state=trainer_info.get("rng_state"),
        partial=_partial_from_json(name, trainer_info.get("partial")),
    )  # fmt: skip
    try:
        Trainer(config).restore(state)
    except ValueError as err:
        raise ExperimentError(name, str(err)) from None
    label = header.get("name") if isinstance(header.get("name"), str) else path.stem
    return Experiment(config, state, history, label[:200])


def _read_members(name: str, data: bytes) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        expected = {f"{k}.npy" for k in ARRAYS} | {"header.npy"}
        if names != expected:
            missing, extra = sorted(expected - names), sorted(names - expected)
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
            want = np.uint8 if key == "header" else ARRAYS[key]
            if array.dtype != want:
                raise ExperimentError(name, f"part {key} holds {array.dtype} values, expected {np.dtype(want)}")
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


def _history(name: str, arrays: dict, info: dict, diverged: bool) -> History:
    exact = arrays["history_exact"]
    if exact.ndim != 2 or exact.shape[1] != N_SERIES:
        raise ExperimentError(name, f"the history has shape {exact.shape}, expected (epochs, {N_SERIES})")
    rows = [exact, arrays["summary_min"], arrays["summary_max"]]
    for block in rows:
        body = block[:-1] if diverged and len(block) else block
        if block.ndim == 2 and not np.isfinite(body).all():
            raise ExperimentError(name, "the history contains NaN or infinity before its last epoch")
        finite = block[np.isfinite(block)] if block.size else block
        if (
            block.ndim == 2
            and block.size
            and (finite.min(initial=0.0) < 0 or (block[:, 1:][np.isfinite(block[:, 1:])] > 1).any())
        ):
            raise ExperimentError(name, "the history has a negative loss or an output outside [0, 1]")
    state = {key: arrays[key] for key in ("summary_first", "summary_min", "summary_max")}
    state.update(exact=exact, last=arrays["history_last"])
    state.update({key: _int(name, info, key) for key in ("n_epochs", "bucket", "fill", "exact_limit", "capacity")})
    try:
        return History.from_state(state, n_series=N_SERIES)
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


def default_name(config: TrainConfig) -> str:
    """A file name for a new experiment, e.g. 'xor-2-sigmoid-sgd-lr0.1-seed42.bplab'."""
    hidden = "-".join(map(str, config.hidden)) or "none"
    return f"xor-{hidden}-{config.activation}-{config.mode}-lr{config.learning_rate:g}-seed{config.seed}{SUFFIX}"


__all__ = ["SUFFIX", "Experiment", "ExperimentError", "default_name", "load_experiment", "save_experiment"]
