"""`RunLog`: the history of runs a window trained, in a folder it is given (the window passes its application-data
folder), newest first, at most `limit` runs.

Each entry is two files named by its id: ``<id>.bplab``, the run as an experiment file (`engine.experiment`: it
reopens exactly), and ``<id>.json``, a small summary read to list the runs without opening them: settings, dataset,
seed, epoch, final metrics, the loss curve at about `CURVE_POINTS` points, the decision map's thumbnail (a small
float32 array of ŷ, rows along x2 from the bottom, as the window's maps; the window draws it) and the diagnoses. An id
starts with the time it was logged (nanoseconds), so names sort oldest first; the process id and a random part keep
two windows logging at once apart. Both files are written atomically (temporary file, then rename), the experiment
first: an entry exists once its summary does. Beyond `limit`, the oldest entries are deleted. A damaged entry
(unreadable summary, missing experiment file) is skipped and said once in `problems`; nothing raises for it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import json
import math
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .datasets import DataSpec
from .experiment import SUFFIX, Experiment, load_experiment, save_experiment
from .files import write_atomically
from .trainer import METRIC_COLUMNS

FORMAT = "backprop-lab.run-log-entry"
VERSION = 1
DEFAULT_LIMIT = 500
CURVE_POINTS = 200  # the loss curve's points in a summary (min/max pairs past the exact part: up to twice as many)
THUMB_SIDE = 32  # the decision map's thumbnail, THUMB_SIDE × THUMB_SIDE ŷ over the data's bounds
MAX_SUMMARY_BYTES = 4 * 2**20  # a summary larger than this is damaged
_ID = re.compile(r"^\d{19,20}-\d+-[0-9a-f]{8}$")


@dataclass(frozen=True)
class RunEntry:
    """One logged run. id: "" until `RunLog.append` gives it one. created: when it was logged (ISO 8601, UTC).
    dataset: the data in a few words ("xor", "spiral, 500 points", "points.csv"); data: its `DataSpec` as a dict.
    final: the last epoch's loss, test_loss, train_accuracy, test_accuracy (NaN where unknown). loss_curve: (epochs,
    losses) arrays. thumbnail: (rows, columns) float32 ŷ over `thumbnail_bounds` (x1_low, x1_high, x2_low, x2_high),
    or None. diagnoses: what the run was doing, as `Diagnosis.to_dict` gives it. experiment: the run itself before it
    is logged (None for entries read back: `RunLog.load` opens it)."""

    config: TrainConfig
    dataset: str
    data: dict
    epoch: int
    final: dict
    loss_curve: tuple[np.ndarray, np.ndarray]
    thumbnail: np.ndarray | None = None
    thumbnail_bounds: tuple[float, ...] | None = None
    diagnoses: tuple[dict, ...] = ()
    diverged: bool = False
    id: str = ""
    created: str = ""
    experiment: Experiment | None = field(default=None, repr=False, compare=False)

    @property
    def seed(self) -> int:
        return self.config.seed

    @classmethod
    def from_experiment(cls, experiment: Experiment, thumbnail: np.ndarray | None = None, diagnoses: bool = True) -> RunEntry:
        """The entry of `experiment`: its summary (the thumbnail computed over the data's bounds unless given; the
        diagnoses computed unless `diagnoses` is False)."""
        history, data = experiment.history, experiment.data
        n = history.n_epochs
        last = np.asarray(history.last, dtype=np.float64)
        final = {name: float(last[i]) if n else math.nan for i, name in enumerate(METRIC_COLUMNS)}
        view = history.view(1, n, max_points=CURVE_POINTS) if n else None
        curve = (np.empty(0, dtype=np.int64), np.empty(0)) if view is None else (np.asarray(view.x), np.asarray(view.y[:, 0]))
        trainer = experiment.trainer()
        bounds = None
        if thumbnail is None:
            bounds = tuple(float(v) for v in data.bounds())
            thumbnail = decision_thumbnail(trainer, bounds)
        found: tuple[dict, ...] = ()
        if diagnoses:
            from .diagnosis import diagnose_rows, history_rows

            epochs, rows = history_rows(history, trainer.epoch) if trainer.epoch <= n else (np.empty(0), np.empty((0, 1)))
            found = tuple(d.to_dict() for d in diagnose_rows(trainer.config, data, trainer.theta, epochs, rows))
        return cls(
            config=experiment.config, dataset=dataset_words(data.spec), data=data.spec.to_dict(), epoch=trainer.epoch,
            final=final, loss_curve=curve, thumbnail=None if thumbnail is None else np.asarray(thumbnail, dtype=np.float32),
            thumbnail_bounds=bounds, diagnoses=found, diverged=bool(experiment.state.diverged), experiment=experiment,
        )  # fmt: skip

    def summary(self) -> dict:
        """The JSON summary (NaN and infinities as null)."""
        thumb = None
        if self.thumbnail is not None:
            cells = np.ascontiguousarray(self.thumbnail, dtype="<f4")
            thumb = {"shape": list(cells.shape), "float32": base64.b64encode(cells.tobytes()).decode("ascii")}
        return {
            "format": FORMAT, "version": VERSION, "id": self.id, "created": self.created, "config": self.config.to_dict(),
            "dataset": self.dataset, "data": self.data, "epoch": self.epoch, "diverged": self.diverged,
            "final": {k: _finite(v) for k, v in self.final.items()},
            "loss_curve": {"epochs": np.asarray(self.loss_curve[0]).astype(np.int64).tolist(),
                           "loss": [_finite(v) for v in np.asarray(self.loss_curve[1], dtype=float).tolist()]},
            "thumbnail": thumb, "thumbnail_bounds": None if self.thumbnail_bounds is None else list(self.thumbnail_bounds),
            "diagnoses": list(self.diagnoses),
        }  # fmt: skip

    @classmethod
    def from_summary(cls, record: dict) -> RunEntry:
        """Inverse of `summary`; raises ValueError (KeyError, TypeError) on a summary that is not one."""
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise ValueError("it is not a run history entry")
        if not isinstance(record.get("version"), int) or record["version"] > VERSION:
            raise ValueError(f"it is of a newer version ({record.get('version')!r}) than this program reads")
        curve = record["loss_curve"]
        epochs = np.asarray(curve["epochs"], dtype=np.int64)
        losses = np.array([math.nan if v is None else float(v) for v in curve["loss"]])
        if epochs.ndim != 1 or epochs.shape != losses.shape:
            raise ValueError("its loss curve is malformed")
        thumb = record.get("thumbnail")
        cells = None
        if thumb is not None:
            shape = tuple(int(v) for v in thumb["shape"])
            cells = np.frombuffer(base64.b64decode(thumb["float32"], validate=True), dtype="<f4").astype(np.float32)
            if len(shape) != 2 or cells.size != shape[0] * shape[1]:
                raise ValueError("its thumbnail is malformed")
            cells = cells.reshape(shape)
            cells.flags.writeable = False
        bounds = record.get("thumbnail_bounds")
        final = {str(k): math.nan if v is None else float(v) for k, v in dict(record["final"]).items()}
        diagnoses = tuple(dict(d) for d in record.get("diagnoses", []))
        created, dataset = record["created"], record["dataset"]
        if not isinstance(created, str) or not isinstance(dataset, str) or not isinstance(record["data"], dict):
            raise ValueError("its summary is malformed")
        return cls(
            config=TrainConfig.from_dict(record["config"]), dataset=dataset, data=dict(record["data"]),
            epoch=int(record["epoch"]), final=final, loss_curve=(epochs, losses), thumbnail=cells,
            thumbnail_bounds=None if bounds is None else tuple(float(v) for v in bounds), diagnoses=diagnoses,
            diverged=bool(record.get("diverged", False)), id=str(record["id"]), created=created,
        )  # fmt: skip


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def dataset_words(spec: DataSpec) -> str:
    """The data in a few words: 'xor', 'spiral, 500 points', 'points.csv'."""
    if spec.name == "csv":
        return Path(spec.path).name or "a CSV file"
    canonical = spec.canonical()
    if canonical == DataSpec(spec.name):  # data whose parameters are fixed (XOR), or all at their defaults
        return spec.name
    return f"{spec.name}, {spec.points:,} points"


def decision_thumbnail(trainer, bounds: tuple[float, float, float, float], side: int = THUMB_SIDE) -> np.ndarray | None:
    """ŷ on a `side` × `side` grid spanning `bounds` (x1_low, x1_high, x2_low, x2_high), rows along x2 from the bottom,
    float32; None for weights that are not finite."""
    if not np.all(np.isfinite(trainer.theta)):
        return None
    x = np.linspace(bounds[0], bounds[1], side)
    y = np.linspace(bounds[2], bounds[3], side)
    x1, x2 = np.meshgrid(x, y)
    return trainer.predict(np.column_stack([x1.ravel(), x2.ravel()])).reshape(side, side).astype(np.float32)


def _new_id() -> str:
    return f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}"


class RunLog:
    """The run history in `directory` (created if missing): `append`, `entries` (newest first), `load`.
    `problems`: the damaged entries the last `entries` call skipped that no earlier call had said (one message each,
    each naming the entry and containing the word "damaged")."""

    def __init__(self, directory: str | os.PathLike[str], limit: int = DEFAULT_LIMIT) -> None:
        if int(limit) < 1:
            raise ValueError(f"the run history keeps at least 1 run, not {limit}")
        self.directory = Path(directory)
        self.limit = int(limit)
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.directory.is_dir():
            raise ValueError(f"{self.directory} is not a folder")
        self.problems: list[str] = []
        self._said: set[str] = set()

    def _paths(self, run_id: str) -> tuple[Path, Path]:
        return self.directory / f"{run_id}.json", self.directory / f"{run_id}{SUFFIX}"

    def _ids(self) -> list[str]:
        """Every entry's id (with a summary or an experiment file), oldest first."""
        ids = set()
        with os.scandir(self.directory) as listing:
            for item in listing:
                stem, dot, suffix = item.name.rpartition(".")
                if dot and ("." + suffix in (".json", SUFFIX)) and _ID.match(stem):
                    ids.add(stem)
        return sorted(ids)

    def append(self, entry: RunEntry) -> str:
        """Log `entry` (made by `RunEntry.from_experiment`): write its experiment, then its summary; delete the oldest
        entries beyond the limit. Returns its id. Raises OSError (a folder that takes no files) or ValueError."""
        if entry.experiment is None:
            raise ValueError("this entry has no run to log: make it with RunEntry.from_experiment")
        run_id = _new_id()
        created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        summary_path, experiment_path = self._paths(run_id)
        save_experiment(experiment_path, entry.experiment)
        record = RunEntry(**{**_fields(entry), "id": run_id, "created": created}).summary()
        try:
            write_atomically(summary_path, (json.dumps(record, allow_nan=False) + "\n").encode())
        except BaseException:
            with contextlib.suppress(OSError):
                experiment_path.unlink()
            raise
        self._prune()
        return run_id

    def _prune(self) -> None:
        ids = self._ids()
        for run_id in ids[: max(0, len(ids) - self.limit)]:
            for path in self._paths(run_id):
                with contextlib.suppress(FileNotFoundError, OSError):
                    path.unlink()

    def entries(self) -> list[RunEntry]:
        """Every readable entry, newest first. Damaged ones are skipped (see `problems`)."""
        self.problems = []
        out = []
        for run_id in reversed(self._ids()):
            summary_path, experiment_path = self._paths(run_id)
            if not summary_path.exists():
                if _older_than(experiment_path, 60.0):  # not another window's append in progress
                    self._problem(run_id, "its summary is missing")
                continue
            try:
                if summary_path.stat().st_size > MAX_SUMMARY_BYTES:
                    raise ValueError("its summary is too large")
                record = json.loads(summary_path.read_bytes().decode("utf-8"))
                entry = RunEntry.from_summary(record)
                if entry.id != run_id:
                    raise ValueError("its summary belongs to another entry")
                if not experiment_path.is_file():
                    raise ValueError("its experiment file is missing")
            except FileNotFoundError:
                continue  # deleted meanwhile (another window pruned it)
            except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as err:
                self._problem(run_id, _reason(err))
                continue
            out.append(entry)
        return out

    def _problem(self, run_id: str, reason: str) -> None:
        if run_id not in self._said:
            self._said.add(run_id)
            self.problems.append(f"Skipped a damaged run history entry ({run_id}): {reason}")

    def load(self, run_id: str) -> Experiment:
        """The logged run `run_id`, exactly as it was logged. Raises ValueError (an `ExperimentError` for a damaged
        file) for an id that is not in the log."""
        if not isinstance(run_id, str) or not _ID.match(run_id):
            raise ValueError(f"{run_id!r} is not a run history entry")
        path = self._paths(run_id)[1]
        if not path.is_file():
            raise ValueError(f"the run {run_id} is not in the history (any more)")
        return load_experiment(path)


def _fields(entry: RunEntry) -> dict:
    return {name: getattr(entry, name) for name in RunEntry.__dataclass_fields__}


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def _reason(err: BaseException) -> str:
    if isinstance(err, json.JSONDecodeError | UnicodeDecodeError):
        return "its summary is not readable JSON"
    if isinstance(err, KeyError):
        return f"its summary lacks {err.args[0]!r}"
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return str(err) or type(err).__name__
