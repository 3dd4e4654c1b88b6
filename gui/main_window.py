"""`MainWindow`: the tabs, the menus and shortcuts, and the status bar. The Train tab is gui/train_tab.py; the
other tabs are built when first shown; the File and Settings menus are gui/experiments.py."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSizePolicy, QTabWidget, QWidget

from engine import TrainConfig
from engine.datasets import Dataset

from .compare_view import CompareView
from .experiments import Experiments, Replace, set_aside_config
from .history_panel import add_run_panels
from .inspect_view import InspectView
from .inspector import progress
from .landscape_view import LandscapeView
from .snapshot import COMPILING, DIVERGED, RUNNING, STOPPED, Snapshot
from .style import format_loss
from .sweep_view import SweepView
from .train_tab import TrainTab

TABS: dict[str, tuple[str, str]] = {  # the tabs built on demand: title, tooltip (the Train tab comes first)
    "inspect": ("Inspect", "The numbers inside backpropagation, sample by sample; the network; each hidden unit"),
    "compare": ("Compare", "Which converges faster? Runs side by side from the same initial weights"),
    "sweep": ("Sweep", "Many seeds on all cores: how often is the data solved, and why do runs get stuck?"),
    "landscape": ("Landscape", "The real loss over a plane through the current weights, with the run's path drawn on it"),
}
# the Train tab's names that the window answers too (`window.controls`, `window.play()`...), for scripts and tests
SHORTCUTS = frozenset({"controls", "curves", "decision_map", "heatmaps", "views_area", "main_splitter",
                       "bottom_splitter", "epoch", "state", "sample_position", "loading", "params", "shown_config", "play",
                       "pause", "toggle_play", "step", "step_sample", "reset"})  # fmt: skip


class MainWindow(QMainWindow):
    """Watch a network learn: the Train, Inspect, Compare and Sweep tabs, the menus and the status bar."""

    snapshotApplied = Signal(object)  # Snapshot, after its data is in (views drawn too unless running)
    rendered = Signal()  # after the curves were drawn (and, when not running, every view)
    _TAB_INDEX: ClassVar[dict[str, int]] = {name: i + 1 for i, name in enumerate(TABS)}

    def __init__(self, config: TrainConfig | None = None, parent=None, data: Dataset | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Backprop Lab")
        self._startup_note = ""
        self._progress_text = ""
        self.train = train = TrainTab(config, data=data)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(train, "Train")
        self.tabs.setTabToolTip(0, "Watch one network learn")
        # the other tabs are built when first shown or used: they would add ~150 ms to the launch
        self._tab_views: dict[str, QWidget | None] = dict.fromkeys(TABS)
        for index, (title, tip) in enumerate(TABS.values(), start=1):
            self.tabs.addTab(QWidget(), title)
            self.tabs.setTabToolTip(index, tip)
        self.tabs.currentChanged.connect(self._tab_shown)
        self.setCentralWidget(self.tabs)
        self.setFocusProxy(train.views_area)

        self.banner = QLabel()  # why training stopped or diverged, in colour, in the status bar (it moves nothing)
        self.banner.setObjectName("messageBanner")
        self.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self.banner.hide()
        self.state_label, self.epoch_label, self.loss_label, self.rate_label = labels = [QLabel() for _ in range(4)]
        for label, name in zip(labels, ("stateLabel", "epochLabel", "lossLabel", "rateLabel")):
            label.setObjectName(name)
            label.setMinimumWidth(110)
            label.setContentsMargins(6, 0, 6, 0)  # a gap between one label's text and the next's
            self.statusBar().addPermanentWidget(label)
        self.statusBar().addWidget(self.banner, 1)  # where messages show: a message hides it until it times out
        self._show_status(COMPILING, 0, np.nan, 0.0)
        self.statusBar().showMessage("Compiling the training kernels (once; later starts load them from the cache)…")

        self._add_actions()
        train.ready.connect(self._ready)
        train.snapshotTaken.connect(self._show_snapshot)
        train.snapshotApplied.connect(self.snapshotApplied)
        train.rendered.connect(self.rendered)
        train.progress.connect(self._show_progress)
        train.configChanged.connect(lambda config: self._tabs_follow(config=config))
        train.dataChanged.connect(lambda data: self._tabs_follow(data=data))
        train.inspectRequested.connect(lambda index: self.show_tab("inspect").select_point(index))
        self.experiments = Experiments(self, train)
        for changed in (train.configChanged, train.dataChanged, train.modified):
            changed.connect(lambda *_: self.experiments.set_modified(True))
        self.diagnosis_panel, self.history_panel = add_run_panels(self)  # docks on the right
        self.experiments.restore_window()  # the size: remembered, within the screen

    def __getattr__(self, name: str):
        if name in SHORTCUTS:
            return getattr(self.train, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    thread = property(lambda self: self.train.thread, doc="The Train tab's training thread (hides QObject.thread()).")

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
        if self.train.is_ready and note:
            self.statusBar().showMessage(note)

    def showEvent(self, event) -> None:
        """Start training's thread once the window is up, so its imports and compile come after the first paint."""
        super().showEvent(event)
        QTimer.singleShot(0, self.train.start)  # once: a started (or shut down) tab ignores it

    def _add_actions(self) -> None:
        for text, shortcut, slot in (("Play/Pause", Qt.Key.Key_Space, lambda: self.train.toggle_play()),
                                     ("Step one epoch", Qt.Key.Key_Right, lambda: self.train.step(1)),
                                     ("Reset", "Ctrl+R", lambda: self.train.reset()),
                                     ("Step one sample", "Shift+Right", lambda: self.train.step_sample(1))):  # fmt: skip
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    # --- tabs built on demand -----------------------------------------------------------------------
    def built_view(self, name: str) -> QWidget | None:
        """The tab `name` ("inspect", "compare", "sweep") if it was built, else None (building none)."""
        return self._tab_views[name]

    def show_tab(self, name: str) -> QWidget:
        """Make the tab `name` ("train" or one of TABS) the current one (building it first); returns it."""
        view = self.train if name == "train" else self._view(name)
        self.tabs.setCurrentWidget(view)
        return view

    def _view(self, name: str) -> QWidget:
        view = self._tab_views[name]
        if view is None:
            view = self._tab_views[name] = self._build_view(name)
            index, current = self._TAB_INDEX[name], self.tabs.currentIndex()
            blocked = self.tabs.blockSignals(True)
            old = self.tabs.widget(index)
            self.tabs.removeTab(index)
            old.deleteLater()
            self.tabs.insertTab(index, view, TABS[name][0])
            self.tabs.setTabToolTip(index, TABS[name][1])
            self.tabs.setCurrentIndex(current)
            self.tabs.blockSignals(blocked)
        return view

    def _build_view(self, name: str) -> QWidget:
        if name == "inspect":
            view = InspectView(self.train.data)
            self.train.attach_inspect(view)
            return view
        if name == "compare":
            return CompareView(self.train.config(), dataset=self.train.data)
        if name == "landscape":
            return LandscapeView(train=self.train)  # it follows the Train tab's snapshots
        view = SweepView(self.train.config(), dataset=self.train.data)
        view.loadRun.connect(self.load_run)
        return view

    def _tab_shown(self, index: int) -> None:
        for name, at in self._TAB_INDEX.items():
            if at == index and self._tab_views[name] is None:
                self.tabs.setCurrentWidget(self._view(name))

    inspect_view = property(lambda self: self._view("inspect"), doc="The Inspect tab (built on first use).")
    compare_view = property(lambda self: self._view("compare"), doc="The Compare tab (built on first use).")
    sweep_view = property(lambda self: self._view("sweep"), doc="The Sweep tab (built on first use).")

    def _tabs_follow(self, config: TrainConfig | None = None, data: Dataset | None = None) -> None:
        """Compare and Sweep vary the Train tab's settings and train on its data."""
        for view in (self._tab_views["compare"], self._tab_views["sweep"]):
            if view is not None and config is not None:
                view.set_base(config)
            if view is not None and data is not None:
                view.set_data(data)

    # --- the status bar ---------------------------------------------------------------------------
    def _ready(self) -> None:
        self.statusBar().showMessage(self.startup_note)  # "" clears it

    def _show_snapshot(self, snap: Snapshot) -> None:
        if snap.restarted:
            self.banner.hide()
        self._show_status(snap.state, snap.epoch, self.train.loss, snap.epochs_per_second, snap.state_text)
        if snap.state in (DIVERGED, STOPPED) and snap.message:
            color = "#c92a2a" if snap.state == DIVERGED else "#2b8a3e"
            self.banner.setStyleSheet(f"QLabel {{ color: white; background: {color}; padding: 0px 6px; border-radius: 3px; }}")
            self.banner.setText(snap.message)
            self.banner.setToolTip(snap.message)
            self.statusBar().clearMessage()
            self.banner.show()
        elif snap.message:
            self.statusBar().showMessage(snap.message, 6000)
        if snap.state == RUNNING:
            self.banner.hide()

    def _show_progress(self, text: str) -> None:
        """What the training thread is busy with (a big network's build or decision map); "" when done."""
        if text:
            self.statusBar().showMessage(text)
        elif self.statusBar().currentMessage() == self._progress_text:
            self.statusBar().clearMessage()
        self._progress_text = text

    def _show_status(self, state: str, epoch: int, loss: float, rate: float, state_text: str = "") -> None:
        self.state_label.setText(f"<b>{state_text or state}</b>")
        position, n = self.train.sample_position, self.train.data.n_train
        # the Inspect tab's words: "Epoch 3 · after sample 1 of 4 of epoch 4"
        self.epoch_label.setText(f"Epoch {epoch:,}" + (f" · {progress(epoch, position, n)}" if position else ""))
        self.loss_label.setText(f"Loss {format_loss(loss)}" if epoch else "Loss –")
        self.rate_label.setText(f"{rate:,.0f} epochs/s" if state == RUNNING else "")

    # --- replacing the experiment, closing --------------------------------------------------------
    def show_experiment(self, experiment) -> None:
        """Continue `experiment` (an `engine.experiment.Experiment`) in the Train tab, paused at its epoch."""
        self.train.show_experiment(experiment)
        self._tabs_follow(experiment.config, experiment.data)
        self.tabs.setCurrentIndex(0)

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
        message, sweep = f"Loaded {label}: press Play to replay it", self._tab_views["sweep"]
        data = sweep.result.spec.data if sweep is not None and sweep.result is not None else None  # the sweep's data
        self.train.load_config(config, message, data)  # the reset's snapshot says it, rather than "Reset to epoch 0"
        self._tabs_follow(config)
        self.tabs.setCurrentIndex(0)
        self.statusBar().showMessage(message, 10000)
        if self._tab_views["sweep"] is not None:
            self._tab_views["sweep"].show_loaded(config)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.experiments.may_close():
            event.ignore()
            return
        self.experiments.remember_window()
        self.shutdown()
        self.history_recorder.log_final()  # the run on show, as it ended
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop and join every background thread (idempotent)."""
        for name in ("compare", "sweep", "landscape"):
            if self._tab_views[name] is not None:
                self._tab_views[name].shutdown()
        self.train.shutdown(lambda: self.statusBar().showMessage("Waiting for the first compile to finish before closing…"))
