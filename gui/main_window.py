"""`MainWindow`: the live training window."""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine import XOR_INPUTS, XOR_TARGETS, Params, TrainConfig

from .compare_view import CompareView
from .controls import ControlPanel
from .curves import CurvesPanel
from .experiments import Experiments, Replace, set_aside_config
from .inspect_view import InspectView
from .inspector import progress
from .maps import DecisionMap, WeightHeatmaps
from .style import format_loss
from .sweep_view import SweepView
from .worker import COMPILING, DIVERGED, GRID_AXIS, READY, RUNNING, STOPPED, Snapshot, TrainingThread

RENDER_SECONDS = 1 / 40  # while running, the curves are redrawn at most 40 times a second (about 30 in practice),
SLOW_RENDER_SECONDS = 1 / 10  # the weights and the decision map (slower to paint) at most 10 times,
STAGGER_SECONDS = 0.008  # each in its own event-loop turn, this far apart, so that no turn (draw plus paint) grows long
SLOW_VIEWS = ("weights", "decision map")  # drawn in this order, one per turn while running
RESERVE_AFTER_MS = 250
STOP_TIMEOUT_MS = 1000
COMPILE_TIMEOUT_MS = 120_000  # a first Numba compile cannot be interrupted; closing then waits for it


class MainWindow(QMainWindow):
    """Watch a network learn XOR: controls on the left, curves on top, decision map and weights below.

    `epoch` and `params()` are what the window shows: the state of the last snapshot applied.
    """

    snapshotApplied = Signal(object)  # Snapshot, after its data is in (views drawn too unless running)
    rendered = Signal()  # after the curves were drawn (and, when not running, every view)

    def __init__(self, config: TrainConfig | None = None, parent=None) -> None:
        super().__init__(parent)
        config = TrainConfig() if config is None else config
        self.setWindowTitle("Backprop Lab")
        self._epoch = 0
        self._params: Params = []
        self._state = COMPILING
        self._sizes: tuple[int, ...] = ()
        self._started = False
        self._shown_running = False
        self._config = config
        self._pending_grid: np.ndarray | None = None
        self._pending_inspection: Snapshot | None = None
        self._last_inspection: Snapshot | None = None
        self._sample_position = 0
        self._updates = 0  # weight updates so far, as the last snapshot said
        self._progress_text = ""
        self._startup_note = ""
        self._outputs_now: np.ndarray | None = None  # ŷ of each training input at the shown weights
        self._dirty = self._slow_dirty = False
        self._last_render = -1.0  # when the curves were last drawn
        self._last_slow_render = -1.0  # when the first slow view of the last round was drawn
        self._last_draw = -1.0  # when anything was last drawn
        self._slow_stage = 0  # the next of SLOW_VIEWS to draw
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render)

        self.controls = ControlPanel(config)
        self.curves = CurvesPanel(XOR_INPUTS, XOR_TARGETS)
        self.decision_map = DecisionMap(GRID_AXIS, XOR_INPUTS, XOR_TARGETS)
        self.heatmaps = WeightHeatmaps()
        self.banner = QLabel()  # why training stopped or diverged, in colour, in the status bar (it moves nothing)
        self.banner.setObjectName("messageBanner")
        self.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self.banner.hide()

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
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.addWidget(self.curves)
        self.main_splitter.addWidget(self.bottom_splitter)
        self.main_splitter.setSizes([420, 440])

        right = QWidget()
        right.setObjectName("viewsArea")
        right.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # focus here leaves Space and arrows to the shortcuts
        self.views_area = right
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.main_splitter, 1)
        train_tab = QWidget()
        row = QHBoxLayout(train_tab)
        row.addWidget(scroll)
        row.addWidget(right, 1)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(train_tab, "Train")
        # the other tabs are built when first shown or used: they would add ~150 ms to the launch
        self._tab_views: dict[str, QWidget | None] = {"inspect": None, "compare": None, "sweep": None}
        for title in ("Inspect", "Compare", "Sweep"):
            self.tabs.addTab(QWidget(), title)
        self.tabs.currentChanged.connect(self._tab_shown)
        self.tabs.setTabToolTip(0, "Watch one network learn")
        self.tabs.setTabToolTip(1, "The numbers inside backpropagation, sample by sample; the network; each hidden unit")
        self.tabs.setTabToolTip(2, "Which converges faster? Runs side by side from the same initial weights")
        self.tabs.setTabToolTip(3, "Many seeds on all cores: how often is XOR solved, and why do runs get stuck?")
        self.setCentralWidget(self.tabs)
        self.setFocusProxy(right)

        self.state_label = QLabel()
        self.state_label.setObjectName("stateLabel")
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("epochLabel")
        self.loss_label = QLabel()
        self.loss_label.setObjectName("lossLabel")
        self.rate_label = QLabel()
        self.rate_label.setObjectName("rateLabel")
        for label in (self.state_label, self.epoch_label, self.loss_label, self.rate_label):
            label.setMinimumWidth(110)
            label.setContentsMargins(6, 0, 6, 0)  # a gap between one label's text and the next's
            self.statusBar().addPermanentWidget(label)
        self.statusBar().addWidget(self.banner, 1)  # where messages show: a message hides it until it times out
        # the size: Experiments.restore_window, within the screen

        self._add_actions()
        self.controls.play_button.clicked.connect(self._play_clicked)
        self.controls.step_button.clicked.connect(lambda: self.step(1))
        self.controls.sample_step_button.clicked.connect(lambda: self.step_sample())
        self.controls.step_n_button.clicked.connect(lambda: self.step(self.controls.step_n_spin.value()))
        self.controls.reset_button.clicked.connect(lambda: self.reset())
        self.controls.set_training_enabled(False)
        self._show_status(COMPILING, 0, np.nan, 0.0)
        self.statusBar().showMessage("Compiling the training kernels (once; later starts load them from the cache)…")

        self.thread = TrainingThread(config)
        self.thread.snapshot.connect(self._apply_snapshot)
        self.thread.progress.connect(self._show_progress)
        self.controls.configChanged.connect(self.thread.set_config)
        self.controls.configChanged.connect(self._config_edited)
        self.controls.speedChanged.connect(self.thread.set_speed)
        self.controls.stopRulesChanged.connect(self.thread.set_stop_rules)
        self.thread.set_speed(self.controls.speed())
        self.thread.set_stop_rules(self.controls.stop_rules())
        self._awaiting_load = False
        self.experiments = Experiments(self)
        self.controls.configChanged.connect(lambda _config: self.experiments.set_modified(True))
        self.experiments.restore_window()

    @property
    def startup_note(self) -> str:
        """Shown in the status bar once training is ready (e.g. remembered settings set aside)."""
        return self._startup_note

    @startup_note.setter
    def startup_note(self, note: str) -> None:
        self._startup_note = note
        config = set_aside_config() if note else None
        tip = self.experiments.offer_set_aside(config)
        self.statusBar().setToolTip(tip)
        if self.controls.play_button.isEnabled() and note:
            self.statusBar().showMessage(note)

    def showEvent(self, event) -> None:
        """Start training's thread once the window is up, so its imports and compile come after the first paint."""
        super().showEvent(event)
        if not self._started:
            QTimer.singleShot(0, self.start_worker)

    def start_worker(self) -> None:
        if not self._started:  # also set by shutdown(): a closed window never starts its thread
            self._started = True
            self.thread.start()
            QTimer.singleShot(RESERVE_AFTER_MS, self.curves.history.reserve)  # while the kernels load, after the first paint

    # --- tabs built on demand -----------------------------------------------------------------------
    _TAB_INDEX: ClassVar[dict[str, int]] = {"inspect": 1, "compare": 2, "sweep": 3}

    def _view(self, name: str) -> QWidget:
        view = self._tab_views[name]
        if view is None:
            view = self._build_view(name)
            self._tab_views[name] = view
            index = self._TAB_INDEX[name]
            current = self.tabs.currentIndex()
            title, tip = self.tabs.tabText(index), self.tabs.tabToolTip(index)
            blocked = self.tabs.blockSignals(True)
            old = self.tabs.widget(index)
            self.tabs.removeTab(index)
            old.deleteLater()
            self.tabs.insertTab(index, view, title)
            self.tabs.setTabToolTip(index, tip)
            self.tabs.setCurrentIndex(current)
            self.tabs.blockSignals(blocked)
        return view

    def _build_view(self, name: str) -> QWidget:
        config = self.controls.config()
        if name == "inspect":
            view = InspectView()
            view.inputChosen.connect(self.thread.set_inspect_index)
            view.sample_button.clicked.connect(lambda: self.step_sample())
            view.epoch_button.clicked.connect(lambda: self.step(1))
            if self._last_inspection is not None:
                snap = self._last_inspection
                view.show_state(snap.trace, self._params, self._epoch, self._sample_position, snap.hidden_maps, self._config)
            return view
        if name == "compare":
            return CompareView(config)
        view = SweepView(config)
        view.loadRun.connect(self.load_run)
        return view

    def _tab_shown(self, index: int) -> None:
        for name, at in self._TAB_INDEX.items():
            if at == index and self._tab_views[name] is None:
                self.tabs.setCurrentWidget(self._view(name))

    @property
    def inspect_view(self) -> InspectView:
        return self._view("inspect")

    @property
    def compare_view(self) -> CompareView:
        return self._view("compare")

    @property
    def sweep_view(self) -> SweepView:
        return self._view("sweep")

    def _config_edited(self, config: TrainConfig) -> None:
        for name in ("compare", "sweep"):
            if self._tab_views[name] is not None:
                self._tab_views[name].set_base(config)

    def _add_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence | str, slot) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.play_action = action("Play/Pause", Qt.Key.Key_Space, self.toggle_play)
        self.step_action = action("Step one epoch", Qt.Key.Key_Right, lambda: self.step(1))
        self.reset_action = action("Reset", "Ctrl+R", self.reset)
        self.sample_action = action("Step one sample", "Shift+Right", lambda: self.step_sample(1))

    # --- what the window shows ------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Epochs trained, as shown."""
        return self._epoch

    @property
    def state(self) -> str:
        return self._state

    def params(self) -> Params:
        """A copy of the shown parameters, ``[(W (out, in), b (out, 1)), ...]``."""
        return [(W.copy(), b.copy()) for W, b in self._params]

    # --- commands ---------------------------------------------------------------------------------
    def play(self) -> None:
        if self.controls.play_button.isEnabled():
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
            self.thread.play()
        else:
            self.thread.pause()

    def step(self, n_epochs: int = 1) -> None:
        if self.controls.step_button.isEnabled():
            self.controls.play_button.setChecked(False)
            self.thread.step(int(n_epochs))

    def step_sample(self, n_samples: int = 1) -> None:
        """Train single samples (mode sgd); the Inspect tab shows the last one."""
        if self.controls.sample_step_button.isEnabled():
            self.controls.play_button.setChecked(False)
            self.thread.step_samples(int(n_samples))

    def reset(self) -> None:
        if self.controls.reset_button.isEnabled():
            self.controls.play_button.setChecked(False)
            self.thread.reset()

    # --- snapshots --------------------------------------------------------------------------------
    def _apply_snapshot(self, snap: Snapshot) -> None:
        """Take in a snapshot's data at once; draw the views now, or within RENDER_SECONDS while running."""
        self.thread.snapshot_taken()
        if self._awaiting_load and not snap.keep_history:
            return  # epochs of the run that an opened experiment replaces, still in flight
        self._awaiting_load = False
        if snap.restarted:
            if not snap.keep_history:
                self.curves.clear()
            self.banner.hide()
            sizes = snap.config.layer_sizes
            if sizes != self._sizes:
                self.heatmaps.build(sizes)
                self._sizes = sizes
            self.heatmaps.reset_levels()
        self.curves.append(snap.rows)
        self._epoch = snap.epoch
        self._params = snap.params
        self._state = snap.state
        self._config = snap.config
        if snap.grid_output is not None:
            self._pending_grid = snap.grid_output
        if snap.trace is not None or snap.gradient is not None or snap.hidden_maps is not None:
            self._pending_inspection = snap
        # a sample step changes the weights without completing an epoch (no rows): unsaved work all the same
        sample_stepped = not snap.restarted and snap.updates != self._updates
        self._updates = snap.updates
        self._sample_position = snap.sample_position
        self._outputs_now = snap.outputs
        if not self.controls.play_button.isEnabled():  # the first snapshot: the kernels are ready
            self.controls.set_training_enabled(True)
            if self.startup_note:
                self.statusBar().showMessage(self.startup_note)
            else:
                self.statusBar().clearMessage()
        running = snap.state == RUNNING
        if self.controls.play_button.isChecked() != running and not (
            self.controls.play_button.isChecked() and snap.state == READY
        ):
            self.controls.play_button.setChecked(running)
        if running != self._shown_running:
            self._shown_running = running
            self.controls.show_running(running)
        self._show_status(snap.state, snap.epoch, self.curves.history.last[0], snap.epochs_per_second, snap.state_text)
        if snap.state in (DIVERGED, STOPPED) and snap.message:
            color = "#c92a2a" if snap.state == DIVERGED else "#2b8a3e"
            self.banner.setStyleSheet(f"QLabel {{ color: white; background: {color}; padding: 0px 6px; border-radius: 3px; }}")
            self.banner.setText(snap.message)
            self.banner.setToolTip(snap.message)
            self.statusBar().clearMessage()
            self.banner.show()
        elif snap.message:
            self.statusBar().showMessage(snap.message, 6000)
        if running:
            self.banner.hide()
        self._dirty = self._slow_dirty = True
        if not running or self._curves_wait(time.perf_counter()) <= 0:
            self._render()
        else:
            self._schedule_render(time.perf_counter())
        if len(snap.rows) or snap.reset or sample_stepped:
            self.experiments.set_modified(True)
        self.snapshotApplied.emit(snap)

    def _curves_wait(self, now: float) -> float:
        """Seconds until the curves may be drawn again while running."""
        return max(RENDER_SECONDS - (now - self._last_render), STAGGER_SECONDS - (now - self._last_draw))

    def _slow_wait(self, now: float) -> float:
        """Seconds until the next slow view may be drawn while running."""
        after_last = STAGGER_SECONDS - (now - self._last_draw)
        if self._slow_stage:
            return after_last
        return max(SLOW_RENDER_SECONDS - (now - self._last_slow_render), after_last)

    def _schedule_render(self, now: float) -> None:
        """Start the render timer for the earliest pending draw, unless it is already due to fire sooner."""
        pending = ((self._curves_wait, self._dirty), (self._slow_wait, self._slow_dirty))
        waits = [wait(now) for wait, dirty in pending if dirty]
        if not waits:
            return
        ms = max(1, int(min(waits) * 1000 + 0.5))
        if not self._render_timer.isActive() or self._render_timer.remainingTime() > ms:
            self._render_timer.start(ms)

    def _render(self) -> None:
        """Draw what changed. Not running: everything at once. Running: the curves at most every
        RENDER_SECONDS, the slow views at most every SLOW_RENDER_SECONDS, and each draw in its own
        event-loop turn at least STAGGER_SECONDS after the previous one, so the window keeps answering."""
        self._render_timer.stop()
        now = time.perf_counter()
        running = self._state == RUNNING
        drew_curves = self._dirty and (not running or self._curves_wait(now) <= 0)
        if drew_curves:
            self._draw_curves()
            self._last_render = self._last_draw = now
        if self._slow_dirty and not running:
            for view in SLOW_VIEWS:
                self._draw_slow_view(view)
            self._slow_dirty, self._slow_stage = False, 0
        elif self._slow_dirty and self._slow_wait(now) <= 0:
            if self._slow_stage == 0:
                self._last_slow_render = now
            self._draw_slow_view(SLOW_VIEWS[self._slow_stage])
            self._last_draw = now
            self._slow_stage = (self._slow_stage + 1) % len(SLOW_VIEWS)
            self._slow_dirty = self._slow_stage != 0
        if running:
            self._schedule_render(now)
        if drew_curves or not running:
            self.rendered.emit()

    def _draw_curves(self) -> None:
        last = self.curves.history.last
        self.curves.show_epoch(self._epoch, last[0], last[1:], self._outputs_now)
        self.curves.loss_plot.set_loss_name(self._config.loss)
        self.curves.redraw()
        self._dirty = False

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
            tab = self._tab_views["inspect"]
            if tab is not None:
                tab.show_state(inspection.trace, self._params, self._epoch, self._sample_position,
                               inspection.hidden_maps, self._config)  # fmt: skip

    def _show_progress(self, text: str) -> None:
        """What the training thread is busy with (a big network's build or decision map); "" when done."""
        if text:
            self.statusBar().showMessage(text)
        elif self.statusBar().currentMessage() == self._progress_text:
            self.statusBar().clearMessage()
        self._progress_text = text

    def _show_status(self, state: str, epoch: int, loss: float, rate: float, state_text: str = "") -> None:
        self.state_label.setText(f"<b>{state_text or state}</b>")
        position = getattr(self, "_sample_position", 0)
        # the Inspect tab's words: "Epoch 3 · after sample 1 of 4 of epoch 4"
        self.epoch_label.setText(f"Epoch {epoch:,}" + (f" · {progress(epoch, position)}" if position else ""))
        self.loss_label.setText(f"Loss {format_loss(loss)}" if epoch else "Loss –")
        self.rate_label.setText(f"{rate:,.0f} epochs/s" if state == RUNNING else "")

    # --- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.experiments.may_close():
            event.ignore()
            return
        self.experiments.remember_window()
        self.shutdown()
        super().closeEvent(event)

    def shown_config(self) -> TrainConfig:
        """The settings of the run on show (as of the last snapshot)."""
        return self._config

    def show_experiment(self, experiment) -> None:
        """Continue `experiment` (an `engine.experiment.Experiment`) in the Train tab, paused at its epoch."""
        self.controls.play_button.setChecked(False)
        self.controls.set_config(experiment.config)
        self.curves.history = experiment.history
        self.curves.clear_view()
        self._awaiting_load = True
        last_loss = float(experiment.history.last[0]) if experiment.history.n_epochs else float("nan")
        self.thread.load(experiment.state, experiment.config, last_loss)
        self._config_edited(experiment.config)
        self.tabs.setCurrentIndex(0)
        self.start_worker()

    def load_run(self, config: TrainConfig) -> None:
        """Show `config` in the Train tab, from epoch 0 (a sweep's run replays exactly), once unsaved work is
        saved or given up; cancelled, everything stays as it was and the status bar says so."""
        label = f"seed {config.seed}, learning rate {config.learning_rate:g}, hidden {config.hidden[0]}, {config.optimizer}"
        load = self.experiments.replace_experiment(lambda _how: self._load_run(config, label), f"loading the run of {label}")
        if load is not Replace.CANCELLED:
            return
        kept = f"Kept the unsaved experiment: the run of {label} was not loaded"
        self.statusBar().showMessage(kept, 10000)
        if self._tab_views["sweep"] is not None:
            self._tab_views["sweep"].message.setText(kept + ".")

    def _load_run(self, config: TrainConfig, label: str) -> None:
        message = f"Loaded {label}: press Play to replay it"
        self.controls.set_config(config)
        self.thread.set_config(config)
        self.thread.reset(message)  # the reset's snapshot says it, rather than "Reset to epoch 0"
        self._config_edited(config)
        self.tabs.setCurrentIndex(0)
        self.statusBar().showMessage(message, 10000)
        if self._tab_views["sweep"] is not None:
            self._tab_views["sweep"].show_loaded(config)

    def shutdown(self) -> None:
        """Stop and join every background thread (idempotent)."""
        for name in ("compare", "sweep"):
            if self._tab_views[name] is not None:
                self._tab_views[name].shutdown()
        self._started = True
        if self.thread.isRunning() and not self.thread.stop(STOP_TIMEOUT_MS):
            self.statusBar().showMessage("Waiting for the first compile to finish before closing…")
            self.thread.wait(COMPILE_TIMEOUT_MS)
