"""What a run is doing, in plain words: diverged, saturated units, dead ReLUs, plateau, oscillation, solved.

`diagnose` looks at a run's current weights and its per-epoch loss (history rows) and names what it finds, each as
a `Diagnosis` with the epoch where it began (for the window's timeline), a title with the units' names, what it means
and what to try. The thresholds (README, "Why is it stuck?"):

- diverged: the first non-finite loss (nothing else is said then: the weights are no longer numbers);
- saturated: a sigmoid or tanh hidden unit within `SATURATION_MARGIN` of its bounds on every training point; or the
  output unit (a sigmoid) within it of 0 or 1 on every training point of a run that is not solved;
- dead ReLU: a relu hidden unit that is 0 on every training point;
- plateau: the loss moved less than `PLATEAU_CHANGE` (1 %) over the last 10 % of the epochs (from the epoch at 90 %,
  as the sweep checks it) while not solved and not oscillating, after at least `PLATEAU_MIN_EPOCHS` epochs;
- oscillation: the loss rose in more than a third (`OSCILLATION_SHARE`) of the last `OSCILLATION_EPOCHS` epochs (a
  rise smaller than `RISE_TOLERANCE` of the loss is a standstill's jitter and does not count);
- solved: the sweep's rule (`engine.sweep`): on data that records every output (XOR) every output within
  `SOLVED_MARGIN` (0.4) of its target; on other data a test accuracy (the train accuracy without a test set) of at
  least `DEFAULT_TARGET_ACCURACY` (95 %).

Where each began: from the loss curve for diverged, plateau, oscillation and solved (exact when every epoch's row is
given; otherwise the earliest given epoch that shows it); for saturated and dead units, from the past weights when the
caller passes `state_at` (epoch -> weights: the window passes its timeline's), found by bisection; else the current
epoch. Every call is cheap (one forward pass over the data per weights looked at) and returns immutable results, so
that the window can call it from its training thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .compare import SOLVED_MARGIN, is_solved
from .config import TrainConfig
from .datasets import Dataset
from .network import Layout
from .sweep import DEFAULT_TARGET_ACCURACY, PLATEAU_CHANGE
from .trainer import METRIC_COLUMNS, Trainer

DIAGNOSIS_KINDS = ("diverged", "saturated", "dead ReLU", "plateau", "oscillation", "solved")  # the CLI's and window's words
SATURATION_MARGIN = 1e-3  # a sigmoid/tanh unit this close to its bounds on every training point is saturated
OSCILLATION_EPOCHS = 100  # the last epochs looked at for oscillation
OSCILLATION_SHARE = 1 / 3  # oscillation: the loss rose in more than this share of them
RISE_TOLERANCE = 1e-6  # a rise smaller than this, relative to the loss, is a standstill's jitter, not a rise
PLATEAU_MIN_EPOCHS = 100  # no plateau is called before this many epochs
PLATEAU_SHARE = 0.9  # the plateau is checked from the epoch at 90 % of the run (the sweep's check epoch)
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}  # the saturating activations' bounds

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_LOSS, _TRAIN_ACCURACY, _TEST_ACCURACY = (METRIC_COLUMNS.index(c) for c in ("loss", "train_accuracy", "test_accuracy"))


@dataclass(frozen=True)
class Diagnosis:
    """One thing the run is doing. kind: one of `DIAGNOSIS_KINDS`; epoch: where it began; title: plain words with the
    units' names; explanation: what it means; advice: what to try; units: the units' names ("h₂ of layer 1")."""

    kind: str
    epoch: int
    title: str
    explanation: str
    advice: str
    units: tuple[str, ...] = ()

    def line(self) -> str:
        """The command line's line: 'Diagnosis: plateau at epoch 1234: <title>. <advice>'."""
        return f"Diagnosis: {self.kind} at epoch {self.epoch}: {self.title}. {self.advice}"

    def to_dict(self) -> dict:
        """For ``train --json``: kind, epoch, title, explanation, advice, units."""
        return {"kind": self.kind, "epoch": self.epoch, "title": self.title, "explanation": self.explanation,
                "advice": self.advice, "units": list(self.units)}  # fmt: skip


def unit_name(layer: int, unit: int) -> str:
    """A hidden unit's name in plain words (the output unit is "ŷ"): layer and unit counted from 1, 'h₂ of layer 1'."""
    return f"h{str(unit).translate(_SUBSCRIPT)} of layer {layer}"


def _units_words(units: list[tuple[int, int]]) -> str:
    """'h₁ and h₂ of layer 1', 'h₁ of layer 1 and h₃ of layer 2', 'h₁, h₂, h₃ and 5 more of layer 1'."""
    by_layer: dict[int, list[int]] = {}
    for layer, unit in units:
        by_layer.setdefault(layer, []).append(unit)
    parts = []
    for layer, members in by_layer.items():
        names = [f"h{str(u).translate(_SUBSCRIPT)}" for u in members]
        if len(names) > 4:
            names = [*names[:3], f"{len(names) - 3} more"]
        parts.append(f"{_and(names)} of layer {layer}")
    return _and(parts)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _column(metrics: np.ndarray | None, index: int) -> np.ndarray | None:
    """Column `index` of history rows (METRIC_COLUMNS numbering) from `metrics` = the rows without their loss column."""
    if metrics is None or metrics.ndim != 2 or metrics.shape[1] < index:
        return None
    return metrics[:, index - 1]


class _Probe:
    """Forward passes of one network on one dataset's training points, at any weights."""

    def __init__(self, config: TrainConfig, data: Dataset) -> None:
        self.config, self.data = config, data
        self.layout = Layout.from_sizes(config.layer_sizes)
        self.hidden = [(layer, unit) for layer, size in enumerate(config.hidden, start=1) for unit in range(1, size + 1)]

    def trainer(self, theta: np.ndarray) -> Trainer:
        return Trainer(self.config, data=self.data, initial_params=self.layout.copies(np.asarray(theta, dtype=np.float64)))

    def hidden_activations(self, theta: np.ndarray) -> np.ndarray:
        """(n_train, n_hidden_units) at `theta`."""
        trainer = self.trainer(theta)
        return trainer.activations(trainer.inputs, units=len(self.hidden))

    def output_saturated(self, theta: np.ndarray) -> bool:
        """The output unit (a sigmoid) within `SATURATION_MARGIN` of 0 or 1 on every training point."""
        trainer = self.trainer(theta)
        y_hat = trainer.predict(trainer.inputs)
        return bool(np.all(np.minimum(y_hat, 1.0 - y_hat) < SATURATION_MARGIN))

    def stuck(self, kind: str, acts: np.ndarray) -> np.ndarray:
        """(n_hidden,) bool: each hidden unit is saturated (kind 'saturated') or dead (kind 'dead ReLU')."""
        if kind == "dead ReLU":
            return np.all(acts <= 0.0, axis=0)
        low, high = BOUNDS[self.config.activation]
        return np.all(np.minimum(acts - low, high - acts) < SATURATION_MARGIN, axis=0)


def _onsets(stuck: Callable[[np.ndarray], np.ndarray], flagged: np.ndarray, epoch: int,
            state_at: Callable[[int], np.ndarray] | None) -> dict[int, int]:  # fmt: skip
    """For each flagged unit (indices into what `stuck(theta)` answers), the first epoch from which it is stuck, by
    bisection over `state_at` (assuming that a unit stays stuck once it is); the current epoch without `state_at`."""
    if state_at is None or epoch <= 0:
        return {int(i): epoch for i in flagged}
    cache: dict[int, np.ndarray] = {}

    def stuck_at(e: int) -> np.ndarray:
        if e not in cache:
            cache[e] = stuck(np.asarray(state_at(e), dtype=np.float64))
        return cache[e]

    onsets = {}
    for i in flagged:
        lo, hi = -1, epoch  # stuck at hi, not at lo (epoch -1: before the start)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if stuck_at(mid)[i]:
                hi = mid
            else:
                lo = mid
        onsets[int(i)] = hi
    return onsets


def _unit_diagnoses(probe: _Probe, theta: np.ndarray, epoch: int, state_at) -> list[Diagnosis]:
    activation = probe.config.activation
    kind = "dead ReLU" if activation == "relu" else "saturated" if activation in BOUNDS else None
    if kind is None or not probe.hidden:
        return []

    def stuck(weights: np.ndarray) -> np.ndarray:
        return probe.stuck(kind, probe.hidden_activations(weights))

    flagged = np.flatnonzero(stuck(theta))
    if not len(flagged):
        return []
    onsets = _onsets(stuck, flagged, epoch, state_at)
    out = []
    for began in sorted(set(onsets.values())):
        units = [probe.hidden[i] for i in flagged if onsets[int(i)] == began]
        words, many = _units_words(units), len(units) > 1
        unit = "Hidden units" if many else "Hidden unit"
        if kind == "dead ReLU":
            title = f"{unit} {words} {'are dead ReLUs' if many else 'is a dead ReLU'}"
            explanation = (f"{'They output' if many else 'It outputs'} 0 on every training point: the input to "
                           f"{'each' if many else 'it'} is negative everywhere, so no gradient flows through "
                           f"{'them' if many else 'it'} and {'they' if many else 'it'} can never come back.")  # fmt: skip
            advice = "Try a smaller learning rate, the he initialisation or another seed; or tanh instead of relu"
        else:
            low, high = BOUNDS[activation]
            explanation = (f"{'Their outputs are' if many else 'Its output is'} within {SATURATION_MARGIN:g} of the "
                           f"{activation}'s bounds ({low:g} or {high:g}) on every training point, where its slope is "
                           f"almost 0: the gradient vanishes and {'they have' if many else 'it has'} stopped "
                           "learning.")  # fmt: skip
            title = f"{unit} {words} {'are' if many else 'is'} saturated"
            advice = "Try a smaller learning rate, or another initialisation (xavier starts with smaller weights)"
        out.append(Diagnosis(kind, int(began), title, explanation, advice, tuple(unit_name(*u) for u in units)))
    return out


def _solved_now(probe: _Probe, theta: np.ndarray, target_accuracy: float) -> tuple[bool, str]:
    """(solved at `theta`, how in words) by the sweep's rule."""
    trainer = probe.trainer(theta)
    data = probe.data
    if data.records_predictions:
        ok = bool(is_solved(trainer.predict(trainer.inputs), trainer.targets))
        return ok, f"every output is within {SOLVED_MARGIN:g} of its target"
    final = trainer.evaluate()
    which = "test" if data.n_test else "train"
    accuracy = final[f"{which}_accuracy"]
    return bool(accuracy >= target_accuracy), f"the {which} accuracy is {accuracy:.1%} (at least {target_accuracy:.0%})"


def _solved_rows(data: Dataset, metrics: np.ndarray | None, target_accuracy: float) -> np.ndarray | None:
    """Per given row: solved by the sweep's rule (recorded outputs for XOR, the accuracy column otherwise), or None."""
    if metrics is None or metrics.ndim != 2:
        return None
    if data.records_predictions:
        first = len(METRIC_COLUMNS) - 1
        if metrics.shape[1] < first + data.n_train:
            return None
        return is_solved(metrics[:, first : first + data.n_train], np.asarray(data.train_targets))
    column = _column(metrics, _TEST_ACCURACY if data.n_test else _TRAIN_ACCURACY)
    return None if column is None else column >= target_accuracy


def _solved_since(data: Dataset, metrics: np.ndarray | None, epochs: np.ndarray, current: int, target_accuracy: float) -> int:
    """The first epoch of the last stretch of solved rows that reaches the end (`current` when the last row is not
    solved, or the rows cannot say), looked at backwards in growing blocks: a long solved run costs little."""
    end, block, begin = len(epochs), 1024, None
    while end > 0:
        lo = max(0, end - block)
        flags = _solved_rows(data, None if metrics is None else metrics[lo:end], target_accuracy)
        if flags is None or (end == len(epochs) and not flags[-1]):
            return current
        unsolved = np.flatnonzero(~flags)
        if len(unsolved):
            return int(epochs[lo + unsolved[-1] + 1])
        begin, end, block = lo, lo, block * 2
    return current if begin is None else int(epochs[begin])


def diagnose(
    config: TrainConfig,
    data: Dataset,
    theta: np.ndarray,
    loss: np.ndarray,
    epochs: np.ndarray | None = None,
    metrics: np.ndarray | None = None,
    state_at: Callable[[int], np.ndarray] | None = None,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
) -> list[Diagnosis]:
    """What the run is doing now, in the order of `DIAGNOSIS_KINDS` (then by epoch); empty when nothing is wrong yet.

    theta: the current weights (the run's state after its last epoch). loss: per-epoch training loss; epochs: their
    epoch numbers, increasing (default 1 .. len(loss)); they may skip epochs (a long run's first exact rows, the epoch
    at 90 % and its last ones), the current epoch being the last. metrics: the same rows' other history columns
    (``rows[:, 1:]``: test loss, train and test accuracy, then the recorded outputs), for when it was solved.
    state_at: epoch -> weights of that epoch, to find where stuck units began (bisection: a few calls).
    """
    loss = np.asarray(loss, dtype=np.float64).reshape(-1)
    epochs = np.arange(1, len(loss) + 1) if epochs is None else np.asarray(epochs, dtype=np.int64).reshape(-1)
    if len(epochs) != len(loss):
        raise ValueError(f"{len(loss)} losses but {len(epochs)} epochs")
    metrics = None if metrics is None else np.asarray(metrics, dtype=np.float64)
    if metrics is not None and len(metrics) != len(loss):
        raise ValueError(f"{len(loss)} losses but {len(metrics)} rows of metrics")
    theta = np.asarray(theta, dtype=np.float64)
    current = int(epochs[-1]) if len(epochs) else 0
    lr = config.learning_rate
    bad = np.flatnonzero(~np.isfinite(loss))
    if len(bad) or not np.all(np.isfinite(theta)):
        at = int(epochs[bad[0]]) if len(bad) else current
        last = max(0, at - 1)
        return [Diagnosis(
            "diverged", at, f"The loss stopped being finite at epoch {at}",
            "The weights grew too fast and the loss overflowed to infinity or NaN (not a number): nothing trains from "
            "here.", f"Rewind to the last finite epoch ({last}) and branch with a smaller learning rate than {lr:g}",
        )]  # fmt: skip
    probe = _Probe(config, data)
    found = _unit_diagnoses(probe, theta, current, state_at)
    solved, how = _solved_now(probe, theta, target_accuracy)
    if not solved and probe.output_saturated(theta):
        began = _onsets(lambda w: np.array([probe.output_saturated(w)]), np.array([0]), current, state_at)[0]
        found.append(Diagnosis(
            "saturated", began, "The output ŷ is saturated",
            f"It is within {SATURATION_MARGIN:g} of 0 or 1 on every training point without solving the task: its "
            "sigmoid is flat there, so almost no gradient reaches the weights and learning has stalled.",
            f"Try a smaller learning rate than {lr:g}, or another initialisation or seed", ("ŷ",),
        ))  # fmt: skip
    oscillating = _oscillation(loss, epochs, lr)
    if not solved and not oscillating and current >= PLATEAU_MIN_EPOCHS and len(loss):
        found += _plateau(loss, epochs, current)
    found += oscillating
    if solved:
        began = _solved_since(data, metrics, epochs, current, target_accuracy)
        found.append(Diagnosis(
            "solved", began, f"Solved: {how}",
            "The network puts every training point on the right side of 0.5." if data.records_predictions else
            "The network classifies the points well enough to count as solved.",
            "Train on to lower the loss further, or make it harder: fewer hidden units, noisier data, another dataset",
        ))  # fmt: skip
    order = {kind: i for i, kind in enumerate(DIAGNOSIS_KINDS)}
    return sorted(found, key=lambda d: (order[d.kind], d.epoch))


def check_epoch(epochs: int) -> int:
    """The epoch whose loss the plateau test compares with the last: at 90 % of the run (the sweep's check epoch)."""
    return max(1, (int(epochs) * 9) // 10)


def _plateau(loss: np.ndarray, epochs: np.ndarray, current: int) -> list[Diagnosis]:
    at = int(np.searchsorted(epochs, check_epoch(current)))
    if at >= len(epochs) or epochs[at] != check_epoch(current):
        return []  # the loss at 90 % is not known
    before, final = float(loss[at]), float(loss[-1])
    if not abs(before - final) <= PLATEAU_CHANGE * abs(before):
        return []
    moved = np.abs(loss - final) > PLATEAU_CHANGE * np.abs(loss)
    began = int(epochs[np.flatnonzero(moved)[-1] + 1]) if moved.any() else int(epochs[0])
    return [Diagnosis(
        "plateau", began, f"The loss has stayed near {final:.4g} without solving the task",
        f"It moved less than {PLATEAU_CHANGE:.0%} over the last 10% of the epochs: the run sits on a plateau or in a "
        "local minimum (on XOR, 0.25 is the saddle where every output is 0.5, and about 0.13 the local minimum "
        "where two outputs stay near 0.5).",
        "Try another seed or initialisation, a larger learning rate, momentum or adam, or more hidden units",
    )]  # fmt: skip


def _oscillation(loss: np.ndarray, epochs: np.ndarray, lr: float) -> list[Diagnosis]:
    n = OSCILLATION_EPOCHS
    if len(loss) < n + 1 or epochs[-1] - epochs[-n - 1] != n:
        return []  # the last epochs are not all known
    gaps = np.flatnonzero(np.diff(epochs) != 1)
    tail_start = int(gaps[-1]) + 1 if len(gaps) else 0  # the last run of consecutive epochs starts here
    rises = loss[tail_start + 1 :] > loss[tail_start:-1] * (1 + RISE_TOLERANCE)  # rises[i]: epoch tail_start + 1 + i rose
    count = int(rises[-n:].sum())
    if count <= OSCILLATION_SHARE * n:
        return []
    counts = np.concatenate([[0], np.cumsum(rises)])
    window = counts[n:] - counts[:-n]  # rises in each window of n epochs, by the window's first epoch
    ok = window > OSCILLATION_SHARE * n
    first_window = np.flatnonzero(~ok)[-1] + 1 if (~ok).any() else 0  # the windows from here to the end all oscillate
    began = int(epochs[tail_start + 1 + first_window])
    return [Diagnosis(
        "oscillation", began, f"The loss rose in {count} of the last {n} epochs",
        "The loss goes up about as often as it goes down: the steps overshoot the valley (or, with small shuffled "
        "batches, each step's noise is as large as its progress).",
        f"Try a smaller learning rate than {lr:g}, less momentum, or larger batches",
    )]  # fmt: skip


class RecentRows:
    """What `diagnose` needs of a long run's history rows, in bounded memory: the last `keep` rows fed, plus the rows
    of the epochs asked for (`also`: the epoch at 90 % of a run whose length is known). Feed every chunk's rows in
    order with `extend`; `rows_of(epochs)` gives back those kept."""

    def __init__(self, also: tuple[int, ...] = (), keep: int = OSCILLATION_EPOCHS + 1) -> None:
        self.also = frozenset(int(e) for e in also)
        self.keep = int(keep)
        self.saved: dict[int, np.ndarray] = {}
        self.tail_first = 1  # the epoch of the tail's first row
        self.tail: np.ndarray | None = None

    def extend(self, first_epoch: int, rows: np.ndarray) -> None:
        rows = np.asarray(rows)
        if not len(rows):
            return
        last = first_epoch + len(rows) - 1
        for epoch in self.also:
            if first_epoch <= epoch <= last:
                self.saved[epoch] = rows[epoch - first_epoch].copy()
        if len(rows) >= self.keep or self.tail is None or self.tail_first + len(self.tail) != first_epoch:
            joined, start = rows, first_epoch  # (a long chunk alone fills the tail: nothing of it is copied but that)
        else:
            joined, start = np.concatenate([self.tail, rows]), self.tail_first
        cut = max(0, len(joined) - self.keep)
        self.tail, self.tail_first = joined[cut:].copy(), start + cut

    def epochs(self) -> np.ndarray:
        """The epochs whose rows are kept, increasing."""
        tail = range(self.tail_first, self.tail_first + (0 if self.tail is None else len(self.tail)))
        return np.array(sorted(set(self.saved) | set(tail)), dtype=np.int64)

    def rows_of(self, epochs: np.ndarray) -> np.ndarray:
        out = []
        for epoch in np.asarray(epochs).tolist():
            if self.tail is not None and self.tail_first <= epoch < self.tail_first + len(self.tail):
                out.append(self.tail[epoch - self.tail_first])
            elif epoch in self.saved:
                out.append(self.saved[epoch])
            else:
                raise ValueError(f"epoch {epoch}'s row is not kept")
        return np.array(out)


def history_rows(history, epoch: int | None = None, recent: RecentRows | None = None,
                 rows: Callable[[int, int], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(epochs, rows) for `diagnose` from an `engine.history.History` of a run at `epoch` (default its last): its
    exact rows up to `epoch`, and, past its exact part, the epoch at 90 % and the last `OSCILLATION_EPOCHS` + 1 from
    `recent` (fed during training) or `rows(first, last)` (a timeline's exact rows, recomputed)."""
    n = history.n_epochs if epoch is None else int(epoch)
    exact = history.exact()[: min(n, history.n_exact)]
    epochs = np.arange(1, len(exact) + 1, dtype=np.int64)
    if n <= len(exact):
        return epochs, exact
    wanted = {check_epoch(n), *range(max(len(exact) + 1, n - OSCILLATION_EPOCHS), n + 1)}
    wanted = np.array(sorted(e for e in wanted if e > len(exact)), dtype=np.int64)
    if rows is not None:
        extra = np.array([rows(int(e), int(e))[-1] for e in wanted]) if len(wanted) < 8 else None
        if extra is None:  # the tail in one call, the epoch at 90 % in another
            tail = wanted[wanted >= n - OSCILLATION_EPOCHS]
            head = wanted[wanted < n - OSCILLATION_EPOCHS]
            parts = [rows(int(e), int(e)) for e in head] + [rows(int(tail[0]), int(tail[-1]))]
            extra = np.concatenate(parts)
    elif recent is not None:
        wanted = np.array([e for e in wanted if e in set(recent.epochs().tolist())], dtype=np.int64)
        extra = recent.rows_of(wanted)
    else:
        wanted, extra = np.array([n], dtype=np.int64), np.asarray(history.last).reshape(1, -1)
    if not len(wanted):
        return epochs, exact
    return np.concatenate([epochs, wanted]), np.concatenate([exact.reshape(-1, extra.shape[1]), extra])


def diagnose_rows(config: TrainConfig, data: Dataset, theta: np.ndarray, epochs: np.ndarray, rows: np.ndarray,
                  state_at: Callable[[int], np.ndarray] | None = None) -> list[Diagnosis]:  # fmt: skip
    """`diagnose` on history rows (n, n_series) of the given epochs: loss is their first column, metrics the rest."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2:
        rows = rows.reshape(len(epochs), -1) if rows.size else np.empty((len(epochs), 1))
    return diagnose(config, data, theta, rows[:, _LOSS], epochs, rows[:, _LOSS + 1 :], state_at=state_at)
