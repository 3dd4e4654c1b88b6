"""The network diagram and the hidden-unit maps."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg

from engine import Params
from engine.inspect import SampleTrace

from .maps import image_rect
from .style import colormap, unit_names

MAX_DRAWN_UNITS = 12  # units drawn per layer in the diagram (the first ones)
MAX_LABELLED_EDGES = 16  # nets with at most this many edges show each weight's value on its edge
POSITIVE, NEGATIVE = "#d9480f", "#1c7ed6"
DARK_FILL = 0.179  # below this luminance white text contrasts more than black (WCAG contrast ratios)


class NetworkDiagram(pg.PlotWidget):
    """Inputs, hidden units and the output as nodes, the first unit of each layer on top (x1 above x2);
    each weight an edge, red when positive, blue when negative, thicker when larger, with its value written
    on it when the net is small. Nodes are filled by their activation for the inspected input, their names
    black or white by the fill's lightness. Hovering a node or an edge shows its value."""

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
        self.nodes = pg.ScatterPlotItem(size=26, pen=pg.mkPen("#343a40", width=1), hoverable=True,
                                        tip=lambda x, y, data: data)  # fmt: skip
        self.labels: list[pg.TextItem] = []
        self.node_labels: list[pg.TextItem] = []  # one per node, in the order of `nodes`
        self.edge_labels: list[pg.TextItem] = []  # one per edge, in the order of `edges` (small nets only)
        self.sizes: tuple[int, ...] = ()
        self.positions: list[np.ndarray] = []
        item.addItem(self.nodes)
        self.setToolTip("")

    def _layout(self, sizes: tuple[int, ...]) -> None:
        item = self.getPlotItem()
        for _, _, _, edge in self.edges:
            item.removeItem(edge)
        for label in self.labels:
            item.removeItem(label)
        self.edges, self.labels, self.node_labels, self.edge_labels = [], [], [], []
        self.sizes = tuple(sizes)
        shown = [min(n, MAX_DRAWN_UNITS) for n in sizes]
        self.positions = [np.column_stack([np.full(n, float(i)), (n - 1) / 2 - np.arange(n)]) for i, n in enumerate(shown)]
        labelled = sum(a * b for a, b in itertools.pairwise(shown)) <= MAX_LABELLED_EDGES
        names = unit_names(self.sizes)
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
        for layer, pos in enumerate(self.positions):
            for k, (x, y) in enumerate(pos):
                label = pg.TextItem(names[layer][k], anchor=(0.5, 0.5), color="#212529")
                label.setPos(x, y)
                label.setZValue(2)
                item.addItem(label)
                self.labels.append(label)
                self.node_labels.append(label)
            if sizes[layer] > MAX_DRAWN_UNITS:
                more = pg.TextItem(f"+{sizes[layer] - MAX_DRAWN_UNITS} more", anchor=(0.5, 0), color="#868e96")
                more.setPos(layer, pos[:, 1].min() - 0.6)
                item.addItem(more)
                self.labels.append(more)
        top = max(len(p) for p in self.positions) / 2 + 0.5
        item.setRange(xRange=(-0.4, len(sizes) - 0.6), yRange=(-top - 0.4, top), padding=0)

    def set_state(self, params: Params, trace: SampleTrace | None) -> None:
        sizes = tuple([params[0][0].shape[1]] + [W.shape[0] for W, _ in params])
        if sizes != self.sizes:
            self._layout(sizes)
        biggest = max((float(np.nanmax(np.abs(W))) for W, _ in params if W.size), default=1.0) or 1.0
        names = unit_names(sizes)
        for layer, j, i, edge in self.edges:
            w = float(params[layer][0][j, i])
            width = 0.5 + 5.5 * min(abs(w) / biggest, 1.0) if np.isfinite(w) else 0.5
            edge.setPen(pg.mkPen(POSITIVE if w >= 0 else NEGATIVE, width=width))
            edge.setToolTip(f"W{layer + 1}[{names[layer + 1][j]}, {names[layer][i]}] = {w:.6g}")
        for value, (layer, j, i, _) in zip(self.edge_labels, self.edges):
            value.setText(f"{float(params[layer][0][j, i]):.3g}")
        values = self._activations(sizes, trace)
        cmap = colormap()
        spots, brushes, tips = [], [], []
        for layer, pos in enumerate(self.positions):
            for k in range(len(pos)):
                v = values[layer][k] if values is not None else np.nan
                level = 0.5 if not np.isfinite(v) else (np.clip(v, -1, 1) + 1) / 2 if layer else np.clip(v, 0, 1) * 0.5 + 0.5
                fill = cmap.map(level, mode="qcolor")
                brushes.append(pg.mkBrush(fill))
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
        return [trace.x, *trace.a]


def _luminance(color) -> float:
    """WCAG relative luminance of a QColor, 0 (black) .. 1 (white)."""
    channels = [c / 255 for c in color.getRgb()[:3]]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class HiddenUnitMaps(pg.GraphicsLayoutWidget):
    """Each hidden unit's activation over the input square, like TensorFlow Playground's neurons."""

    def __init__(self, axis: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("hiddenUnitMaps")
        self.setToolTip("Each hidden unit's activation over the input square (x1 to the right, x2 up)")
        self.axis = axis
        self.images: list[pg.ImageItem] = []
        self.names: list[str] = []
        self.colorbar: pg.ColorBarItem | None = None
        self._shape: tuple = ()

    def _build(self, names: list[str], levels: tuple[float, float]) -> None:
        self.clear()
        self.images, self.names = [], names
        rect = self.grid_rect = image_rect(self.axis)  # not `rect`, which is QWidget.rect()
        columns = max(1, int(np.ceil(np.sqrt(len(names)))))
        for k, name in enumerate(names):
            plot = self.addPlot(row=k // columns, col=k % columns)
            plot.setTitle(name, size="9pt")
            for side, label in (("bottom", "x1"), ("left", "x2")):
                axis = plot.getAxis(side)
                axis.setTicks([[(0.0, "0"), (1.0, "1")]])
                axis.setLabel(label)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setAspectLocked(True)
            image = pg.ImageItem(np.zeros((len(self.axis), len(self.axis))), axisOrder="row-major", rect=rect)
            plot.addItem(image)
            plot.setRange(rect=rect, padding=0)
            self.images.append(image)
        self.colorbar = pg.ColorBarItem(values=levels, colorMap=colormap(), interactive=False, colorMapMenu=False,
                                        width=10, label="activation")  # fmt: skip
        self.colorbar.setImageItem(self.images)
        self.addItem(self.colorbar, row=0, col=columns, rowspan=max(1, int(np.ceil(len(names) / columns))))

    def set_maps(self, maps: np.ndarray, sizes: tuple[int, ...], activation: str) -> None:
        """maps: (units, n, n), the first hidden units in order, each over axis² (rows x2, columns x1)."""
        names = [n for layer in unit_names(sizes)[1:-1] for n in layer][: len(maps)]
        levels = (-1.0, 1.0) if activation == "tanh" else (0.0, 1.0)
        if activation == "relu":
            levels = (0.0, max(1.0, float(np.nanmax(maps)) if maps.size else 1.0))
        if (tuple(names), activation) != self._shape:
            self._shape = (tuple(names), activation)
            self._build(names, levels)
        self.colorbar.setLevels(levels)
        for image, data in zip(self.images, maps):
            image.setImage(np.nan_to_num(data, nan=0.0), autoLevels=False, levels=levels, rect=self.grid_rect)
