"""Side-by-side runs: "which converges faster, SGD or batch gradient descent?" (the notebook's exercise).

Every run is a variation of one base config (mode, batch size, learning rate, optimizer, ...); all train on
the same data (XOR unless given) and start from the base config's initial weights. "Faster" is measured four
ways, because full batch makes one update per epoch where SGD makes one per sample: epochs, wall-clock seconds
spent in that run's kernel, sample-gradient evaluations and weight updates.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .config import MODES, OPTIMIZERS, ConfigError, TrainConfig
from .datasets import Dataset, make_dataset
from .fields import CONFIG_FIELDS, STRUCTURAL_FIELDS
from .parsing import parse_field, parse_list
from .trainer import METRIC_COLUMNS, Trainer, warm_up

# The fields a compared run may change: every setting that is not structural (none changes the network or its
# initial weights), in `CONFIG_FIELDS`' order.
COMPARABLE_FIELDS = tuple(name for name in CONFIG_FIELDS if name not in STRUCTURAL_FIELDS)
X_AXES = ("epochs", "seconds", "gradient evaluations", "updates")
MIN_RUNS, MAX_RUNS = 2, 6
SOLVED_MARGIN = 0.4  # solved: every output within 0.4 of its target (right side of 0.5, with a margin)
DEFAULT_TARGET_LOSS = 0.01


def parse_run_spec(text: str, base: TrainConfig, number: int | None = None) -> TrainConfig:
    """'mode=minibatch,batch_size=2,optimizer=adam' -> `base` with those changes.

    Raises ValueError naming the run (by `number` when given) and the bad part: an empty run or item, unknown or
    structural fields, values of the wrong type. Empty values are never taken silently.
    """
    who = f"run {number}" if number is not None else "a run"
    try:  # the command line's and the window's one rule for lists: an empty text or item is refused
        parts = parse_list(text, str.strip, "FIELD=VALUE,... such as mode=batch")
    except ValueError as err:
        raise ValueError(f"{who}: {err}") from None
    name = f"{who} ({text!r})"
    changes: dict[str, object] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        key, value = key.strip().replace("-", "_"), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"{name}: {part!r} is not FIELD=VALUE, e.g. mode=batch")
        if key not in COMPARABLE_FIELDS:
            why = ("cannot vary between compared runs (they share the network and its initial weights)"
                   if key in CONFIG_FIELDS else "is not a setting")  # fmt: skip
            raise ValueError(f"{name}: {key!r} {why}; use one of {', '.join(COMPARABLE_FIELDS)}")
        try:  # the command line's and the window's rule for this setting's text
            changes[key] = parse_field(CONFIG_FIELDS[key], value)
        except ValueError as err:
            raise ValueError(f"{name}: {key}: {err}") from None
    try:
        return base.replace(**changes)
    except ConfigError as err:
        raise ValueError(f"{name}: {err.field}: {err.reason}") from None


def _n_samples(n_samples: int | None) -> int:
    """Training points per epoch: `n_samples`, or the default data's (XOR's 4) when not given."""
    return make_dataset().n_train if n_samples is None else n_samples


def run_label(config: TrainConfig, base: TrainConfig | None = None, n_samples: int | None = None) -> str:
    """A short name: 'SGD', 'full batch', 'mini-batch 2', plus what else differs from `base`."""
    config = training_key(config, n_samples)  # by what it trains as: a mini-batch of 1 is SGD
    names = {"sgd": "SGD", "batch": "full batch"}
    label = names.get(config.mode, f"mini-batch {config.batch_size}")
    base = base or TrainConfig()
    extras = []
    if config.optimizer == "momentum" and config.momentum != base.momentum:
        extras.append(f"momentum {config.momentum:g}")
    elif config.optimizer != "sgd":
        extras.append(config.optimizer)
    if config.optimizer == "adam":
        extras += [f"{name} {getattr(config, name):g}" for name in ("beta1", "beta2", "eps")
                   if getattr(config, name) != getattr(base, name)]  # fmt: skip
    if config.learning_rate != base.learning_rate:
        extras.append(f"lr {config.learning_rate:g}")
    if config.shuffle:
        extras.append("shuffled")
    extras += [f"{name.upper()} {getattr(config, name):g}" for name in ("l2", "l1")
               if getattr(config, name) != getattr(base, name)]  # fmt: skip
    if config.loss != base.loss:
        extras.append(config.loss)
    return label + (f" ({', '.join(extras)})" if extras else "")


def training_key(config: TrainConfig, n_samples: int | None = None) -> TrainConfig:
    """Two runs with equal keys train identically, bit for bit, on data of `n_samples` training points (XOR's unless
    given): `TrainConfig.canonical` (a mini-batch of 1 is SGD, one of every sample in order is full batch; settings
    the mode and optimizer ignore take their defaults)."""
    return config.canonical(_n_samples(n_samples))


def duplicate_runs(configs: list[TrainConfig], n_samples: int | None = None) -> list[tuple[int, int]]:
    """(i, j), i < j, for each run j that trains exactly as an earlier run i (the first such i)."""
    first: dict[TrainConfig, int] = {}
    pairs = []
    for j, config in enumerate(configs):
        key = training_key(config, n_samples)
        if key in first:
            pairs.append((first[key], j))
        else:
            first[key] = j
    return pairs


def describe_duplicates(configs: list[TrainConfig], base: TrainConfig | None = None, n_samples: int | None = None) -> str | None:
    """One sentence naming the runs that would train identically, or None when there are none, e.g. "Runs 1 and 3 are
    the same run (SGD): they would train identically. Change a setting so that no two runs are the same."."""
    groups: dict[int, list[int]] = {}
    for i, j in duplicate_runs(configs, n_samples):
        groups.setdefault(i, [i]).append(j)
    if not groups:
        return None
    parts = []
    for i, runs in groups.items():
        numbers = [str(k + 1) for k in runs]
        label = run_label(configs[i], base, n_samples)
        parts.append(f"runs {', '.join(numbers[:-1])} and {numbers[-1]} are the same run ({label})")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + ": they would train identically. Change a setting so that no two runs are the same."


def run_labels(configs: list[TrainConfig], base: TrainConfig | None = None, n_samples: int | None = None) -> list[str]:
    """`run_label` of each run, made distinct: a label seen before gets its run number, 'SGD (run 3)'."""
    labels: list[str] = []
    for j, config in enumerate(configs):
        label = run_label(config, base, n_samples)
        if label in labels:
            label = f"{label[:-1]}, run {j + 1})" if label.endswith(")") else f"{label} (run {j + 1})"
        labels.append(label)
    return labels


def next_run(base: TrainConfig, configs: list[TrainConfig], n_samples: int | None = None) -> TrainConfig:
    """The first of these variations of `base` that trains unlike every one of `configs`: mini-batch 2; SGD,
    full batch and mini-batch 2 with adam, then with momentum; then the rest (12 in all, more than `MAX_RUNS`)."""
    present = {training_key(c, n_samples) for c in configs}
    candidates = [("minibatch", 2, "sgd")]
    candidates += [(mode, 2, optimizer) for optimizer in ("adam", "momentum") for mode in ("sgd", "batch", "minibatch")]
    candidates += [(mode, 3 if mode == "minibatch" else 2, "sgd") for mode in MODES]
    candidates += [("minibatch", 3, optimizer) for optimizer in ("adam", "momentum")]
    for mode, batch_size, optimizer in candidates:
        candidate = base.replace(mode=mode, optimizer=optimizer, **({"batch_size": batch_size} if mode == "minibatch" else {}))
        if training_key(candidate, n_samples) not in present:
            return candidate
    raise ValueError(f"no run left to add to {len(configs)} runs")


def updates_per_epoch(config: TrainConfig, n_samples: int | None = None) -> int:
    """Weight updates in one epoch of n training points: n (sgd), ceil(n / batch_size) (minibatch), 1 (batch)."""
    n_samples = _n_samples(n_samples)
    return math.ceil(n_samples / config.batch_size_for(n_samples))


def gradient_evaluations_per_epoch(config: TrainConfig, n_samples: int | None = None) -> int:
    """Per-sample gradients computed in one epoch: every mode computes one per training point."""
    return _n_samples(n_samples)


def x_values(axis: str, epochs: np.ndarray, seconds: np.ndarray, config: TrainConfig, n_samples: int | None = None) -> np.ndarray:
    """The x coordinate of each epoch on `axis` (one of `X_AXES`). epochs, seconds: (n,), seconds cumulative."""
    if axis == "epochs":
        return np.asarray(epochs, dtype=np.float64)
    if axis == "seconds":
        return np.asarray(seconds, dtype=np.float64)
    if axis == "gradient evaluations":
        return np.asarray(epochs, dtype=np.float64) * gradient_evaluations_per_epoch(config, n_samples)
    if axis == "updates":
        return np.asarray(epochs, dtype=np.float64) * updates_per_epoch(config, n_samples)
    raise ValueError(f"x axis {axis!r} is not one of {', '.join(X_AXES)}")


def is_solved(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per row: every output within `SOLVED_MARGIN` of its target. predictions (..., n), targets (n,)."""
    return np.all(np.abs(np.asarray(predictions) - targets) < SOLVED_MARGIN, axis=-1)


@dataclass(frozen=True)
class RunSummary:
    """One compared run against a target loss. The *_to_target fields are None when it was not reached.
    final_train_accuracy, final_test_accuracy: its last epoch's (NaN before any epoch, and without a test set)."""

    label: str
    config: TrainConfig
    epochs: int
    final_loss: float
    solved: bool
    diverged: bool
    epochs_to_target: int | None
    updates_to_target: int | None
    gradient_evaluations_to_target: int | None
    seconds_to_target: float | None
    seconds: float
    final_train_accuracy: float = math.nan
    final_test_accuracy: float = math.nan


def summarize(label: str, config: TrainConfig, loss: np.ndarray, seconds: np.ndarray, final_predictions: np.ndarray,
              target_loss: float, diverged: bool = False, targets: np.ndarray | None = None, *,
              final_train_accuracy: float = math.nan, final_test_accuracy: float = math.nan) -> RunSummary:  # fmt: skip
    """Summary of a run from its per-epoch loss (n,) and cumulative kernel seconds (n,). final_predictions: ŷ at
    each training point, whose `targets` (the default data's, XOR's, unless given) say whether it is solved."""
    targets = make_dataset().train_targets if targets is None else targets
    n = len(loss)
    below = np.flatnonzero(np.asarray(loss) < target_loss)
    reached = int(below[0]) + 1 if len(below) else None
    n_samples = len(targets)
    return RunSummary(
        label=label,
        config=config,
        epochs=n,
        final_loss=float(loss[-1]) if n else float("nan"),
        solved=bool(n and is_solved(final_predictions, targets)),
        diverged=diverged,
        epochs_to_target=reached,
        updates_to_target=reached * updates_per_epoch(config, n_samples) if reached else None,
        gradient_evaluations_to_target=reached * gradient_evaluations_per_epoch(config, n_samples) if reached else None,
        seconds_to_target=float(seconds[reached - 1]) if reached else None,
        seconds=float(seconds[-1]) if n else 0.0,
        final_train_accuracy=float(final_train_accuracy),
        final_test_accuracy=float(final_test_accuracy),
    )


def _seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def verdict(summaries: list[RunSummary], target_loss: float) -> str:
    """A plain sentence answering "which converges faster?" for these runs.

    E.g. "SGD reached loss 0.01 after 4,321 epochs (12.3 ms, 17,284 updates); full batch had not after 20,000 epochs."
    """
    if not summaries:
        return "No runs."
    reached = sorted((s for s in summaries if s.epochs_to_target is not None), key=lambda s: s.epochs_to_target)
    missed = [s for s in summaries if s.epochs_to_target is None]
    parts = []
    for i, s in enumerate(reached):
        head = f"{s.label} reached loss {target_loss:g}" if i == 0 else f"{s.label}"
        parts.append(
            f"{head} after {s.epochs_to_target:,} epochs ({_seconds_text(s.seconds_to_target)}, {s.updates_to_target:,} updates)"
        )
    for s in missed:
        what = "diverged" if s.diverged else f"had not after {s.epochs:,} epochs"
        parts.append(f"{s.label} {what}" if s.diverged else f"{s.label} {what} (loss {s.final_loss:.3g})")
    sentence = "; ".join(parts) + "."
    if len(reached) >= 2:
        by_time = min(reached, key=lambda s: s.seconds_to_target)
        by_updates = min(reached, key=lambda s: s.updates_to_target)
        notes = []
        if by_time is not reached[0]:
            notes.append(f"in wall-clock time {by_time.label} was fastest")
        if by_updates is not reached[0]:
            notes.append(f"in weight updates {by_updates.label} needed fewest")
        if notes:
            sentence += " But " + " and ".join(notes) + "."
    elif not reached:
        sentence = f"No run reached loss {target_loss:g}: " + sentence  # a label keeps its own letters
    return sentence


class Comparison:
    """Several runs from the same initial weights on the same data, trained in interleaved chunks, with per-run
    kernel time.

    base: its initialisation gives every run's initial weights. configs: the runs (2 to 6). data: what every run
    trains on (XOR unless given).
    """

    def __init__(
        self, base: TrainConfig, configs: list[TrainConfig], labels: list[str] | None = None, data: Dataset | None = None
    ) -> None:
        if not MIN_RUNS <= len(configs) <= MAX_RUNS:
            raise ValueError(f"compare {MIN_RUNS} to {MAX_RUNS} runs, got {len(configs)}")
        for config in configs:
            moved = base.structural_change(config)
            if moved:
                raise ValueError(f"compared runs share the network and its initial weights; {', '.join(moved)} differ")
        self.base = base
        self.configs = list(configs)
        self.data = make_dataset() if data is None else data
        self.labels = labels or run_labels(configs, base, self.n_samples)
        initial = Trainer(base, data=self.data).initial_params
        self.trainers = [Trainer(c, data=self.data, initial_params=initial) for c in configs]
        self.reset()

    @property
    def n_samples(self) -> int:
        """Training points per epoch."""
        return self.data.n_train

    def reset(self) -> None:
        for trainer in self.trainers:
            trainer.reset()
        self._loss: list[list[np.ndarray]] = [[] for _ in self.trainers]
        self._metrics: list[list[np.ndarray]] = [[] for _ in self.trainers]
        self._seconds: list[list[np.ndarray]] = [[] for _ in self.trainers]
        self._clock = [0.0 for _ in self.trainers]

    def run(self, n_epochs: int, chunk: int = 5000) -> None:
        """Train every run `n_epochs` more epochs, interleaving chunks so machine load hits all alike."""
        warm_up()  # compile or load the kernels now, so that no run is charged for it
        done = 0
        while done < n_epochs:
            step = min(chunk, n_epochs - done)
            for i, (result, seconds) in enumerate(self.advance_chunks(step)):
                if len(result):
                    self._loss[i].append(result.loss)
                    self._metrics[i].append(result.metrics)
                    self._seconds[i].append(seconds)
            done += step

    def advance_chunks(self, n_epochs: int) -> list[tuple]:
        """Train every run `n_epochs` more epochs (one chunk each, in turn) without storing them.

        Returns per run: its `Chunk` (k epochs: loss, metrics, predictions) and the cumulative kernel seconds (k,)
        at the end of each epoch; k is smaller for a run that diverged.
        """
        out = []
        for i, trainer in enumerate(self.trainers):
            start = time.perf_counter()
            result = trainer.run(n_epochs)
            elapsed = time.perf_counter() - start
            k = len(result)
            seconds = self._clock[i] + elapsed * np.arange(1, k + 1) / max(k, 1)
            if k:
                self._clock[i] += elapsed
            out.append((result, seconds))
        return out

    def advance(self, n_epochs: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """`advance_chunks`, as per run: the new epochs' loss (k,), cumulative kernel seconds (k,) and recorded
        predictions (k, n_pred)."""
        return [(result.loss, seconds, result.predictions) for result, seconds in self.advance_chunks(n_epochs)]

    @property
    def epoch(self) -> int:
        """Epochs of the longest run (all runs advance together unless one diverged)."""
        return max(t.epoch for t in self.trainers)

    def loss(self, i: int) -> np.ndarray:
        return np.concatenate(self._loss[i]) if self._loss[i] else np.empty(0)

    def metrics(self, i: int) -> np.ndarray:
        """(n, 3) of run i: each epoch's test loss, train accuracy and test accuracy (`METRIC_COLUMNS` after the loss)."""
        return np.concatenate(self._metrics[i]) if self._metrics[i] else np.empty((0, len(METRIC_COLUMNS) - 1))

    def seconds(self, i: int) -> np.ndarray:
        """(n,) kernel seconds of run i up to the end of each epoch (shared out evenly within a chunk)."""
        return np.concatenate(self._seconds[i]) if self._seconds[i] else np.empty(0)

    def x_values(self, i: int, axis: str) -> np.ndarray:
        """(n,) the x coordinate of each of run i's epochs on `axis` (one of `X_AXES`), on this comparison's data."""
        epochs = np.arange(1, len(self.loss(i)) + 1)
        return x_values(axis, epochs, self.seconds(i), self.configs[i], self.n_samples)

    def summaries(self, target_loss: float = DEFAULT_TARGET_LOSS) -> list[RunSummary]:
        out = []
        train_acc = METRIC_COLUMNS.index("train_accuracy") - 1
        test_acc = METRIC_COLUMNS.index("test_accuracy") - 1
        for i, (label, t) in enumerate(zip(self.labels, self.trainers)):
            last = self._metrics[i][-1][-1] if self._metrics[i] else np.full(len(METRIC_COLUMNS) - 1, np.nan)
            final = {"final_train_accuracy": last[train_acc], "final_test_accuracy": last[test_acc]}
            predictions = t.predict(t.inputs)
            out.append(summarize(label, t.config, self.loss(i), self.seconds(i), predictions, target_loss, t.diverged,
                                 t.targets, **final))  # fmt: skip
        return out


__all__ = [
    "COMPARABLE_FIELDS",
    "MAX_RUNS",
    "MIN_RUNS",
    "MODES",
    "OPTIMIZERS",
    "X_AXES",
    "Comparison",
    "RunSummary",
    "describe_duplicates",
    "duplicate_runs",
    "next_run",
    "parse_run_spec",
    "run_label",
    "run_labels",
    "summarize",
    "training_key",
    "verdict",
]
