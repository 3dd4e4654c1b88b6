"""The loss plot beside the predictions plot (XOR) or the accuracy plot (any other data), fed from one `History`.

The plots share the epoch axis. Each redraw asks the history for the visible epochs at about one
point per pixel (`History.view`), so a redraw costs the same after 10 epochs or 10⁸; pyqtgraph's
downsampling and clip-to-view then work on those few thousand points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from engine.datasets import Dataset, make_dataset
from engine.history import History, n_series_for
from engine.trainer import METRIC_COLUMNS

from .snapshot import TreeSummary
from .style import POINT_COLORS, format_loss, format_percent, nice_ceiling, sample_label
from .timeline_bar import run_color

TRAIN_COLOR, TEST_COLOR = "#212529", "#e8590c"  # the training and the test curves of the loss and accuracy plots


def _light_axes(item: pg.PlotItem) -> None:
    """Major and minor ticks only (pyqtgraph adds a third level by default): the axes are redrawn whenever a
    followed range steps, and generating the third level's ticks costs 3 ms of the 4 ms per axis."""
    for name in ("left", "bottom"):
        item.getAxis(name).setStyle(maxTickLevel=1)


class LogAxis(pg.AxisItem):
    """A log-scale axis whose labels never crowd: every decade (or every 2nd, 3rd... when the axis is
    short), then 2 and 5 within each decade, then every digit 2 to 9, each only when there is room."""

    MIN_GAP_PX = 22  # between two labels' centres: a line of text and some air

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        if not (np.isfinite(minVal) and np.isfinite(maxVal)) or maxVal <= minVal or size <= 0:
            return []
        per_decade = size / (maxVal - minVal)  # pixels
        every = max(1, int(np.ceil(self.MIN_GAP_PX / per_decade)))  # decades between labelled decades
        first = int(np.ceil(minVal / every)) * every
        decades = np.arange(first, np.floor(maxVal) + 1, every, dtype=float)
        ticks = [(float(every), decades.tolist())]
        for mantissas in ((2, 3, 4, 5, 6, 7, 8, 9), (2, 5)):
            steps = np.log10(np.array((1, *mantissas, 10), dtype=float))
            if every == 1 and np.diff(steps).min() * per_decade >= self.MIN_GAP_PX:
                logs = np.log10(mantissas)
                minor = [d + m for d in range(int(np.floor(minVal)), int(np.ceil(maxVal))) for m in logs]
                ticks.append((None, [v for v in minor if minVal <= v <= maxVal]))
                break
        return ticks


def _fixed_y_plot(plot: pg.PlotWidget, y_label: str, y_range: tuple[float, float], limits: tuple[float, float],
                  ticks: tuple[float, ...], dashed_at: tuple[float, ...]) -> pg.PlotItem:  # fmt: skip
    """Set up `plot` as an epochs plot with a fixed y axis: `y_range` shown (room above for the legend), panning
    held within `limits`, labelled `ticks`, and dashed lines at `dashed_at` (the targets or 100 %)."""
    item = plot.getPlotItem()
    item.setLabel("bottom", "epoch")
    item.setLabel("left", y_label)
    _light_axes(item)
    item.setYRange(*y_range, padding=0)
    item.getViewBox().setLimits(yMin=limits[0], yMax=limits[1])
    item.getViewBox().enableAutoRange(axis="y", enable=False)
    item.getAxis("left").setTicks([[(v, f"{v:g}") for v in ticks], []])
    dashed = pg.mkPen("#868e96", width=1, style=Qt.PenStyle.DashLine)
    for level in dashed_at:
        item.addItem(pg.InfiniteLine(pos=level, angle=0, pen=dashed, movable=False))
    return item


def _prepare(curve: pg.PlotDataItem) -> pg.PlotDataItem:
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve


class LossPlot(pg.PlotWidget):
    """Per-epoch loss (training, and test when the data has a test set) with an optional log-scale y axis."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, axisItems={"left": LogAxis("left")})
        self.setObjectName("lossPlot")
        item = self.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss")
        _light_axes(item)
        item.setLogMode(y=True)
        item.getAxis("left").enableAutoSIPrefix(False)
        self.legend = item.addLegend(offset=(-10, 1), labelTextColor="#212529", brush=pg.mkBrush(255, 255, 255, 200),
                                     verSpacing=-6)  # fmt: skip
        self.curve = _prepare(item.plot(pen=pg.mkPen(TRAIN_COLOR, width=1), name="train"))  # 1 px: wider pens paint slowly
        self.test_curve = _prepare(item.plot(pen=pg.mkPen(TEST_COLOR, width=1), name="test"))
        self.setToolTip(
            "Loss of every epoch. Drag to pan, wheel to zoom, 'A' (bottom left) to follow the run again, "
            "right-click for more (export, ranges)."
        )
        self._loss_name = ""
        self.set_loss_name("mse")
        self.set_test(False)

    def set_test(self, shown: bool) -> None:
        """Show the test loss (and the legend that tells the two apart) or not: data without a test set has none."""
        self.test_curve.setVisible(shown)
        self.legend.setVisible(shown)
        if not shown:
            self.test_curve.setData([], [])

    def set_loss_name(self, loss: str) -> None:
        if loss != self._loss_name:  # setting a label re-lays out the axis: only on a change
            self._loss_name = loss
            self.getPlotItem().setLabel("left", "loss: mean (y − ŷ)²" if loss == "mse" else "loss: cross-entropy")

    def set_log(self, on: bool) -> None:
        self.getPlotItem().setLogMode(y=on)


class PredictionPlot(pg.PlotWidget):
    """The network's output for each training point over the epochs, with targets and the 0.5 line: for data whose
    predictions are recorded (`Dataset.records_predictions`, at most MAX_PREDICTION_SAMPLES points, such as XOR).
    Its curves are built once; `set_samples` names the ones on show."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("predictionPlot")
        # room above 1 for the legend
        item = _fixed_y_plot(self, "output ŷ", (-0.05, 1.32), (-0.5, 1.5), (0.0, 0.25, 0.5, 0.75, 1.0), (0.0, 1.0))
        self.decision_line = pg.InfiniteLine(
            pos=0.5, angle=0, movable=False, pen=pg.mkPen("#adb5bd", width=1, style=Qt.PenStyle.DotLine),
            label="decision 0.5", labelOpts={"position": 0.98, "color": "#868e96", "anchors": [(1, 1), (1, 1)]},
        )  # fmt: skip
        self.decision_line.setZValue(10)  # the line and its label (a child of it) above the curves, which sit at z 0
        item.addItem(self.decision_line)
        self.legend = item.addLegend(offset=(50, 1), labelTextColor="#212529", brush=pg.mkBrush(255, 255, 255, 200),
                                     verSpacing=-6)  # fmt: skip
        self.legend.setColumnCount(2)
        self.pool = [_prepare(item.plot(pen=pg.mkPen(color, width=1))) for color in POINT_COLORS]
        self.curves: list[pg.PlotDataItem] = []  # those on show, one per training point
        self.setToolTip("Output ŷ for each input over the epochs; dashed lines are the targets 0 and 1.")

    def set_samples(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        """One curve per point of `inputs` (at most MAX_PREDICTION_SAMPLES), named in the legend."""
        self.legend.clear()
        self.curves = self.pool[: len(targets)]
        for i, curve in enumerate(self.pool):
            curve.setVisible(i < len(targets))
            curve.setData([], [])
        for curve, x, y in zip(self.curves, inputs, targets):
            self.legend.addItem(curve, sample_label(x, y))


class AccuracyPlot(pg.PlotWidget):
    """Training and test accuracy (ŷ ≥ 0.5 ⇔ class 1) over the epochs, in percent: the predictions panel of data
    whose per-point predictions are not recorded."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("accuracyPlot")
        item = _fixed_y_plot(self, "accuracy (%)", (0, 112), (-10, 120), (0, 25, 50, 75, 100), (100,))  # room above 100
        # bottom right: accuracy rises to 100 % at the top
        self.legend = item.addLegend(offset=(-10, -36), labelTextColor="#212529", brush=pg.mkBrush(255, 255, 255, 200),
                                     verSpacing=-6)  # fmt: skip
        self.train_curve = _prepare(item.plot(pen=pg.mkPen(TRAIN_COLOR, width=1), name="train"))
        self.test_curve = _prepare(item.plot(pen=pg.mkPen(TEST_COLOR, width=1), name="test"))
        self.setToolTip("Share of the training and test points on their label's side of ŷ = 0.5, every epoch.")

    def set_test(self, shown: bool) -> None:
        self.test_curve.setVisible(shown)
        self.test_curve.setData([], [])
        if shown and self.legend.getLabel(self.test_curve) is None:
            self.legend.addItem(self.test_curve, "test")
        elif not shown:
            self.legend.removeItem(self.test_curve)


class OutputsTable(QTableWidget):
    """Each recorded training point's output against its target, twice: as the last epoch's own forward pass
    computed it (before that sample's update; the predictions plot's last point) and at the weights now (after the
    epoch, as the decision map shows them), with ✓/✗ and the count right for the weights now."""

    DURING, NOW, MARK = 2, 3, 4

    def __init__(self, parent=None) -> None:
        super().__init__(0, 5, parent)
        self.setObjectName("outputsTable")
        self.setHorizontalHeaderLabels(["input", "target", "ŷ during\nepoch", "ŷ now", "right"])
        self.horizontalHeaderItem(self.DURING).setToolTip(
            "ŷ as the last epoch computed it for this input, before the input's own update (the notebook's\n"
            "recorded predictions; the last point of the predictions plot)."
        )
        self.horizontalHeaderItem(self.NOW).setToolTip(
            "ŷ at the weights now, after every update so far (as the decision map shows them).\n"
            "With a large learning rate the two columns can disagree."
        )
        self.horizontalHeaderItem(self.MARK).setToolTip("✓: ŷ now is on the target's side of 0.5")
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.targets = np.empty(0)
        self.setToolTip(
            "ŷ during epoch: as the last epoch's forward pass computed it, before that input's update.\n"
            "ŷ now: at the current weights (as on the decision map). ✓ when ŷ now is on the target's side of 0.5."
        )
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_samples(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        """One row per point, as tall as its rows and as wide as its columns at their widest (a wider table
        showed an empty column at the right; the ✓ column takes what narrower numbers leave)."""
        self.setRowCount(len(targets))
        self.targets = np.asarray(targets, dtype=float)
        for row, (x, y) in enumerate(zip(inputs, targets)):
            self._set(row, 0, "(" + ", ".join(f"{v:g}" for v in x) + ")", POINT_COLORS[row])
            self._set(row, 1, f"{y:g}")
            self._set(row, self.MARK, "")
        self.horizontalHeader().setStretchLastSection(False)
        widest = np.full(len(targets), -0.0001)
        self.update_outputs(widest, widest)
        self.setFixedWidth(self.horizontalHeader().length() + 2 * self.frameWidth())
        self.horizontalHeader().setStretchLastSection(True)
        header_height = self.horizontalHeader().sizeHint().height()  # two lines of text
        self.setFixedHeight(self.verticalHeader().length() + header_height + 4)
        nothing = np.full(len(targets), np.nan)
        self.update_outputs(nothing, nothing)

    def _set(self, row: int, col: int, text: str, color: str | None = None) -> None:
        cell = QTableWidgetItem(text)
        cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        if color:
            cell.setForeground(pg.mkColor(color))
        self.setItem(row, col, cell)

    def update_outputs(self, during: np.ndarray, now: np.ndarray | None = None) -> int:
        """Show the outputs (n_samples,) recorded during the last epoch and at the weights now; returns how
        many of those now are right (of those during the epoch when `now` is not known)."""
        now_known = now is not None
        judged = now if now_known else during
        right = 0
        for row, y in enumerate(self.targets):
            for col, values in ((self.DURING, during), (self.NOW, now)):
                value = values[row] if values is not None else np.nan
                text = f"{value:.4f}" if np.isfinite(value) else "–"
                if self.item(row, col) is None:
                    self._set(row, col, text)
                else:
                    self.item(row, col).setText(text)
            y_hat = judged[row]
            ok = bool(np.isfinite(y_hat) and (y_hat >= 0.5) == (y >= 0.5))
            right += ok
            mark = self.item(row, self.MARK)
            mark.setText(("✓" if ok else "✗") if np.isfinite(y_hat) else "")
            mark.setForeground(pg.mkColor("#2b8a3e" if ok else "#c92a2a"))
        return right


LOSS, TEST_LOSS, TRAIN_ACCURACY, TEST_ACCURACY = (METRIC_COLUMNS.index(name) for name in
                                                  ("loss", "test_loss", "train_accuracy", "test_accuracy"))  # fmt: skip
N_METRICS = len(METRIC_COLUMNS)  # a history row's predictions follow its metrics


class CurvesPanel(QWidget):
    """Loss (train and test) beside the predictions of each training point and the outputs table for data that
    records them (`Dataset.records_predictions`: XOR), or beside train and test accuracy for any other data;
    owns the `History`. Every plot item is built once: `set_data` only chooses what shows.

    A click on the loss, predictions or accuracy plot asks to show that epoch (`epochClicked`); `set_cursor` marks
    the epoch shown with a vertical line; `set_branches` overlays the other runs' loss curves in their colours."""

    epochClicked = Signal(int)  # the user clicked a plot at this epoch (the Train tab scrubs there)

    def __init__(self, dataset: Dataset | None = None, parent=None) -> None:
        super().__init__(parent)
        self.history = History()
        self._drawn: tuple[float, float, float] | None = None  # (first, last, span) of the x range last drawn
        self._following = True  # ranges follow the run; off once the user zooms or pans
        self._followed: tuple | None = None
        self.loss_plot = LossPlot()
        self.prediction_plot = PredictionPlot()
        self.accuracy_plot = AccuracyPlot()
        for plot in (self.prediction_plot, self.accuracy_plot):
            plot.setXLink(self.loss_plot)
        self.table = OutputsTable()
        self.log_box = QCheckBox("log scale")
        self.log_box.setObjectName("logScaleCheck")
        self.log_box.setChecked(True)
        self.log_box.setToolTip("Show the loss on a logarithmic axis.")
        self.log_box.toggled.connect(self._log_toggled)
        self.loss_title = QLabel()
        self.loss_title.setObjectName("lossTitle")
        self.right_label = QLabel()
        self.right_label.setObjectName("rightLabel")
        self.panel_title = QLabel()
        self.panel_title.setObjectName("predictionsTitle")

        loss_box = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(self.loss_title, 1)
        head.addWidget(self.log_box)
        loss_box.addLayout(head)
        loss_box.addWidget(self.loss_plot, 1)
        pred_box = QVBoxLayout()
        pred_box.addWidget(self.panel_title)
        pred_box.addWidget(self.prediction_plot, 1)
        pred_box.addWidget(self.accuracy_plot, 1)
        self.side = QWidget()
        side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(QLabel("<b>Outputs</b>"))
        side.addWidget(self.table)
        side.addWidget(self.right_label)
        side.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(loss_box, 5)
        row.addLayout(pred_box, 5)
        row.addWidget(self.side, 0)
        self._loss_vb = self.loss_plot.getPlotItem().getViewBox()
        self._loss_vb.sigXRangeChanged.connect(self._range_changed)
        for plot in (self.loss_plot, self.prediction_plot, self.accuracy_plot):
            plot.getPlotItem().getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.cursors = []
        cursor_pen = pg.mkPen("#1c7ed6", width=1)
        for plot in (self.loss_plot, self.prediction_plot, self.accuracy_plot):
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=cursor_pen)
            cursor.setZValue(20)
            cursor.setVisible(False)
            plot.getPlotItem().addItem(cursor, ignoreBounds=True)
            self.cursors.append(cursor)
            plot.scene().sigMouseClicked.connect(lambda event, p=plot: self._clicked(p, event))
        self.branch_curves: list[pg.PlotDataItem] = []  # the other runs' loss curves (a pool, grown as needed)
        self.set_data(make_dataset() if dataset is None else dataset)

    def _clicked(self, plot: pg.PlotWidget, event) -> None:
        """A left click inside a plot's axes asks to show the epoch under it (a drag pans instead)."""
        if event.button() != Qt.MouseButton.LeftButton or event.double() or not plot.isVisible():
            return
        vb = plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = vb.mapSceneToView(event.scenePos()).x()
        if np.isfinite(x):
            event.accept()
            self.epochClicked.emit(int(max(0, round(x))))

    def set_cursor(self, epoch: int | None) -> None:
        """A vertical line at `epoch` on the plots (None: none, the latest epoch is shown)."""
        for cursor in self.cursors:
            if epoch is None:
                cursor.setVisible(False)
            else:
                cursor.setValue(epoch)
                cursor.setVisible(True)

    def set_branches(self, summary: TreeSummary | None) -> None:
        """Overlay each run of `summary` but the current one: its loss curve from its branch point, in its colour."""
        others = [] if summary is None else [r for r in summary.runs if r.id != summary.current]
        item = self.loss_plot.getPlotItem()
        while len(self.branch_curves) < len(others):
            curve = _prepare(item.plot())
            curve.setZValue(-1)  # under the current run's curves
            self.branch_curves.append(curve)
        for i, curve in enumerate(self.branch_curves):
            if i < len(others):
                run = others[i]
                curve.setPen(pg.mkPen(run_color(run.colour), width=1))
                curve.setData(run.x, run.y)
                curve.setToolTip(run.label)
                curve.setVisible(True)
            else:
                curve.setData([], [])
                curve.setVisible(False)

    def set_data(self, dataset: Dataset) -> None:
        """Show the curves of `dataset`: a new, empty `History` of its `n_series_for` columns."""
        self.dataset = dataset
        self.records = dataset.records_predictions
        self.has_test = dataset.n_test > 0
        self.history = History(n_series=n_series_for(dataset))
        self.loss_plot.set_test(self.has_test)
        self.accuracy_plot.set_test(self.has_test)
        self.prediction_plot.setVisible(self.records)
        self.accuracy_plot.setVisible(not self.records)
        self.side.setVisible(self.records)
        if self.records:
            self.prediction_plot.set_samples(dataset.train_inputs, dataset.train_targets)
            self.table.set_samples(dataset.train_inputs, dataset.train_targets)
            name = "XOR" if dataset.spec.name == "xor" else f"{dataset.n_train} training points'"
            self.panel_title.setText(f"<b>{name} predictions</b>")
        else:
            self.panel_title.setText("<b>Accuracy</b>")
        self.clear_view()
        self.show_epoch(0)

    def _log_toggled(self, on: bool) -> None:
        self.loss_plot.set_log(on)
        self._followed = None
        self.redraw()

    def clear(self) -> None:
        self.history.clear()
        self.clear_view()

    def clear_view(self) -> None:
        """Follow the run again and redraw (after the history was cleared or replaced)."""
        self._following, self._followed = True, None
        self.redraw()

    def append(self, rows: np.ndarray) -> None:
        """Add the next epochs: rows (k, n_series) of metrics (`METRIC_COLUMNS`), then predictions."""
        if len(rows):
            self.history.extend(rows)

    def show_epoch(self, epoch: int, outputs_now: np.ndarray | None = None, row: np.ndarray | None = None) -> None:
        """Write the numbers of the history's last epoch, `epoch` (0: none yet), or of `row`, a past epoch's row
        (`epoch` then is that epoch). outputs_now: ŷ of each recorded training point at the weights after it (the
        outputs table's "now" column)."""
        last = self.history.last if row is None else row
        loss = f": {format_loss(last[LOSS])}" if epoch else ""
        if epoch and self.has_test:
            loss = f": train {format_loss(last[LOSS])}, test {format_loss(last[TEST_LOSS])}"
        self.loss_title.setText(f"<b>Loss</b> &nbsp; epoch {epoch:,}{loss}" if epoch else "<b>Loss</b>")
        if self.records:
            outputs = last[N_METRICS:]
            right = self.table.update_outputs(outputs, outputs_now)
            if outputs_now is not None:
                self.right_label.setText(f"<b>{right} / {len(outputs)}</b> right now")
            else:
                self.right_label.setText(f"<b>{right} / {len(outputs)}</b> right" if epoch else "")
        else:
            text = "<b>Accuracy</b>"
            if epoch:
                text += f" &nbsp; epoch {epoch:,}: train {format_percent(last[TRAIN_ACCURACY])}"
                if self.has_test:
                    text += f", test {format_percent(last[TEST_ACCURACY])}"
            self.panel_title.setText(text)

    def _range_changed(self) -> None:
        """The user zoomed or panned: fetch that range in more detail, if what is drawn is too coarse."""
        if self._following:
            return
        x0, x1 = self._loss_vb.viewRange()[0]
        d0, d1, d_span = self._drawn if self._drawn is not None else (np.inf, -np.inf, 0.0)
        if x0 >= d0 and x1 <= d1 and (x1 - x0) >= d_span / 4:
            return  # the data drawn already covers this view at a useful resolution
        self.redraw()

    def _user_moved(self, *_args) -> None:
        self._following = False

    def redraw(self) -> None:
        """Push the visible part of the history to the curves (about one point per pixel).

        While following the run, the ranges snap to round numbers (x to the next 1-2-5 step, the log
        loss axis to whole decades), so the axes change only now and then: redrawing their text every
        frame would cost more than the curves.
        """
        vb = self._loss_vb
        if vb.autoRangeEnabled()[0] or vb.autoRangeEnabled()[1]:
            self._following = True  # pyqtgraph's "A" button: follow the run again
        if self._following:
            x0, x1 = -np.inf, np.inf
            span = float(max(self.history.n_epochs, 1))
        else:
            x0, x1 = vb.viewRange()[0]
            span = x1 - x0
            x0, x1 = x0 - span, x1 + span  # a margin, so panning shows data at once
        view = self.history.view(x0, x1, max_points=max(200, int(vb.width())))
        self._drawn = (x0, x1, span)
        self.loss_plot.curve.setData(view.x, view.y[:, LOSS])
        if self.has_test:
            self.loss_plot.test_curve.setData(view.x, view.y[:, TEST_LOSS])
        if self.records:
            for i, curve in enumerate(self.prediction_plot.curves):
                curve.setData(view.x, view.y[:, N_METRICS + i])
        else:
            self.accuracy_plot.train_curve.setData(view.x, 100 * view.y[:, TRAIN_ACCURACY])
            if self.has_test:
                self.accuracy_plot.test_curve.setData(view.x, 100 * view.y[:, TEST_ACCURACY])
        if self._following:
            self._follow(view.y[:, [LOSS, TEST_LOSS] if self.has_test else [LOSS]])

    def _follow(self, loss: np.ndarray) -> None:
        x_range = (0.0, float(nice_ceiling(max(self.history.n_epochs, 10))))
        finite = loss[np.isfinite(loss)]
        log = self.log_box.isChecked()
        if log:
            positive = finite[finite > 0]
            lo, hi = (positive.min(), positive.max()) if positive.size else (1e-3, 1.0)
            y_range = (float(np.floor(np.log10(lo))), float(np.ceil(np.log10(hi))))
            if y_range[0] == y_range[1]:
                y_range = (y_range[0] - 1, y_range[1])
        else:
            hi = finite.max() if finite.size else 1.0
            y_range = (0.0, float(nice_ceiling(max(hi, 1e-12))))
        if (x_range, y_range, log) != self._followed:
            self._followed = (x_range, y_range, log)
            self._loss_vb.setRange(xRange=x_range, yRange=y_range, padding=0.02)  # also turns pyqtgraph's autorange off
