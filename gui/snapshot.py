"""What the training thread tells the window: its states, its stop rules, and `Snapshot`, the one message it sends.

A leaf: the thread (gui/worker.py, gui/session.py), the Train tab and the window import it; it imports only engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import Params, TrainConfig
from engine.datasets import Dataset
from engine.history import History
from engine.inspect import SampleTrace
from engine.trainer import METRIC_COLUMNS

COMPILING, READY, RUNNING, PAUSED, DIVERGED, STOPPED = (
    "Compiling",
    "Ready",
    "Running",
    "Paused",
    "Diverged",
    "Stopped at target",  # the status bar says which rule: `Snapshot.state_text`
)


@dataclass(frozen=True)
class StopRules:
    """Pause when the epoch reaches `at_epoch`, or after the first epoch whose loss is below `below_loss`."""

    at_epoch: int | None = None
    below_loss: float | None = None


@dataclass(frozen=True)
class RunSummary:
    """One run of the tree of runs (`engine.timeline.RunTree`), as the timeline's branch list and the loss plot's overlay
    show it: `x`, `y` its loss curve from its branch point on (a few hundred points, read-only)."""

    id: int
    parent: int | None
    branch_epoch: int
    label: str
    last_epoch: int
    colour: int  # index into gui.timeline_bar.RUN_COLORS
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class TreeSummary:
    """The tree of runs on show: its runs (the root first) and the current one's id. `generation` counts the times the
    window's history was replaced (a restart, another run): the window sends it back with its history's copy."""

    runs: tuple[RunSummary, ...]
    current: int
    generation: int = 0

    def run(self, run_id: int) -> RunSummary | None:
        return next((r for r in self.runs if r.id == run_id), None)


@dataclass(frozen=True)
class Snapshot:
    """One message from the training thread. Its arrays are copies that nothing else writes to.

    first_epoch: epoch number of rows[0]. rows: (k, `n_series_for(data)`), each epoch trained since the previous
    snapshot (k may be 0) as `History` stores it: `METRIC_COLUMNS` (loss, test loss, train and test accuracy),
    then the predictions of each training point when the data records them (`Chunk.rows()`). epoch: epochs
    trained in all. restarted: the history starts again (reset, new data or a new network); initial_params and
    data are then set. params: the current ``[(W, b), ...]``. grid_output: (n, n) network output over
    `gui.grids.grid_for(view_bounds(data), n)` (n is `GRID_SIDE` unless the network is big), None when not
    recomputed.
    """

    state: str
    config: TrainConfig
    first_epoch: int
    rows: np.ndarray
    epoch: int
    updates: int
    params: Params
    restarted: bool = False
    grid_output: np.ndarray | None = None
    epochs_per_second: float = 0.0
    message: str = ""
    initial_params: Params = field(default_factory=list)
    keep_history: bool = False  # restarted from an opened experiment: the window already has its history
    reset: bool = False  # restarted by Reset (its message says why: "Reset to epoch 0", or what `reset` was given)
    trace: SampleTrace | None = None  # the inspector's sample (a step just made, or the followed input)
    gradient: Params | None = None  # what the gradient heatmaps show
    gradient_label: str = ""
    hidden_maps: np.ndarray | None = None  # (units, n, n) hidden activations over HIDDEN_AXIS²
    sample_position: int = 0  # samples of the current epoch done by sample steps
    outputs: np.ndarray | None = None  # (n_samples,) ŷ of each training input at `params` (rows hold ŷ before updates)
    state_text: str = ""  # what the status bar says for `state` when it says more ("Stopped: loss < 0.01")
    data: Dataset | None = None  # on a restart: what the run trains on (immutable: its arrays are read-only)
    scrubbed: int | None = None  # the views show this past epoch of the current run (None: its latest state); `epoch`,
    # `params`, the maps and `outputs` are that epoch's, exactly as a headless Trainer trained to it would have them
    shown_row: np.ndarray | None = None  # when scrubbed: that epoch's history row (its loss, metrics, predictions)
    history: History | None = None  # the current run's whole history, replacing the window's (another run selected,
    # a branch made, later epochs dropped): a copy the window owns from then on; `rows` follow it
    tree: TreeSummary | None = None  # the tree of runs, when it changed
    diagnoses: tuple = ()  # engine.diagnosis.Diagnosis of the current run (what is happening), newest assessment
    ended: tuple | None = None  # on a restart, the run it replaced as it ended: (TrainerState, TrainConfig, Dataset,
    # rows (k, n_series) of its last epochs that no snapshot brought, its RunTree); the window's history holds the
    # epochs before those rows

    @property
    def loss(self) -> np.ndarray:
        """(k,) the (training) loss of each new epoch."""
        return self.rows[:, 0]

    @property
    def metrics(self) -> np.ndarray:
        """(k, 3) each new epoch's test loss, train accuracy and test accuracy (`METRIC_COLUMNS[1:]`)."""
        return self.rows[:, 1 : len(METRIC_COLUMNS)]

    @property
    def predictions(self) -> np.ndarray:
        """(k, n_recorded) each new epoch's predictions ((k, 0) for data that does not record them)."""
        return self.rows[:, len(METRIC_COLUMNS) :]

    @property
    def inspects(self) -> bool:
        """Whether it brings something for the Inspect tab and the gradient heatmaps."""
        return self.trace is not None or self.gradient is not None or self.hidden_maps is not None
