"""The network diagram and the hidden-unit maps."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QTimer
from PySide6.QtGui import QFont, QFontMetricsF

from engine import Params
from engine.datasets import make_dataset
from engine.inspect import SampleTrace

from .grids import HIDDEN_SIDE, Bounds, grid_for, pixel_rect, view_bounds
from .style import colormap, nice_ceiling, unit_names

MAX_DRAWN_UNITS = 12  # units drawn per layer in the diagram (the first ones) ...
MAX_DRAWN_EDGES = 160  # ... and fewer in a big network, so that it draws at most this many edges (each an item)
MAX_SHOWN_MAPS = 9  # hidden-unit maps shown (the first units of the first hidden layers): more do not fit a small screen
BUILT_PER_TURN = 4  # hidden-unit plots built in one event-loop turn
MAX_LABELLED_EDGES = 16  # nets with at most this many edges show each weight's value on its edge
POSITIVE, NEGATIVE = "#d9480f", "#1c7ed6"
NODE_SIZE = 26  # the diagram's node diameter in pixels
NODE_TEXT_PX = NODE_SIZE - 4  # a node's name at most this wide is written on it; wider ones beside it (inputs)
SMALL_NAME_POINTS = 7.0  # ... after trying this smaller font
EDGE_LABEL_AIR_PX = 4  # between two values' boxes side by side (a box's margins keep lines apart)
EDGE_LABEL_AT = (0.5, 0.35, 0.65, 0.25, 0.75, 0.42, 0.58)  # where along its edge a value may go, after its own place
MORE_POINTS = 7.5  # the font size of the diagram's "⋮ +N" labels, under a layer's units not drawn
MIN_MAP_PX = 44  # the smallest side of a hidden-unit map's image in pixels: smaller ones do not read
MAP_TITLE_PX, MAP_AXIS_PX = 22, 52  # a map's title above it; the outer maps' axis (ticks and label) below them
MAP_LEFT_AXIS_PX = 44  # room for a map's tick values and axis label, on every map alike
DARK_FILL = 0.179  # below this luminance white text contrasts more than black (WCAG contrast ratios)


def drawn_units(sizes: tuple[int, ...]) -> list[int]:
    """How many units of each layer the diagram draws (the first ones): all, or at most the same number in
    every layer, as many as keep the edges among them within MAX_DRAWN_EDGES (and MAX_DRAWN_UNITS)."""
    for cap in range(MAX_DRAWN_UNITS, 1, -1):
        shown = [min(n, cap) for n in sizes]
        if sum(a * b for a, b in itertools.pairwise(shown)) <= MAX_DRAWN_EDGES:
            break
    return shown


class NetworkDiagram(pg.PlotWidget):
    """Inputs, hidden units and the output as nodes, the first unit of each layer on top (x1 above x2);
    each weight an edge, red when positive, blue when negative, thicker when larger, with its value written
    on it when the net is small. Nodes are filled by their activation for the inspected input, their names
    black or white by the fill's lightness. Hovering a node or an edge shows its value. A big network's
    layers show their first units only (see `drawn_units`), and how many more there are."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("networkDiagram")
        item = self.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setTitle("network: edges red + / blue −, width |w|; nodes: activation", size="9pt")
        self.edges: list[tuple[int, int, int, pg.PlotCurveItem]] = []  # (layer, out unit, in unit, item)
        self.nodes = pg.ScatterPlotItem(size=NODE_SIZE, pen=pg.mkPen("#343a40", width=1), hoverable=True,
                                        tip=lambda x, y, data: data)  # fmt: skip
        self.labels: list[pg.TextItem] = []
        self.node_labels: list[pg.TextItem] = []  # one per node, in the order of `nodes`
        self.edge_labels: list[pg.TextItem] = []  # one per edge, in the order of `edges` (small nets only)
        self.edge_spots: list[tuple[float, float, float, float, float]] = []  # per edge label: x0, y0, x1, y1, own t
        self.beside: list[int] = []  # the nodes (indices in `nodes`) whose names are written beside them (on the left)
        self.more_labels: list[pg.TextItem] = []  # "⋮ +N" below each layer with units not drawn
        self.sizes: tuple[int, ...] = ()
        self.names: list[list[str]] = [[]]  # every layer's unit names (`unit_names`)
        self.shown: list[int] = []  # units drawn per layer (see `drawn_units`)
        self.positions: list[np.ndarray] = []
        self._drawn: tuple | None = None  # the (params, trace) on show
        self._weights: list[float] = []  # the labelled edges' weights on show
        item.addItem(self.nodes)
        item.vb.sigResized.connect(self._fit)
        self.setToolTip("")

    def _layout(self, sizes: tuple[int, ...], names: list[list[str]]) -> None:
        item = self.getPlotItem()
        for _, _, _, edge in self.edges:
            item.removeItem(edge)
        for label in self.labels:
            item.removeItem(label)
        self.edges, self.labels, self.node_labels, self.edge_labels, self.more_labels = [], [], [], [], []
        self.edge_spots, self.beside, self._weights = [], [], []
        self.sizes = tuple(sizes)
        shown = self.shown = drawn_units(sizes)
        self.positions = [np.column_stack([np.full(n, float(i)), (n - 1) / 2 - np.arange(n)]) for i, n in enumerate(shown)]
        labelled = sum(a * b for a, b in itertools.pairwise(shown)) <= MAX_LABELLED_EDGES
        self.names = names
        for layer in range(len(sizes) - 1):
            for j in range(shown[layer + 1]):
                for i in range(shown[layer]):
                    (x0, y0), (x1, y1) = self.positions[layer][i], self.positions[layer + 1][j]
                    edge = pg.PlotCurveItem([x0, x1], [y0, y1])
                    edge.setZValue(-1)
                    edge.setAcceptHoverEvents(True)
                    item.addItem(edge)
                    self.edges.append((layer, j, i, edge))
                    if labelled:  # along the edge by its source, so that edges that cross keep apart
                        t = 0.2 + 0.6 * (i + 0.5) / shown[layer]
                        value = pg.TextItem("", anchor=(0.5, 0.5), color="#212529", fill=pg.mkBrush(255, 255, 255, 210))
                        value.setPos(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
                        value.setZValue(1)
                        item.addItem(value)
                        self.edge_labels.append(value)
                        self.edge_spots.append((x0, y0, x1, y1, t))
        for layer, pos in enumerate(self.positions):
            font, beside = self._name_font(names[layer][: len(pos)], inputs=layer == 0)
            for k, (x, y) in enumerate(pos):
                label = pg.TextItem(names[layer][k], anchor=(1, 0.5) if beside else (0.5, 0.5), color="#212529")
                label.setFont(font)
                label.setPos(x, y)  # beside: moved left of the node by `_fit`
                label.setZValue(2)
                item.addItem(label)
                if beside:
                    self.beside.append(len(self.node_labels))
                self.labels.append(label)
                self.node_labels.append(label)
            if sizes[layer] > len(pos):  # below the layer's last node, at the bottom edge (see `_fit`)
                more = pg.TextItem(f"⋮\n+{sizes[layer] - len(pos):,}", anchor=(0.5, 1), color="#868e96")
                more.setPos(layer, 0.0)  # its height is set by `_fit`
                font = more.textItem.font()
                font.setPointSizeF(MORE_POINTS)
                more.setFont(font)
                more.setToolTip(f"{sizes[layer] - len(pos):,} more units in this layer, not drawn")
                item.addItem(more)
                self.labels.append(more)
                self.more_labels.append(more)
        self._fit()

    @staticmethod
    def _name_font(names: list[str], inputs: bool):
        """The font for a layer's node names, and whether they go beside the nodes: the usual font, else a smaller
        one, when every name fits on its node (NODE_TEXT_PX); the inputs' beside them (left, where no edge goes) in
        the usual font otherwise ("sin x₁"), the others' in the smaller font."""
        font = QFont()  # the application's, as a TextItem's
        small = QFont(font)
        small.setPointSizeF(SMALL_NAME_POINTS)
        for candidate in (font, small):
            metrics = QFontMetricsF(candidate)
            if all(metrics.horizontalAdvance(name) <= NODE_TEXT_PX for name in names):
                return candidate, False
        return (font, True) if inputs else (small, False)

    def _fit(self) -> None:
        """Show every node, with room below the lowest for the "⋮ +N" labels (their height is in pixels, so
        the room in data units follows the view's height) and left of the inputs for names written beside them."""
        if not self.positions:
            return
        item = self.getPlotItem()
        left, right = -0.4, len(self.sizes) - 0.6
        width = item.vb.width()
        if self.beside and width > 0:
            room = NODE_SIZE / 2 + 4 + max(self.node_labels[k].boundingRect().width() for k in self.beside)  # pixels
            if width > 2 * room:
                left = min(left, -room * right / (width - room))  # room / width of the span (right - left)
            per_px = (right - left) / width  # data units per pixel along x
            for k in self.beside:
                label = self.node_labels[k]
                x, y = self.positions[0][k]
                label.setPos(x - (NODE_SIZE / 2 + 2) * per_px, y)
        top = max(len(p) for p in self.positions) / 2 + 0.5
        lowest = -top + 0.5  # the centre of the lowest node
        bottom = -top - 0.4
        if self.more_labels:
            room = NODE_SIZE / 2 + max(label.boundingRect().height() for label in self.more_labels) + 4  # pixels
            height = item.vb.height()
            if height > room:
                bottom = min(bottom, top - (top - lowest) / (1 - room / height))
            for label in self.more_labels:
                label.setPos(label.pos().x(), bottom)
        item.setRange(xRange=(left, right), yRange=(bottom, top), padding=0)
        self._place_edge_labels()

    def _place_edge_labels(self) -> None:
        """Put each edge's value where it covers no other value and no node: at its own place along the edge, else
        at another (EDGE_LABEL_AT), the largest weights first; a value with no free place is hidden (hovering its
        edge still tells it)."""
        vb = self.getPlotItem().vb
        if not self.edge_labels or vb.width() <= 0 or vb.height() <= 0:
            return
        (vx0, vx1), (vy0, vy1) = vb.viewRange()  # mapped by hand: the view's transform follows only when painted
        sx, sy = vb.width() / (vx1 - vx0), vb.height() / (vy1 - vy0)

        def pixels(x: float, y: float) -> QPointF:
            return QPointF((x - vx0) * sx, (vy1 - y) * sy)

        scene = [pixels(x, y) for pos in self.positions for x, y in pos]
        half = NODE_SIZE / 2
        taken = [QRectF(p.x() - half, p.y() - half, NODE_SIZE, NODE_SIZE) for p in scene]
        size = np.nan_to_num(np.abs(self._weights), nan=np.inf) if len(self._weights) == len(self.edge_labels) else None
        order = range(len(self.edge_labels)) if size is None else np.argsort(-size, kind="stable")
        for k in order:
            label = self.edge_labels[k]
            x0, y0, x1, y1, own = self.edge_spots[k]
            box = label.textItem.boundingRect()
            w, h = box.width() + EDGE_LABEL_AIR_PX, box.height() - 2  # its white box (which has the text's margins)
            for t in (own, *EDGE_LABEL_AT):
                at = pixels(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
                rect = QRectF(at.x() - w / 2, at.y() - h / 2, w, h)
                if not any(rect.intersects(other) for other in taken):
                    label.setPos(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
                    taken.append(rect)
                    label.setVisible(True)
                    break
            else:
                label.setPos(x0 + own * (x1 - x0), y0 + own * (y1 - y0))
                label.setVisible(False)

    def set_state(self, params: Params, trace: SampleTrace | None, features: tuple[str, ...] | None = None) -> None:
        """Draw `params` and, when given, the activations of `trace`'s forward pass. features: the inputs' names
        (`TrainConfig.features`; a trace's own config's otherwise)."""
        if self._drawn is not None and self._drawn[0] is params and self._drawn[1] is trace:
            return  # on show
        self._drawn = (params, trace)
        sizes = tuple([params[0][0].shape[1]] + [W.shape[0] for W, _ in params])
        names = unit_names(sizes, trace.config.features if trace is not None else features)
        if sizes != self.sizes or names[0] != self.names[0]:
            self._layout(sizes, names)
        drawn = [W[: self.shown[k + 1], : self.shown[k]] for k, (W, _) in enumerate(params)]  # the weights drawn
        biggest = max((float(np.nanmax(np.abs(W))) for W in drawn if W.size), default=1.0) or 1.0
        for layer, j, i, edge in self.edges:
            w = float(params[layer][0][j, i])
            width = 0.5 + 5.5 * min(abs(w) / biggest, 1.0) if np.isfinite(w) else 0.5
            edge.setPen(pg.mkPen(POSITIVE if w >= 0 else NEGATIVE, width=width))
            edge.setToolTip(f"W{layer + 1}[{names[layer + 1][j]}, {names[layer][i]}] = {w:.6g}")
        self._weights = [float(params[layer][0][j, i]) for (layer, j, i, _), _ in zip(self.edges, self.edge_labels)]
        for value, w in zip(self.edge_labels, self._weights):
            value.setText(f"{w:.3g}")
        self._place_edge_labels()  # the values' widths changed
        values = self._activations(sizes, trace)
        cmap = colormap()
        spots, brushes, tips = [], [], []
        for layer, pos in enumerate(self.positions):
            for k in range(len(pos)):
                v = values[layer][k] if values is not None else np.nan
                level = 0.5 if not np.isfinite(v) else (np.clip(v, -1, 1) + 1) / 2 if layer else np.clip(v, 0, 1) * 0.5 + 0.5
                fill = cmap.map(level, mode="qcolor")
                brushes.append(pg.mkBrush(fill))
                if len(spots) not in self.beside:  # a name beside its node is on the view's white
                    self.node_labels[len(spots)].setColor("#ffffff" if _luminance(fill) < DARK_FILL else "#000000")
                bias = "" if layer == 0 else f", b = {float(params[layer - 1][1][k, 0]):.4g}"
                tips.append(f"{names[layer][k]}: {'x' if layer == 0 else 'a'} = {v:.4g}{bias}")
                spots.append(pos[k])
        pts = np.array(spots)
        self.nodes.setData(pos=pts, brush=brushes, data=tips)

    @staticmethod
    def _activations(sizes: tuple[int, ...], trace: SampleTrace | None) -> list[np.ndarray] | None:
        if trace is None:
            return None
        inputs = trace.x if trace.features_in is None else trace.features_in  # the network's inputs: the features
        return [inputs, *trace.a]


def few_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Two or three round ticks within [low, high] for a small map's axis: the largest 1-2-5 step that gives at
    least two (XOR's [-0.25, 1.25]: 0 and 1)."""
    step = nice_ceiling(high - low) if high > low else 1.0
    for _ in range(60):
        values = np.arange(np.ceil(low / step), np.floor(high / step) + 1) * step
        if len(values) >= 2:
            return [(float(v), f"{v:g}") for v in values + 0.0]  # + 0.0: "0", not "-0"
        mantissa = round(step / 10 ** np.floor(np.log10(step)))
        step = step / 2.5 if mantissa == 5 else step / 2  # 10, 5, 2, 1, 0.5, ...
    return []


def _luminance(color) -> float:
    """WCAG relative luminance of a QColor, 0 (black) .. 1 (white)."""
    channels = [c / 255 for c in color.getRgb()[:3]]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class HiddenUnitMaps(pg.GraphicsLayoutWidget):
    """Each hidden unit's activation over the data's region of the input plane (the decision map's), like
    TensorFlow Playground's neurons: the first MAX_SHOWN_MAPS hidden units. Their plots are built once and reused
    for any network and data; new data only sets the images (and the titles when the units change, the ranges and
    ticks when the region does)."""

    def __init__(self, bounds: Bounds | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("hiddenUnitMaps")
        self.setToolTip("Each hidden unit's activation over the data's region (x1 to the right, x2 up)")
        self.bounds = Bounds(*bounds) if bounds is not None else view_bounds(make_dataset())  # until `set_bounds`
        self.side = HIDDEN_SIDE
        self.grid_rect = QRectF(*pixel_rect(*grid_for(self.bounds, self.side)[:2]))  # not `rect`: QWidget.rect()
        self.plots: list[pg.PlotItem] = []  # every plot built so far; the first len(names) are on show
        self.pool: list[pg.ImageItem] = []  # their images
        self.names: list[str] = []  # the units on show
        self.wanted: list[str] = []  # the units to show (the same once their plots are built)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=colormap(), interactive=False, colorMapMenu=False,
                                        width=10, label="activation")  # fmt: skip
        self._levels = (0.0, 1.0)
        self._drawn = None  # the maps on show
        self._more = QTimer(self)  # builds the plots still missing in the next event-loop turn
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._build_more)

    @property
    def images(self) -> list[pg.ImageItem]:
        """The images on show, one per unit in `names`."""
        return self.pool[: len(self.names)]

    def _plot(self) -> None:
        plot = pg.PlotItem(enableMenu=False)  # no context menus: the cheapest plot with axes
        for side, label in (("bottom", "x1"), ("left", "x2")):
            plot.getAxis(side).setLabel(label)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        image = pg.ImageItem(np.zeros((self.side, self.side)), axisOrder="row-major", rect=self.grid_rect)
        plot.addItem(image)
        self._frame(plot)
        self.plots.append(plot)
        self.pool.append(image)

    def _frame(self, plot: pg.PlotItem) -> None:
        """The plot's range and ticks for `bounds`."""
        x0, x1, y0, y1 = self.bounds
        plot.setAspectLocked(max(x1 - x0, y1 - y0) <= 3 * min(x1 - x0, y1 - y0))  # as the decision map
        plot.getAxis("bottom").setTicks([few_ticks(x0, x1)])
        plot.getAxis("left").setTicks([few_ticks(y0, y1)])
        plot.setRange(rect=self.grid_rect, padding=0)

    def set_bounds(self, bounds: Bounds, side: int = HIDDEN_SIDE) -> None:
        """The maps come over `grid_for(bounds, side)` from now on (the data changed)."""
        if (Bounds(*bounds), side) == (self.bounds, self.side):
            return
        self.bounds, self.side = Bounds(*bounds), side
        self.grid_rect = QRectF(*pixel_rect(*grid_for(self.bounds, side)[:2]))
        self._drawn = None
        for plot, image in zip(self.plots, self.pool):
            image.setImage(np.zeros((side, side)), autoLevels=False, levels=self._levels, rect=self.grid_rect)
            self._frame(plot)

    def _place(self, names: list[str]) -> None:
        """Lay out the plots of these units in a square grid. Plots never built before are built at most
        BUILT_PER_TURN at a time (each takes ~10 ms): the units without one yet follow in the next turns."""
        for _ in range(min(BUILT_PER_TURN, len(names) - len(self.plots))):
            self._plot()
        self.names = names[: len(self.plots)]
        self.ci.clear()  # keeps the items: they are placed again
        columns = max(1, int(np.ceil(np.sqrt(len(names)))))
        rows = max(1, int(np.ceil(len(names) / columns)))
        for k, name in enumerate(self.names):
            plot = self.plots[k]
            plot.setTitle(name, size="9pt")
            outer = {"left": k % columns == 0, "bottom": k + columns >= len(names)}  # ticks on the outer maps only
            for side, label in (("bottom", "x1"), ("left", "x2")):
                axis = plot.getAxis(side)
                axis.setStyle(showValues=outer[side])
                axis.setLabel(label)
                axis.showLabel(outer[side])  # the inner maps keep their label, hidden
            # every map's left axis takes the same room, shown or not, so the maps of a row are as large (a row's
            # bottom axes are alike already: all outer or all inner)
            plot.getAxis("left").setWidth(MAP_LEFT_AXIS_PX)
            self.ci.addItem(plot, row=k // columns, col=k % columns)
        self.setMinimumHeight(rows * (MIN_MAP_PX + MAP_TITLE_PX) + MAP_AXIS_PX)  # every map keeps a readable size
        self.colorbar.setImageItem(self.images)
        self.ci.addItem(self.colorbar, row=0, col=columns, rowspan=max(1, int(np.ceil(len(names) / columns))))
        if len(self.names) < len(names):
            self._more.start()

    def _build_more(self) -> None:
        maps, sizes, activation = self._drawn
        self._drawn = None
        self.set_maps(maps, sizes, activation)

    def set_maps(self, maps: np.ndarray, sizes: tuple[int, ...], activation: str) -> None:
        """maps: (units, n, n), the first hidden units in order, each over `grid_for(bounds, n)` (rows x2, columns
        x1; see `set_bounds`); the first MAX_SHOWN_MAPS are shown."""
        if self._drawn is not None and self._drawn[0] is maps and self._drawn[1:] == (sizes, activation):
            return  # these maps are on show
        self._drawn = (maps, sizes, activation)
        if maps.ndim == 3 and maps.shape[1] != self.side:  # a grid of another side over the same region
            self.set_bounds(self.bounds, maps.shape[1])
            self._drawn = (maps, sizes, activation)
        maps = maps[:MAX_SHOWN_MAPS]
        names = self.wanted = list(itertools.islice((n for layer in unit_names(sizes)[1:-1] for n in layer), len(maps)))
        levels = (-1.0, 1.0) if activation == "tanh" else (0.0, 1.0)
        if activation == "relu":
            levels = (0.0, max(1.0, float(np.nanmax(maps)) if maps.size else 1.0))
        if names != self.names:
            self._place(names)
        if levels != self._levels:
            self._levels = levels
            self.colorbar.setLevels(levels)
        for image, data in zip(self.images, maps):
            image.setImage(np.nan_to_num(data, nan=0.0), autoLevels=False, levels=levels, rect=self.grid_rect)
