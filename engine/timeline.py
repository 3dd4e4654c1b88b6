"""Time travel over runs: `Timeline` gives any epoch's exact trainer state, `RunTree` branches runs from past epochs.

The engine is deterministic, so a run's past need not be stored: a `Timeline` keeps full trainer states
(checkpoints) every `every` epochs in bounded memory and recomputes any epoch from the nearest one with the same
kernels, bit for bit as a headless `Trainer` trained to that epoch. A run's training settings may change between
epochs (or between two samples of an epoch trained sample by sample): each change starts a `Segment`, and
recomputing crosses them as the run did.

Threads: a Timeline (and a RunTree) is used by one thread at a time (the window's worker owns it: it records after
each chunk and answers scrub requests with `state_at`). Results are copies: a `TrainerState` handed out shares no
array with the timeline.
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .config import TrainConfig
from .datasets import Dataset
from .history import History
from .network import Layout, initial_theta
from .trainer import MAX_CHUNK_EPOCHS, Trainer, TrainerState

DEFAULT_BUDGET = 64 * 2**20  # bytes of checkpoints per timeline (per tree for a RunTree)
WORK_PER_CHECKPOINT = 500_000  # points x parameters between two checkpoints: about 2 ms of training
MIN_CAPACITY = 4  # checkpoints, the start's included, whatever the budget
_FIRST_ROWS = 64  # checkpoint rows allocated at first; doubled up to the capacity
_RNG_WORDS = 6  # PCG64's state and increment (two 64-bit halves each), has_uint32, uinteger
_MASK = (1 << 64) - 1


class PastUnknownError(ValueError):
    """A run whose past cannot be recomputed: its file keeps only its last settings, and training from its initial
    weights with them does not reach its saved state (its settings changed during the run)."""


@dataclass(frozen=True)
class Segment:
    """Settings `config` train the run from epoch `epoch`'s end on, or, with `position` > 0, from the sample
    `position` of epoch ``epoch + 1`` on (a change in the middle of an epoch trained sample by sample)."""

    epoch: int
    position: int
    config: TrainConfig

    @property
    def key(self) -> tuple[int, int]:
        return (self.epoch, self.position)


def default_every(config: TrainConfig, data: Dataset) -> int:
    """Epochs between checkpoints at first: a power of two, about `WORK_PER_CHECKPOINT` points x parameters of
    training (an epoch trains the training points and evaluates the test points)."""
    n_params = Layout.from_sizes(config.layer_sizes).n_params
    work = max(1, (data.n_train + data.n_test) * n_params)
    return 1 << max(0, int(np.log2(max(1, WORK_PER_CHECKPOINT // work))))


SHORT_NAMES = {"learning_rate": "lr", "batch_size": "batch", "optimizer": "", "mode": "", "l2": "L2", "l1": "L1",
               "beta1": "β1", "beta2": "β2", "eps": "ε"}  # fmt: skip


def describe_change(old: TrainConfig, new: TrainConfig, epoch: int) -> str:
    """A branch's label: what differs, from where ("lr 0.5 from epoch 2,500")."""
    parts = []
    for field in dataclasses.fields(TrainConfig):
        a, b = getattr(old, field.name), getattr(new, field.name)
        if a != b:
            short = SHORT_NAMES.get(field.name, field.name)
            value = f"{b:g}" if isinstance(b, float) else str(b)
            parts.append(f"{short} {value}".strip())
    what = ", ".join(parts) if parts else "same settings"
    return f"{what} from epoch {epoch:,}"


def keeps_past(n_params: int, budget_bytes: int = DEFAULT_BUDGET) -> bool:
    """Whether a run of `n_params` parameters can keep its past: `MIN_CAPACITY` full checkpoints fit in the budget
    (about 700,000 parameters for 64 MB; a bigger network's past is not kept)."""
    return MIN_CAPACITY * checkpoint_bytes(n_params) <= budget_bytes


def checkpoint_bytes(n_params: int, parts: int = 3) -> int:
    """Bytes one checkpoint takes: theta, opt_m and opt_v (`parts` 1: theta only, while the optimizer state is all
    zeros, as plain SGD leaves it), epoch, updates and diverged, the shuffle generator."""
    return parts * n_params * 8 + 3 * 8 + _RNG_WORDS * 8


def _pack_rng(state: dict) -> np.ndarray:
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise ValueError("the shuffle generator's state is not a PCG64 state")
    s, inc = int(state["state"]["state"]), int(state["state"]["inc"])
    words = [s >> 64, s & _MASK, inc >> 64, inc & _MASK, int(state["has_uint32"]), int(state["uinteger"])]
    return np.array(words, dtype=np.uint64)


def _unpack_rng(words: np.ndarray) -> dict:
    w = [int(x) for x in words]
    return {"bit_generator": "PCG64", "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
            "has_uint32": w[4], "uinteger": w[5]}  # fmt: skip


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def same_state(a: TrainerState, b: TrainerState) -> bool:
    """Whether two trainer states are the same bit for bit (NaNs included), an epoch in progress too."""
    if (a.epoch, a.updates, a.diverged, a.rng_state) != (b.epoch, b.updates, b.diverged, b.rng_state):
        return False
    if not all(_same_bits(getattr(a, k), getattr(b, k)) for k in ("theta", "initial_theta", "opt_m", "opt_v")):
        return False
    if (a.partial is None) != (b.partial is None):
        return False
    if a.partial is None:
        return True
    pa, pb = a.partial, b.partial
    return (
        int(pa["position"]) == int(pb["position"])
        and np.float64(pa["loss_sum"]).tobytes() == np.float64(pb["loss_sum"]).tobytes()
        and np.array_equal(np.asarray(pa["order"], dtype=np.int64), np.asarray(pb["order"], dtype=np.int64))
        and _same_bits(np.asarray(pa["predictions"], dtype=np.float64), np.asarray(pb["predictions"], dtype=np.float64))
    )


def _check_epoch(epoch, first: int, last: int) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral):
        raise ValueError(f"the epoch must be a whole number, got {epoch!r}")
    if not first <= epoch <= last:
        raise ValueError(f"epoch {int(epoch):,} is outside this run: it has epochs {first:,} to {last:,}")
    return int(epoch)


class Scratch:
    """The trainer that recomputes pasts, made on first use. A tree's timelines share one (they are used by one thread
    at a time): `owner` is the timeline whose past it stands in, so that a request further ahead goes on from there."""

    def __init__(self, data: Dataset) -> None:
        self.data = data
        self.trainer: Trainer | None = None
        self.owner: Timeline | None = None

    def get(self, config: TrainConfig) -> Trainer:
        if self.trainer is None:
            self.trainer = Trainer(config, data=self.data)
        return self.trainer


class Timeline:
    """One run's exact past: checkpoints (full `TrainerState`s at epoch boundaries) every `every` epochs, in bounded
    memory (`budget_bytes`: when full, every other checkpoint is dropped and `every` doubles), plus the segments of
    settings, so that any epoch is recomputed exactly.

    config: the settings the run trains with from `start` on; data: its data; start: the state it starts from (at an
    epoch boundary; default the config's epoch 0). Record the training: `record(trainer)` after each chunk (chunks that
    end at `next_stop(epoch)` leave a checkpoint there), `set_config` when the settings change.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: Dataset,
        start: TrainerState | None = None,
        budget_bytes: int = DEFAULT_BUDGET,
        every: int | None = None,
        scratch: Scratch | None = None,
    ) -> None:
        self._data = data
        self._shared = Scratch(data) if scratch is None else scratch  # recomputes the past
        layout = Layout.from_sizes(config.layer_sizes)
        self._n = layout.n_params
        start = _epoch_zero(config, layout) if start is None else start
        _check_state(start, self._n)
        if start.partial is not None:
            raise ValueError("a timeline starts at an epoch boundary, not in the middle of an epoch")
        self._initial_theta = start.initial_theta.copy()
        self._initial_theta.flags.writeable = False
        self._segments = [Segment(int(start.epoch), 0, config)]
        self._every = int(every) if every is not None else default_every(config, data)
        if self._every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self._floats = np.empty((0, 1, self._n))  # theta; opt_m and opt_v too once one is not all zeros
        self._ints = np.empty((0, 3), dtype=np.int64)
        self._rng = np.empty((0, _RNG_WORDS), dtype=np.uint64)
        self._count = 0
        self._budget = 0
        self._capacity = MIN_CAPACITY
        self._store(start)
        self.set_budget(budget_bytes)
        self._head = _copy_state(start)
        self._known: bool | None = True  # False: the past is not recomputable; None: not checked yet

    @classmethod
    def unverified(
        cls, config: TrainConfig, data: Dataset, start: TrainerState, head: TrainerState, budget_bytes: int = DEFAULT_BUDGET
    ) -> Timeline:
        """The timeline of a run known only by its start, its last settings and its end state (a file that did not
        record its segments): its past is recomputed with `config` throughout and checked against `head` on first
        use (`verify`); when they differ, asking for the past raises `PastUnknownError`."""
        timeline = cls(config, data, start, budget_bytes)
        timeline._head = _copy_state(head)
        timeline._known = None
        return timeline

    # --- reading ---------------------------------------------------------------------------------------
    @property
    def _scratch(self) -> Trainer:
        return self._shared.get(self._segments[0].config)

    @property
    def first_epoch(self) -> int:
        """The epoch the run starts at (0, or the epoch it branched from)."""
        return int(self._ints[0, 0])

    @property
    def last_epoch(self) -> int:
        """The last whole epoch recorded (a run stepped sample by sample may be in the next one: see `head`)."""
        return int(self._head.epoch)

    @property
    def head(self) -> TrainerState:
        """The latest recorded state (a copy; it may be in the middle of an epoch)."""
        return _copy_state(self._head)

    @property
    def config(self) -> TrainConfig:
        """The settings in force at the run's end."""
        return self._segments[-1].config

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(self._segments)

    @property
    def data(self) -> Dataset:
        return self._data

    @property
    def every(self) -> int:
        """Epochs between checkpoints (a power of two times the first value)."""
        return self._every

    @property
    def nbytes(self) -> int:
        """Bytes the checkpoints take (allocated)."""
        return self._floats.nbytes + self._ints.nbytes + self._rng.nbytes

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @property
    def n_checkpoints(self) -> int:
        return self._count

    @property
    def checkpoint_epochs(self) -> np.ndarray:
        return self._ints[: self._count, 0].copy()

    @property
    def known(self) -> bool | None:
        """True when the past can be recomputed, False when it cannot (`PastUnknownError`), None when not checked yet."""
        return self._known

    def config_at(self, epoch: int) -> TrainConfig:
        """The settings that train the epoch after `epoch` (those in force at `epoch`'s end)."""
        config = self._segments[0].config
        for segment in self._segments:
            if segment.key <= (epoch, 0):
                config = segment.config
        return config

    def next_stop(self, epoch: int) -> int:
        """The next epoch after `epoch` at which a checkpoint is due: a chunk that ends there leaves one."""
        return (int(epoch) // self._every + 1) * self._every

    def state_at(self, epoch: int) -> TrainerState:
        """The state at `epoch`'s end, bit-identical to a headless `Trainer` trained to that epoch with the run's
        settings (theta, optimizer state, updates, shuffle generator, diverged). ValueError naming the valid range when
        `epoch` is outside the run; `PastUnknownError` when the past cannot be recomputed."""
        epoch = _check_epoch(epoch, self.first_epoch, self.last_epoch)
        if epoch == self._head.epoch and self._head.partial is None:
            return _copy_state(self._head)
        self.verify(raise_if_unknown=True)
        self._recompute(epoch)
        return self._scratch.state()

    def trainer_at(self, epoch: int) -> Trainer:
        """A new `Trainer` at `epoch`'s end with the settings in force there, ready to continue (or to branch)."""
        state = self.state_at(epoch)
        trainer = Trainer(self.config_at(epoch), data=self._data)
        trainer.restore(state)
        return trainer

    def rows(self, first: int, last: int) -> np.ndarray:
        """The history rows of epochs first..last (`Chunk.rows()`: loss, metrics, predictions), recomputed exactly."""
        first = _check_epoch(first, self.first_epoch + 1, self.last_epoch)
        last = _check_epoch(last, first, self.last_epoch)
        self.verify(raise_if_unknown=True)
        self._recompute(first - 1)
        parts = []
        for segment in self._segments_after(first - 1, last):
            parts += self._run_rows(segment.epoch - self._scratch.epoch)
            if segment.position:
                self._step(segment.position)  # the epoch in progress ends with the new settings
            self._scratch.set_config(segment.config)
        parts += self._run_rows(last - self._scratch.epoch)
        self._shared.owner = self
        width = 4 + self._scratch.n_predictions
        return np.concatenate(parts) if parts else np.empty((0, width))

    # --- checking a past that was not recorded --------------------------------------------------------
    def verify(self, raise_if_unknown: bool = False) -> bool:
        """Whether the run's past can be recomputed. For a timeline made by `unverified`, the first call trains the
        run again from its start (leaving checkpoints) and compares the end with the recorded state, bit for bit."""
        if self._known is None:
            head = self._head
            self._scratch.set_config(self._segments[0].config)
            self._restore(0)
            while self._scratch.epoch < head.epoch and not self._scratch.diverged:
                self._scratch.run(min(self.next_stop(self._scratch.epoch), head.epoch) - self._scratch.epoch)
                self._keep(self._scratch)
            if head.partial is not None and self._scratch.epoch == head.epoch and self._scratch.can_step_samples:
                self._step(int(head.partial["position"]))
            self._known = same_state(self._scratch.state(), head)
            if not self._known:  # drop what the wrong past left
                self._count = 1
            self._shared.owner = None
        if raise_if_unknown and not self._known:
            raise PastUnknownError(
                "the file does not record how its past was trained (its settings changed during the run), "
                "so earlier epochs cannot be recomputed"
            )
        return bool(self._known)

    # --- recording ------------------------------------------------------------------------------------
    def record(self, trainer: Trainer) -> None:
        """Note where `trainer` (training this run) is now: call after each chunk or sample step. Keeps a checkpoint
        when it stands at an epoch boundary that is a multiple of `every`."""
        if trainer.epoch < self._head.epoch or (trainer.epoch == self._head.epoch and trainer.sample_position < self._position()):
            raise ValueError(
                f"the trainer is at epoch {trainer.epoch:,}, before the timeline's end ({self._head.epoch:,}); truncate first"
            )
        if trainer.config != self.config:
            raise ValueError("the trainer's settings differ from the timeline's: call set_config when they change")
        if self._known is not True:
            raise ValueError("this run's past is not known: verify() it before recording more")
        self._keep(trainer)
        self._head = trainer.state()

    def _keep(self, trainer: Trainer) -> None:
        epoch = trainer.epoch
        if trainer.sample_position == 0 and epoch % self._every == 0 and epoch > self._ints[self._count - 1, 0]:
            self._store(trainer.state())

    def set_config(self, epoch: int, config: TrainConfig, position: int | None = None) -> None:
        """Settings `config` train the run from `epoch` on: the run's end (`last_epoch`; with `position`, the sample
        of the epoch in progress, default the head's). Only training settings may change (a new network or seed is a
        new run)."""
        if self._known is not True:
            raise ValueError("this run's past is not known: verify() it before changing its settings")
        position = self._position() if position is None else int(position)
        if (int(epoch), position) != (self._head.epoch, self._position()):
            raise ValueError(
                f"settings can change only at the run's end (epoch {self._head.epoch:,}, sample {self._position()}); "
                "truncate the run there first"
            )
        structural = self.config.structural_change(config)
        if structural:
            raise ValueError(f"{', '.join(structural)}: a new network or seed is a new run, not a change of settings")
        if config == self.config:
            return
        if self._segments[-1].key == (int(epoch), position):
            self._segments[-1] = Segment(int(epoch), position, config)
        else:
            self._segments.append(Segment(int(epoch), position, config))

    def truncate(self, epoch: int) -> None:
        """Drop everything after `epoch` ("continue from here"): its end state becomes the head."""
        epoch = _check_epoch(epoch, self.first_epoch, self.last_epoch)
        state = self.state_at(epoch)
        self._count = int(np.searchsorted(self._ints[: self._count, 0], epoch, side="right"))
        self._segments = [s for s in self._segments if s.key <= (epoch, 0)] or self._segments[:1]
        self._head = state
        self._shared.owner = None

    def set_budget(self, budget_bytes: int) -> None:
        """Keep the checkpoints within `budget_bytes` (at least `MIN_CAPACITY` of them): thinned when over."""
        self._budget = int(budget_bytes)
        self._capacity = max(MIN_CAPACITY, self._budget // checkpoint_bytes(self._n, self._floats.shape[1]))
        while self._count > self._capacity:
            self._thin()
        if len(self._floats) > self._capacity:
            self._resize(self._capacity)

    # --- checkpoints ------------------------------------------------------------------------------------
    def checkpoints(self, max_bytes: int | None = None) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """(every, floats (k, 3, n_params) theta, opt_m, opt_v (or (k, 1, n_params), theta, while those are zeros),
        ints (k, 3) epoch, updates, diverged, rng (k, 6)): copies, thinned (every doubling) to at most `max_bytes`;
        the first is always the start."""
        keep, every = np.arange(self._count), self._every
        epochs = self._ints[: self._count, 0]
        per = checkpoint_bytes(self._n, self._floats.shape[1])
        while max_bytes is not None and len(keep) > 1 and len(keep) * per > max_bytes:
            every *= 2
            keep = np.concatenate([[0], 1 + np.flatnonzero(epochs[1:] % every == 0)])
        return every, self._floats[keep].copy(), self._ints[keep].copy(), self._rng[keep].copy()

    @classmethod
    def from_checkpoints(
        cls,
        segments: list[Segment],
        data: Dataset,
        initial_theta: np.ndarray,
        every: int,
        floats: np.ndarray,
        ints: np.ndarray,
        rng: np.ndarray,
        head: TrainerState,
        budget_bytes: int = DEFAULT_BUDGET,
        known: bool | None = True,
        scratch: Scratch | None = None,
    ) -> Timeline:
        """Inverse of `checkpoints` (with the segments, the head and `known`); raises ValueError when the pieces do not
        fit. known None: the past is checked on first use (`unverified`); False: it cannot be recomputed."""
        n_ck = len(ints)
        shapes = (floats.shape[:2] if floats.ndim == 3 else None, ints.shape, rng.shape)
        if n_ck < 1 or shapes not in (((n_ck, 3), (n_ck, 3), (n_ck, _RNG_WORDS)), ((n_ck, 1), (n_ck, 3), (n_ck, _RNG_WORDS))):
            raise ValueError("the checkpoints' arrays do not match")
        epochs = ints[:, 0]
        if (np.diff(epochs) <= 0).any() or (epochs[1:] % every).any() or epochs[0] < 0 or epochs[-1] > head.epoch:
            raise ValueError("the checkpoints' epochs are not in order")
        if not segments or segments[0].key != (int(epochs[0]), 0) or any(b.key <= a.key for a, b in itertools.pairwise(segments)):
            raise ValueError("the settings' segments are not in order")
        if segments[-1].key > (head.epoch, 0 if head.partial is None else int(head.partial["position"])):
            raise ValueError("a segment begins after the run's end")
        start = _state_from(floats[0], ints[0], rng[0], initial_theta)
        timeline = cls(segments[0].config, data, start, budget_bytes, every, scratch)
        for segment in segments[1:]:
            if segment.config.structural_change(segments[0].config):
                raise ValueError("a segment changes the network or the seed")
        timeline._segments = list(segments)
        for i in range(1, n_ck):
            timeline._store(_state_from(floats[i], ints[i], rng[i], initial_theta))
        timeline._scratch.set_config(segments[-1].config)
        timeline._scratch.restore(head)  # checks the head fits
        timeline._head = _copy_state(head)
        timeline._shared.owner = None
        if known is not True:
            if len(segments) > 1:
                raise ValueError("a run whose past is not known has one segment of settings")
            timeline._known = None if known is None else False
            timeline._count = 1
        return timeline

    def _store(self, state: TrainerState) -> None:
        if self._floats.shape[1] == 1 and (state.opt_m.any() or state.opt_v.any()):
            self._widen()
        if self._count >= self._capacity:
            self._thin()
        if self._count and state.epoch % self._every:
            return  # off the grid, which thinning made coarser
        if self._count == len(self._floats):
            self._resize(min(self._capacity, max(_FIRST_ROWS, 2 * len(self._floats))))
        i = self._count
        self._floats[i, 0] = state.theta
        if self._floats.shape[1] == 3:
            self._floats[i, 1], self._floats[i, 2] = state.opt_m, state.opt_v
        self._ints[i] = (state.epoch, state.updates, int(state.diverged))
        self._rng[i] = _pack_rng(state.rng_state)
        self._count += 1

    def _thin(self) -> None:
        """Drop every other checkpoint (the start stays) and double `every`."""
        while self._count >= self._capacity:
            self._every *= 2
            epochs = self._ints[: self._count, 0]
            keep = np.concatenate([[0], 1 + np.flatnonzero(epochs[1:] % self._every == 0)])
            for store in (self._floats, self._ints, self._rng):
                store[: len(keep)] = store[keep]
            self._count = len(keep)

    def _widen(self) -> None:
        """Keep opt_m and opt_v from now on (the earlier checkpoints' are zeros); fewer checkpoints fit the budget."""
        wide = np.zeros((len(self._floats), 3, self._n))
        wide[:, 0] = self._floats[:, 0]
        self._floats = wide
        self.set_budget(self._budget)

    def _resize(self, rows: int) -> None:
        rows = max(rows, self._count)
        for name in ("_floats", "_ints", "_rng"):
            old = getattr(self, name)
            new = np.empty((rows, *old.shape[1:]), dtype=old.dtype)
            new[: self._count] = old[: self._count]
            setattr(self, name, new)

    # --- recomputing ------------------------------------------------------------------------------------
    def _position(self) -> int:
        return 0 if self._head.partial is None else int(self._head.partial["position"])

    def _restore(self, i: int) -> None:
        self._scratch.restore(_state_from(self._floats[i], self._ints[i], self._rng[i], self._initial_theta))

    def _segments_after(self, epoch: int, last: int) -> list[Segment]:
        """The changes of settings to apply going from `epoch`'s end to `last`'s end."""
        return [s for s in self._segments if (epoch, 0) < s.key and s.epoch < last]

    def _recompute(self, epoch: int) -> None:
        """Bring the scratch trainer to `epoch`'s end: from the nearest checkpoint, or from where it stands when nearer."""
        i = int(np.searchsorted(self._ints[: self._count, 0], epoch, side="right")) - 1
        here = self._scratch.epoch
        if not (self._shared.owner is self and self._ints[i, 0] <= here <= epoch):
            self._restore(i)
            here = int(self._ints[i, 0])
        self._scratch.set_config(self.config_at(here))
        for segment in self._segments_after(here, epoch):
            self._advance(segment.epoch)
            if segment.position:
                self._step(segment.position)
            self._scratch.set_config(segment.config)
        self._advance(epoch)
        self._shared.owner = self if self._scratch.epoch == epoch else None

    def _advance(self, epoch: int) -> None:
        while self._scratch.epoch < epoch and not self._scratch.diverged:
            self._scratch.run(min(epoch - self._scratch.epoch, MAX_CHUNK_EPOCHS))

    def _run_rows(self, n: int) -> list[np.ndarray]:
        parts = []
        while n > 0 and not self._scratch.diverged:
            chunk = self._scratch.run(min(n, MAX_CHUNK_EPOCHS))
            parts.append(chunk.rows())
            n -= max(len(chunk), 1)
        return parts

    def _step(self, position: int) -> None:
        while self._scratch.sample_position < position:
            self._scratch.step_sample()


def _epoch_zero(config: TrainConfig, layout: Layout) -> TrainerState:
    """A new run's state, as `Trainer.reset` makes it: the config's initial weights, a fresh optimizer and generator."""
    theta = initial_theta(config, layout)
    return TrainerState(theta=theta.copy(), initial_theta=theta, opt_m=np.zeros(layout.n_params),
                        opt_v=np.zeros(layout.n_params), updates=0, epoch=0, diverged=False,
                        rng_state=np.random.default_rng(config.seed).bit_generator.state)  # fmt: skip


def _check_state(state: TrainerState, n: int) -> None:
    """ValueError unless `state` fits a network of `n` parameters (as `Trainer.restore` checks it)."""
    for name in ("theta", "initial_theta", "opt_m", "opt_v"):
        arr = getattr(state, name)
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.shape != (n,):
            raise ValueError(f"{name} must be {n} float64 numbers for this network, got {getattr(arr, 'shape', None)}")
    try:
        _pack_rng(state.rng_state)
    except (KeyError, TypeError, ValueError):
        raise ValueError("the shuffle generator's state is not valid") from None


def _copy_state(state: TrainerState) -> TrainerState:
    partial = state.partial
    if partial is not None:
        partial = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in partial.items()}
    return replace(
        state, theta=state.theta.copy(), initial_theta=state.initial_theta.copy(), opt_m=state.opt_m.copy(),
        opt_v=state.opt_v.copy(), rng_state=_unpack_rng(_pack_rng(state.rng_state)), partial=partial,
    )  # fmt: skip


def _state_from(floats: np.ndarray, ints: np.ndarray, rng: np.ndarray, initial_theta: np.ndarray) -> TrainerState:
    opt_m, opt_v = (np.zeros_like(floats[0]), np.zeros_like(floats[0])) if len(floats) == 1 else (floats[1], floats[2])
    return TrainerState(
        theta=floats[0].copy(), initial_theta=initial_theta.copy(), opt_m=opt_m.copy(), opt_v=opt_v.copy(),
        updates=int(ints[1]), epoch=int(ints[0]), diverged=bool(ints[2]), rng_state=_unpack_rng(rng),
    )  # fmt: skip


def history_until(history: History, epoch: int, rows: Callable[[int, int], np.ndarray]) -> History:
    """A copy of `history` holding its first `epoch` epochs. `rows(first, last)` gives the exact rows of epochs
    first..last (`Timeline.rows`): past the exact part, the summary bucket that `epoch` cuts is rebuilt from them."""
    out = History(history.n_series, history.exact_limit, history.summary_capacity)
    if epoch <= history.n_exact:
        out.extend(history.exact()[:epoch])
        return out
    state = history.state()
    first = state["summary_first"]
    whole = int(np.searchsorted(first + state["bucket"] - 1, epoch, side="right"))  # buckets ending at or before epoch
    covered = history.n_exact + whole * state["bucket"]
    kept = {
        "exact": state["exact"], "summary_first": first[:whole], "summary_min": state["summary_min"][:whole],
        "summary_max": state["summary_max"][:whole], "n_epochs": covered, "bucket": state["bucket"],
        "fill": state["bucket"] if whole else 0, "exact_limit": history.exact_limit, "capacity": history.summary_capacity,
        "last": state["exact"][-1] if covered == history.n_exact else rows(covered, covered)[-1],
    }  # fmt: skip
    out = History.from_state(kept, n_series=history.n_series)
    if covered < epoch:
        out.extend(rows(covered + 1, epoch))
    return out


@dataclass(eq=False)
class Run:
    """One run of a `RunTree`: `timeline` (its past and its end, `timeline.head`) and `history` (its loss curve from
    epoch 1: a branch's first epochs are its parent's). parent: the id of the run it branched from (None for the root);
    branch_epoch: the epoch it starts from (0 for the root)."""

    id: int
    parent: int | None
    branch_epoch: int
    label: str
    timeline: Timeline
    history: History

    @property
    def config(self) -> TrainConfig:
        return self.timeline.config

    @property
    def state(self) -> TrainerState:
        return self.timeline.head

    @property
    def last_epoch(self) -> int:
        return self.timeline.last_epoch


class RunTree:
    """Runs branched from other runs' epochs, with new training settings. The root starts from `start` (default the
    config's epoch 0) with `history` (default empty); `current` is the run being shown and trained. The checkpoints of
    all runs share `budget_bytes`."""

    def __init__(
        self,
        config: TrainConfig,
        data: Dataset,
        start: TrainerState | None = None,
        history: History | None = None,
        label: str = "",
        budget_bytes: int = DEFAULT_BUDGET,
        timeline: Timeline | None = None,
    ) -> None:
        from .history import n_series_for

        self._data = data
        self._budget = int(budget_bytes)
        timeline = Timeline(config, data, start, budget_bytes) if timeline is None else timeline
        self._scratch = timeline._shared  # one trainer recomputes every run's past
        history = History(n_series=n_series_for(data)) if history is None else history
        self._runs: dict[int, Run] = {0: Run(0, None, timeline.first_epoch, label, timeline, history)}
        self._current = 0

    @classmethod
    def from_runs(cls, runs: list[Run], current: int, budget_bytes: int = DEFAULT_BUDGET) -> RunTree:
        """A tree of `runs` (the root first); raises ValueError when they do not form one."""
        if not runs or runs[0].parent is not None:
            raise ValueError("the first run must be the root")
        tree = cls.__new__(cls)
        tree._data, tree._budget, tree._runs = runs[0].timeline.data, int(budget_bytes), {}
        tree._scratch = runs[0].timeline._shared
        for run in runs:
            if run.id in tree._runs:
                raise ValueError(f"two runs have the id {run.id}")
            if run.parent is not None:
                parent = tree._runs.get(run.parent)
                if parent is None:
                    raise ValueError(f"run {run.id} branches from run {run.parent}, which comes later or does not exist")
                if not run.branch_epoch <= parent.last_epoch:
                    raise ValueError(f"run {run.id} branches from epoch {run.branch_epoch:,}, after its parent's end")
                if run.timeline.first_epoch != run.branch_epoch:
                    raise ValueError(f"run {run.id} starts at another epoch than it branches from")
            tree._runs[run.id] = run
            run.timeline._shared = tree._scratch
        if current not in tree._runs:
            raise ValueError(f"the current run {current} does not exist")
        tree._current = current
        tree._share_budget()
        return tree

    @property
    def data(self) -> Dataset:
        return self._data

    def runs(self) -> list[Run]:
        return list(self._runs.values())

    def run(self, run_id: int) -> Run:
        try:
            return self._runs[run_id]
        except KeyError:
            raise ValueError(f"there is no run {run_id!r}") from None

    def children(self, run_id: int) -> list[Run]:
        return [r for r in self._runs.values() if r.parent == run_id]

    @property
    def current(self) -> int:
        return self._current

    @current.setter
    def current(self, run_id: int) -> None:
        self._current = self.run(run_id).id

    @property
    def current_run(self) -> Run:
        return self._runs[self._current]

    @property
    def nbytes(self) -> int:
        return sum(r.timeline.nbytes for r in self._runs.values())

    def state_at(self, run_id: int, epoch: int) -> TrainerState:
        """The state at `epoch` on run `run_id`'s path (an epoch before it branched is its ancestors')."""
        run = self.run(run_id)
        _check_epoch(epoch, 0, run.last_epoch)
        while epoch < run.timeline.first_epoch and run.parent is not None:
            run = self._runs[run.parent]
        return run.timeline.state_at(epoch)

    def trainer_at(self, run_id: int, epoch: int) -> Trainer:
        """A new `Trainer` at `epoch` on run `run_id`'s path, with the settings in force there."""
        run = self.run(run_id)
        _check_epoch(epoch, 0, run.last_epoch)
        while epoch < run.timeline.first_epoch and run.parent is not None:
            run = self._runs[run.parent]
        return run.timeline.trainer_at(epoch)

    def truncate(self, run_id: int, epoch: int) -> None:
        """Drop run `run_id`'s epochs after `epoch` ("continue from here"): its timeline and its history. Refused when
        `epoch` is before the run began, or when a branch starts from one of the epochs dropped."""
        run = self.run(run_id)
        _check_epoch(epoch, run.timeline.first_epoch, run.last_epoch)
        later = [child.id for child in self.children(run_id) if child.branch_epoch > epoch]
        if later:
            runs = f"run{'s' if len(later) > 1 else ''} {', '.join(map(str, later))}"
            raise ValueError(f"{runs} branched from this run after epoch {epoch:,}, so its later epochs cannot be dropped: "
                             "branch from it instead")  # fmt: skip
        run.history = history_until(run.history, epoch, lambda first, last: self.rows(run_id, first, last))
        run.timeline.truncate(epoch)

    def rows(self, run_id: int, first: int, last: int) -> np.ndarray:
        """The history rows of epochs first..last on run `run_id`'s path, recomputed exactly (`Timeline.rows`)."""
        run = self.run(run_id)
        _check_epoch(last, 1, run.last_epoch)
        _check_epoch(first, 1, last)
        parts, hi = [], last
        while hi >= first:
            lo = max(first, run.timeline.first_epoch + 1)
            if lo <= hi:
                parts.insert(0, run.timeline.rows(lo, hi))
            hi = min(hi, lo - 1)  # (a run branched below its parent's own branch point skips the parent's part)
            if run.parent is None:
                break
            run = self._runs[run.parent]
        return np.concatenate(parts)

    def branch(self, run_id: int, epoch: int, config: TrainConfig, label: str = "") -> int:
        """A new run from run `run_id`'s exact state at `epoch`, trained on with `config` (training settings only):
        bit-identical to a `Trainer` restored at that state with ``set_config(config)``. Returns its id."""
        parent = self.run(run_id)
        structural = parent.config.structural_change(config)
        if structural:
            raise ValueError(f"{', '.join(structural)}: a branch keeps the network and the seed; change training settings")
        state = self.state_at(run_id, epoch)
        timeline = Timeline(config, self._data, state, self._budget, scratch=self._scratch)
        history = history_until(parent.history, epoch, lambda first, last: self.rows(run_id, first, last))
        new_id = max(self._runs) + 1
        self._runs[new_id] = Run(new_id, parent.id, int(epoch), label or f"branch {new_id}", timeline, history)
        self._share_budget()
        return new_id

    def _share_budget(self) -> None:
        share = self._budget // len(self._runs)
        for run in self._runs.values():
            if run.timeline.budget_bytes != share:
                run.timeline.set_budget(share)
