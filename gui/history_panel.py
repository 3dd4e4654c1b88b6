"""`HistoryPanel`: every run the window trains, logged automatically (engine/run_log.py's `RunLog`), and `add_run_panels`,
which makes it the window's last tab and puts "What is happening" (gui/diagnosis_panel.py) under the Train tab's timeline.

When a run is logged: when it is replaced (Reset, new data, a new network, opening a file, loading a sweep's run, a
run reopened from here) and when the window closes, if it trained at least one epoch beyond where it started, with
the exact state it ended with (the restart's snapshot brings it: `Snapshot.ended`). Networks too big to keep their
past (`engine.timeline.keeps_past`, about 700,000 parameters) are not logged. The log lives in Qt's application-data folder
(QStandardPaths.AppDataLocation + "/runs"), or where the environment variable `HISTORY_ENV` says (tests use that);
it keeps the last `LIMIT` runs. A damaged entry is skipped with one status-bar message; nothing stops the window.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.experiment import Experiment
from engine.run_log import RunEntry, RunLog
from engine.timeline import keeps_past

from .curves import LogAxis
from .diagnosis_panel import DiagnosisPanel
from .experiments import Replace
from .snapshot import Snapshot
from .style import POINT_COLORS, colormap
from .time_travel import history_to

HISTORY_ENV = "BACKPROP_LAB_HISTORY"  # a folder for the run log instead of the application-data one
LIMIT = 500
ICON_PX = 48
LIST_WIDTH = 340  # the run list's width at first (the curves take the rest)
TOOLTIP = ("Every run the window trains, logged automatically when it is replaced (Reset, new data, a new network, "
           "opening a file or a run) or the window closes, exactly as it ended. The last "
           f"{LIMIT} are kept. Select two or more "
           "to overlay their loss curves; Open continues one exactly.")  # fmt: skip


def run_log_folder() -> Path:
    """Where the run log lives: $BACKPROP_LAB_HISTORY, else the application-data folder's "runs"."""
    folder = os.environ.get(HISTORY_ENV)
    if folder:
        return Path(folder)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "runs"


def thumbnail_icon(cells: np.ndarray | None) -> QIcon:
    """The thumbnail drawn with the decision map's colours (rows are x2, bottom up), ICON_PX square."""
    if cells is None or np.ndim(cells) != 2 or np.size(cells) == 0:
        return QIcon()
    values = np.nan_to_num(np.clip(np.asarray(cells, dtype=float), 0.0, 1.0), nan=0.5)[::-1]
    rgba = np.ascontiguousarray(colormap().map(values, mode="byte"), dtype=np.uint8)
    height, width = values.shape
    image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
    return QIcon(QPixmap.fromImage(image.scaled(ICON_PX, ICON_PX, Qt.AspectRatioMode.IgnoreAspectRatio)))


class HistoryPanel(QWidget):
    """The logged runs (newest first) with thumbnails; selected runs' loss curves overlaid; Open reopens one."""

    openRequested = Signal(object)  # the entry's id
    problem = Signal(str)  # damaged entries skipped: one message

    def __init__(self, log=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.setToolTip(TOOLTIP)
        self.log = log
        self.unavailable = ""  # why there is no log (said once by `refresh`)
        self.entries: list = []
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.setIconSize(QSize(ICON_PX, ICON_PX))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setWordWrap(True)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self._open())
        self.plot = pg.PlotWidget(axisItems={"left": LogAxis("left")})
        self.plot.setObjectName("historyPlot")
        self.plot.setBackground("w")
        self.plot.setMinimumHeight(120)
        item = self.plot.getPlotItem()
        item.setLogMode(y=True)
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss")
        item.getAxis("left").enableAutoSIPrefix(False)
        self.legend = item.addLegend(offset=(-5, 1), brush=pg.mkBrush(255, 255, 255, 200), verSpacing=-6)
        self.plot.setToolTip("The loss curves of the selected runs")
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("historyOpenButton")
        self.open_button.setToolTip("Continue the selected run exactly where it was logged (asks first about unsaved work)")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open)
        self.count_label = QLabel()
        self.count_label.setObjectName("historyCount")
        self.count_label.setWordWrap(True)
        runs = QWidget()  # the list, its count and Open on the left; the selected runs' curves on the right
        runs_layout = QVBoxLayout(runs)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.count_label, 1)
        row.addWidget(self.open_button)
        runs_layout.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(runs)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([LIST_WIDTH, 3 * LIST_WIDTH])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._listed()

    def refresh(self) -> None:
        """Read the log again (newest first); damaged entries are skipped and said once through `problem`."""
        if self.log is None:
            if self.unavailable:
                self.problem.emit(self.unavailable)
                self.unavailable = ""
            return
        try:
            self.entries = list(self.log.entries())
        except OSError as err:  # the folder went away or became unreadable: say so, keep the window going
            self.problem.emit(f"Could not read the run history: {err.strerror or err}")
            return
        blocked = self.list.blockSignals(True)
        self.list.clear()
        for entry in self.entries:
            self.list.addItem(self._item(entry))
        self.list.blockSignals(blocked)
        self._listed()
        problems = self.log.problems
        if problems:
            self.problem.emit(problems[0] if len(problems) == 1 else
                              f"Skipped {len(problems)} damaged run history entries: {problems[0]}")  # fmt: skip

    def add(self, entry) -> None:
        """Show `entry`, just logged, first (the log keeps at most LIMIT runs: so does the list)."""
        self.entries = [entry, *self.entries][:LIMIT]
        blocked = self.list.blockSignals(True)
        self.list.insertItem(0, self._item(entry))
        while self.list.count() > LIMIT:
            self.list.takeItem(self.list.count() - 1)
        self.list.blockSignals(blocked)
        self._listed()

    def _item(self, entry) -> QListWidgetItem:
        item = QListWidgetItem(thumbnail_icon(entry.thumbnail), describe(entry))
        item.setData(Qt.ItemDataRole.UserRole, entry.id)
        item.setToolTip(describe(entry, long=True))
        return item

    def _listed(self) -> None:
        self._selection_changed()
        n = len(self.entries)
        self.count_label.setText(f"{n:,} run{'s' * (n != 1)}" if n else "No run yet: each is logged once replaced")
        self.count_label.setToolTip(TOOLTIP)

    def selected_ids(self) -> list:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def select(self, ids) -> None:
        """Select the runs `ids` (their curves are overlaid)."""
        wanted = set(ids)
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) in wanted)

    def curves(self) -> list[pg.PlotDataItem]:
        return self.plot.getPlotItem().listDataItems()

    def _selection_changed(self) -> None:
        ids = self.selected_ids()
        self.open_button.setEnabled(len(ids) == 1)
        item = self.plot.getPlotItem()
        item.clear()
        self.legend.clear()
        by_id = {entry.id: entry for entry in self.entries}
        entries = [by_id[run_id] for run_id in ids if run_id in by_id]
        self.legend.setVisible(len(entries) > 1)
        self.plot.setVisible(bool(entries))  # the list has the room until a run is selected
        for i, (entry, label) in enumerate(zip(entries, curve_labels(entries))):
            x, y = (np.asarray(a, dtype=float) for a in entry.loss_curve)
            shown = np.isfinite(y) & (y > 0)
            pen = pg.mkPen(POINT_COLORS[i % len(POINT_COLORS)], width=2)
            item.plot(x[shown], y[shown], pen=pen, name=label)

    def _open(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.openRequested.emit(ids[0])


def describe(entry, long: bool = False) -> str:
    """An entry in a few short lines: its data and network, settings, how long and how it ended."""
    config, final = entry.config, entry.final
    hidden = "-".join(map(str, config.hidden)) or "no hidden layer"
    kinds = [d.get("kind", "") for d in entry.diagnoses]
    lines = [f"{entry.dataset} · {hidden} {config.activation}",
             f"lr {config.learning_rate:g} · seed {config.seed} · {config.optimizer}",
             f"{entry.epoch:,} epochs" + (f" · {', '.join(kinds)}" if kinds else ""),
             f"loss {final.get('loss', np.nan):.3g}"]  # fmt: skip
    accuracy = final.get("test_accuracy", np.nan)
    accuracy = accuracy if np.isfinite(accuracy) else final.get("train_accuracy", np.nan)
    if np.isfinite(accuracy):
        lines[-1] += f" · {accuracy:.0%} right"
    if long:
        lines += [f"{config.mode}, {config.loss}, logged {entry.created}"]
        lines += [f"{d.get('title', '')} (epoch {d.get('epoch', 0):,})" for d in entry.diagnoses]
    return "\n".join(lines)


def curve_labels(entries: list) -> list[str]:
    """What tells the runs `entries` apart, in a few words each (the settings that differ, else when each was logged)."""
    fields = {"data": lambda e: e.dataset, "hidden": lambda e: "-".join(map(str, e.config.hidden)),
              "act": lambda e: e.config.activation, "lr": lambda e: f"{e.config.learning_rate:g}",
              "seed": lambda e: str(e.config.seed), "opt": lambda e: e.config.optimizer, "mode": lambda e: e.config.mode,
              "epochs": lambda e: f"{e.epoch:,}"}  # fmt: skip
    differ = [name for name, get in fields.items() if len({get(e) for e in entries}) > 1][:2]
    if not differ:
        return [e.created.replace("T", " ")[:19] for e in entries]
    return [" ".join(name + " " + fields[name](e) if name != "data" else fields[name](e) for name in differ) for e in entries]


class RunRecorder:
    """Logs the window's runs (see the module's docstring): a run the Train tab replaced (`runEnded`), and on closing
    the run on show."""

    def __init__(self, window, panel: HistoryPanel) -> None:
        self.window, self.panel, self.train = window, panel, window.train
        self.train.runEnded.connect(self.log)

    def log(self, experiment: Experiment) -> None:
        """Add `experiment` (a run as it ended) to the log and the panel; a failure is one status-bar message. A network
        too big to keep its past (`engine.timeline.keeps_past`) is not logged: its files would be too."""
        if self.panel.log is None or not keeps_past(experiment.state.theta.size):
            return
        try:
            try:
                entry = RunEntry.from_experiment(experiment)  # its thumbnail and diagnoses computed
                run_id = self.panel.log.append(entry)
            except ValueError:  # a tree that does not end at the state: the run alone (its past recomputed on reopening)
                entry = RunEntry.from_experiment(dataclasses.replace(experiment, tree=None))
                run_id = self.panel.log.append(entry)
        except (OSError, ValueError) as err:
            self.window.statusBar().showMessage(f"Could not log the run in the history: {err}", 10000)
            return
        when = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.panel.add(dataclasses.replace(entry, id=run_id, created=when, experiment=None))

    def log_final(self) -> None:
        """The window closes (its training thread has ended): log the run on show with the state it ended with, its
        epochs that no snapshot brought recomputed from its timeline."""
        thread = self.train.thread
        trainer, tree = thread.final_trainer, thread.final_tree
        if trainer is None or trainer.epoch <= self.train.start_epoch or not keeps_past(trainer.layout.n_params):
            return
        shown = self.train.tree
        if self.train.loading or shown is None or shown.generation != thread.final_generation:
            return  # the window's history is not (yet) the run's the thread ended with
        history = self.train.history  # (the window is closing: nothing appends to it any more)
        if tree is not None and tree.current_run.last_epoch == trainer.epoch:
            history = history_to(history, tree, tree.current)
        if history.n_epochs == trainer.epoch:
            self.log(Experiment(trainer.config, trainer.state(), history, "", trainer.data, tree))


def add_run_panels(window) -> tuple[DiagnosisPanel, HistoryPanel]:
    """Put "What is happening" under the Train tab's timeline and "History" in the window's last tab, wire
    them to the Train tab (diagnoses from its snapshots, links and Rewind scrub it, marks on its timeline) and start
    logging runs."""
    diagnosis = DiagnosisPanel()
    history = HistoryPanel()
    _open_log(history)
    window.train.add_under_timeline(diagnosis)  # a strip under the loss plot's timeline
    index = window.tabs.addTab(history, "History")  # the last tab (the tabs built on demand keep their places)
    window.tabs.setTabToolTip(index, "Every run the window trained: overlay their loss curves, reopen one exactly")
    train = window.train

    def snapshot(snap: Snapshot) -> None:
        if snap.restarted or (snap.epoch == 0 and snap.diagnoses is not None):
            diagnosis.clear()  # nothing trained (yet, or at the epoch shown): nothing to say
        if snap.epoch > 0:
            diagnosis.show_diagnoses(snap.diagnoses)

    train.snapshotApplied.connect(snapshot)
    diagnosis.scrubRequested.connect(train.scrub)  # the links, and Rewind to the last finite epoch
    diagnosis.rewindRequested.connect(train.scrub)
    diagnosis.marksChanged.connect(train.timeline.set_marks)
    history.problem.connect(lambda text: _say(window, text))
    history.openRequested.connect(lambda run_id: _reopen(window, history, run_id))
    window.history_recorder = RunRecorder(window, history)
    train.ready.connect(history.refresh)  # after the status bar's startup message: reading the log delays no paint
    return diagnosis, history


def _open_log(panel: HistoryPanel) -> None:
    try:
        panel.log = RunLog(run_log_folder(), limit=LIMIT)
    except (OSError, ValueError) as err:
        panel.unavailable = f"The run history is unavailable: {err}"


def _say(window, text: str) -> None:
    """A message about the history in the status bar, after the startup note if there is one (which stays)."""
    note = window.startup_note
    window.statusBar().showMessage(f"{note}. {text}" if note else text, 0 if note else 15000)


def _reopen(window, panel: HistoryPanel, run_id) -> None:
    """Open the logged run `run_id` through the window's replace flow (unsaved work is asked about first)."""
    try:
        experiment = panel.log.load(run_id)
    except (OSError, ValueError) as err:
        window.statusBar().showMessage(f"Could not open that run: {err}", 10000)
        return

    def show(how: Replace) -> None:
        window.show_experiment(experiment)
        window.experiments.path = None
        window.experiments.set_modified(False)
        window.experiments.update_title()
        window.statusBar().showMessage(f"Opened the run of {describe(_entry_by_id(panel, run_id)).splitlines()[1]}", 6000)

    if window.experiments.replace_experiment(show, "opening a run from the history") is Replace.CANCELLED:
        window.statusBar().showMessage("Kept the unsaved experiment: the run was not opened", 10000)


def _entry_by_id(panel: HistoryPanel, run_id):
    return next(entry for entry in panel.entries if entry.id == run_id)
