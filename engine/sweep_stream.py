"""A sweep's CSV file written while the sweep runs, and resumed from.

The file has `reports.sweep_csv`'s header and rows. Each finished block of runs is appended in one write
(O_APPEND, then fsync), so a crash leaves whole rows plus at most one partial last line, which a resume drops.
Beside it, ``PATH.sweep.json`` names the sweep: everything that decides a run's numbers (the settings other than the
swept learning rates, widths, optimizers and seeds; the epochs; the data, by a hash of its arrays; the target
accuracy). `SweepFile.open(..., resume=True)` refuses a file whose sidecar names another sweep, or that has none,
with one sentence; a resumed sweep may cross more seeds or settings than the file's (the rows it has must all be runs
of the sweep). When the sweep ends, `SweepFile.finish` rewrites the file in the sweep's order (configs x seeds), so a
resumed or distributed sweep's file equals the file of the same sweep run at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from .files import write_atomically
from .history import n_series_for
from .reports import sweep_csv
from .sweep import SweepBlock, SweepResult, SweepSpec, collect
from .trainer import METRIC_COLUMNS

SIDECAR_SUFFIX = ".sweep.json"
SIDECAR_FORMAT = "backprop-lab sweep"
SIDECAR_VERSION = 1
SWEPT = ("learning_rate", "hidden", "optimizer", "seed")  # a run's own values: in its CSV row, not in the identity

Key = tuple[int, int]  # (config index, seed): one run


class ResumeError(ValueError):
    """A --csv file that this sweep cannot continue; the message is one sentence naming the file."""


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(path)}{SIDECAR_SUFFIX}")


def identity(spec: SweepSpec) -> dict:
    """What decides every run's numbers, JSON-ready: two sweeps with equal identities give equal rows for a run."""
    config = {name: value for name, value in spec.base.to_dict().items() if name not in SWEPT}
    data = spec.data
    digest = hashlib.sha256()
    for array in (data.inputs, data.targets, data.train):
        digest.update(np.ascontiguousarray(array).tobytes())
    return {
        "config": config,
        "epochs": spec.epochs,
        "target_accuracy": spec.target_accuracy,
        "data": {"name": data.spec.name, "points": data.n, "sha256": digest.hexdigest()},
    }


def header(spec: SweepSpec) -> str:
    """The CSV header line (with its newline): `reports.sweep_csv`'s."""
    return sweep_csv(collect(spec, [], 0.0, complete=True))


def block_lines(spec: SweepSpec, block: SweepBlock) -> list[str]:
    """The CSV rows (each with its newline) of one block's runs, as `reports.sweep_csv` writes them."""
    return sweep_csv(collect(spec, [block], 0.0, complete=True)).splitlines(keepends=True)[1:]


class SweepFile:
    """The --csv file of one sweep. `done`: the runs (config index, seed) it holds; `append(block)` adds a block's rows
    in one write; `finish()` puts the rows in the sweep's order; `result(...)` is every row's `SweepResult`."""

    def __init__(self, path: str | os.PathLike[str], spec: SweepSpec, lines: dict[Key, str]) -> None:
        self.path, self.spec = Path(path), spec
        self.lines = lines  # row text (with its newline) per run, in the file's order
        self.resumed = len(lines)
        self._doubled = False  # the file holds a run twice (two sweeps appended to it at once): finish() drops one
        configs = spec.configs()
        self._config_index = {(c.learning_rate, c.hidden[0], c.optimizer): i for i, c in enumerate(configs)}
        self._seed_rank = {seed: i for i, seed in enumerate(spec.seeds)}
        self._columns = len(header(spec).split(","))

    @classmethod
    def open(cls, path: str | os.PathLike[str], spec: SweepSpec, resume: bool = False) -> SweepFile:
        """Start the file (header only; any old file at `path` is replaced) or, with `resume`, continue the one at
        `path` (a missing file starts afresh). Raises `ResumeError` for a file of another sweep, `OSError` when the
        file cannot be read or written."""
        path = Path(path)
        if resume and path.exists():
            sweep = cls(path, spec, {})
            sweep._read()
        else:
            sweep = cls(path, spec, {})
            write_atomically(path, header(spec).encode())
        write_atomically(sidecar_path(path), sweep._sidecar().encode())
        return sweep

    @property
    def done(self) -> frozenset[Key]:
        return frozenset(self.lines)

    def append(self, block: SweepBlock) -> None:
        """Append the block's rows in one write (O_APPEND), then fsync: a crash leaves whole rows or a partial last line."""
        lines = block_lines(self.spec, block)
        data = "".join(lines).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        for seed, line in zip(block.seeds.tolist(), lines):
            self.lines.setdefault((block.config_index, int(seed)), line)

    def ordered_keys(self) -> list[Key]:
        return sorted(self.lines, key=lambda key: (key[0], self._seed_rank[key[1]]))

    def finish(self) -> None:
        """Rewrite the file (atomically) with its rows in the sweep's order, when they are not in it already."""
        keys = self.ordered_keys()
        if keys != list(self.lines) or self._doubled:
            write_atomically(self.path, (header(self.spec) + "".join(self.lines[key] for key in keys)).encode())
            self.lines = {key: self.lines[key] for key in keys}
            self._doubled = False

    def result(self, seconds: float, complete: bool) -> SweepResult:
        """Every row of the file (resumed and new) as one `SweepResult`, in the sweep's order. The final recorded
        outputs are not in the file: they are NaN (the outcome is)."""
        keys = self.ordered_keys()
        rows = list(csv.reader(io.StringIO("".join(self.lines[key] for key in keys))))
        configs = self.spec.configs()
        column = {name: i for i, name in enumerate(next(csv.reader(io.StringIO(header(self.spec)))))}

        def floats(name: str) -> np.ndarray:
            return np.array([float(row[column[name]]) if row[column[name]] else math.nan for row in rows], dtype=float)

        epochs = np.array([int(row[column["epochs_to_solve"]] or 0) for row in rows], dtype=np.int64)
        n_pred = n_series_for(self.spec.data) - len(METRIC_COLUMNS)
        return SweepResult(
            spec=self.spec,
            seed=np.array([seed for _index, seed in keys], dtype=np.int64),
            learning_rate=np.array([configs[index].learning_rate for index, _seed in keys], dtype=float),
            hidden=np.array([configs[index].hidden[0] for index, _seed in keys], dtype=np.int64),
            optimizer=np.array([configs[index].optimizer for index, _seed in keys], dtype=object),
            solved=epochs > 0,
            epochs_to_solve=epochs,
            final_loss=floats("final_loss"),
            final_predictions=np.full((len(rows), n_pred), math.nan),
            outcome=np.array([row[column["outcome"]] for row in rows], dtype=object),
            seconds=seconds,
            complete=complete,
            final_train_accuracy=floats("train_accuracy"),
            final_test_accuracy=floats("test_accuracy"),
        )

    def _sidecar(self) -> str:
        spec = self.spec
        grid = {"seeds": len(spec.seeds), "first_seed": spec.seeds[0], "learning_rates": list(spec.learning_rates),
                "hidden": list(spec.hidden), "optimizers": list(spec.optimizers)}  # fmt: skip
        return json.dumps({"format": SIDECAR_FORMAT, "version": SIDECAR_VERSION, "sweep": identity(self.spec), "grid": grid},
                          indent=1) + "\n"  # fmt: skip

    def _read(self) -> None:
        """Check the sidecar, read the rows, and cut a partial last line off the file."""
        path, name = self.path, self.path.name
        again = "run without --resume to start it over, or give another --csv"
        try:
            stored = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ResumeError(f"{path} cannot be resumed: {sidecar_path(path).name}, which says which sweep wrote it, is "
                              f"missing; {again}") from None  # fmt: skip
        except (UnicodeDecodeError, json.JSONDecodeError):
            stored = None
        if not isinstance(stored, dict) or stored.get("format") != SIDECAR_FORMAT or not isinstance(stored.get("sweep"), dict):
            raise ResumeError(f"{sidecar_path(path)} is not the description of a sweep; {again}")
        differences = _differences(stored["sweep"], identity(self.spec))
        if differences:
            raise ResumeError(f"{path} holds another sweep (other {', '.join(differences)}); {again}")
        data = path.read_bytes()
        whole = data.rfind(b"\n") + 1  # after the last whole line: the rest is a row a crash cut short
        head = header(self.spec)
        try:
            complete = data[:whole].decode("utf-8")
        except UnicodeDecodeError:
            complete = ""
        if not complete.startswith(head):
            raise ResumeError(f"{path} is not a sweep's CSV file (its first line is not the header); {again}")
        if whole < len(data):
            os.truncate(path, whole)
        for number, line in enumerate(complete[len(head) :].splitlines(keepends=True), start=2):
            key = self._key(next(csv.reader([line]), []))
            if key is None:
                raise ResumeError(f"{name}, line {number}: {line.strip()[:60]!r} is not a run of this sweep; {again}")
            self._doubled |= key in self.lines
            self.lines.setdefault(key, line)

    def _key(self, row: list[str]) -> Key | None:
        try:
            seed, lr, hidden, optimizer = int(row[0]), float(row[1]), int(row[2]), row[3]
        except (ValueError, IndexError):
            return None
        index = self._config_index.get((lr, hidden, optimizer))
        if index is None or seed not in self._seed_rank or len(row) != self._columns:
            return None
        return index, seed


def _differences(stored: dict, current: dict) -> list[str]:
    """The names of what differs between two identities: 'epochs (500 in the file, 300 here)', 'data', 'settings (l2)'."""
    out = []
    if stored.get("epochs") != current["epochs"]:
        out.append(f"epochs ({stored.get('epochs')} in the file, {current['epochs']} here)")
    if stored.get("data") != current["data"]:
        out.append("data")
    if stored.get("target_accuracy") != current["target_accuracy"]:
        out.append(f"target accuracy ({stored.get('target_accuracy')} in the file, {current['target_accuracy']} here)")
    theirs = stored.get("config") if isinstance(stored.get("config"), dict) else {}
    names = sorted(name for name in set(theirs) | set(current["config"]) if theirs.get(name) != current["config"].get(name))
    if names:
        out.append(f"settings ({', '.join(names)})")
    return out
