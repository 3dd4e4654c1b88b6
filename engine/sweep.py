"""Many-seed sweeps: "why does my XOR run sometimes get stuck?"

Every (config, seed) run trains on the sweep's data (XOR unless given) for the same number of epochs on all
cores (a Numba ``parallel=True`` kernel over runs, GIL released). Each run gives exactly what
``Trainer(config with that seed, data=data).run(epochs)`` gives. A run is *solved* from its first epoch that
meets `SweepSpec.solved_rule`: on data that records every training point's output (XOR), all of them within 0.4
of their targets; on other data, a test accuracy of at least the sweep's `target_accuracy` (the train accuracy
when there is no test set). Its final state is classified as solved, stuck at 0.5 (every recorded output within
0.1 of 0.5, the symmetric saddle; data that records outputs only), a local minimum (a plateau: the loss moved
less than 1% over the last 10% of the epochs), still learning, or diverged.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .compare import SOLVED_MARGIN
from .config import MAX_SEED, TrainConfig
from .datasets import Dataset, make_dataset
from .features import feature_matrix
from .history import n_series_for
from .kernel_args import encode
from .network import Layout, initial_theta
from .parallel import PARALLEL_LOCK
from .trainer import METRIC_COLUMNS, kernels

MAX_RUNS = 1_000_000
STUCK_MARGIN = 0.1  # final outputs all within 0.1 of 0.5: stuck at the saddle
BATCH_RUNS = 64  # runs per kernel call: the unit of progress and of cancelling
EPOCH_CHUNK = 1000  # epochs per inner kernel call (a run's buffers hold this many epochs)
PLATEAU_CHANGE = 0.01  # relative loss change over the last 10% of epochs below which a run sits on a plateau
OUTCOMES = ("solved", "stuck at 0.5", "local minimum", "still learning", "diverged")
DEFAULT_TARGET_ACCURACY = 0.95  # data other than XOR: solved once the test accuracy reaches this


@dataclass(frozen=True)
class SweepSpec:
    """base: every other setting. seeds: the seeds (0 .. 2**32 - 1). learning_rates, hidden (one hidden layer's
    width) and optimizers: the values to cross. epochs: per run. data: what every run trains on (XOR unless
    given). target_accuracy: in (0, 1], the test accuracy that counts as solved on data that does not record every
    output (see `solved_rule`)."""

    base: TrainConfig
    seeds: tuple[int, ...]
    learning_rates: tuple[float, ...]
    hidden: tuple[int, ...]
    optimizers: tuple[str, ...]
    epochs: int
    data: Dataset = field(default_factory=make_dataset)
    target_accuracy: float = DEFAULT_TARGET_ACCURACY

    def __post_init__(self) -> None:
        if not 0 < self.target_accuracy <= 1:
            raise ValueError(f"the target accuracy must be above 0 and at most 1 (100%), got {self.target_accuracy:g}")
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

    @property
    def solved_rule(self) -> str:
        """When a run counts as solved, in words (for reports): 'every output within 0.4 of its target' (XOR),
        'test accuracy >= 95%', or 'train accuracy >= 95%' on data without a test set."""
        if self.data.records_predictions:
            return f"every output within {SOLVED_MARGIN:g} of its target"
        which = "test" if self.data.n_test else "train"
        return f"{which} accuracy >= {_percent(self.target_accuracy)}"


def _percent(fraction: float) -> str:
    """0.95 -> '95%', 0.975 -> '97.5%'."""
    return f"{fraction * 100:.4g}%"


@dataclass(frozen=True)
class SweepResult:
    """One row per run, in the order configs x seeds. epochs_to_solve is 0 where never solved (by the spec's
    `solved_rule`). final_train_accuracy, final_test_accuracy: at the last epoch (NaN without a test set)."""

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
    final_train_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))
    final_test_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))

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
    if final_predictions.ndim == 2 and final_predictions.shape[1]:  # data that records its outputs (XOR)
        stuck = np.all(np.abs(final_predictions - 0.5) < STUCK_MARGIN, axis=1)
        outcome[stuck] = "stuck at 0.5"
    outcome[solved] = "solved"
    outcome[~np.isfinite(final_loss)] = "diverged"
    return outcome


@dataclass(frozen=True)
class SweepBlock:
    """The results of one block of runs: the swept config ``spec.configs()[config_index]`` with the seeds `seeds`.

    Every array has one row per run, in the order of `seeds`: solved_epoch (int64, the first epoch that meets the
    spec's `solved_rule`, 0 = never), final_loss, final_predictions (runs, n recorded outputs; (runs, 0) on data that
    records none), check_loss (the loss at 90% of the epochs), final_train_accuracy, final_test_accuracy (NaN without
    a test set). A run's numbers do not depend on which block it is in."""

    config_index: int
    seeds: np.ndarray
    solved_epoch: np.ndarray
    final_loss: np.ndarray
    final_predictions: np.ndarray
    check_loss: np.ndarray
    final_train_accuracy: np.ndarray
    final_test_accuracy: np.ndarray

    def __len__(self) -> int:
        return len(self.seeds)


def sweep_blocks(
    spec: SweepSpec, block_runs: int = BATCH_RUNS, skip: frozenset[tuple[int, int]] = frozenset()
) -> list[tuple[int, tuple[int, ...]]]:
    """(config index, seeds) of every block of at most `block_runs` runs, in the order configs x seeds, leaving out
    the runs (config index, seed) in `skip` (those a resumed sweep has already)."""
    out = []
    for index in range(len(spec.configs())):
        seeds = tuple(seed for seed in spec.seeds if (index, seed) not in skip) if skip else spec.seeds
        out += [(index, seeds[lo : lo + block_runs]) for lo in range(0, len(seeds), block_runs)]
    return out


def run_block(spec: SweepSpec, config_index: int, seeds: tuple[int, ...], lockstep: bool = True) -> SweepBlock:
    """Train the runs of one block (one kernel call, on all cores): each gives exactly what
    ``Trainer(config with that seed, data=spec.data).run(spec.epochs)`` gives. Networks of one hidden layer (every
    sweep's) train in groups of runs in lockstep (engine/_lockstep.py); lockstep=False trains one run per thread
    (`_kernels.sweep`, the benchmark's baseline), to the same numbers."""
    K = kernels()
    data = spec.data
    config = spec.configs()[config_index]
    records = data.records_predictions
    layout = Layout.from_sizes(config.layer_sizes)
    X = feature_matrix(data.train_inputs, config.features)
    X_test = feature_matrix(data.test_inputs, config.features)
    train_targets = np.ascontiguousarray(data.train_targets, dtype=np.float64)
    test_targets = np.ascontiguousarray(data.test_targets, dtype=np.float64)
    settings = encode(config, data.n_train)
    runs = len(seeds)
    thetas = np.stack([initial_theta(config.replace(seed=s), layout) for s in seeds])
    final_loss = np.empty(runs)
    margin_epoch, target_epoch = np.zeros(runs, dtype=np.int64), np.zeros(runs, dtype=np.int64)
    final_preds = np.full((runs, data.n_train if records else 0), np.nan)
    final_metrics = np.full((runs, 3), np.nan)
    check_loss = np.full(runs, np.nan)
    if lockstep and layout.n_layers == 2:
        from . import _lockstep as kernel  # imports Numba, as `kernels()`: only when a sweep runs

        pace = kernel.lanes_for(runs)
    else:
        kernel, pace = K, min(EPOCH_CHUNK, spec.epochs)  # one run per thread, in chunks of epochs
    with PARALLEL_LOCK:  # one parallel kernel at a time in this process (engine/parallel.py)
        kernel.sweep(
            thetas, *layout.kernel_args, X, train_targets, X_test, test_targets, *settings,
            spec.epochs, pace, SOLVED_MARGIN, spec.target_accuracy,
            max(1, (spec.epochs * 9) // 10), final_loss, margin_epoch, final_preds, check_loss, final_metrics, target_epoch,
        )  # fmt: skip
    return SweepBlock(
        config_index=config_index, seeds=np.asarray(seeds, dtype=np.int64),
        solved_epoch=margin_epoch if records else target_epoch,  # see SweepSpec.solved_rule
        final_loss=final_loss, final_predictions=final_preds, check_loss=check_loss,
        final_train_accuracy=final_metrics[:, 1].copy(), final_test_accuracy=final_metrics[:, 2].copy(),
    )  # fmt: skip


def run_sweep(
    spec: SweepSpec,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_block: Callable[[SweepBlock], None] | None = None,
    skip: frozenset[tuple[int, int]] = frozenset(),
) -> SweepResult:
    """Train every run of `spec`, BATCH_RUNS at a time on all cores.

    progress(done, total) is called after each batch; when cancelled() turns true the sweep stops after
    the batch in flight and returns the runs done so far (complete=False). on_block(block) gets each finished
    block first (to stream it to a file). The runs (config index, seed) in `skip` are not trained (a resumed
    sweep has them): they count as done, and the result holds the other runs only.
    """
    start = time.perf_counter()
    blocks: list[SweepBlock] = []
    total = spec.n_runs
    todo = sweep_blocks(spec, skip=skip)
    done = total - sum(len(seeds) for _index, seeds in todo)
    for config_index, seeds in todo:
        if cancelled is not None and cancelled():
            break
        block = run_block(spec, config_index, seeds)
        blocks.append(block)
        done += len(seeds)
        if on_block is not None:
            on_block(block)
        if progress is not None:
            progress(done, total)
    return collect(spec, blocks, time.perf_counter() - start, complete=done == total)


def collect(spec: SweepSpec, blocks: list[SweepBlock], seconds: float, complete: bool) -> SweepResult:
    """One `SweepResult` from blocks (in any order; rows come out in the order configs x seeds)."""
    configs = spec.configs()
    seed_rank = {seed: i for i, seed in enumerate(spec.seeds)}
    blocks = sorted(blocks, key=lambda block: (block.config_index, seed_rank[int(block.seeds[0])] if len(block) else 0))
    blocks = [block for block in blocks if len(block)]
    if blocks:
        seed = np.concatenate([b.seeds for b in blocks]).astype(np.int64)
        lr = np.concatenate([np.full(len(b), configs[b.config_index].learning_rate) for b in blocks])
        hidden = np.concatenate([np.full(len(b), configs[b.config_index].hidden[0]) for b in blocks]).astype(np.int64)
        optimizer = np.concatenate([np.full(len(b), configs[b.config_index].optimizer, dtype=object) for b in blocks])
        solved_epoch = np.concatenate([b.solved_epoch for b in blocks])
        final_loss = np.concatenate([b.final_loss for b in blocks])
        final_preds = np.concatenate([b.final_predictions for b in blocks])
        check_loss = np.concatenate([b.check_loss for b in blocks])
        train_acc = np.concatenate([b.final_train_accuracy for b in blocks])
        test_acc = np.concatenate([b.final_test_accuracy for b in blocks])
    else:
        seed = hidden = solved_epoch = np.empty(0, dtype=np.int64)
        lr = final_loss = train_acc = test_acc = np.empty(0)
        optimizer = np.empty(0, dtype=object)
        final_preds = np.empty((0, n_series_for(spec.data) - len(METRIC_COLUMNS)))
        check_loss = np.empty(0)
    solved = solved_epoch > 0
    return SweepResult(
        spec=spec, seed=seed, learning_rate=lr, hidden=hidden, optimizer=optimizer, solved=solved,
        epochs_to_solve=solved_epoch, final_loss=final_loss, final_predictions=final_preds,
        outcome=classify(final_loss, final_preds, solved, check_loss), seconds=seconds, complete=complete,
        final_train_accuracy=train_acc, final_test_accuracy=test_acc,
    )  # fmt: skip


@dataclass(frozen=True)
class GroupSummary:
    """Per swept config: how often it solves the data (XOR) and how fast, how the others end, and the median final
    train and test accuracy (NaN without a test set, or when no run gave one)."""

    config: TrainConfig
    runs: int
    fraction_solved: float
    median_epochs: float | None
    p90_epochs: float | None
    outcomes: dict[str, int]
    final_loss_quartiles: tuple[float, float, float]
    median_train_accuracy: float = math.nan
    median_test_accuracy: float = math.nan


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
                median_train_accuracy=_median(result.final_train_accuracy[rows]),
                median_test_accuracy=_median(result.final_test_accuracy[rows]),
            )
        )
    return out


def _median(values: np.ndarray) -> float:
    """The median of the finite values, NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else math.nan
