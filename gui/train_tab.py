"""`TrainTab`: the Train tab's panels (controls, curves, decision map, weights) and the training thread they drive.

It takes in the thread's snapshots, paces the drawing (`RenderPacer`) and feeds the Inspect tab once one is
attached. Its public methods are what the window's menus, the file menu (gui/experiments.py) and the command
line's pictures (gui/headless.py) use: what is shown (`epoch`, `state`, `params()`, `shown_config()`, `data`,
`history`), the commands (play, pause, step, reset...), `apply_config`, `apply_data`, `show_experiment`,
`load_config`, and `request_state` with `stateReady`. The window's status bar listens to `ready`, `snapshotTaken`
and `progress`; its other tabs to `configChanged`, `dataChanged` and `inspectRequested`.

New data (the Data section, or `apply_data`) goes to the training thread, which restarts on it; the views switch
to it when the restart's snapshot brings it, so that no epoch of the old data lands in the new data's history.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QScrollArea, QSplitter, QVBoxLayout, QWidget

from engine import History, Params, TrainConfig
from engine.datasets import Dataset, make_dataset
from engine.experiment import Experiment

from .controls import ControlPanel
from .curves import CurvesPanel
from .diagnosis_panel import last_finite_epoch
from .inspect_view import InspectView
from .maps import DecisionMap, WeightHeatmaps
from .pacer import RenderPacer
from .snapshot import COMPILING, READY, RUNNING, Snapshot, TreeSummary
from .time_travel import copy_history, copy_tree
from .timeline_bar import TimelineBar
from .worker import TrainingThread

CONTINUE, BRANCH, CANCEL = "continue", "branch", "cancel"  # the answers of `ask_past`
SLOW_VIEWS = ("weights", "decision map")  # drawn in this order, one per turn while running (gui/pacer.py)
SLOW_VIEW_SECONDS = {"weights": 1 / 10}  # the weights' numbers at most 10 times a second; the map as often as it comes
RESERVE_AFTER_MS = 250


NOT_ASKED = -1  # no scrub on its way
TIMELINE_SECONDS = 0.25  # while running, the timeline follows the run this often (its slider's repaint costs frames)


class TrainTab(QWidget):
    """Watch a network learn: controls on the left, curves on top, decision map and weights below.

    `epoch`, `state` and `params()` are what the tab shows: the state of the last snapshot applied.
    """

    ready = Signal()  # the first snapshot came: the kernels are compiled and the controls enabled
    snapshotTaken = Signal(object)  # Snapshot, once its data is in, before its views are drawn
    snapshotApplied = Signal(object)  # Snapshot, after its data is in (views drawn too unless running)
    rendered = Signal()  # after the curves were drawn (and, when not running, every view)
    configChanged = Signal(object)  # TrainConfig: the settings were edited (or `apply_config`), training follows
    dataChanged = Signal(object)  # Dataset: the data was changed (or `apply_data`), training restarts on it
    inspectRequested = Signal(int)  # a point of the data (index into `Dataset.inputs`) was clicked on the decision map
    modified = Signal()  # the work on show changed: epochs trained, a reset, a sample step
    stateReady = Signal(object)  # TrainerState, after `request_state` (every trained epoch is in the history by then)
    progress = Signal(str)  # what the training thread is busy with ("" when done), for the status bar
    treeChanged = Signal(object)  # TreeSummary: the tree of runs changed (a branch, another run, epochs dropped...)
    runEnded = Signal(object)  # engine.experiment.Experiment: a run a restart replaced, as it ended (the window's copy)
    diagnosed = Signal(tuple)  # engine.diagnosis.Diagnosis of the current run, each time they are assessed

    def __init__(self, config: TrainConfig | None = None, parent=None, data: Dataset | None = None) -> None:
        super().__init__(parent)
        config = TrainConfig() if config is None else config
        data = make_dataset() if data is None else data
        self._data = data  # what the views show (the thread's since its last restart that brought data)
        self._epoch = 0
        self._params: Params = []
        self._state = COMPILING
        self._config = config
        self._sizes: tuple[int, ...] = ()
        self._started = False
        self._shown_running = False
        self._awaiting_load = False
        self._pending_grid: np.ndarray | None = None
        self._pending_inspection: Snapshot | None = None
        self._last_inspection: Snapshot | None = None
        self._inspect_view: InspectView | None = None
        self._sample_position = 0
        self._updates = 0  # weight updates so far, as the last snapshot said
        self._outputs_now: np.ndarray | None = None  # ŷ of each training input at the shown weights
        self._scrubbed: int | None = None  # the past epoch the views show (None: the latest)
        self._shown_row: np.ndarray | None = None  # that epoch's history row
        self._tree: TreeSummary | None = None
        self._saved_tree = None  # the RunTree copy that came with the last `stateReady` (for saving)
        self._ending_history: History | None = None  # while an opened experiment replaces the run: the run's history
        self.start_epoch = 0  # the epoch the run on show started from (0, or an opened experiment's)
        self._scrub_asked: int | None = NOT_ASKED  # the epoch of a scrub whose snapshot has not come yet (None: latest)
        self._timeline_drawn = 0.0  # when the timeline was last set (while running: every TIMELINE_SECONDS)
        self._diagnoses: tuple = ()

        self.controls = ControlPanel(config, data=data)
        self.curves = CurvesPanel(data)
        self.decision_map = DecisionMap(data)
        self.heatmaps = WeightHeatmaps()
        self.timeline = TimelineBar()
        self.pacer = RenderPacer(self._draw_curves, self._draw_slow_view, SLOW_VIEWS, self, intervals=SLOW_VIEW_SECONDS)
        self.pacer.rendered.connect(self.rendered)
        self._build_layout()

        self.controls.play_button.clicked.connect(self._play_clicked)
        self.controls.step_button.clicked.connect(lambda: self.step(1))
        self.controls.sample_step_button.clicked.connect(lambda: self.step_sample())
        self.controls.step_n_button.clicked.connect(lambda: self.step(self.controls.step_n_spin.value()))
        self.controls.reset_button.clicked.connect(lambda: self.reset())
        self.controls.set_training_enabled(False)

        self.thread = TrainingThread(config, data=data)
        self.thread.snapshot.connect(self._take_snapshot)
        self.thread.progress.connect(self.progress)
        self.thread.tree_ready.connect(self._keep_tree)
        self.thread.state_ready.connect(self.stateReady)
        self.timeline.scrubRequested.connect(self.scrub)
        self.curves.epochClicked.connect(self.scrub)
        self.timeline.rewindRequested.connect(self.rewind)
        self.timeline.branchRequested.connect(lambda: self.branch())
        self.timeline.runSelected.connect(self.select_run)
        self.controls.configChanged.connect(self._config_edited)
        self.controls.dataChanged.connect(self._data_edited)
        self.decision_map.pointClicked.connect(self.inspectRequested)
        self.controls.speedChanged.connect(self.thread.set_speed)
        self.controls.stopRulesChanged.connect(self.thread.set_stop_rules)
        self.thread.set_speed(self.controls.speed())
        self.thread.set_stop_rules(self.controls.stop_rules())

    def _build_layout(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.sizeHint().width() + 20)
        scroll.setMaximumWidth(self.controls.sizeHint().width() + 40)

        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.addWidget(QLabel("<b>Decision map</b> &nbsp; ŷ over the input plane"))
        map_layout.addWidget(self.decision_map, 1)
        weights_box = QWidget()
        weights_layout = QVBoxLayout(weights_box)
        weights_layout.setContentsMargins(0, 0, 0, 0)
        weights_head = QHBoxLayout()
        weights_head.addWidget(
            QLabel("<b>Weights</b> and their <b>gradients</b> &nbsp; rows: units fed; columns: their inputs"), 1
        )
        layers_label = QLabel()
        layers_label.setObjectName("weightsLayersLabel")
        self.heatmaps.layersShown.connect(layers_label.setText)  # "layers 3–4 of 9" when they do not all fit
        weights_head.addWidget(layers_label)
        weights_layout.addLayout(weights_head)
        weights_row = QHBoxLayout()
        weights_row.setSpacing(0)
        weights_row.addWidget(self.heatmaps, 1)
        weights_row.addWidget(self.heatmaps.layer_bar)  # scrolls the layers (shown when they do not all fit)
        weights_layout.addLayout(weights_row, 1)
        self.bottom_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.bottom_splitter.addWidget(map_box)
        self.bottom_splitter.addWidget(weights_box)
        self.bottom_splitter.setSizes([330, 700])
        self.bottom_splitter.setMinimumHeight(250)  # two rows of weights stay legible on a 1366×768 screen
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(2)
        top_layout.addWidget(self.curves, 1)
        top_layout.addWidget(self.timeline)
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.addWidget(top)
        self.main_splitter.addWidget(self.bottom_splitter)
        self.main_splitter.setSizes([420, 440])

        right = QWidget()
        right.setObjectName("viewsArea")
        right.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # focus here leaves Space and arrows to the shortcuts
        self.views_area = right
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.main_splitter, 1)
        row = QHBoxLayout(self)
        row.addWidget(scroll)
        row.addWidget(right, 1)

    def add_under_timeline(self, widget: QWidget) -> None:
        """Put `widget` under the timeline's slider, beside the tree of runs ("What is happening")."""
        self.timeline.add_below(widget)

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the training thread (once; never after `shutdown`)."""
        if not self._started:
            self._started = True
            self.thread.start()
            QTimer.singleShot(RESERVE_AFTER_MS, self.curves.history.reserve)  # while the kernels load, after the first paint

    def shutdown(self, waiting: Callable[[], object] | None = None) -> None:
        """Stop and join the training thread (idempotent); `waiting()` says so if a first compile holds it up."""
        self._started = True
        self.thread.shutdown(waiting)

    @property
    def is_ready(self) -> bool:
        """Whether the first snapshot came (the kernels are compiled): the controls are enabled."""
        return self.controls.play_button.isEnabled()

    @property
    def loading(self) -> bool:
        """Whether an opened experiment is on its way to the training thread (its snapshot has not come yet)."""
        return self._awaiting_load

    def is_finished(self, wait_ms: int = 0) -> bool:
        """Whether the training thread has ended (waiting at most `wait_ms` for it)."""
        return self.thread.wait(wait_ms) and self.thread.isFinished()

    # --- what the tab shows -------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Epochs trained, as shown."""
        return self._epoch

    @property
    def state(self) -> str:
        return self._state

    @property
    def sample_position(self) -> int:
        """Samples of the current epoch done by sample steps, as shown."""
        return self._sample_position

    @property
    def history(self) -> History:
        """Every epoch's loss and predictions, as the curves show them."""
        return self.curves.history

    @property
    def loss(self) -> float:
        """The shown epoch's loss: the last epoch's, or a past one's while scrubbed (NaN at epoch 0)."""
        if self._scrubbed is not None:
            return float(self._shown_row[0]) if self._shown_row is not None and self._scrubbed else float("nan")
        return float(self.history.last[0])

    def params(self) -> Params:
        """A copy of the shown parameters, ``[(W (out, in), b (out, 1)), ...]``."""
        return [(W.copy(), b.copy()) for W, b in self._params]

    def shown_config(self) -> TrainConfig:
        """The settings of the run on show (as of the last snapshot)."""
        return self._config

    @property
    def data(self) -> Dataset:
        """The data of the run on show (as of the last snapshot that brought data)."""
        return self._data

    def config(self) -> TrainConfig:
        """The settings the form shows (what training follows next)."""
        return self.controls.config()

    @property
    def can_step_sample(self) -> bool:
        return self.controls.sample_step_button.isEnabled()

    def figure_item(self, figure: str):
        """The pyqtgraph item (or scene) that shows `figure` ("loss", "predictions", "decision-map", "weights"), for
        File › Export; `ValueError` for another name. "predictions" is the panel beside the loss: the predictions of
        data that records them (XOR), else the train and test accuracy."""
        beside = self.curves.prediction_plot if self.curves.records else self.curves.accuracy_plot
        items = {
            "loss": lambda: self.curves.loss_plot.getPlotItem(),
            "predictions": lambda: beside.getPlotItem(),
            "decision-map": lambda: self.decision_map.getPlotItem(),
            "weights": lambda: self.heatmaps.scene(),
        }
        if figure not in items:
            raise ValueError(f"no figure {figure!r}; choose from {', '.join(items)} or window")
        return items[figure]()

    def splitters(self) -> dict[str, QSplitter]:
        """The splitters whose state the window remembers, by settings key."""
        return {"mainSplitter": self.main_splitter, "bottomSplitter": self.bottom_splitter}

    def restore_splitters(self, states: dict[str, QByteArray | None]) -> None:
        for key, splitter in self.splitters().items():
            if states.get(key) is not None:
                splitter.restoreState(states[key])

    # --- commands ---------------------------------------------------------------------------------
    def play(self) -> None:
        if self.controls.play_button.isEnabled():
            if not self._go_on():
                return
            self.controls.play_button.setChecked(True)
            self.thread.play()

    def pause(self) -> None:
        self.controls.play_button.setChecked(False)
        self.thread.pause()

    def toggle_play(self) -> None:
        if self.controls.play_button.isChecked():
            self.pause()
        else:
            self.play()

    def _play_clicked(self, checked: bool) -> None:
        if checked:
            if not self._go_on():
                self.controls.play_button.setChecked(False)
                return
            self.thread.play()
        else:
            self.thread.pause()

    def step(self, n_epochs: int = 1) -> None:
        if self.controls.step_button.isEnabled() and self._go_on():
            self.controls.play_button.setChecked(False)
            self.thread.step(int(n_epochs))

    def queue_steps(self, n_epochs: int) -> None:
        """Train `n_epochs` epochs as soon as the thread can, even before the kernels are ready (the command line)."""
        self.thread.step(int(n_epochs))

    def step_sample(self, n_samples: int = 1) -> None:
        """Train single samples (mode sgd); the Inspect tab shows the last one."""
        if self.controls.sample_step_button.isEnabled() and self._go_on():
            self.controls.play_button.setChecked(False)
            self.thread.step_samples(int(n_samples))

    def reset(self, message: str | None = None) -> None:
        """Back to epoch 0 (Reset); the reset snapshot says `message` when given."""
        if self.controls.reset_button.isEnabled():
            self.controls.play_button.setChecked(False)
            self.thread.reset(message)

    # --- time travel --------------------------------------------------------------------------------
    @property
    def scrubbed(self) -> int | None:
        """The past epoch the views show (None: the current run's latest)."""
        return self._scrubbed

    @property
    def last_epoch(self) -> int:
        """The current run's latest epoch (`epoch` is the one shown)."""
        return self.history.n_epochs

    @property
    def tree(self) -> TreeSummary | None:
        """The tree of runs, as the training thread last described it."""
        return self._tree

    def scrub(self, epoch: int) -> None:
        """Pause and show the current run's exact state at `epoch` in every view (the latest epoch: the run as it is)."""
        if self.is_ready:
            self.controls.play_button.setChecked(False)
            target = max(0, min(int(epoch), self.last_epoch))
            self._scrub_asked = None if target == self.last_epoch else target
            self.thread.scrub(target)

    def rewind(self) -> None:
        """Show epoch 0, or, when the run diverged, its last epoch whose loss was finite."""
        last = self.last_epoch
        self.scrub(last_finite_epoch(last) if last and not np.isfinite(self.history.last[0]) else 0)

    def continue_from(self, epoch: int) -> None:
        """Drop the current run's epochs after `epoch`; Play or Step go on from there."""
        self.controls.play_button.setChecked(False)
        self.thread.continue_from(int(epoch), self._history_copy())

    def branch(self, epoch: int | None = None) -> None:
        """A new run from `epoch` (default: the epoch shown) with the form's training settings; it becomes current."""
        if self.is_ready:
            self.controls.play_button.setChecked(False)
            self.thread.branch(self._epoch if epoch is None else int(epoch), self._history_copy(), self.controls.config())

    def select_run(self, run_id: int) -> None:
        """Make run `run_id` of the tree the current one."""
        self.controls.play_button.setChecked(False)
        self.thread.select_run(int(run_id), self._history_copy())

    def _history_copy(self) -> tuple:
        """For the training thread: (the tree's generation it belongs to, a copy of the current run's history)."""
        return self._tree.generation if self._tree is not None else -1, copy_history(self.history)

    def ask_past(self, epoch: int, later: int) -> str:
        """Play or Step while a past epoch is shown: CONTINUE (drop the later epochs), BRANCH or CANCEL. Tests replace it."""
        box = QMessageBox(QMessageBox.Icon.Question, "Backprop Lab",
                          f"Epoch {epoch:,} of {self.last_epoch:,} is shown. Go on from here?", parent=self)  # fmt: skip
        box.setInformativeText("Continuing drops the later epochs of this run; a branch keeps them and starts a new "
                               "run from here with the training settings in the form.")  # fmt: skip
        go_on = box.addButton(
            f"Continue from epoch {epoch:,} (drop the {later:,} later epochs)", QMessageBox.ButtonRole.AcceptRole
        )
        branches = self.branches_after(epoch)
        if branches:  # dropping those epochs would orphan the runs branched from them
            go_on.setEnabled(False)
            box.setInformativeText(f"{len(branches)} run{'s' if len(branches) != 1 else ''} of the tree branched from this "
                                   "one after this epoch, so its later epochs stay; a branch starts a new run from here "
                                   "with the training settings in the form.")  # fmt: skip
        branch = box.addButton("Branch from here", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        return CONTINUE if clicked is go_on else BRANCH if clicked is branch else CANCEL

    def branches_after(self, epoch: int) -> list:
        """The runs branched from the current run after `epoch` (its epochs up to there cannot be dropped)."""
        tree = self._tree
        return [] if tree is None else [r for r in tree.runs if r.parent == tree.current and r.branch_epoch > epoch]

    def _go_on(self) -> bool:
        """Before training while a past epoch is shown: ask, then continue from it or branch. False: cancelled."""
        epoch = self._scrubbed if self._scrub_asked == NOT_ASKED else self._scrub_asked  # (its snapshot may not be in)
        if epoch is None:
            return True
        answer = self.ask_past(epoch, self.last_epoch - epoch)
        if answer == CONTINUE and self.branches_after(epoch):
            return False  # (the thread would refuse it; the question offered Branch only)
        if answer == CONTINUE:
            self.thread.continue_from(epoch, self._history_copy())
        elif answer == BRANCH:
            self.thread.branch(epoch, self._history_copy(), self.controls.config())
        else:
            return False  # (the thread is asked directly: the Play button keeps the state Play gave it)
        self._scrubbed, self._scrub_asked = None, NOT_ASKED  # the requests go in order: training follows this one
        return True

    def apply_config(self, config: TrainConfig) -> None:
        """Show `config` in the form and train with it, as if it had been entered there."""
        self.controls.set_config(config)
        self._config_edited(config)

    def _config_edited(self, config: TrainConfig) -> None:
        self.thread.set_config(config)
        self.configChanged.emit(config)

    def apply_data(self, data: Dataset) -> None:
        """Show `data` in the Data section and train on it, as if it had been chosen there (training restarts)."""
        self.controls.set_data(data)
        self._data_edited(data)

    def _data_edited(self, data: Dataset) -> None:
        self.thread.set_data(data)
        self.dataChanged.emit(data)

    def restore_run_defaults(self) -> None:
        """The speed and stop rule of a fresh window (they show the notebook's run unfold)."""
        self.controls.restore_run_defaults()

    def load_config(self, config: TrainConfig, message: str, data: Dataset | None = None) -> None:
        """Restart from epoch 0 with `config` (a sweep's run: it replays exactly), on `data` when given; the
        restart's snapshot says `message`."""
        self.controls.set_config(config)
        new_data = data is not None and data is not self._data
        if new_data:
            self.controls.set_data(data)
        self.thread.replay(config, message, data if new_data else None)  # one request: one restart, saying `message`
        if new_data:
            self.dataChanged.emit(data)

    def show_experiment(self, experiment) -> None:
        """Continue `experiment` (an `engine.experiment.Experiment`), paused at its epoch, on its data."""
        self.controls.play_button.setChecked(False)
        self._ending_history = self.curves.history  # the run replaced (`_end_run`), before new data replaces it
        self.controls.set_config(experiment.config)
        self.controls.set_data(experiment.data)
        self._show_data(experiment.data)
        self.curves.history = experiment.history
        self.curves.clear_view()
        self._awaiting_load = True
        last_loss = float(experiment.history.last[0]) if experiment.history.n_epochs else float("nan")
        tree = experiment.tree
        if tree is not None:  # the thread owns it from now on: its current run's history is the window's, so a copy
            tree.current_run.history = copy_history(experiment.history)
        self.thread.load(experiment.state, experiment.config, last_loss, experiment.data, tree)
        self.start()

    def request_state(self) -> None:
        """Ask for the trainer's state: `stateReady` follows, once every trained epoch is in the history. A thread
        that never started or has ended answers at once with the state it left (if any)."""
        self.thread.request_state()
        if not self.thread.isRunning():
            trainer = self.thread.final_trainer
            if trainer is not None:
                tree = self.thread.final_tree
                self._saved_tree = copy_tree(tree) if tree is not None else None
                self.stateReady.emit(trainer.state())

    def _keep_tree(self, tree) -> None:
        self._saved_tree = tree

    def run_tree(self):
        """The tree of runs (an `engine.timeline.RunTree` copy) that came with the last `stateReady`, or None."""
        return self._saved_tree

    # --- the Inspect tab ----------------------------------------------------------------------------
    def attach_inspect(self, view: InspectView) -> None:
        """Feed `view` (the Inspect tab, built when first shown) from now on; its buttons step this training."""
        self._inspect_view = view
        if view.dataset is not self._data:
            view.set_data(self._data)
        view.inputChosen.connect(self.thread.set_inspect_index)
        view.sample_button.clicked.connect(lambda: self.step_sample())
        view.epoch_button.clicked.connect(lambda: self.step(1))
        if self._last_inspection is not None:
            self._show_inspection(self._last_inspection)

    def _show_inspection(self, snap: Snapshot) -> None:
        if self._inspect_view is not None:
            self._inspect_view.show_state(snap.trace, self._params, self._epoch, self._sample_position, snap.hidden_maps,
                                          self._config)  # fmt: skip

    # --- snapshots --------------------------------------------------------------------------------
    def _take_snapshot(self, snap: Snapshot) -> None:
        """Take in a snapshot's data at once; the pacer draws the views now, or soon while running."""
        self.thread.snapshot_taken()
        if self._awaiting_load and not snap.keep_history:
            if self._ending_history is not None and snap.ended is not None:  # a Reset (say) just before the opening
                self._end_run(snap)
                self._ending_history = None
            elif self._ending_history is not None and not snap.restarted:
                self._ending_history.extend(snap.rows)  # (the run being replaced: logged in the run history)
            return  # epochs of the run that an opened experiment replaces, still in flight
        self._awaiting_load = False
        if snap.ended is not None:
            self._end_run(snap)
        self._ending_history = None
        if snap.data is not None and snap.data is not self._data:
            self._show_data(snap.data)
        if snap.history is not None:  # another run, a branch, or later epochs dropped: the run's whole history
            self.curves.history = snap.history
            self.curves.clear_view()
            self.controls.set_config(snap.config)  # the run's settings
        if snap.restarted:
            self.start_epoch = snap.epoch
            if not snap.keep_history:
                self.curves.clear()
            sizes = snap.config.layer_sizes
            if sizes != self._sizes or snap.config.features != self.heatmaps.features:  # columns named by the features
                self.heatmaps.build(sizes, snap.config.features)
                self._sizes = sizes
            self.heatmaps.reset_levels()
        self.curves.append(snap.rows)
        self._epoch, self._params, self._state, self._config = snap.epoch, snap.params, snap.state, snap.config
        if snap.grid_output is not None:
            self._pending_grid = snap.grid_output
        if snap.inspects:
            self._pending_inspection = snap
        if snap.tree is not None:
            self._tree = snap.tree
            self.timeline.set_tree(snap.tree)
            self.curves.set_branches(snap.tree)
            self.treeChanged.emit(snap.tree)
        if snap.diagnoses is not None:
            self._diagnoses = snap.diagnoses
            self.diagnosed.emit(snap.diagnoses)
        self._scrubbed, self._shown_row = snap.scrubbed, snap.shown_row
        if self._scrub_asked == snap.scrubbed or snap.message:  # its answer (a refusal says why: nothing shown)
            self._scrub_asked = NOT_ASKED
        # a sample step changes the weights without completing an epoch (no rows): unsaved work all the same
        sample_stepped = not snap.restarted and snap.scrubbed is None and snap.updates != self._updates
        if snap.scrubbed is None:
            self._updates = snap.updates
        trees_changed = snap.history is not None
        self._sample_position = snap.sample_position
        self._outputs_now = snap.outputs
        if not self.controls.play_button.isEnabled():  # the first snapshot: the kernels are ready
            self.controls.set_training_enabled(True)
            self.ready.emit()
        running = snap.state == RUNNING
        play = self.controls.play_button
        if play.isChecked() != running and not (play.isChecked() and snap.state == READY):
            play.setChecked(running)
        if running != self._shown_running:
            self._shown_running = running
            self.controls.show_running(running)
        self.snapshotTaken.emit(snap)
        self.pacer.changed(running)
        if len(snap.rows) or snap.reset or sample_stepped or trees_changed:
            self.modified.emit()
        self.snapshotApplied.emit(snap)

    def _end_run(self, snap: Snapshot) -> None:
        """A restart replaced a run that trained: `runEnded` with it as it ended (its history is handed over, not copied)."""
        state, config, data, rows, tree = snap.ended
        history = self._ending_history  # an opened experiment's restart: the history it replaced
        if history is None:
            history = self.curves.history
            self.curves.history = History(history.n_series, history.exact_limit, history.summary_capacity)
        history.extend(rows)
        if history.n_epochs == state.epoch:  # (else epochs went missing: nothing rather than something inexact)
            self.runEnded.emit(Experiment(config, state, history, "", data, tree))  # with its branches and past

    def _show_data(self, data: Dataset) -> None:
        """Show `data` in every view (the curves start a new history of its columns); what was pending for the
        data before is dropped."""
        self._data = data
        self.curves.set_data(data)
        self.decision_map.set_data(data)
        if self._inspect_view is not None:
            self._inspect_view.set_data(data)
        self._pending_grid = self._pending_inspection = self._last_inspection = None

    def _draw_curves(self) -> None:
        scrubbed = self._scrubbed
        row = self._shown_row
        if scrubbed == 0:
            row = np.full(self.history.n_series, np.nan)
        self.curves.show_epoch(self._epoch, self._outputs_now, row)
        self.curves.set_cursor(scrubbed)
        can_branch = self._state not in (RUNNING, COMPILING) and (scrubbed is not None or self._epoch > 0)
        now = time.perf_counter()
        if self._state != RUNNING or now - self._timeline_drawn >= TIMELINE_SECONDS:  # (the status bar counts every frame)
            self._timeline_drawn = now
            self.timeline.show_epoch(self._epoch, self.last_epoch, scrubbed is not None, can_branch)
        self.curves.loss_plot.set_loss_name(self._config.loss)
        self.curves.redraw()

    def _draw_slow_view(self, view: str) -> None:
        """One of SLOW_VIEWS: the weights (with the gradients and the Inspect tab), or the decision map."""
        if view == "decision map":
            if self._pending_grid is not None:
                self.decision_map.set_output(self._pending_grid)
                self._pending_grid = None
            return
        self.heatmaps.set_params(self._params)
        inspection, self._pending_inspection = self._pending_inspection, None
        if inspection is not None:
            if inspection.gradient is not None:
                self.heatmaps.set_gradient(inspection.gradient, inspection.gradient_label)
            self._last_inspection = inspection
            self._show_inspection(inspection)
