"""The Compare tab: 2 to 6 variations of the current settings, trained side by side from the same weights.

"Which converges faster?" has four answers, one per x axis: epochs, seconds in the kernel, sample-gradient
evaluations and weight updates. The table gives each run's numbers to the target loss, and a sentence
answers the question for the runs shown.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine import History, TrainConfig
from engine.compare import (
    DEFAULT_TARGET_LOSS,
    MAX_RUNS,
    MIN_RUNS,
    X_AXES,
    describe_duplicates,
    next_run,
    summarize,
    verdict,
    x_values,
)
from engine.datasets import CSV, Dataset, make_dataset
from engine.fields import CONFIG_FIELDS

from .compare_thread import MAX_EPOCHS, CompareSnapshot, CompareThread
from .controls import ERROR_COLOR, FieldInput, LogSpinBox, object_name
from .curves import LogAxis
from .figures import RUN_COLORS, X_LABELS
from .landscape_view import SharedPlanePanel
from .legends import LegendRow
from .style import format_percent

SOLVED_HEADER = "solved: all |ŷ − y| < 0.4"  # the sweep's definition: every output on its side of 0.5 with a margin
ROW_COLUMNS = ("loss", "seconds", "train_accuracy", "test_accuracy")  # a run's history row, as CompareThread sends it
TRAIN_ACCURACY, TEST_ACCURACY = ROW_COLUMNS.index("train_accuracy"), ROW_COLUMNS.index("test_accuracy")


# The runs table's columns. Every other setting (L2 and L1 among them) all runs share: the Train tab's, named in the
# header above the table; at 1366 px two more columns do not fit. The command line varies any of them (`compare --run`).
RUN_FIELDS = ("mode", "batch_size", "learning_rate", "optimizer")


def data_name(data: Dataset) -> str:
    """What the data is called in the tabs' headers: the file's name for a CSV file, else the data's name."""
    return Path(data.spec.path).name if data.spec.name == CSV and data.spec.path else data.spec.name


def regularisation(config: TrainConfig) -> str:
    """ ", L2 λ 0.001" for each regularisation rate of `config` that is not 0 (labelled as `engine.fields` labels it)."""
    return "".join(f", {CONFIG_FIELDS[name].label} {getattr(config, name):g}" for name in ("l2", "l1") if getattr(config, name))


class RunsEditor(QTableWidget):
    """One row per run: a widget per setting of `RUN_FIELDS`, built from its `engine.fields` description (the Train
    tab's `FieldInput`), so a run takes any value that setting takes: nothing is clamped to a narrower range."""

    changed = Signal()
    rejected = Signal(str)  # a cell's message about text it did not take ("" once good again)

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(RUN_FIELDS), parent)
        self.setObjectName("compareRuns")
        self.setHorizontalHeaderLabels([CONFIG_FIELDS[name].label for name in RUN_FIELDS])
        self.inputs: list[dict[str, FieldInput]] = []  # per row, per field
        # every column as wide as its header and widgets, and the table as tall as its rows (at most 6): at 6 runs
        # a scroll bar used to squeeze the header to "earning rate"
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        self.verticalHeader().setVisible(True)
        self.setToolTip("The compared runs. All start from the same initial weights (the Train tab's seed and network).")

    def add_run(self, config: TrainConfig) -> None:
        row = self.rowCount()
        self.insertRow(row)
        inputs = {}
        for col, name in enumerate(RUN_FIELDS):
            field = CONFIG_FIELDS[name]
            cell = FieldInput(field)
            cell.set_value(getattr(config, name))
            name_in_form = object_name(field)  # "learningRateSpin": the Train tab's; this one is "compareLearningRateSpin"
            cell.widget.setObjectName(f"compare{name_in_form[0].upper()}{name_in_form[1:]}")
            cell.widget.setToolTip(f"{field.label} of this run: {field.help}")
            if isinstance(cell.widget, LogSpinBox):
                cell.widget.rejected.connect(self.rejected)
            self.setCellWidget(row, col, cell.widget)
            cell.connect(self.changed)
            inputs[name] = cell
        self.inputs.append(inputs)
        inputs["mode"].connect(self._sync)
        self._sync()
        self.changed.emit()

    def remove_last(self) -> None:
        if self.rowCount() > MIN_RUNS:
            self.removeRow(self.rowCount() - 1)
            self.inputs.pop()
            self.changed.emit()

    def _sync(self) -> None:
        for inputs in self.inputs:
            inputs["batch_size"].widget.setEnabled(inputs["mode"].value() == "minibatch")

    def configs(self, base: TrainConfig) -> list[TrainConfig]:
        return [base.replace(**{name: cell.value() for name, cell in inputs.items()}) for inputs in self.inputs]


class CompareView(QWidget):
    """The Compare tab. `base_config` gives the network and initial weights (the Train tab's)."""

    def __init__(self, base_config: TrainConfig, parent=None, dataset: Dataset | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self._base = base_config
        self.dataset = make_dataset() if dataset is None else dataset
        self.histories: list[History] = []
        self.predictions: list[np.ndarray] = []
        self.diverged: list[bool] = []
        self.configs: list[TrainConfig] = []
        self.labels: list[str] = []
        self.epoch = 0
        self.state = "Compiling"
        self._dirty_runs = True

        self.editor = RunsEditor()
        self.editor.add_run(base_config.replace(mode="sgd"))
        self.editor.add_run(base_config.replace(mode="batch"))
        self.runs_note = QLabel()
        self.runs_note.setObjectName("compareRunsNote")
        self.runs_note.setWordWrap(True)
        self.runs_note.setStyleSheet("color: #e67700;")
        self.runs_note.setVisible(False)
        self.runs_error = QLabel()  # a cell's text that was not taken, and what was kept
        self.runs_error.setObjectName("compareRunsError")
        self.runs_error.setWordWrap(True)
        self.runs_error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.runs_error.setVisible(False)
        self.editor.rejected.connect(lambda text: (self.runs_error.setText(text), self.runs_error.setVisible(bool(text))))
        add = QPushButton("Add run")
        add.setObjectName("compareAddRun")
        add.setToolTip(f"Add a run (at most {MAX_RUNS})")
        add.clicked.connect(self._add_run)
        remove = QPushButton("Remove run")
        remove.setObjectName("compareRemoveRun")
        remove.setToolTip(f"Remove the last run (at least {MIN_RUNS})")
        remove.clicked.connect(self.editor.remove_last)
        self.add_button, self.remove_button = add, remove

        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("comparePlayButton")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Train all runs side by side; click again to pause")
        self.step_spin = QSpinBox()
        self.step_spin.setRange(1, MAX_EPOCHS)
        self.step_spin.setValue(1000)
        self.step_spin.setGroupSeparatorShown(True)
        self.step_spin.setToolTip("Epochs that Step trains")
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("compareStepButton")
        self.step_button.setToolTip("Train every run the number of epochs on the left")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("compareResetButton")
        self.reset_button.setToolTip("Start all runs again from the shared initial weights")
        self.limit_spin = QSpinBox()
        self.limit_spin.setObjectName("compareLimitSpin")
        self.limit_spin.setRange(1, MAX_EPOCHS)
        self.limit_spin.setValue(20000)
        self.limit_spin.setGroupSeparatorShown(True)
        self.limit_spin.setToolTip(f"Stop every run at this epoch (at most {MAX_EPOCHS:,})")
        self.target_spin = LogSpinBox(1e-12, 10.0)
        self.target_spin.setObjectName("compareTargetSpin")
        self.target_spin.setValue(DEFAULT_TARGET_LOSS)
        self.target_spin.setToolTip("The loss that counts as converged")
        self.axis_combo = QComboBox()
        self.axis_combo.setObjectName("compareAxisCombo")
        self.axis_combo.addItems(list(X_AXES))
        self.axis_combo.setToolTip("What 'faster' means: per epoch, per second of computing, per sample-gradient, per update")
        self.log_check = QCheckBox("log scale")
        self.log_check.setChecked(True)
        self.log_check.setToolTip("Show the loss on a logarithmic axis")
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)

        self.plot = pg.PlotWidget(axisItems={"left": LogAxis("left")})  # labels that never crowd
        self.plot.setObjectName("comparePlot")
        item = self.plot.getPlotItem()
        item.setLogMode(y=True)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.setLabel("left", "loss")
        self.legend = LegendRow(item)  # above the curves, never over them
        self.target_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#868e96", style=Qt.PenStyle.DashLine))
        item.addItem(self.target_line)
        self.curves: list[pg.PlotDataItem] = []
        self.table = QTableWidget(0, 7)
        self.table.setObjectName("compareTable")
        self.table.setHorizontalHeaderLabels(
            ["run", "epochs", "updates", "gradient evals", "seconds", "final loss", SOLVED_HEADER]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # as tall as its rows (at most 6, one line each): at 1366×768 all runs show with no scrolling
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setToolTip("Per run: epochs, updates, gradient evaluations and kernel seconds to reach the target loss")
        self.verdict_label = QLabel()
        self.verdict_label.setObjectName("compareVerdict")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setStyleSheet("font-size: 11pt; padding: 4px;")

        settings = QGroupBox("Runs (all from the same initial weights)")
        box = QVBoxLayout(settings)
        box.addWidget(self.base_label)
        box.addWidget(self.editor)
        box.addWidget(self.runs_note)
        box.addWidget(self.runs_error)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        box.addLayout(row)
        form = QFormLayout()
        form.addRow("Stop at epoch", self.limit_spin)
        form.addRow("Target loss", self.target_spin)
        form.addRow("x axis", self.axis_combo)
        form.addRow(self.log_check)
        box.addLayout(form)
        run_row = QHBoxLayout()
        run_row.addWidget(self.play_button)
        run_row.addWidget(self.step_spin)
        run_row.addWidget(self.step_button)
        run_row.addWidget(self.reset_button)
        box.addLayout(run_row)
        box.addStretch(1)
        settings.setMaximumWidth(460)
        right = QVBoxLayout()
        self.landscape = SharedPlanePanel()  # the runs' paths on one loss surface, computed when its tab is shown
        self.plot_tabs = QTabWidget()
        self.plot_tabs.setObjectName("comparePlotTabs")
        self.plot_tabs.addTab(self.plot, "Loss curves")
        self.plot_tabs.addTab(self.landscape, "Loss surface")
        right.addWidget(self.plot_tabs, 1)  # the plots take the height the sentence and the table leave
        right.addWidget(self.verdict_label)
        right.addWidget(self.table)
        layout = QHBoxLayout(self)
        layout.addWidget(settings)
        layout.addLayout(right, 1)

        self.editor.changed.connect(self._runs_changed)
        self.play_button.clicked.connect(self._play_clicked)
        self.step_button.clicked.connect(lambda: self.thread.step(self.step_spin.value()))
        self.reset_button.clicked.connect(lambda: self.thread.reset())
        self.limit_spin.valueChanged.connect(lambda v: self.thread.set_limit(v))
        self.target_spin.valueChanged.connect(self._redraw_all)
        self.axis_combo.currentIndexChanged.connect(self._axis_changed)
        self.log_check.toggled.connect(self._log_toggled)
        self._set_enabled(False)
        self._show_base()

        self.thread = CompareThread(base_config, self.editor.configs(base_config), data=self.dataset)
        self.thread.snapshot.connect(self._apply)
        self.thread.set_limit(self.limit_spin.value())
        self._started = False

    # --- lifecycle ----------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.thread.start()

    def shutdown(self) -> None:
        self._started = True
        self.thread.shutdown()
        self.landscape.shutdown()

    def set_base(self, config: TrainConfig) -> None:
        """The Train tab's settings changed: compare variations of these. The runs table's own settings aside, every
        setting is the runs' shared one (the network, the loss, L2 and L1...): a change restarts the runs with it."""
        own = {name: getattr(self._base, name) for name in RUN_FIELDS}  # what the runs table sets for each run
        if config.replace(**own) != self._base:
            self._base = config
            self._show_base()
            self._runs_changed()

    def set_data(self, dataset: Dataset) -> None:
        """The Train tab's data changed: the runs train on `dataset` (and start again) and the table
        shows what it can say of them (XOR: solved; other data: train and test accuracy)."""
        self.dataset = dataset
        self.thread.set_data(dataset)
        self._show_base()
        self._redraw_all()

    def _show_base(self) -> None:
        b, data = self._base, self.dataset
        test = f", {data.n_test:,} test" if data.n_test else ""
        self.base_label.setText(
            f"Network and initial weights from the Train tab: hidden {', '.join(map(str, b.hidden)) or 'none'}, "
            f"{b.activation}, {b.loss}, {b.init} init, seed {b.seed}{regularisation(b)}; data {data_name(data)} "
            f"({data.n_train:,} training{test} points)."
        )

    # --- controls -----------------------------------------------------------------------------
    def _add_run(self) -> None:
        if self.editor.rowCount() < MAX_RUNS:
            self.editor.add_run(next_run(self._base, self.editor.configs(self._base)))  # never a copy of a run shown
        self.add_button.setEnabled(self.editor.rowCount() < MAX_RUNS)

    def _runs_changed(self) -> None:
        self.add_button.setEnabled(self.editor.rowCount() < MAX_RUNS)
        self.remove_button.setEnabled(self.editor.rowCount() > MIN_RUNS)
        if hasattr(self, "runs_note"):
            duplicates = describe_duplicates(self.editor.configs(self._base), self._base)
            self.runs_note.setText(duplicates or "")
            self.runs_note.setVisible(duplicates is not None)
        if hasattr(self, "thread"):
            self.play_button.setChecked(False)
            self.thread.set_runs(self._base, self.editor.configs(self._base))

    def _play_clicked(self, checked: bool) -> None:
        if checked:
            self.thread.play()
        else:
            self.thread.pause()

    def _axis_changed(self) -> None:
        self._redraw_all()
        self.plot.getPlotItem().enableAutoRange()  # the old range means nothing on the new axis

    def _log_toggled(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)
        self._redraw_all()

    def _set_enabled(self, enabled: bool) -> None:
        for w in (self.play_button, self.step_button, self.reset_button):
            w.setEnabled(enabled)

    # --- snapshots ----------------------------------------------------------------------------
    def _apply(self, snap: CompareSnapshot) -> None:
        if snap.restarted:
            self.configs, self.labels = snap.configs, snap.labels
            # a row per epoch: loss, cumulative kernel seconds, and train and test accuracy when the thread sends them
            n_series = snap.rows[0].shape[1] if snap.rows else len(ROW_COLUMNS)
            self.histories = [History(n_series=n_series, exact_limit=MAX_EPOCHS) for _ in snap.configs]
            self.predictions = [np.full(self._n_predictions(), np.nan) for _ in snap.configs]
            item = self.plot.getPlotItem()
            for curve in self.curves:
                item.removeItem(curve)
            self.curves = [
                item.plot(pen=pg.mkPen(RUN_COLORS[i % len(RUN_COLORS)], width=1), name=label)
                for i, label in enumerate(snap.labels)
            ]
            for curve in self.curves:
                curve.setDownsampling(auto=True, method="peak")
                curve.setClipToView(True)
        for i, rows in enumerate(snap.rows):
            if len(rows):
                self.histories[i].extend(rows)
                self.predictions[i] = snap.predictions[i]
        self.diverged = snap.diverged
        self.epoch = snap.epoch
        self.state = snap.state
        self.landscape.set_runs(self.configs[0], self.configs, self.labels, self.dataset, snap.epoch)
        self._set_enabled(True)
        self.play_button.setChecked(snap.state == "Running")
        self.play_button.setText("Pause" if snap.state == "Running" else "Play")
        self._redraw_all()

    def _n_predictions(self) -> int:
        """ŷ recorded per run and epoch: one per training point for data that records them (XOR), else none."""
        return self.dataset.n_train if self.dataset.records_predictions else 0

    def summaries(self):
        target = self.target_spin.value()
        targets = self.dataset.train_targets
        out = []
        for i, history in enumerate(self.histories):
            exact = history.exact()
            predictions = self.predictions[i]
            if len(predictions) != len(targets):  # no outputs recorded: "solved" is not known (the table says accuracy)
                predictions = np.full(len(targets), np.nan)
            accuracy = {}
            if history.n_series >= len(ROW_COLUMNS) and history.n_epochs:
                last = history.last
                accuracy = {"final_train_accuracy": float(last[TRAIN_ACCURACY]),
                            "final_test_accuracy": float(last[TEST_ACCURACY])}  # fmt: skip
            out.append(summarize(self.labels[i], self.configs[i], exact[:, 0], exact[:, 1], predictions, target,
                                 self.diverged[i] if i < len(self.diverged) else False, targets, **accuracy))  # fmt: skip
        return out

    def _headers(self, target: float) -> list[str]:
        """The table's columns: XOR's "solved", or the final train (and test) accuracy on other data."""
        head = ["run", f"epochs to {target:g}", "updates", "gradient evals", "kernel time", "final loss"]
        if self.dataset.records_predictions:
            return [*head, SOLVED_HEADER]
        return [*head, "train accuracy", *(["test accuracy"] if self.dataset.n_test else [])]

    def _redraw_all(self) -> None:
        axis = self.axis_combo.currentText()
        item = self.plot.getPlotItem()
        item.setLabel("bottom", X_LABELS[axis])
        target = self.target_spin.value()
        self.target_line.setValue(math.log10(target) if self.log_check.isChecked() else target)
        width = max(200, int(self.plot.getPlotItem().getViewBox().width()))
        for i, history in enumerate(self.histories):
            view = history.view(max_points=width)  # about one point per pixel, however long the runs
            self.curves[i].setData(x_values(axis, view.x, view.y[:, 1], self.configs[i]), view.y[:, 0])
        summaries = self.summaries()
        headers = self._headers(target)
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(summaries))
        for r, s in enumerate(summaries):
            cells = [
                s.label,
                "-" if s.epochs_to_target is None else f"{s.epochs_to_target:,}",
                "-" if s.updates_to_target is None else f"{s.updates_to_target:,}",
                "-" if s.gradient_evaluations_to_target is None else f"{s.gradient_evaluations_to_target:,}",
                "-" if s.seconds_to_target is None else f"{s.seconds_to_target * 1000:,.1f} ms",
                "diverged" if s.diverged else ("–" if not s.epochs else f"{s.final_loss:.4g}"),
            ]
            if self.dataset.records_predictions:
                cells.append("yes" if s.solved else "no")
            else:
                cells.append(format_percent(s.final_train_accuracy))
                if self.dataset.n_test:
                    cells.append(format_percent(s.final_test_accuracy))
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if c == 0:
                    cell.setForeground(pg.mkColor(RUN_COLORS[r % len(RUN_COLORS)]))
                self.table.setItem(r, c, cell)
        if self.epoch:
            self.verdict_label.setText(verdict(summaries, target))
        else:
            self.verdict_label.setText("Press Play to train the runs side by side.")


__all__ = ["CompareView"]
