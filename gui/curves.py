"""The loss plot and the XOR-predictions plot, fed from one `History`.

Both plots share the epoch axis. Each redraw asks the history for the visible epochs at about one
point per pixel (`History.view`), so a redraw costs the same after 10 epochs or 10⁸; pyqtgraph's
downsampling and clip-to-view then work on those few thousand points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from engine import History

from .style import SAMPLE_COLORS, format_loss, nice_ceiling, sample_label


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


def _prepare(curve: pg.PlotDataItem) -> pg.PlotDataItem:
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve


class LossPlot(pg.PlotWidget):
    """Per-epoch loss with an optional log-scale y axis."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, axisItems={"left": LogAxis("left")})
        self.setObjectName("lossPlot")
        item = self.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss")
        _light_axes(item)
        item.setLogMode(y=True)
        item.getAxis("left").enableAutoSIPrefix(False)
        self.curve = _prepare(item.plot(pen=pg.mkPen("#212529", width=1), name="loss"))  # 1 px: wider pens paint slowly
        self.setToolTip(
            "Loss of every epoch. Drag to pan, wheel to zoom, 'A' (bottom left) to follow the run again, "
            "right-click for more (export, ranges)."
        )
        self._loss_name = ""
        self.set_loss_name("mse")

    def set_loss_name(self, loss: str) -> None:
        if loss != self._loss_name:  # setting a label re-lays out the axis: only on a change
            self._loss_name = loss
            self.getPlotItem().setLabel("left", "loss: mean (y − ŷ)²" if loss == "mse" else "loss: cross-entropy")

    def set_log(self, on: bool) -> None:
        self.getPlotItem().setLogMode(y=on)


class PredictionPlot(pg.PlotWidget):
    """The network's output for each training input over the epochs, with targets and the 0.5 line."""

    def __init__(self, inputs: np.ndarray, targets: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("predictionPlot")
        item = self.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "output ŷ")
        _light_axes(item)
        item.setYRange(-0.05, 1.32, padding=0)  # room above 1 for the legend
        item.getViewBox().setLimits(yMin=-0.5, yMax=1.5)
        item.getViewBox().enableAutoRange(axis="y", enable=False)
        item.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)], []])
        dashed = pg.mkPen("#868e96", width=1, style=Qt.PenStyle.DashLine)
        for level in (0.0, 1.0):
            item.addItem(pg.InfiniteLine(pos=level, angle=0, pen=dashed, movable=False))
        self.decision_line = pg.InfiniteLine(
            pos=0.5, angle=0, movable=False, pen=pg.mkPen("#adb5bd", width=1, style=Qt.PenStyle.DotLine),
            label="decision 0.5", labelOpts={"position": 0.98, "color": "#868e96", "anchors": [(1, 1), (1, 1)]},
        )  # fmt: skip
        self.decision_line.setZValue(10)  # the line and its label (a child of it) above the curves, which sit at z 0
        item.addItem(self.decision_line)
        legend = item.addLegend(offset=(50, 1), labelTextColor="#212529", brush=pg.mkBrush(255, 255, 255, 200),
                                verSpacing=-6)  # fmt: skip
        legend.setColumnCount(2)
        self.curves = [
            _prepare(item.plot(pen=pg.mkPen(SAMPLE_COLORS[i % 4], width=1), name=sample_label(inputs[i], targets[i])))
            for i in range(len(targets))
        ]
        self.setToolTip("Output ŷ for each input over the epochs; dashed lines are the targets 0 and 1.")


class OutputsTable(QTableWidget):
    """Each input's output against its target, twice: as the last epoch's own forward pass computed it
    (before that sample's update; the predictions plot's last point) and at the weights now (after the
    epoch, as the decision map shows them), with ✓/✗ and the count right for the weights now."""

    DURING, NOW, MARK = 2, 3, 4

    def __init__(self, inputs: np.ndarray, targets: np.ndarray, parent=None) -> None:
        super().__init__(len(targets), 5, parent)
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
        self.targets = np.asarray(targets, dtype=float)
        for row, (x, y) in enumerate(zip(inputs, targets)):
            self._set(row, 0, "(" + ", ".join(f"{v:g}" for v in x) + ")", SAMPLE_COLORS[row % 4])
            self._set(row, 1, f"{y:g}")
            self._set(row, self.DURING, "–")
            self._set(row, self.NOW, "–")
            self._set(row, self.MARK, "")
        self.setToolTip(
            "ŷ during epoch: as the last epoch's forward pass computed it, before that input's update.\n"
            "ŷ now: at the current weights (as on the decision map). ✓ when ŷ now is on the target's side of 0.5."
        )
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

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
                self.item(row, col).setText(f"{value:.4f}" if np.isfinite(value) else "–")
            y_hat = judged[row]
            ok = bool(np.isfinite(y_hat) and (y_hat >= 0.5) == (y >= 0.5))
            right += ok
            mark = self.item(row, self.MARK)
            mark.setText(("✓" if ok else "✗") if np.isfinite(y_hat) else "")
            mark.setForeground(pg.mkColor("#2b8a3e" if ok else "#c92a2a"))
        return right


class CurvesPanel(QWidget):
    """Loss and predictions side by side with the outputs table; owns the `History`."""

    def __init__(self, inputs: np.ndarray, targets: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self.history = History(n_series=1 + len(targets))
        self._drawn: tuple[float, float, float] | None = None  # (first, last, span) of the x range last drawn
        self._following = True  # ranges follow the run; off once the user zooms or pans
        self._followed: tuple | None = None
        self.loss_plot = LossPlot()
        self.prediction_plot = PredictionPlot(inputs, targets)
        self.prediction_plot.setXLink(self.loss_plot)
        self.table = OutputsTable(inputs, targets)
        self.log_box = QCheckBox("log scale")
        self.log_box.setObjectName("logScaleCheck")
        self.log_box.setChecked(True)
        self.log_box.setToolTip("Show the loss on a logarithmic axis.")
        self.log_box.toggled.connect(self._log_toggled)
        self.loss_title = QLabel()
        self.loss_title.setObjectName("lossTitle")
        self.right_label = QLabel()
        self.right_label.setObjectName("rightLabel")

        loss_box = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(self.loss_title, 1)
        head.addWidget(self.log_box)
        loss_box.addLayout(head)
        loss_box.addWidget(self.loss_plot, 1)
        pred_box = QVBoxLayout()
        pred_box.addWidget(QLabel("<b>XOR predictions</b>"))
        pred_box.addWidget(self.prediction_plot, 1)
        side = QVBoxLayout()
        side.addWidget(QLabel("<b>Outputs</b>"))
        side.addWidget(self.table)
        side.addWidget(self.right_label)
        side.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(loss_box, 5)
        row.addLayout(pred_box, 5)
        row.addLayout(side, 0)
        # exactly its columns at their widest (a wider table showed an empty column at the right); the ✓ column
        # takes what narrower numbers leave
        widest = np.full(len(targets), -0.0001)
        self.table.update_outputs(widest, widest)
        self.table.setFixedWidth(self.table.horizontalHeader().length() + 2 * self.table.frameWidth())
        self.table.horizontalHeader().setStretchLastSection(True)
        header_height = self.table.horizontalHeader().sizeHint().height()  # two lines of text
        self.table.setFixedHeight(self.table.verticalHeader().length() + header_height + 4)
        self._loss_vb = self.loss_plot.getPlotItem().getViewBox()
        self._loss_vb.sigXRangeChanged.connect(self._range_changed)
        for plot in (self.loss_plot, self.prediction_plot):
            plot.getPlotItem().getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.show_epoch(0, np.nan, np.full(len(targets), np.nan))

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
        """Add the next epochs: rows (k, 1 + n_samples) of loss, then predictions."""
        if len(rows):
            self.history.extend(rows)

    def show_epoch(self, epoch: int, loss: float, outputs: np.ndarray, outputs_now: np.ndarray | None = None) -> None:
        """outputs: ŷ of each input as epoch `epoch` recorded it; outputs_now: ŷ at the weights after it."""
        self.loss_title.setText(f"<b>Loss</b> &nbsp; epoch {epoch:,}: {format_loss(loss)}" if epoch else "<b>Loss</b>")
        right = self.table.update_outputs(outputs, outputs_now)
        if outputs_now is not None:
            self.right_label.setText(f"<b>{right} / {len(outputs)}</b> right now")
        else:
            self.right_label.setText(f"<b>{right} / {len(outputs)}</b> right" if epoch else "")

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
        self.loss_plot.curve.setData(view.x, view.y[:, 0])
        for i, curve in enumerate(self.prediction_plot.curves):
            curve.setData(view.x, view.y[:, i + 1])
        if self._following:
            self._follow(view.y[:, 0])

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
