"""The decision map (network output over the input square) and the weight heatmaps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont

from engine import Params, decision_grid

from .contour import contour_segments
from .style import TARGET_COLORS, colormap, nice_ceiling, symmetric_ticks, unit_names

MAX_ANNOTATED = 8  # write the value on every cell of matrices up to 8 x 8
MAX_TICKED = 16  # name every row and column of matrices up to 16 units
MAX_SHOWN = 128  # a bigger matrix is shown reduced to at most this many rows and columns (see `reduced`)
MAX_LEVEL = 1e300  # colour scale limit: pyqtgraph computes with the levels' span, which must stay finite


class DecisionMap(pg.PlotWidget):
    """ŷ over [-0.25, 1.25]² as an image (rows x2, columns x1), the 0.5 contour and the training points."""

    def __init__(self, axis: np.ndarray, inputs: np.ndarray, targets: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("decisionMap")
        self.axis = axis
        item = self.getPlotItem()
        item.setLabel("bottom", "x1")
        item.setLabel("left", "x2")
        item.setAspectLocked(True)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self._set_axis(axis)
        self.image = pg.ImageItem(np.full((len(axis), len(axis)), 0.5), axisOrder="row-major", rect=self.grid_rect)
        item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=colormap(), label="ŷ", interactive=False,
                                        colorMapMenu=False, width=14)  # fmt: skip
        self.colorbar.setImageItem(self.image, insert_in=item)
        self.boundary = pg.PlotDataItem(pen=pg.mkPen("#212529", width=1), connect="pairs")
        item.addItem(self.boundary)
        self.points = pg.ScatterPlotItem(
            x=inputs[:, 0], y=inputs[:, 1], size=16, pen=pg.mkPen("w", width=2),
            brush=[pg.mkBrush(TARGET_COLORS[int(t >= 0.5)]) for t in targets],
        )  # fmt: skip
        item.addItem(self.points)
        item.setRange(xRange=(axis[0], axis[-1]), yRange=(axis[0], axis[-1]), padding=0.02)
        self.setToolTip("Network output over the input square (blue 0, red 1); the black line is ŷ = 0.5. "
                        "Dots are the training inputs, coloured by target.")  # fmt: skip

    def _set_axis(self, axis: np.ndarray) -> None:
        """The grid the map is drawn on: `axis` along x1 and x2, each point the centre of its pixel."""
        self.axis = axis
        self.grid_rect = image_rect(axis)  # not `rect`: that would hide QWidget.rect() from pyqtgraph and Qt

    def set_output(self, grid_output: np.ndarray) -> None:
        """grid_output: (n, n), row r at x2 = axis[r], column c at x1 = axis[c]. A big network's map comes on a
        coarser grid over the same square (`engine.decision_grid(n)`): `axis` and `grid_rect` follow it."""
        n = len(grid_output)
        if n != len(self.axis):
            self._set_axis(decision_grid(n, self.axis[0], self.axis[-1])[0])
        image = np.nan_to_num(grid_output, nan=0.5)
        self.image.setImage(image, autoLevels=False, levels=(0.0, 1.0), rect=self.grid_rect)
        self.boundary.setData(*contour_segments(grid_output, self.axis, 0.5))


class WeightHeatmaps(pg.GraphicsLayoutWidget):
    """For every layer, W (out x in) and b (out x 1) side by side on one symmetric diverging scale.

    Levels are ±L where L only grows (to the next 1-2-5 step above the largest |weight| seen since the
    last reset), so a colour means the same value from one epoch to the next.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("weightHeatmaps")
        self.setToolTip("Weights W and biases b of every layer; rows are the units a layer feeds, columns its inputs.")
        self.images: list[tuple[pg.ImageItem, pg.ImageItem]] = []
        self.texts: list[tuple[list[pg.TextItem], list[pg.TextItem]]] = []
        self.grad_images: list[tuple[pg.ImageItem, pg.ImageItem]] = []
        self.grad_texts: list[tuple[list[pg.TextItem], list[pg.TextItem]]] = []
        self.grad_level = 1.0
        self.grad_colorbar: pg.ColorBarItem | None = None
        self.gradient_label = ""
        self.level = 1.0
        self.sizes: tuple[int, ...] = ()
        self.colorbar: pg.ColorBarItem | None = None

    def build(self, sizes: tuple[int, ...]) -> None:
        """Lay out one row per layer for a network with these layer sizes (input first): W and b, their
        colour bar, then the gradients ∂L/∂W and ∂L/∂b and theirs."""
        self.clear()
        self.sizes = tuple(sizes)
        self.images, self.texts, self.grad_images, self.grad_texts = [], [], [], []
        names = unit_names(self.sizes)
        font = QFont()
        font.setPointSizeF(8.5)
        weight_images, grad_images = [], []
        for layer in range(len(self.sizes) - 1):
            n_out = self.sizes[layer + 1]
            row_images, row_texts, grad_row, grad_texts = [], [], [], []
            for col, (kind, cols) in enumerate(
                (("W", names[layer]), ("b", ["b"]), ("∂W", names[layer]), ("∂b", ["b"]))
            ):  # fmt: skip
                plot = self.addPlot(row=layer, col=col if col < 2 else col + 1)
                sup = f"<sup>({layer + 1})</sup>"
                title = f"{kind}{sup}" if not kind.startswith("∂") else f"∂L/∂{kind[1:]}{sup}"
                shape = f" &nbsp;({n_out}×{len(cols)})" if not kind.endswith("b") else ""
                plot.setTitle(f"{title}{shape}", size="9pt")
                plot.setMouseEnabled(x=False, y=False)
                plot.hideButtons()
                plot.setMenuEnabled(False)
                vb = plot.getViewBox()
                vb.invertY(True)
                image = pg.ImageItem(np.zeros(reduced_shape((n_out, len(cols)))), axisOrder="row-major")
                image.setRect(QRectF(0, 0, len(cols), n_out))
                plot.addItem(image)
                vb.setRange(xRange=(0, len(cols)), yRange=(0, n_out), padding=0.02)
                for axis_name, labels in (("left", names[layer + 1]), ("bottom", cols)):
                    ax = plot.getAxis(axis_name)
                    if len(labels) <= MAX_TICKED:
                        ax.setTicks([[(i + 0.5, s) for i, s in enumerate(labels)], []])
                    else:
                        ax.setTicks(None)
                if kind.endswith("b"):
                    plot.getAxis("left").setStyle(showValues=len(names[layer + 1]) <= MAX_TICKED)
                    plot.setMaximumWidth(95)
                cells = []
                if n_out <= MAX_ANNOTATED and len(cols) <= MAX_ANNOTATED:
                    for r in range(n_out):
                        for c in range(len(cols)):
                            text = pg.TextItem("", anchor=(0.5, 0.5), color="#212529")
                            text.setFont(font)
                            text.setPos(c + 0.5, r + 0.5)
                            plot.addItem(text)
                            cells.append(text)
                if col < 2:
                    row_images.append(image)
                    row_texts.append(cells)
                    weight_images.append(image)
                else:
                    grad_row.append(image)
                    grad_texts.append(cells)
                    grad_images.append(image)
            self.images.append((row_images[0], row_images[1]))
            self.texts.append((row_texts[0], row_texts[1]))
            self.grad_images.append((grad_row[0], grad_row[1]))
            self.grad_texts.append((grad_texts[0], grad_texts[1]))
        rows = max(1, len(self.sizes) - 1)
        self.level = self.grad_level = 1.0
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=colormap(), interactive=False,
                                        colorMapMenu=False, width=11, label="weight")  # fmt: skip
        self.colorbar.setImageItem(weight_images)
        self.addItem(self.colorbar, row=0, col=2, rowspan=rows)
        self.grad_colorbar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=colormap(), interactive=False,
                                             colorMapMenu=False, width=11, label="gradient")  # fmt: skip
        self.grad_colorbar.setImageItem(grad_images)
        self.addItem(self.grad_colorbar, row=0, col=5, rowspan=rows)
        _set_symmetric_levels(self.colorbar, self.level, "weight")
        _set_symmetric_levels(self.grad_colorbar, self.grad_level, "gradient")

    def reset_levels(self) -> None:
        self.level = 1.0

    def set_gradient(self, gradient: Params, label: str = "") -> None:
        """Show ∂L/∂W and ∂L/∂b on a symmetric scale fitted to the present gradients (1-2-5 steps)."""
        finite = [np.abs(a[np.isfinite(a)]) for W, b in gradient for a in (W, b)]
        biggest = max((float(f.max()) for f in finite if f.size), default=0.0)
        self.grad_level = min(nice_ceiling(biggest), MAX_LEVEL) if biggest > 0 else 1e-12
        self.gradient_label = label
        if self.grad_colorbar is not None and self.grad_colorbar.levels() != (-self.grad_level, self.grad_level):
            _set_symmetric_levels(self.grad_colorbar, self.grad_level, "gradient")
        tip = f"Weights W and biases b, then the gradient: {label}"
        if self.toolTip() != tip:
            self.setToolTip(tip)
        for (W, b), images, cells in zip(gradient, self.grad_images, self.grad_texts):
            self._show(((W, images[0], cells[0]), (b.reshape(-1, 1), images[1], cells[1])), self.grad_level, _tiny)

    def _show(self, entries, level: float, number) -> None:
        for matrix, image, cells in entries:
            shown = reduced(matrix)  # a big layer's 1024 x 1024 weights would cost the window ~30 ms a draw
            if not (np.isfinite(shown).all() and np.abs(shown).max(initial=0.0) <= level):
                shown = np.clip(np.nan_to_num(shown, nan=0.0), -level, level)
            image.setImage(shown, autoLevels=False, levels=(-level, level))  # same shape: the rect set in build holds
            for text, value in zip(cells, matrix.ravel()):
                label, color = number(value), ("#f8f9fa" if abs(value) > 0.6 * level else "#212529")
                if label != text.textItem.toPlainText():  # repaint only the cells whose text changed
                    text.setText(label)
                if color != text.color.name():
                    text.setColor(color)

    def set_params(self, params: Params) -> None:
        finite = [np.abs(a[np.isfinite(a)]) for W, b in params for a in (W, b)]
        biggest = max((float(f.max()) for f in finite if f.size), default=0.0)
        if biggest > self.level:
            self.level = min(nice_ceiling(biggest), MAX_LEVEL)
        if self.colorbar is not None and self.colorbar.levels() != (-self.level, self.level):
            _set_symmetric_levels(self.colorbar, self.level, "weight")
        for (W, b), images, cells in zip(params, self.images, self.texts):
            self._show(((W, images[0], cells[0]), (b.reshape(-1, 1), images[1], cells[1])), self.level, _short)


def image_rect(axis: np.ndarray) -> QRectF:
    """Where an image of len(axis)² pixels sits so that pixel (r, c) is centred on (axis[c], axis[r])."""
    step = axis[1] - axis[0]
    return QRectF(axis[0] - step / 2, axis[0] - step / 2, step * len(axis), step * len(axis))


def reduced_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The shape `reduced` gives a matrix of this shape."""
    return tuple(-(-n // -(-n // MAX_SHOWN)) for n in shape)  # type: ignore[return-value]


def reduced(matrix: np.ndarray) -> np.ndarray:
    """`matrix` if it has at most MAX_SHOWN rows and columns, else each block of k x k entries (k as small as
    fits) as its entry of largest magnitude, so that the largest weights and their signs still show."""
    rows, cols = matrix.shape
    fr, fc = -(-rows // MAX_SHOWN), -(-cols // MAX_SHOWN)
    if fr == fc == 1:
        return matrix
    R, C = -(-rows // fr), -(-cols // fc)
    padded = np.zeros((R * fr, C * fc))
    padded[:rows, :cols] = matrix
    blocks = padded.reshape(R, fr, C, fc).transpose(0, 2, 1, 3).reshape(R, C, fr * fc)
    pick = np.nan_to_num(np.abs(blocks), nan=np.inf).argmax(axis=2)
    return np.take_along_axis(blocks, pick[..., None], axis=2)[..., 0]


def _set_symmetric_levels(colorbar: pg.ColorBarItem, level: float, name: str) -> None:
    """Levels ±level, with tick labels short enough for the bar's axis and their factor in its title."""
    colorbar.setLevels((-level, level))
    ticks, factor = symmetric_ticks(level)
    colorbar.axis.setTicks([ticks, []])
    colorbar.getAxis("left").setLabel(name + factor)


def _tiny(value: float) -> str:
    """A gradient for a heatmap cell, at most 6 characters so that it stays inside the cell: 0.034, -12,
    -5e-8, 1.2e3 (one significant digit below 0.01; the Inspect tab has every digit)."""
    if value == 0 or not np.isfinite(value):
        return "0" if value == 0 else str(value)
    if 0.01 <= abs(value) < 100:
        return f"{value:.2g}"
    return _compact(value, 2 if abs(value) >= 100 else 1)


def _short(value: float) -> str:
    """A weight for a heatmap cell: two decimals below 100, else e.g. 1.2e3 (at most 6 characters)."""
    if not np.isfinite(value):
        return str(value)
    return f"{value:.2f}" if abs(value) < 100 else _compact(value, 2)


def _compact(value: float, digits: int) -> str:
    """Scientific notation without the exponent's sign and zeros padding ("-5.3e-8", "1.2e3"), with fewer
    digits when that would be longer than 6 characters."""
    for d in range(digits, 0, -1):
        mantissa, exponent = f"{value:.{d - 1}e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
        if len(text) <= 6:
            return text
    return text
