"""The decision map (network output over the data's region of the input plane, with the data) and the weight heatmaps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QScrollBar

from engine import Params
from engine.datasets import MAX_PREDICTION_SAMPLES, Dataset, make_dataset

from .contour import contour_segments
from .grids import GRID_SIDE, grid_for, pixel_rect, view_bounds
from .style import TARGET_COLORS, colormap, nice_ceiling, symmetric_ticks, unit_names

MAX_ANNOTATED = 8  # write the value on every cell of matrices up to 8 x 8
MAX_TICKED = 16  # name every row and column of matrices up to 16 units
MAX_SHOWN = 128  # a bigger matrix is shown reduced to at most this many rows and columns (see `reduced`)
MAX_LEVEL = 1e300  # colour scale limit: pyqtgraph computes with the levels' span, which must stay finite
CELL_MARGIN_PX = 1  # a cell's label's text document's margin
CELL_AIR_PX = 6  # at least this much of a cell beside its label's box (which has the text document's margins)
SMALL_POINT_SIZE = 7.0  # a label that does not fit its cell in the usual font tries this one, then is left out
CLICK_PX = 4  # a click this close to a dot's edge on the decision map picks it
MAX_ASPECT = 3.0  # the decision map keeps x1 and x2 on one scale unless one span is more than this times the other


class DecisionMap(pg.PlotWidget):
    """ŷ over the data's region of the input plane (`grids.view_bounds`) as an image (rows x2, columns x1), the
    ŷ = 0.5 contour and the dataset's points: training points filled, test points hollow, coloured by label.
    Clicking a point (or within CLICK_PX of it) emits `pointClicked` with its index in the dataset."""

    pointClicked = Signal(int)  # the index of the clicked point in `dataset.inputs`

    def __init__(self, dataset: Dataset | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("decisionMap")
        item = self.getPlotItem()
        item.setLabel("bottom", "x1")
        item.setLabel("left", "x2")
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.image = pg.ImageItem(np.full((2, 2), 0.5), axisOrder="row-major")
        item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=colormap(), label="ŷ", interactive=False,
                                        colorMapMenu=False, width=14)  # fmt: skip
        self.colorbar.setImageItem(self.image, insert_in=item)
        self.boundary = pg.PlotDataItem(pen=pg.mkPen("#212529", width=1), connect="pairs")
        item.addItem(self.boundary)
        self.train_points = pg.ScatterPlotItem()
        self.test_points = pg.ScatterPlotItem()
        item.addItem(self.test_points)
        item.addItem(self.train_points)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.set_data(make_dataset() if dataset is None else dataset)

    def set_data(self, dataset: Dataset) -> None:
        """Show `dataset`: its points, and the region `view_bounds` gives it (the map is blank until `set_output`)."""
        self.dataset = dataset
        self.bounds = view_bounds(dataset)
        inputs, targets, train = dataset.inputs, dataset.targets, dataset.train
        size = point_size(dataset.n)
        labels = (targets >= 0.5).astype(int)
        brushes = [pg.mkBrush(TARGET_COLORS[k]) for k in (0, 1)]
        pens = [pg.mkPen(TARGET_COLORS[k], width=2) for k in (0, 1)]
        self.train_points.setData(
            x=inputs[train, 0], y=inputs[train, 1], size=size, pen=pg.mkPen("w", width=2 if size >= 12 else 1),
            brush=[brushes[k] for k in labels[train]],
        )  # fmt: skip
        self.test_points.setData(
            x=inputs[~train, 0], y=inputs[~train, 1], size=size, brush=pg.mkBrush(255, 255, 255, 90),
            pen=[pens[k] for k in labels[~train]],
        )  # fmt: skip
        x0, x1, y0, y1 = self.bounds
        item = self.getPlotItem()
        item.setAspectLocked(max(x1 - x0, y1 - y0) <= MAX_ASPECT * min(x1 - x0, y1 - y0))  # else it fills the view
        self._set_grid(GRID_SIDE)
        self.image.setImage(np.full((GRID_SIDE, GRID_SIDE), 0.5), autoLevels=False, levels=(0.0, 1.0), rect=self.grid_rect)
        self.boundary.setData([], [])
        item.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        test = f" Hollow dots are the {dataset.n_test:,} test points." if dataset.n_test else ""
        self.setToolTip(
            f"Network output over the data's region (blue 0, red 1); the black line is ŷ = 0.5. Filled dots are the "
            f"{dataset.n_train:,} training points, coloured by label.{test} Click a point to inspect it."
        )

    def _set_grid(self, side: int) -> None:
        """The grid the map is drawn on (`grid_for(bounds, side)`), each point the centre of its pixel."""
        self.axis, self.y_axis, _ = grid_for(self.bounds, side)  # `axis`: along x1
        self.grid_rect = QRectF(*pixel_rect(self.axis, self.y_axis))  # not `rect`: that would hide QWidget.rect()

    def set_output(self, grid_output: np.ndarray) -> None:
        """grid_output: (n, n) over `grid_for(bounds, n)`: row r at x2 = y_axis[r], column c at x1 = axis[c]. A big
        network's map comes on a coarser grid over the same region: `axis`, `y_axis` and `grid_rect` follow it."""
        n = len(grid_output)
        if n != len(self.axis):
            self._set_grid(n)
        image = np.nan_to_num(grid_output, nan=0.5)
        self.image.setImage(image, autoLevels=False, levels=(0.0, 1.0), rect=self.grid_rect)
        x, y = contour_segments(grid_output, np.arange(n, dtype=np.float64), 0.5)  # in grid steps, then in data units
        self.boundary.setData(self.axis[0] + x * (self.axis[-1] - self.axis[0]) / (n - 1),
                              self.y_axis[0] + y * (self.y_axis[-1] - self.y_axis[0]) / (n - 1))  # fmt: skip

    def point_at(self, scene_pos) -> int | None:
        """The dataset index of the point nearest `scene_pos` (scene coordinates), if within CLICK_PX of its edge."""
        vb = self.getPlotItem().getViewBox()
        inputs = self.dataset.inputs
        if not len(inputs):
            return None
        pos = vb.mapSceneToView(scene_pos)
        sx, sy = vb.viewPixelSize()  # data units per pixel
        dist = np.hypot((inputs[:, 0] - pos.x()) / sx, (inputs[:, 1] - pos.y()) / sy)  # pixels
        nearest = int(np.argmin(dist))
        return nearest if dist[nearest] <= point_size(self.dataset.n) / 2 + CLICK_PX else None

    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        event.accept()  # the map takes its clicks (the scene reports them: `_clicked`), none goes on to the window

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        event.accept()

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        if not self.getPlotItem().getViewBox().sceneBoundingRect().contains(event.scenePos()):
            return
        index = self.point_at(event.scenePos())
        if index is not None:
            self.pointClicked.emit(index)


def point_size(n: int) -> float:
    """Diameter in pixels of the decision map's dots for a dataset of n points: XOR's 16, smaller for more."""
    return 16.0 if n <= MAX_PREDICTION_SAMPLES else float(np.clip(10 - 2.5 * np.log10(n / 100), 5.0, 10.0))


class UnitAxis(pg.AxisItem):
    """An axis along a matrix's rows or columns (unit i spans [i, i + 1)) that names units without overprinting:
    every unit when the names fit, in the usual font or else a smaller one, written shorter if need be ("x₁x₂" for
    "x₁·x₂"); else (more than ALL_NAMED units) the first, the last and every k-th between them (k = 2, 5, 10, 20,
    … as small as keeps the names apart), in the usual font."""

    GAP_PX = 6  # between two names
    ALL_NAMED = 4  # a matrix this narrow (or short) has every unit named, however tight

    def __init__(self, orientation: str, fonts: tuple[QFont, ...] = ()) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)
        # no tick marks: beside a row's name and its first cell's "0.71" one reads "-0.71"; a column's name may
        # reach a little beyond the plot's ends (pyqtgraph leaves out the names that do not fit otherwise)
        self.setStyle(tickLength=0, hideOverlappingLabels=False)
        self.fonts = fonts or (QFont(),)  # the usual font, then smaller ones to try
        self.names: list[str] = []
        self.shown_names: list[str] = []  # `names`, or their shorter forms when those are on show
        self._choices: list[tuple[QFont, list[str], float]] = []  # (font, names, widest name's pixels), in order
        self._name_px = 0.0  # the widest name on show, in pixels (its height on a vertical axis)

    def set_names(self, names: list[str]) -> None:
        if names == self.names and self._choices:
            return
        self.names = list(names)
        vertical = self.orientation in ("left", "right")
        short = [_short_name(n) for n in self.names]
        self._choices = []
        for font in self.fonts:
            metrics = QFontMetricsF(font)
            for written in [self.names] if short == self.names else [self.names, short]:
                px = metrics.height() if vertical else max((metrics.horizontalAdvance(n) for n in written), default=0)
                self._choices.append((font, written, px))
        self._choose(0.0)
        self.picture = None
        self.update()

    def _choose(self, per_unit: float) -> tuple[int, float]:
        """Pick the font and names for units `per_unit` pixels apart. Returns the step between the named units (1:
        every one) and how many units apart two names must be to keep apart."""
        n = len(self.names)
        if not self._choices:
            return 1, 1.0
        fit = [c for c in self._choices if c[2] + self.GAP_PX <= per_unit]
        font, written, px = fit[0] if fit else self._choices[-1] if n <= self.ALL_NAMED else self._choices[0]
        step = 1
        while step * per_unit < px + self.GAP_PX and step < n and n > self.ALL_NAMED:
            step = int(nice_ceiling(step + 1))  # 2, 5, 10, 20, 50, ...
        if self.style["tickFont"] is not font:
            self.style["tickFont"] = font  # the next drawing's (see `generateDrawSpecs`)
        self.shown_names, self._name_px = written, px
        return step, (px + self.GAP_PX) / per_unit if per_unit > 0 else float(n)

    def named_units(self, size: float, span: float | None = None) -> list[int]:
        """The units named along an axis `size` pixels long showing `span` units (all of them by default): all,
        or the first, the last and the multiples of the step (1-based) at least a step away from both."""
        n = len(self.names)
        if not n or size <= 0:
            return []
        step, apart = self._choose(size / (span or n))
        if step == 1:
            return list(range(n))
        if n - 1 < apart:
            return [0]  # not even two names fit
        inner = [u for u in range(step - 1, n - 1, step) if apart <= u <= n - 1 - apart]
        return [0, *inner, n - 1]

    def generateDrawSpecs(self, p):
        low, high = sorted(self.range)
        size = self.height() if self.orientation in ("left", "right") else self.width()
        if high > low:
            self._choose(size / (high - low))  # the font, before pyqtgraph sets it on the painter
        return super().generateDrawSpecs(p)

    def tickValues(self, minVal, maxVal, size):
        minVal, maxVal = sorted((minVal, maxVal))  # an inverted view box gives them the other way round
        if not self.names or size <= 0 or maxVal <= minVal:
            return []
        units = self.named_units(size, maxVal - minVal)
        return [(1, [u + 0.5 for u in units if minVal <= u + 0.5 <= maxVal])]

    def tickStrings(self, values, scale, spacing):
        names = self.shown_names
        return [names[int(v)] if 0 <= int(v) < len(names) else "" for v in values]


def _short_name(name: str) -> str:
    """A unit's name written shorter for a narrow column: "x₁x₂" for "x₁·x₂", "sinx₁" for "sin x₁"."""
    return name.replace("·", "").replace(" ", "")


ROW_MIN_HEIGHT = 120  # pixels: a layer's row is never squeezed below this; the layers that do not fit are scrolled to
KINDS = ("W", "b", "∂W", "∂b")
COLUMNS = (0, 1, 3, 4)  # the kinds' layout columns: the weights' colour bar is column 2, the gradients' column 5


class _LayerRow:
    """The four plots of one layer's row (W, b, ∂L/∂W, ∂L/∂b), built once and shown for any layer."""

    def __init__(self, font: QFont, small_font: QFont) -> None:
        self.font = font
        self.small_font = small_font
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self.pools: list[list[pg.TextItem]] = [[], [], [], []]  # every text item made for each plot
        self.cells: list[list[pg.TextItem]] = [[], [], [], []]  # those on show, row by row
        self.layer = -1
        for kind in KINDS:
            fonts = (QFont(), small_font)  # the axes' names: the usual font, else the cells' small one
            plot = pg.PlotItem(axisItems={"left": UnitAxis("left", fonts), "bottom": UnitAxis("bottom", fonts)})
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getViewBox().invertY(True)
            if kind.endswith("b"):
                plot.setMaximumWidth(95)
            image = pg.ImageItem(np.zeros((1, 1)), axisOrder="row-major")
            plot.addItem(image)
            self.plots.append(plot)
            self.images.append(image)

    def show_layer(self, layer: int, sizes: tuple[int, ...], names: list[list[str]]) -> None:
        """Titles, axes and cells for `layer` (its images hold zeros until the next data)."""
        self.layer = layer
        n_out = sizes[layer + 1]
        for i, (kind, plot, image) in enumerate(zip(KINDS, self.plots, self.images)):
            cols = names[layer] if not kind.endswith("b") else ["b"]
            sup = f"<sup>({layer + 1})</sup>"
            title = f"{kind}{sup}" if not kind.startswith("∂") else f"∂L/∂{kind[1:]}{sup}"
            shape = f" &nbsp;({n_out}×{len(cols)})" if not kind.endswith("b") else ""
            plot.setTitle(f"{title}{shape}", size="9pt")
            rect = QRectF(0, 0, len(cols), n_out)
            image.setImage(np.zeros(reduced_shape((n_out, len(cols)))), autoLevels=False, levels=(-1.0, 1.0), rect=rect)
            plot.getViewBox().setRange(xRange=(0, len(cols)), yRange=(0, n_out), padding=0.02)
            plot.getAxis("left").set_names(names[layer + 1])
            plot.getAxis("bottom").set_names(cols)
            if kind != "W":  # the same rows as W's: named again only when every one is (room for the big ones)
                plot.showAxis("left", n_out <= MAX_TICKED)
            annotated = n_out <= MAX_ANNOTATED and len(cols) <= MAX_ANNOTATED
            needed = n_out * len(cols) if annotated else 0
            pool = self.pools[i]
            while len(pool) < needed:
                text = pg.TextItem("", anchor=(0.5, 0.5), color="#212529")
                text.textItem.document().setDocumentMargin(CELL_MARGIN_PX)  # Qt's 4 px would leave a narrow cell blank
                text.setFont(self.font)
                plot.addItem(text)
                pool.append(text)
            for k, text in enumerate(pool):
                if k < needed:
                    text.setPos(k % len(cols) + 0.5, k // len(cols) + 0.5)
                    text.setText("")
                text.setVisible(k < needed)
            self.cells[i] = pool[:needed]


class WeightHeatmaps(pg.GraphicsLayoutWidget):
    """For every layer, W (out x in) and b (out x 1) side by side on one symmetric diverging scale, then the
    gradients on theirs: one row per layer, each at least ROW_MIN_HEIGHT pixels tall. The rows that fit are shown;
    `layer_bar` (a scroll bar for the window to place beside this view) or the mouse wheel scrolls to the others.
    The rows' plots are built once and reused for any layer and network; the colour bars span the rows on show.

    Levels are ±L where L only grows (to the next 1-2-5 step above the largest |weight| seen since the
    last reset), so a colour means the same value from one epoch to the next.
    """

    layersShown = Signal(str)  # "layers 3–4 of 9" when not every layer is on show, else ""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("weightHeatmaps")
        self.setToolTip("Weights W and biases b of every layer; rows are the units a layer feeds, columns its inputs.")
        self.grad_level = 1.0
        self.gradient_label = ""
        self.level = 1.0
        self.sizes: tuple[int, ...] = ()
        self.features: tuple[str, ...] | None = None  # the inputs' features (`TrainConfig.features`) of the network shown
        self.names: list[list[str]] = []
        self.first_layer = 0
        self.rows: list[_LayerRow] = []  # built so far; the first `shown` are on show
        self.shown = 0
        self._params: Params = []
        self._gradient: Params = []
        self._font = QFont()
        self._font.setPointSizeF(8.5)
        self._small_font = QFont(self._font)
        self._small_font.setPointSizeF(SMALL_POINT_SIZE)
        self._wheel = 0  # wheel angle not yet turned into a layer
        self.layer_bar = QScrollBar(Qt.Orientation.Vertical)
        self.layer_bar.setObjectName("weightsLayerBar")
        self.layer_bar.setRange(0, 0)
        self.layer_bar.hide()
        self.layer_bar.valueChanged.connect(self._scrolled)
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=colormap(), interactive=False,
                                        colorMapMenu=False, width=11, label="weight")  # fmt: skip
        self.grad_colorbar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=colormap(), interactive=False,
                                             colorMapMenu=False, width=11, label="gradient")  # fmt: skip
        _set_symmetric_levels(self.colorbar, self.level, "weight")
        _set_symmetric_levels(self.grad_colorbar, self.grad_level, "gradient")

    # the shown rows' items, layer `first_layer` first
    @property
    def n_layers(self) -> int:
        return max(0, len(self.sizes) - 1)

    @property
    def images(self) -> list[tuple[pg.ImageItem, pg.ImageItem]]:
        return [(row.images[0], row.images[1]) for row in self.rows[: self.shown]]

    @property
    def grad_images(self) -> list[tuple[pg.ImageItem, pg.ImageItem]]:
        return [(row.images[2], row.images[3]) for row in self.rows[: self.shown]]

    @property
    def texts(self) -> list[tuple[list[pg.TextItem], list[pg.TextItem]]]:
        return [(row.cells[0], row.cells[1]) for row in self.rows[: self.shown]]

    @property
    def grad_texts(self) -> list[tuple[list[pg.TextItem], list[pg.TextItem]]]:
        return [(row.cells[2], row.cells[3]) for row in self.rows[: self.shown]]

    def shown_layers(self) -> range:
        return range(self.first_layer, self.first_layer + self.shown)

    def build(self, sizes: tuple[int, ...], features: tuple[str, ...] | None = None) -> None:
        """Show a network with these layer sizes (input first) from its first layer; nothing drawn yet. features:
        the network's inputs (`TrainConfig.features`): the first layer's columns are named by their labels
        ("x₁²", "sin x₁"); x1, x2 without them."""
        self.sizes = tuple(sizes)
        self.features = None if features is None else tuple(features)
        self.names = unit_names(self.sizes, self.features)
        self._params, self._gradient = [], []
        self.level = self.grad_level = 1.0
        _set_symmetric_levels(self.colorbar, self.level, "weight")
        _set_symmetric_levels(self.grad_colorbar, self.grad_level, "gradient")
        self.first_layer = 0
        self._fit_rows(force=True)

    def _fit_rows(self, force: bool = False) -> None:
        """As many rows as fit (at least one), and the scroll bar for the rest."""
        fit = max(1, self.height() // ROW_MIN_HEIGHT)
        shown = min(self.n_layers, fit)
        if shown == self.shown and not force:
            return
        self.shown = shown
        while len(self.rows) < shown:
            self.rows.append(_LayerRow(self._font, self._small_font))
            for plot in self.rows[-1].plots:  # a cell's label is chosen from its width: again when that changes
                plot.getViewBox().sigResized.connect(self._redraw)
            self.colorbar.setImageItem([image for row in self.rows for image in row.images[:2]])
            self.grad_colorbar.setImageItem([image for row in self.rows for image in row.images[2:]])
        self.ci.clear()  # keeps the items: they are placed again
        for r, row in enumerate(self.rows[:shown]):
            for plot, col in zip(row.plots, COLUMNS):
                self.ci.addItem(plot, row=r, col=col)
        if shown:
            self.ci.addItem(self.colorbar, row=0, col=2, rowspan=shown)
            self.ci.addItem(self.grad_colorbar, row=0, col=5, rowspan=shown)
            for col in range(6):  # the room left over goes to the matrices W and ∂W (their cells' values need it)
                self.ci.layout.setColumnStretchFactor(col, 1 if col in (COLUMNS[0], COLUMNS[2]) else 0)
        self.first_layer = min(self.first_layer, self.n_layers - shown)
        blocked = self.layer_bar.blockSignals(True)
        self.layer_bar.setRange(0, self.n_layers - shown)
        self.layer_bar.setPageStep(max(1, shown))
        self.layer_bar.setValue(self.first_layer)
        self.layer_bar.blockSignals(blocked)
        self.layer_bar.setVisible(self.n_layers > shown)
        self._show_rows()

    def _scrolled(self, first: int) -> None:
        if first != self.first_layer:
            self.first_layer = first
            self._show_rows()

    def _show_rows(self) -> None:
        """Point the rows at the layers from `first_layer` and draw what is known of them."""
        for row, layer in zip(self.rows, self.shown_layers()):
            row.show_layer(layer, self.sizes, self.names)
        self._draw(self._params, 0, self.level, _short)
        self._draw(self._gradient, 2, self.grad_level, _tiny)
        shown = self.shown_layers()
        text = f"layers {shown[0] + 1}–{shown[-1] + 1} of {self.n_layers}" if self.n_layers > self.shown else ""
        if self.shown == 1 and text:
            text = f"layer {shown[0] + 1} of {self.n_layers}"
        self.layer_bar.setToolTip(f"Showing {text}: scroll (or turn the wheel over the weights) for the others")
        self.layersShown.emit(text)

    def _redraw(self) -> None:
        self._draw(self._params, 0, self.level, _short)
        self._draw(self._gradient, 2, self.grad_level, _tiny)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if getattr(self, "sizes", ()):  # pyqtgraph calls this from its __init__, before ours
            self._fit_rows()

    def wheelEvent(self, event) -> None:
        """The wheel scrolls the layers (one a notch) when not all are on show."""
        if self.layer_bar.maximum() == 0:
            super().wheelEvent(event)
            return
        self._wheel += event.angleDelta().y()
        notches = int(self._wheel / 120)
        if notches:
            self._wheel -= notches * 120
            self.layer_bar.setValue(self.layer_bar.value() - notches)
        event.accept()

    def reset_levels(self) -> None:
        self.level = 1.0

    def set_gradient(self, gradient: Params, label: str = "") -> None:
        """Show ∂L/∂W and ∂L/∂b on a symmetric scale fitted to the present gradients (1-2-5 steps)."""
        finite = [np.abs(a[np.isfinite(a)]) for W, b in gradient for a in (W, b)]
        biggest = max((float(f.max()) for f in finite if f.size), default=0.0)
        self.grad_level = min(nice_ceiling(biggest), MAX_LEVEL) if biggest > 0 else 1e-12
        self.gradient_label = label
        if self.grad_colorbar.levels() != (-self.grad_level, self.grad_level):
            _set_symmetric_levels(self.grad_colorbar, self.grad_level, "gradient")
        tip = f"Weights W and biases b, then the gradient: {label}"
        if self.toolTip() != tip:
            self.setToolTip(tip)
        self._gradient = gradient
        self._draw(gradient, 2, self.grad_level, _tiny)

    def set_params(self, params: Params) -> None:
        finite = [np.abs(a[np.isfinite(a)]) for W, b in params for a in (W, b)]
        biggest = max((float(f.max()) for f in finite if f.size), default=0.0)
        if biggest > self.level:
            self.level = min(nice_ceiling(biggest), MAX_LEVEL)
        if self.colorbar.levels() != (-self.level, self.level):
            _set_symmetric_levels(self.colorbar, self.level, "weight")
        self._params = params
        self._draw(params, 0, self.level, _short)

    def _draw(self, params: Params, first_col: int, level: float, number) -> None:
        """The shown layers of `params` (weights, or gradients) into the rows' plots from column `first_col`."""
        if len(params) != self.n_layers:
            return  # not yet this network's
        for row, layer in zip(self.rows, self.shown_layers()):
            W, b = params[layer]
            for col, matrix in ((first_col, W), (first_col + 1, b.reshape(-1, 1))):
                self._show(matrix, row.images[col], row.cells[col], level, number, row)

    @staticmethod
    def _show(matrix: np.ndarray, image: pg.ImageItem, cells: list[pg.TextItem], level: float, number, row) -> None:
        shown = reduced(matrix)  # a big layer's 1024 x 1024 weights would cost the window ~30 ms a draw
        if not (np.isfinite(shown).all() and np.abs(shown).max(initial=0.0) <= level):
            shown = np.clip(np.nan_to_num(shown, nan=0.0), -level, level)
        image.setImage(shown, autoLevels=False, levels=(-level, level))  # same shape: the rect set in show_layer holds
        if not cells:
            return
        fonts = (row.font, row.small_font)
        metrics = [QFontMetricsF(font) for font in fonts]
        box = 2 * cells[0].textItem.document().documentMargin() + CELL_AIR_PX  # around the text: margins and air
        room = _cell_width_px(image) - box
        for text, value in zip(cells, matrix.ravel()):
            label, small = _fitting(_labels(value, number), metrics, room)
            color = "#f8f9fa" if abs(value) > 0.6 * level else "#212529"
            if text.textItem.font() != fonts[small]:
                text.setFont(fonts[small])
            if label != text.textItem.toPlainText():  # repaint only the cells whose text changed
                text.setText(label)
            if color != text.color.name():
                text.setColor(color)


def _cell_width_px(image: pg.ImageItem) -> float:
    """How wide one column of `image` (one unit wide in its view) is on screen; 0 before it is laid out."""
    vb = image.getViewBox()
    if vb is None:
        return 0.0
    x0, x1 = vb.viewRange()[0]
    return vb.width() / (x1 - x0) if x1 > x0 else 0.0


def _labels(value: float, number) -> list[str]:
    """`number(value)`, then ever shorter ways to write it (fewer digits, no leading zero) for a cell too narrow
    for it."""
    labels = [number(value)]
    if value == 0 or not np.isfinite(value):
        return labels
    shorter = [f"{value:.{d}g}" for d in (2, 1)] + [_compact(value, d) for d in (2, 1)]
    for text in shorter:
        if "e+" not in text and len(text) < len(labels[-1]):
            labels.append(text)
    if abs(value) < 1:  # last, without the leading zero: "-.6"
        text = f"{value:.1g}".replace("0.", ".", 1)
        if "e" not in text and len(text) < len(labels[-1]):
            labels.append(text)
    return labels


def _fitting(labels: list[str], metrics: list[QFontMetricsF], room: float) -> tuple[str, int]:
    """The first of `labels` whose text is at most `room` pixels wide in one of the fonts of `metrics` (the first
    such font's index), else "" (the cell's colour and the Inspect tab still tell the value)."""
    for label in labels:  # every digit that fits, in the smaller font if need be, rather than fewer digits
        for i, m in enumerate(metrics):
            if m.horizontalAdvance(label) <= room:
                return label, i
    return "", 0


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
