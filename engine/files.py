"""Writing result files safely: atomic replace, JSON without NaN, early checks of output paths, and the one
wording of why a write failed."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .trainer import METRIC_COLUMNS, Trainer


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Raise `ValueError` now if a file cannot be written at `path` later (missing folder, a directory, a device,
    a folder that takes no new files...): the folder is asked by creating and removing a file in it, as
    `write_atomically` will (permission bits alone say yes to root in /proc)."""
    target = Path(path)
    if str(path) == "":
        raise ValueError("the output path is empty")
    if target.is_dir():
        raise ValueError(f"cannot write {target}: it is a directory, not a file")
    if target.exists() and not target.is_file():
        raise ValueError(f"cannot write {target}: it is not a regular file (saving would replace it)")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write {target}: the folder {folder} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(f"cannot write {target}: permission denied")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)  # O_CREAT | O_EXCL
    except OSError as err:
        reason = f"the folder {folder} takes no new files" if err.errno == errno.ENOENT else error_reason(err).lower()
        raise ValueError(f"cannot write {target}: {reason}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return target


FIGURE_KINDS = ("png", "svg")  # what a figure (a plot, a map, the whole window) is saved as


def check_figure_path(path: str | os.PathLike[str], kind: str) -> None:
    """Raise `ValueError` unless `path` names a `kind` file (a PNG's name ends in .png, an SVG's in .svg)."""
    if kind not in FIGURE_KINDS:
        raise ValueError(f"cannot save a figure as {kind!r}; choose from {', '.join(FIGURE_KINDS)}")
    if Path(path).suffix.lower() != "." + kind:
        article = "an" if kind[0].upper() in "AEFHILMNORSX" else "a"  # as the letter is said: an SVG, a PNG
        raise ValueError(f"{path}: {article} {kind.upper()} file's name must end in .{kind}")


def error_reason(err: Exception) -> str:
    """Why a write failed, for "could not write NAME: reason": an `OSError`'s own words ("Permission denied"),
    which do not repeat the file's name, or the text of any other error."""
    return (err.strerror if isinstance(err, OSError) else None) or str(err)


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path`.

    A crash or a full disk mid-write leaves any previous file at `path` untouched. The file gets the
    mode a plain ``open(path, "w")`` would give (the replaced file's mode, or 0o666 less the umask),
    not the temporary file's 0o600. An `OSError` names `path`, never the temporary file.
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if str(target.parent) else ".")
    except OSError as err:
        raise _naming(err, target) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.chmod(tmp, _mode_for(target))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _naming(err, target) from None
        raise


def _mode_for(target: Path) -> int:
    """The permission bits `target` keeps (it exists as a regular file) or gets (0o666 less the umask)."""
    with contextlib.suppress(OSError):
        st = os.stat(target)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (os.umask can only set it)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _naming(err: OSError, target: Path) -> OSError:
    """`err` about `target` (the user's path) rather than the temporary file or the folder."""
    if err.errno is None:
        return err
    return type(err)(err.errno, err.strerror, str(target))


def finite_or_none(values: np.ndarray) -> list[Any]:
    """A nested list of floats with NaN and ±inf as None (JSON has no NaN)."""
    array = np.asarray(values, dtype=np.float64)
    as_list = array.tolist()
    if np.isfinite(array).all():
        return as_list

    def clean(item: Any) -> Any:
        if isinstance(item, list):
            return [clean(x) for x in item]
        return item if math.isfinite(item) else None

    return clean(as_list)


def train_record(trainer: Trainer, loss: np.ndarray, metrics: np.ndarray | None = None, diagnoses=()) -> dict[str, Any]:
    """What ``train --json`` writes: config, data, per-epoch loss (and, given `metrics` (n, 3), the other columns of
    `METRIC_COLUMNS`: test loss, train and test accuracy, null where there is no test set), final parameters, the
    prediction at every point of the data (inputs, targets, and whether each is a training point), and the
    diagnoses (`engine.diagnosis.Diagnosis`, as dicts: kind, epoch, title, explanation, advice, units)."""
    data = trainer.data
    columns = {"loss": finite_or_none(loss)}
    if metrics is not None:
        metrics = np.asarray(metrics, dtype=np.float64).reshape(len(loss), len(METRIC_COLUMNS) - 1)
        columns.update({name: finite_or_none(metrics[:, i]) for i, name in enumerate(METRIC_COLUMNS[1:])})
    return {
        "format": "backprop-lab.train",
        "version": 1,
        "config": trainer.config.to_dict(),
        "data": data.spec.to_dict(),
        "epochs": trainer.epoch,
        "updates": trainer.updates,
        "diverged": trainer.diverged,
        **columns,
        "final": {key: finite_or_none(np.float64(value)) for key, value in trainer.evaluate().items()},
        "inputs": np.asarray(data.inputs).tolist(),
        "targets": np.asarray(data.targets).tolist(),
        "train": np.asarray(data.train).tolist(),
        "predictions": finite_or_none(trainer.predict(data.inputs)),
        "params": [{"W": finite_or_none(W), "b": finite_or_none(b)} for W, b in trainer.params],
        "diagnoses": [d.to_dict() for d in diagnoses],
    }


def write_json(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    write_atomically(path, (json.dumps(record, allow_nan=False) + "\n").encode())
