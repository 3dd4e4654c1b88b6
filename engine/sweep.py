"""Many-seed sweeps: "why does my XOR run sometimes get stuck?"

Every (config, seed) run trains for the same number of epochs on all cores (a Numba ``parallel=True``
kernel over runs, GIL released). Each run gives exactly what ``Trainer(config with that seed).run(epochs)``
gives. A run is *solved* from the first epoch whose four recorded outputs are all within 0.4 of their
targets; its final state is classified as solved, stuck at 0.5 (every output within 0.1 of 0.5, the
symmetric saddle), a local minimum (a plateau: the loss moved less than 1% over the last 10% of the
epochs), still learning, or diverged.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .codes import ACTIVATION_CODES, LOSS_CODES, OPTIMIZER_CODES
from .compare import SOLVED_MARGIN
from .config import MAX_SEED, TrainConfig
from .network import Layout, initial_theta
from .trainer import XOR_INPUTS, XOR_TARGETS, kernels

MAX_RUNS = 1_000_000
STUCK_MARGIN = 0.1  # final outputs all within 0.1 of 0.5: stuck at the saddle
BATCH_RUNS = 64  # runs per kernel call: the unit of progress and of cancelling
EPOCH_CHUNK = 1000  # epochs per inner kernel call (a run's buffers hold this many epochs)
PLATEAU_CHANGE = 0.01  # relative loss change over the last 10% of epochs below which a run sits on a plateau
OUTCOMES = ("solved", "stuck at 0.5", "local minimum", "still learning", "diverged")


@dataclass(frozen=True)
class SweepSpec:
    """base: every other setting. seeds: the seeds (0 .. 2**32 - 1). learning_rates, hidden (one hidden layer's
    width) and optimizers: the values to cross. epochs: per run."""

    base: TrainConfig
    seeds: tuple[int, ...]
    learning_rates: tuple[float, ...]
    hidden: tuple[int, ...]
    optimizers: tuple[str, ...]
    epochs: int

    def __post_init__(self) -> None:
        if not self.seeds or any(not 0 <= s <= MAX_SEED for s in self.seeds):
            raise ValueError(f"seeds must be integers from 0 to {MAX_SEED}, at least one")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.base.shuffle and self.base.mode != "batch":
            raise ValueError("a sweep cannot shuffle (each run's order would need its own generator); drop --shuffle")
        if self.n_runs > MAX_RUNS:
            raise ValueError(f"{self.n_runs:,} runs is more than a sweep takes ({MAX_RUNS:,})")
        for config in self.configs():  # validates every combination
            del config

    def configs(self) -> list[TrainConfig]:
        """One config per (learning rate, hidden width, optimizer), seed left at the base's."""
        return [
            self.base.replace(learning_rate=lr, hidden=(h,), optimizer=opt)
            for lr, h, opt in itertools.product(self.learning_rates, self.hidden, self.optimizers)
        ]

    @property
    def n_runs(self) -> int:
        return len(self.seeds) * len(self.learning_rates) * len(self.hidden) * len(self.optimizers)


@dataclass(frozen=True)
class SweepResult:
    """One row per run, in the order configs x seeds. epochs_to_solve is 0 where never solved."""

    spec: SweepSpec
    seed: np.ndarray
    learning_rate: np.ndarray
    hidden: np.ndarray
    optimizer: np.ndarray
    solved: np.ndarray
    epochs_to_solve: np.ndarray
    final_loss: np.ndarray
    final_predictions: np.ndarray
    outcome: np.ndarray
    seconds: float
    complete: bool

    def __len__(self) -> int:
        return len(self.seed)

    def config_of(self, row: int) -> TrainConfig:
        """The config (with its seed) that replays run `row`."""
        return self.spec.base.replace(
            learning_rate=float(self.learning_rate[row]), hidden=(int(self.hidden[row]),),
            optimizer=str(self.optimizer[row]), seed=int(self.seed[row]),
        )  # fmt: skip

    def groups(self) -> list[tuple[TrainConfig, np.ndarray]]:
        """(config, row indices) for each swept config that has rows."""
        out = []
        for config in self.spec.configs():
            rows = np.flatnonzero(
                (self.learning_rate == config.learning_rate) & (self.hidden == config.hidden[0])
                & (self.optimizer == config.optimizer)
            )  # fmt: skip
            if len(rows):
                out.append((config, rows))
        return out


def classify(final_loss: np.ndarray, final_predictions: np.ndarray, solved: np.ndarray, check_loss: np.ndarray) -> np.ndarray:
    """One of `OUTCOMES` per run, from its final recorded outputs and the loss at 90% of its epochs."""
    outcome = np.full(len(final_loss), "still learning", dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        plateau = np.abs(check_loss - final_loss) <= PLATEAU_CHANGE * np.abs(check_loss)
    outcome[plateau] = "local minimum"
    stuck = np.all(np.abs(final_predictions - 0.5) < STUCK_MARGIN, axis=1)
    outcome[stuck] = "stuck at 0.5"
    outcome[solved] = "solved"
    outcome[~np.isfinite(final_loss)] = "diverged"
    return outcome


def run_sweep(
    spec: SweepSpec,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> SweepResult:
    """Train every run of `spec`, BATCH_RUNS at a time on all cores.

    progress(done, total) is called after each batch; when cancelled() turns true the sweep stops after
    the batch in flight and returns the runs done so far (complete=False).
    """
    K = kernels()
    start = time.perf_counter()
    rows: list[tuple] = []
    total = spec.n_runs
    done = 0
    stop = False
    for config in spec.configs():
        layout = Layout.from_sizes(config.layer_sizes)
        coef = np.array([config.momentum, config.beta1, config.beta2, config.eps])
        for lo in range(0, len(spec.seeds), BATCH_RUNS):
            if cancelled is not None and cancelled():
                stop = True
                break
            seeds = spec.seeds[lo : lo + BATCH_RUNS]
            thetas = np.stack([initial_theta(config.replace(seed=s), layout) for s in seeds])
            final_loss = np.empty(len(seeds))
            solved_epoch = np.zeros(len(seeds), dtype=np.int64)
            final_preds = np.full((len(seeds), len(XOR_TARGETS)), np.nan)
            check_loss = np.full(len(seeds), np.nan)
            K.sweep_one_hidden(
                thetas, config.hidden[0], XOR_INPUTS, XOR_TARGETS, ACTIVATION_CODES[config.activation],
                LOSS_CODES[config.loss], config.batch_size_for(len(XOR_TARGETS)), config.learning_rate,
                OPTIMIZER_CODES[config.optimizer], coef, spec.epochs, min(EPOCH_CHUNK, spec.epochs), SOLVED_MARGIN,
                max(1, (spec.epochs * 9) // 10), final_loss, solved_epoch, final_preds, check_loss,
            )  # fmt: skip
            rows.append((np.asarray(seeds), config, solved_epoch, final_loss, final_preds, check_loss))
            done += len(seeds)
            if progress is not None:
                progress(done, total)
        if stop:
            break
    return _collect(spec, rows, time.perf_counter() - start, complete=done == total)


def _collect(spec: SweepSpec, rows: list[tuple], seconds: float, complete: bool) -> SweepResult:
    if rows:
        seed = np.concatenate([r[0] for r in rows]).astype(np.int64)
        lr = np.concatenate([np.full(len(r[0]), r[1].learning_rate) for r in rows])
        hidden = np.concatenate([np.full(len(r[0]), r[1].hidden[0]) for r in rows]).astype(np.int64)
        optimizer = np.concatenate([np.full(len(r[0]), r[1].optimizer, dtype=object) for r in rows])
        solved_epoch = np.concatenate([r[2] for r in rows])
        final_loss = np.concatenate([r[3] for r in rows])
        final_preds = np.concatenate([r[4] for r in rows])
        check_loss = np.concatenate([r[5] for r in rows])
    else:
        seed = hidden = solved_epoch = np.empty(0, dtype=np.int64)
        lr = final_loss = np.empty(0)
        optimizer = np.empty(0, dtype=object)
        final_preds = np.empty((0, len(XOR_TARGETS)))
        check_loss = np.empty(0)
    solved = solved_epoch > 0
    return SweepResult(
        spec=spec, seed=seed, learning_rate=lr, hidden=hidden, optimizer=optimizer, solved=solved,
        epochs_to_solve=solved_epoch, final_loss=final_loss, final_predictions=final_preds,
        outcome=classify(final_loss, final_preds, solved, check_loss), seconds=seconds, complete=complete,
    )  # fmt: skip


@dataclass(frozen=True)
class GroupSummary:
    """Per swept config: how often it solves XOR and how fast, and how the others end."""

    config: TrainConfig
    runs: int
    fraction_solved: float
    median_epochs: float | None
    p90_epochs: float | None
    outcomes: dict[str, int]
    final_loss_quartiles: tuple[float, float, float]


def summarize_groups(result: SweepResult) -> list[GroupSummary]:
    out = []
    for config, rows in result.groups():
        solved_epochs = result.epochs_to_solve[rows][result.solved[rows]]
        finite = result.final_loss[rows][np.isfinite(result.final_loss[rows])]
        quartiles = tuple(float(q) for q in np.percentile(finite, [25, 50, 75])) if len(finite) else (math.nan,) * 3
        out.append(
            GroupSummary(
                config=config,
                runs=len(rows),
                fraction_solved=float(result.solved[rows].mean()),
                median_epochs=float(np.median(solved_epochs)) if len(solved_epochs) else None,
                p90_epochs=float(np.percentile(solved_epochs, 90)) if len(solved_epochs) else None,
                outcomes={name: int(np.sum(result.outcome[rows] == name)) for name in OUTCOMES},
                final_loss_quartiles=quartiles,  # type: ignore[arg-type]
            )
        )
    return out
