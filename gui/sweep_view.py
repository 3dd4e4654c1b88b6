"""The Sweep tab: many seeds and settings on all cores, to see how often the data gets solved, and why not.

The heatmap shows the fraction solved over two chosen axes (learning rate, hidden units, optimizer);
the histogram the epochs to solve; the scatter the final loss of every seed, coloured by outcome.
Clicking a cell or a seed loads that exact run into the Train tab, where it replays bit-identically.
"""

from __future__ import annotations

import gc
import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QRegularExpression, Signal
from PySide6.QtGui import QFontMetricsF, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine import OPTIMIZERS, TrainConfig, parsing
from engine.config import MAX_UNITS, ConfigError
from engine.datasets import Dataset, make_dataset
from engine.sweep import DEFAULT_TARGET_ACCURACY, MAX_RUNS, SweepResult, SweepSpec

from .compare_view import data_name, regularisation
from .curves import LogAxis
from .experiments import settings as app_settings
from .legends import LegendRow
from .style import format_percent
from .sweep_thread import SweepThread

AXES = {"learning rate": "learning_rate", "hidden units": "hidden", "optimizer": "optimizer"}
OUTCOME_COLORS = {"solved": "#2b8a3e", "stuck at 0.5": "#c92a2a", "local minimum": "#e67700", "still learning": "#1971c2",
                  "diverged": "#495057"}  # fmt: skip
STUCK = "stuck at 0.5"  # an outcome only of data that records its outputs (XOR): not in the legend of other data
NO_SOLVED_RUN = "no run reached the target"  # the histogram's words when it has no run to show
RUN_HERE, RUN_ON_CLUSTER = "This computer", "A Dask cluster"  # the "Run on" choices
CLUSTER_ADDRESS_KEY = "sweepClusterAddress"  # settings key: the Dask scheduler address last used


# The form's names of the TrainConfig fields a sweep sets.
FIELD_NAMES = {"learning_rate": "Learning rates", "hidden": "Hidden units", "optimizer": "Optimizers"}


def _list(text: str, parse, field: str) -> tuple:
    """`parse(text)` (an `engine.parsing` list parser), its message led by the form's name of the field."""
    try:
        return parse(text)
    except ValueError as err:
        raise ValueError(f"{field}: {err}") from None


class SweepView(QWidget):
    """The Sweep tab. Emits `loadRun(config)` when a cell or a seed is clicked."""

    loadRun = Signal(object)  # TrainConfig

    def __init__(self, base_config: TrainConfig, parent=None, dataset: Dataset | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepView")
        self._base = base_config
        self.dataset = make_dataset() if dataset is None else dataset
        self.result: SweepResult | None = None
        self.cell_rows: dict[tuple[int, int], np.ndarray] = {}
        self.selected: np.ndarray | None = None
        self._ran_on = ""  # " on ADDRESS" while the sweep runs on a cluster

        self.seeds_spin = QSpinBox()
        self.seeds_spin.setObjectName("sweepSeedsSpin")
        self.seeds_spin.setRange(1, 100_000)
        self.seeds_spin.setValue(200)
        self.seeds_spin.setToolTip("How many seeds per setting")
        self.seed_start_spin = QSpinBox()
        self.seed_start_spin.setRange(0, 2**31 - 1)
        self.seed_start_spin.setToolTip("The first seed; seeds run from here upwards")
        number_list = QRegularExpressionValidator(QRegularExpression(r"^[0-9eE.+\-, ]*$"))
        self.lr_edit = QLineEdit("0.1, 0.5, 2")
        self.lr_edit.setObjectName("sweepLearningRates")
        self.lr_edit.setValidator(number_list)
        self.lr_edit.setToolTip("Learning rates to sweep, comma-separated")
        self.hidden_edit = QLineEdit("2, 3, 4")
        self.hidden_edit.setObjectName("sweepHidden")
        self.hidden_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"^[0-9, ]*$")))
        self.hidden_edit.setToolTip(f"Hidden-layer widths to sweep (one hidden layer, 1 to {MAX_UNITS} units), comma-separated")
        self.optimizer_checks = {}
        opt_row = QHBoxLayout()
        for name in OPTIMIZERS:
            box = QCheckBox(name)
            box.setChecked(name == "sgd")
            box.setToolTip(f"Include the {name} optimizer")
            self.optimizer_checks[name] = box
            opt_row.addWidget(box)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setObjectName("sweepEpochsSpin")
        self.epochs_spin.setRange(1, 10_000_000)
        self.epochs_spin.setValue(5000)
        self.epochs_spin.setGroupSeparatorShown(True)
        self.epochs_spin.setToolTip("Epochs per run")
        self.accuracy_spin = QDoubleSpinBox()
        self.accuracy_spin.setObjectName("sweepTargetAccuracySpin")
        self.accuracy_spin.setRange(1.0, 100.0)
        self.accuracy_spin.setDecimals(1)
        self.accuracy_spin.setSuffix(" %")
        self.accuracy_spin.setValue(100 * DEFAULT_TARGET_ACCURACY)
        self.accuracy_spin.setToolTip("On data other than XOR a run is solved from its first epoch with at least this "
                                      "test accuracy (train accuracy when the data has no test set)")  # fmt: skip
        self.run_on_combo = QComboBox()
        self.run_on_combo.setObjectName("runOnCombo")
        self.run_on_combo.addItems([RUN_HERE, RUN_ON_CLUSTER])
        self.run_on_combo.setToolTip("Train on this computer's cores, or on the workers of a running Dask scheduler "
                                     "(pip install -e .[cluster]; see the README's \"Sweeps on a cluster\")")  # fmt: skip
        self.cluster_address_edit = QLineEdit(str(app_settings().value(CLUSTER_ADDRESS_KEY, "") or ""))
        self.cluster_address_edit.setObjectName("clusterAddressEdit")
        self.cluster_address_edit.setPlaceholderText("tcp://host:8786")
        self.cluster_address_edit.setClearButtonEnabled(True)
        self.cluster_address_edit.setToolTip("The Dask scheduler's address, as `dask scheduler` prints it")
        self.run_button = QPushButton("Run sweep")
        self.run_button.setObjectName("sweepRunButton")  # its tooltip says where it trains: _run_on_changed
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sweepCancelButton")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop the sweep now; the runs done so far are shown")
        self.progress = QProgressBar()
        self.progress.setObjectName("sweepProgress")
        self.progress.setFormat("%v / %m runs")
        self.message = QLabel()
        self.message.setObjectName("sweepMessage")
        self.message.setWordWrap(True)
        self.x_combo = QComboBox()
        self.x_combo.addItems(list(AXES))
        self.x_combo.setToolTip("Heatmap columns")
        self.y_combo = QComboBox()
        self.y_combo.addItems(list(AXES))
        self.y_combo.setCurrentText("hidden units")
        self.y_combo.setToolTip("Heatmap rows")
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)

        self.heatmap = pg.PlotWidget()
        self.heatmap.setObjectName("sweepHeatmap")
        self.heatmap.setToolTip("Fraction of seeds solved. Click a cell to see its seeds and load its typical run.")
        hm = self.heatmap.getPlotItem()
        hm.setMouseEnabled(x=False, y=False)
        hm.hideButtons()
        hm.setTitle("fraction solved", size="10pt")
        self.heat_image = pg.ImageItem(axisOrder="row-major")  # no image before a sweep (not a "0 solved" square)
        hm.addItem(self.heat_image)
        self.heat_hint = pg.TextItem("Run a sweep to see the fraction solved", anchor=(0.5, 0.5), color="#495057")
        self.heat_hint.setPos(0.5, 0.5)
        hm.addItem(self.heat_hint)
        hm.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        for side in ("bottom", "left"):
            hm.getAxis(side).setTicks([[], []])
        self.heat_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False,
                                        colorMapMenu=False, width=12, label="solved")  # fmt: skip
        self.heat_bar.setImageItem(self.heat_image, insert_in=hm)
        self.heat_texts: list[pg.TextItem] = []
        self.heat_labels: tuple[list[str], list[str]] = ([], [])  # the columns' and the rows' values, as shown
        hm.getViewBox().sigResized.connect(self._fit_heat_labels)
        self.heatmap.scene().sigMouseClicked.connect(self._heatmap_clicked)

        self.histogram = pg.PlotWidget()
        self.histogram.setObjectName("sweepHistogram")
        self.histogram.setToolTip("How many epochs the solved runs needed")
        hi = self.histogram.getPlotItem()
        hi.setLabel("bottom", "epochs to solve")
        hi.setLabel("left", "runs")
        hi.setTitle("epochs to solve", size="10pt")
        self.hist_curve = hi.plot(stepMode="center", fillLevel=0, brush=(25, 113, 194, 120), pen=pg.mkPen("#1971c2"))
        self.hist_hint = pg.TextItem(NO_SOLVED_RUN, anchor=(0.5, 0.5), color="#495057")  # shown when no run was solved
        self.hist_hint.setVisible(False)
        hi.addItem(self.hist_hint, ignoreBounds=True)
        hi.setRange(xRange=(0, self.epochs_spin.value()), yRange=(0, 10), padding=0)  # readable axes before a sweep

        self.scatter_plot = pg.PlotWidget(axisItems={"left": LogAxis("left")})  # labels that never crowd
        self.scatter_plot.setObjectName("sweepSeeds")
        self.scatter_plot.setToolTip("Final loss of every seed, coloured by outcome. Click a seed to load its run.")
        sp = self.scatter_plot.getPlotItem()
        sp.setLogMode(y=True)
        sp.getAxis("left").enableAutoSIPrefix(False)
        sp.setLabel("bottom", "seed")
        sp.setLabel("left", "final loss")
        sp.setTitle("final loss per seed", size="10pt")
        self.legend = LegendRow(sp)  # a row between the title and the points, so it hides no seed
        self.scatter = pg.ScatterPlotItem(size=6, pen=None)
        self.scatter.sigClicked.connect(self._seed_clicked)
        sp.addItem(self.scatter)
        sp.setRange(xRange=(0, self.seeds_spin.value()), yRange=(-4, 0), padding=0)  # 0.0001 to 1 before a sweep
        self.legend_marks = {
            name: pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(color)) for name, color in OUTCOME_COLORS.items()
        }
        self._legend_counts(None)

        settings = QGroupBox("Sweep")
        form = QFormLayout(settings)
        form.addRow(self.base_label)
        form.addRow("Seeds", self.seeds_spin)
        form.addRow("First seed", self.seed_start_spin)
        form.addRow("Learning rates", self.lr_edit)
        form.addRow("Hidden units", self.hidden_edit)
        form.addRow("Optimizers", opt_row)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Solved at accuracy", self.accuracy_spin)
        self._accuracy_label = form.labelForField(self.accuracy_spin)
        form.addRow("Run on", self.run_on_combo)
        form.addRow("Scheduler", self.cluster_address_edit)
        self._form = form
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.message)
        form.addRow("Heatmap columns", self.x_combo)
        form.addRow("Heatmap rows", self.y_combo)
        settings.setMaximumWidth(380)
        grid = QGridLayout()
        grid.addWidget(self.heatmap, 0, 0)
        grid.addWidget(self.histogram, 0, 1)
        grid.addWidget(self.scatter_plot, 1, 0, 1, 2)
        layout = QHBoxLayout(self)
        layout.addWidget(settings)
        layout.addLayout(grid, 1)

        self.thread = SweepThread()
        self.thread.progress.connect(self._progress)
        self.thread.result.connect(self._show_result)
        self.thread.failed.connect(self._failed)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.x_combo.currentIndexChanged.connect(self._draw)
        self.y_combo.currentIndexChanged.connect(self._draw)
        self.run_on_combo.currentIndexChanged.connect(self._run_on_changed)
        self._run_on_changed()
        self._config = base_config
        self.set_data(self.dataset)

    # --- settings ------------------------------------------------------------------------------
    def set_base(self, config: TrainConfig) -> None:
        self._config = config
        self._base = config.replace(shuffle=False)
        data = self.dataset
        test = f", {data.n_test:,} test" if data.n_test else ""
        self.base_label.setText(
            f"Other settings from the Train tab: {config.activation}, {config.loss}, {config.mode}"
            f"{f' (batch {config.batch_size})' if config.mode == 'minibatch' else ''}, {config.init} init"
            f"{regularisation(config)}{'; shuffle is off in sweeps' if config.shuffle else ''}; data {data_name(data)} "
            f"({data.n_train:,} training{test} points)."
        )

    def set_data(self, dataset: Dataset) -> None:
        """The Train tab's data changed: sweeps train on `dataset`. On data other than XOR a run is solved by its
        accuracy (the form's target); XOR keeps "every output within 0.4 of its target"."""
        self.dataset = dataset
        by_accuracy = not dataset.records_predictions
        self.accuracy_spin.setVisible(by_accuracy)
        if self._accuracy_label is not None:
            self._accuracy_label.setVisible(by_accuracy)
        if self.result is None:
            self._legend_counts(None)  # the outcomes this data can have
        self.set_base(self._config)

    def spec(self) -> SweepSpec:
        """The sweep the form describes; ValueError with a message for the user when it makes no sense."""
        lrs = _list(self.lr_edit.text(), parsing.parse_learning_rates, "Learning rates")
        hidden = _list(self.hidden_edit.text(), parsing.parse_layer_sizes, "Hidden units")
        optimizers = tuple(name for name, box in self.optimizer_checks.items() if box.isChecked())
        if not optimizers:
            raise ValueError("Optimizers: tick at least one")
        start = self.seed_start_spin.value()
        seeds = tuple(range(start, start + self.seeds_spin.value()))
        n = len(seeds) * len(lrs) * len(hidden) * len(optimizers)
        if n > MAX_RUNS:
            raise ValueError(f"{n:,} runs is more than a sweep takes ({MAX_RUNS:,}); use fewer seeds or settings")
        return SweepSpec(self._base, seeds, lrs, hidden, optimizers, self.epochs_spin.value(), data=self.dataset,
                         target_accuracy=self.accuracy_spin.value() / 100)  # fmt: skip

    # --- running -------------------------------------------------------------------------------
    def cluster_address(self) -> str | None:
        """The Dask scheduler's address the sweep runs on, or None: this computer."""
        return self.cluster_address_edit.text().strip() if self.run_on_combo.currentText() == RUN_ON_CLUSTER else None

    def _run_on_changed(self) -> None:
        on_cluster = self.run_on_combo.currentText() == RUN_ON_CLUSTER
        self._form.setRowVisible(self.cluster_address_edit, on_cluster)
        self.run_button.setToolTip("Train every (setting, seed) run on " +
                                   ("the cluster's workers" if on_cluster else "all cores"))  # fmt: skip

    def start(self) -> None:
        try:
            spec = self.spec()
        except ConfigError as err:  # a setting from the Train tab that this sweep's values make invalid
            self._refuse(f"{FIELD_NAMES.get(err.field, err.field)}: {err.reason}")
            return
        except ValueError as err:
            self._refuse(str(err))
            return
        address = self.cluster_address()
        if address == "":
            self._refuse("Scheduler: give the Dask scheduler's address, e.g. tcp://host:8786")
            return
        if address is not None:
            app_settings().setValue(CLUSTER_ADDRESS_KEY, address)
            # free unreachable Qt objects now, on the GUI thread: a collection run by Dask's IO-loop thread during the
            # sweep would destroy them there, which can deadlock against the GUI thread
            gc.collect()
        self.progress.setRange(0, spec.n_runs)
        self.progress.setValue(0)
        where = "all cores" if address is None else f"the Dask cluster at {address}"
        self.message.setText(f"Training {spec.n_runs:,} runs of {spec.epochs:,} epochs on {where}…")
        self._ran_on = "" if address is None else f" on {address}"
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.thread.start_sweep(spec, address)

    def _refuse(self, message: str) -> None:
        self.message.setText(f"<span style='color:#c92a2a'>{html.escape(message, quote=False)}</span>")

    def cancel(self) -> None:
        self.thread.cancel()
        self.cancel_button.setEnabled(False)
        self.message.setText("Cancelling after the runs in flight…")

    def _failed(self, message: str) -> None:
        """The sweep could not run on its cluster: say why, and let the user try again."""
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setValue(0)
        self._refuse(message)

    def shutdown(self) -> None:
        self.thread.shutdown()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _show_result(self, result: SweepResult) -> None:
        self.result = result
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        state = self._ran_on + ("" if result.complete else " (cancelled: the runs done so far)")
        self.message.setText(f"{len(result):,} runs in {result.seconds:.1f} s{state}; solved: {result.spec.solved_rule}. "
                             "Click a cell or a seed to load its run.")  # fmt: skip
        self.selected = None
        self._draw()

    # --- drawing -------------------------------------------------------------------------------
    def _axis_values(self, name: str) -> list:
        spec = self.result.spec
        return {
            "learning rate": list(spec.learning_rates),
            "hidden units": list(spec.hidden),
            "optimizer": list(spec.optimizers),
        }[name]

    def _draw(self) -> None:
        result = self.result
        if result is None:
            return
        x_name, y_name = self.x_combo.currentText(), self.y_combo.currentText()
        xs, ys = self._axis_values(x_name), self._axis_values(y_name)
        column = {"learning rate": result.learning_rate, "hidden units": result.hidden, "optimizer": result.optimizer}
        grid = np.full((len(ys), len(xs)), np.nan)
        self.cell_rows = {}
        for r, yv in enumerate(ys):
            for c, xv in enumerate(xs):
                rows = np.flatnonzero((column[x_name] == xv) & (column[y_name] == yv))
                if len(rows):
                    self.cell_rows[(r, c)] = rows
                    grid[r, c] = result.solved[rows].mean()
        self.heat_image.setImage(np.nan_to_num(grid, nan=0.0), autoLevels=False, levels=(0.0, 1.0),
                                 rect=QRectF(0, 0, len(xs), len(ys)))  # fmt: skip
        self.heat_grid = grid
        self.heat_hint.setVisible(False)
        hm = self.heatmap.getPlotItem()
        for text in self.heat_texts:
            hm.removeItem(text)
        self.heat_texts = []
        for (r, c), _rows in self.cell_rows.items():
            text = pg.TextItem(f"{grid[r, c]:.0%}", anchor=(0.5, 0.5), color="w" if grid[r, c] < 0.6 else "k")
            text.setPos(c + 0.5, r + 0.5)
            hm.addItem(text)
            self.heat_texts.append(text)
        self.heat_labels = ([f"{v:g}" if not isinstance(v, str) else v for v in xs],
                            [f"{v:g}" if not isinstance(v, str) else v for v in ys])  # fmt: skip
        hm.setLabel("bottom", x_name)
        hm.setLabel("left", y_name)
        hm.setRange(xRange=(0, len(xs)), yRange=(0, len(ys)), padding=0.02)
        self._fit_heat_labels()
        self._draw_runs(np.arange(len(result)) if self.selected is None else self.selected)

    def heat_cell_px(self) -> tuple[float, float]:
        """A heatmap cell's width and height on screen, in pixels."""
        vb = self.heatmap.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        return vb.width() / (x1 - x0), vb.height() / (y1 - y0)

    def _fit_heat_labels(self, *_args) -> None:
        """Every column's and row's value where they fit, else every k-th (0.001 and 0.003 ran together at ten
        learning rates); the percentages only in cells that hold them."""
        if self.result is None:
            return
        hm = self.heatmap.getPlotItem()
        cell_w, cell_h = self.heat_cell_px()
        for side, labels, cell, need in (("bottom", self.heat_labels[0], cell_w, self.heat_label_width),
                                         ("left", self.heat_labels[1], cell_h, self.heat_label_height)):  # fmt: skip
            axis = hm.getAxis(side)
            room = max(need(axis, text) for text in labels) if labels else 0.0
            stride = next(k for k in range(1, len(labels) + 1) if k * cell >= room or k == len(labels)) if labels else 1
            axis.setTicks([[(i + 0.5, text) for i, text in enumerate(labels) if i % stride == 0], []])
        for text in self.heat_texts:
            size = text.textItem.boundingRect()
            text.setVisible(size.width() <= cell_w and size.height() - 8 <= cell_h)  # TextItem adds 4 px each side

    @staticmethod
    def heat_label_width(axis: pg.AxisItem, text: str) -> float:
        """The room a column's value needs on the axis: its width and a gap of 8 px."""
        return QFontMetricsF(axis.style["tickFont"] or axis.font()).horizontalAdvance(text) + 8

    @staticmethod
    def heat_label_height(axis: pg.AxisItem, _text: str) -> float:
        return QFontMetricsF(axis.style["tickFont"] or axis.font()).height() + 2

    def _legend_counts(self, outcomes: np.ndarray | None) -> None:
        self.legend.clear()
        data = self.dataset if self.result is None else self.result.spec.data  # the data of the runs shown
        for name, mark in self.legend_marks.items():
            if name == STUCK and not data.records_predictions:
                continue  # cannot happen on this data: "stuck at 0.5 (0)" would say nothing
            count = "" if outcomes is None else f" ({int(np.sum(outcomes == name)):,})"
            self.legend.addItem(mark, name + count)

    def _draw_runs(self, rows: np.ndarray) -> None:
        result = self.result
        self._legend_counts(result.outcome[rows])
        solved_epochs = result.epochs_to_solve[rows][result.solved[rows]]
        hi = self.histogram.getPlotItem()
        self.hist_hint.setVisible(not len(solved_epochs))
        if len(solved_epochs):
            counts, edges = np.histogram(solved_epochs, bins=min(40, max(5, len(solved_epochs) // 5)))
            self.hist_curve.setData(edges, counts)
            hi.enableAutoRange()  # the empty tab's range set aside
        else:  # no bar at 0 on a -4…4 axis: the epochs this sweep ran, and a sentence saying why there is nothing
            self.hist_curve.setData([], [])
            epochs = self.result.spec.epochs
            hi.setRange(xRange=(0, epochs), yRange=(0, 1), padding=0)
            self.hist_hint.setPos(epochs / 2, 0.5)
        loss = result.final_loss[rows]
        shown = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
        brushes = [pg.mkBrush(OUTCOME_COLORS[o]) for o in result.outcome[rows]]
        log_loss = np.log10(np.nan_to_num(shown, nan=1.0))
        self.scatter.setData(x=result.seed[rows].astype(float), y=log_loss, brush=brushes, data=rows)
        self.scatter_plot.getPlotItem().enableAutoRange(axis="x")
        if len(log_loss):
            lo, hi = float(log_loss.min()), float(log_loss.max())
            span = max(hi - lo, 1.0)
            self.scatter_plot.getPlotItem().setYRange(lo - 0.05 * span, hi + 0.05 * span, padding=0)

    # --- clicks --------------------------------------------------------------------------------
    def _heatmap_clicked(self, event) -> None:
        if self.result is None:
            return
        point = self.heatmap.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        self.select_cell(int(np.floor(point.y())), int(np.floor(point.x())))

    def select_cell(self, row: int, col: int) -> None:
        """Show that cell's seeds and load its typical run (the median solved one, else the first)."""
        rows = self.cell_rows.get((row, col))
        if rows is None:
            return
        self.selected = rows
        self._draw_runs(rows)
        solved = rows[self.result.solved[rows]]
        if len(solved):
            order = np.argsort(self.result.epochs_to_solve[solved], kind="stable")
            pick = int(solved[order[len(order) // 2]])
        else:
            pick = int(rows[0])
        self.load(pick)

    def _seed_clicked(self, _item, points, *_args) -> None:
        if len(points):
            self.load(int(points[0].data()))

    def load(self, row: int) -> None:
        """Load run `row` of the result into the Train tab."""
        config = self.result.config_of(row)
        self._loading = (config, self.result.outcome[row], self._accuracy_text(row))
        self.loadRun.emit(config)  # the window may first ask about unsaved work: `show_loaded` once it is loaded

    def _accuracy_text(self, row: int) -> str:
        """For run `row`: "train 98.0 %, test 95.5 %" where the sweep measured them, else ""."""
        result, parts = self.result, []
        for name, values in (("train", result.final_train_accuracy), ("test", result.final_test_accuracy)):
            if row < len(values) and np.isfinite(values[row]):
                parts.append(f"{name} {format_percent(values[row])}")
        return ", ".join(parts)

    def show_loaded(self, config) -> None:
        """The window loaded `config` into the Train tab (after the unsaved-work question, if it asked one)."""
        loading = getattr(self, "_loading", None)
        outcome = f": {loading[1]}" if loading is not None and loading[0] == config else ""
        if outcome and len(loading) > 2 and loading[2]:
            outcome += f" ({loading[2]})"
        self.message.setText(f"Loaded seed {config.seed} (lr {config.learning_rate:g}, hidden {config.hidden[0]}, "
                             f"{config.optimizer}){outcome}. It replays in the Train tab.")  # fmt: skip


__all__ = ["SweepView"]
