"""The loss landscape's plots: `LandscapePlot` (the loss over a plane as a heat map with contours, the centre and the
optimizers' paths), `SlicePlot` (the loss along one direction with the gradient's slope at the centre) and
`PathTruthPlot` (the true loss along a path against the plane's loss at its projected points).

Each is one self-contained pyqtgraph widget in the manner of pyqtgraph's `ColorBarItem`: built once, its parameters
documented, fed data through public setters, its workings in `_` helpers. They draw `engine.landscape` results and
compute nothing but what drawing needs (log values, contour segments), so they are cheap on the GUI thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor

from engine.landscape import Landscape, parameter_label

from .contour import contour_segments
from .curves import LogAxis
from .grids import pixel_rect
from .legends import LegendRow
from .style import format_loss

LOSS_MAP = "viridis"  # sequential, dark (low loss, where training ends) to bright, readable in grey print too
CONTOUR_LEVELS = 8  # contour lines, evenly spaced in the colour scale (linear or log) between the grid's min and max
CONTOUR_MAX_SIDE = 121  # contours of a larger grid are traced on every k-th point (8 levels of 401 x 401 took 80 ms)
CONTOUR_PEN = pg.mkPen(255, 255, 255, 130, width=1)
CENTRE_SYMBOL = dict(symbol="star", size=18, pen=pg.mkPen("#212529", width=1), brush=pg.mkBrush("#ffffff"))
START_SYMBOL = dict(symbol="o", size=9)
PATH_WIDTH = 2  # px; under it a halo PATH_WIDTH + 2 px wide in a contrasting colour, so a path reads on every colour
TEXT_COLOR = "#212529"
SLICE_COLOR = "#1f4e9c"
TANGENT_COLOR = "#e8590c"
TANGENT_SPAN = 0.25  # the tangent is drawn over this fraction of the slice's t range, around t = 0
TRUE_COLOR = "#1f4e9c"
PLANE_COLOR = "#e8590c"


def _halo(color) -> QColor:
    """A colour that stands out around `color`: near-black around light colours, white around dark ones."""
    c = pg.mkColor(color)
    light = 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue() > 140
    return QColor(33, 37, 41, 200) if light else QColor(255, 255, 255, 200)


def set_axis_title(item: pg.PlotItem, side: str, text: str) -> None:
    """Title the axis on `side` (only when the text changes: it re-lays out the axis), centred. pyqtgraph places an axis's
    label only when the axis is resized, so a new, longer title would start at the old one's place and run off."""
    axis = item.getAxis(side)
    if axis.labelText != text:
        item.setLabel(side, text)
        axis.resizeEvent()


def display_values(loss: np.ndarray, log: bool) -> tuple[np.ndarray, float, float]:
    """The loss grid as the colour scale shows it, and that scale's (low, high): log10 of the loss when `log` (a zero
    loss is shown as the smallest positive one), the loss itself otherwise. Non-finite points get the top value, so
    they are drawn in the top colour; an all-non-finite grid gets (0, 1)."""
    loss = np.asarray(loss, dtype=np.float64)
    finite = np.isfinite(loss)
    if log:
        positive = finite & (loss > 0)
        floor = loss[positive].min() if positive.any() else 1.0
        values = np.log10(np.where(positive, loss, floor))
    else:
        values = loss.copy()
    if not finite.any():
        return np.zeros_like(values), 0.0, 1.0
    low, high = float(values[finite].min()), float(values[finite].max())
    if not high > low:  # a flat grid: a band around its one value
        pad = max(abs(low) * 1e-6, 1e-12)
        low, high = low - pad, high + pad
    values[~finite] = high
    return values, low, high


def contour_levels(low: float, high: float, n: int = CONTOUR_LEVELS) -> np.ndarray:
    """`n` levels evenly spaced strictly between `low` and `high`."""
    return np.linspace(low, high, n + 2)[1:-1]


def log_ticks(low: float, high: float, most: int = 7) -> list[tuple[float, str]]:
    """Ticks for a colour scale of log10 values from `low` to `high`, labelled with the loss (10^v): the decades, with
    2 and 5 (or every digit) within them when the scale spans few, at most about `most` of them; at least the two ends."""
    first, last = int(np.floor(low)), int(np.ceil(high))
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9))[:: -1 if high - low < 2.5 else 1]:
        values = [np.log10(m) + k for k in range(first, last + 1) for m in mantissas]
        values = [v for v in values if low - 1e-9 <= v <= high + 1e-9]
        if len(values) <= most or mantissas == (1,):
            break
    values = values[:: max(1, -(-len(values) // most))]
    if len(values) < 2:
        values = list(np.linspace(low, high, 3))
    return [(float(v), f"{10**v:.3g}".replace("e-0", "e-").replace("e+0", "e")) for v in values]


class _PathSample(pg.ItemSample):
    """A path's legend sample as the path is drawn: its line over a contrasting halo (a white path reads on the white
    legend too). Clicking it hides or shows the path (pyqtgraph's behaviour; the halo and start mark follow the line)."""

    def __init__(self, line: pg.PlotDataItem, halo_pen) -> None:
        super().__init__(line)
        self.halo_pen = halo_pen

    def paint(self, p, *args) -> None:
        if self.item.isVisible():
            p.setRenderHint(p.RenderHint.Antialiasing)
            p.setPen(self.halo_pen)
            p.drawLine(1, 11, 19, 11)
        super().paint(p, *args)


class LandscapePlot(pg.PlotWidget):
    """The loss over the plane θ = θ* + a·d₁ + b·d₂ (an `engine.landscape.Landscape`) as a heat map (rows b, columns a,
    each grid point in the middle of its pixel) with a colour bar, contour lines evenly spaced in the colour scale, the
    centre θ* marked with a star (its loss in the legend) and any number of paths projected onto the plane.

    Axes: a and b, titled with the directions' labels. For parameter directions they are the two weights' exact values
    (θ*ᵢ + a); for random and principal directions the offsets a, b themselves. The view's aspect ratio is locked (a and b
    are in the same units) and fits the grid; the mouse does not pan or zoom it (the range is the plane's setting).

    Parameters
    ----------
    color_map: str
        The name of the pyqtgraph colour map for the loss (default `LOSS_MAP`, low loss dark).
    levels: int
        Contour lines drawn (default `CONTOUR_LEVELS`); 0 draws none.
    parent: QWidget, optional
    """

    def __init__(self, parent=None, *, color_map: str = LOSS_MAP, levels: int = CONTOUR_LEVELS) -> None:
        super().__init__(parent)
        self.levels = int(levels)
        self.landscape: Landscape | None = None
        self.log = False
        self._offsets = (0.0, 0.0)
        self._path_items: list[pg.GraphicsObject] = []  # per path: halo, line, start mark
        self._path_samples: list[tuple[_PathSample, str]] = []  # per path: its legend sample and label
        item = self.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setAspectLocked(True)
        item.getViewBox().disableAutoRange()
        self.legend = LegendRow(item)  # above the map: a legend inside it would hide part of the surface
        self.image = pg.ImageItem(np.zeros((2, 2)), axisOrder="row-major")
        item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get(color_map), label="loss",
                                        interactive=False, colorMapMenu=False, width=14)  # fmt: skip
        self.colorbar.setImageItem(self.image, insert_in=item)
        self.colorbar.axis.enableAutoSIPrefix(False)
        self.contours = pg.PlotDataItem(pen=CONTOUR_PEN, connect="pairs")
        item.addItem(self.contours)
        self.centre = pg.ScatterPlotItem(**CENTRE_SYMBOL)
        self.centre.setZValue(20)  # above every path
        item.addItem(self.centre)
        self.start_sample = pg.ScatterPlotItem(pen=pg.mkPen(TEXT_COLOR, width=1.5), brush=pg.mkBrush(0, 0, 0, 0),
                                               **START_SYMBOL)  # fmt: skip  # the legend's sample for "start"
        self.setToolTip("The training loss over a plane through the weights θ*: θ = θ* + a·d₁ + b·d₂. The star is θ*; "
                        "lines are contours of equal loss; a path is the run's weights projected onto the plane.")  # fmt: skip
        self.set_landscape(None)

    # public setters

    def set_landscape(self, landscape: Landscape | None) -> None:
        """Show `landscape` (None: an empty plot). Its paths are another plane's: they are cleared (`set_paths` after)."""
        self.landscape = landscape
        self._remove_paths()
        self._legend_entries()
        item = self.getPlotItem()
        if landscape is None:
            self._offsets = (0.0, 0.0)
            self.image.setImage(np.zeros((2, 2)), autoLevels=False, levels=(0.0, 1.0))
            self.image.setVisible(False)
            self.contours.setData([], [])
            self.centre.setData([], [])
            set_axis_title(item, "bottom", "a")
            set_axis_title(item, "left", "b")
            return
        directions = landscape.directions
        self._offsets = tuple(float(o) for o in directions.offsets)
        set_axis_title(item, "bottom", self._axis_title(0))
        set_axis_title(item, "left", self._axis_title(1))
        self.centre.setData([self._offsets[0]], [self._offsets[1]])
        self.image.setVisible(True)
        self._draw()
        x0, y0, width, height = self._rect()
        item.setRange(xRange=(x0, x0 + width), yRange=(y0, y0 + height), padding=0)

    def set_log_scale(self, on: bool) -> None:
        """Colour (and place the contours) by log10 of the loss, or by the loss."""
        on = bool(on)
        if on != self.log:
            self.log = on
            axis = self.colorbar.getAxis("left")  # where ColorBarItem puts its label
            axis.setLabel("loss (log scale)" if on else "loss")
            axis.resizeEvent()  # centred again (see `set_axis_title`)
            if self.landscape is not None:
                self._draw()

    def set_paths(self, paths: list[tuple[str, str, np.ndarray, np.ndarray]]) -> None:
        """Draw `paths` instead of those on show: (legend label, colour, a, b), a and b the projected coordinates (k,)
        along d₁ and d₂ as `engine.landscape.project` gives them (the plot adds the parameters' values for parameter
        directions). Each path's first point (the initial weights) is marked with a circle."""
        self._remove_paths()
        item = self.getPlotItem()
        for label, color, a, b in paths:
            x = np.asarray(a, dtype=np.float64) + self._offsets[0]
            y = np.asarray(b, dtype=np.float64) + self._offsets[1]
            halo_pen = pg.mkPen(_halo(color), width=PATH_WIDTH + 2)
            halo = pg.PlotDataItem(x, y, pen=halo_pen)
            line = pg.PlotDataItem(x, y, pen=pg.mkPen(color, width=PATH_WIDTH))
            start = pg.ScatterPlotItem(x[:1], y[:1], pen=pg.mkPen(color, width=2), brush=pg.mkBrush(_halo(color)),
                                       **START_SYMBOL)  # fmt: skip
            for z, part in enumerate((halo, line, start)):
                part.setZValue(10 + z)
                item.addItem(part)
                self._path_items.append(part)
            for part in (halo, start):
                line.visibleChanged.connect(lambda part=part, line=line: part.setVisible(line.isVisible()))
            self._path_samples.append((_PathSample(line, halo_pen), label))
        self._legend_entries()

    def clear_paths(self) -> None:
        self._remove_paths()
        self._legend_entries()

    # what is on show (for tests and the window)

    def path_items(self) -> list[pg.PlotDataItem]:
        """The drawn paths' lines, in the order given."""
        return self._path_items[1::3]

    def legend_labels(self) -> list[str]:
        return self.legend.labels()

    def contour_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The contour segments' end points in axis coordinates (x, y), segment k from point 2k to 2k + 1."""
        x, y = self.contours.getData()
        return (np.empty(0), np.empty(0)) if x is None else (x, y)

    def color_levels(self) -> tuple[float, float]:
        """The colour scale's (low, high): loss values, or their log10 on the log scale."""
        return tuple(float(v) for v in self.colorbar.levels())

    # helpers

    def _axis_title(self, index: int) -> str:
        directions = self.landscape.directions
        if directions.names is not None:  # the axis shows the parameter's values: name it as the maths and the CLI do
            name = directions.names[index]
            return f"value of {parameter_label(name)}  ({name})"
        return directions.labels[index]

    def _rect(self) -> tuple[float, float, float, float]:
        landscape = self.landscape
        return pixel_rect(landscape.a + self._offsets[0], landscape.b + self._offsets[1])

    def _draw(self) -> None:
        """The heat map, the colour bar and the contours from `landscape` and `log`."""
        values, low, high = display_values(self.landscape.loss, self.log)
        self.image.setImage(values, autoLevels=False, levels=(low, high), rect=QRectF(*self._rect()))
        self.colorbar.setLevels((low, high))
        self.colorbar.axis.setTicks([log_ticks(low, high)] if self.log else None)  # log: labelled with the loss itself
        self._draw_contours(np.where(np.isfinite(self.landscape.loss), values, np.nan), low, high)  # none through inf/NaN

    def _draw_contours(self, values: np.ndarray, low: float, high: float) -> None:
        """`levels` contours of `values` (as coloured), on every `stride`-th grid point so that a large grid costs the GUI
        thread no more than a CONTOUR_MAX_SIDE one (the lines are as smooth on screen)."""
        n = len(values)
        if self.levels <= 0 or values.shape != (n, n):  # contour_segments takes square grids
            self.contours.setData([], [])
            return
        stride = -(-(n - 1) // (CONTOUR_MAX_SIDE - 1))
        index = np.unique(np.r_[np.arange(0, n, stride), n - 1])  # the last point too: the lines reach the edges
        steps = np.arange(len(index), dtype=np.float64)  # contours in grid steps, then mapped onto a and b
        sub = values[np.ix_(index, index)]
        xs, ys = zip(*(contour_segments(sub, steps, level) for level in contour_levels(low, high, self.levels)))
        a, b = self.landscape.a[index] + self._offsets[0], self.landscape.b[index] + self._offsets[1]
        self.contours.setData(np.interp(np.concatenate(xs), steps, a), np.interp(np.concatenate(ys), steps, b))

    def _remove_paths(self) -> None:
        item = self.getPlotItem()
        for part in self._path_items:
            item.removeItem(part)
        self._path_items = []
        self._path_samples = []

    def _legend_entries(self) -> None:
        """The legend: the centre with its loss, each path, and the start mark when there are paths."""
        self.legend.clear()
        if self.landscape is not None:
            self.legend.addItem(self.centre, f"θ*: loss {format_loss(self.landscape.centre_loss)}")
        for sample, label in self._path_samples:
            self.legend.addItem(sample, label)
        if self._path_samples:
            self.legend.addItem(self.start_sample, "start")


class SlicePlot(pg.PlotWidget):
    """The loss along one direction through θ*, L(θ* + t·d/|d|) against t, with the tangent at t = 0 whose slope is the
    gradient · d (so the picture ties to the Inspect tab's gradient), and θ* marked.

    Parameters
    ----------
    parent: QWidget, optional
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        item = self.getPlotItem()
        item.setLabel("left", "loss")
        item.setLabel("bottom", "t")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        self.legend = LegendRow(item)
        self.curve = item.plot(pen=pg.mkPen(SLICE_COLOR, width=2))
        self.tangent = item.plot(pen=pg.mkPen(TANGENT_COLOR, width=2, style=Qt.PenStyle.DashLine))
        self.centre = pg.ScatterPlotItem(**CENTRE_SYMBOL)
        self.centre.setZValue(10)
        item.addItem(self.centre)
        self.slope = float("nan")
        self.setToolTip("The loss along one direction d through θ* (t = 0). The dashed line is the tangent at θ*: its "
                        "slope is the gradient · d, the directional derivative.")  # fmt: skip
        self.set_slice(np.empty(0), np.empty(0), float("nan"), float("nan"), "")

    def set_slice(self, t: np.ndarray, loss: np.ndarray, slope: float, centre_loss: float, label: str) -> None:
        """Draw the loss `loss` at offsets `t` along the direction named `label`, and the tangent centre_loss + slope·t
        over the middle `TANGENT_SPAN` of t. Empty `t`: an empty plot."""
        t, loss = np.asarray(t, dtype=np.float64), np.asarray(loss, dtype=np.float64)
        self.slope = float(slope)
        item = self.getPlotItem()
        self.legend.clear()
        set_axis_title(item, "bottom", f"t along {label}" if label else "t")
        if not len(t):
            for curve in (self.curve, self.tangent):
                curve.setData([], [])
            self.centre.setData([], [])
            return
        self.curve.setData(t, np.where(np.isfinite(loss), loss, np.nan), connect="finite")
        self.legend.addItem(self.curve, "loss along the direction")
        self.centre.setData([0.0], [centre_loss])
        self.legend.addItem(self.centre, f"θ*: loss {format_loss(centre_loss)}")
        if np.isfinite(slope) and np.isfinite(centre_loss):
            half = TANGENT_SPAN * (t.max() - t.min()) / 2
            tt = np.array([-half, half])
            self.tangent.setData(tt, centre_loss + slope * tt)
            self.legend.addItem(self.tangent, f"slope {slope:.3g} (gradient · d)".replace("-", "−"))
        else:
            self.tangent.setData([], [])
        finite = loss[np.isfinite(loss)]
        item.enableAutoRange()
        if len(finite):  # the range of the loss, not of the tangent (which may run far off it)
            item.setYRange(float(finite.min()), float(finite.max()), padding=0.05)


class PathTruthPlot(pg.PlotWidget):
    """How far the picture is from the truth: over a path's epochs, the true training loss at each of its weights
    against the plane's loss at their projections onto the plane. Where the two part, the path drawn on the plane
    is not where the weights were. Log y axis (both losses positive).

    Parameters
    ----------
    parent: QWidget, optional
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent, axisItems={"left": LogAxis("left")})
        item = self.getPlotItem()
        item.setLabel("left", "loss")
        item.setLabel("bottom", "epoch")
        item.setLogMode(y=True)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        self.legend = LegendRow(item)
        self.true_curve = item.plot(pen=pg.mkPen(TRUE_COLOR, width=2), name="true loss along the path")
        self.plane_curve = item.plot(pen=pg.mkPen(PLANE_COLOR, width=2, style=Qt.PenStyle.DashLine),
                                     name="the plane's loss at the projected point")  # fmt: skip
        self.setToolTip("The training loss at each weight vector of the path (true) against the loss the plane shows "
                        "where that point is projected. Where they differ, the projected path is not the real one.")  # fmt: skip

    def set_path_losses(self, epochs: np.ndarray, true_loss: np.ndarray, plane_loss: np.ndarray) -> None:
        """The two losses (k,) at the path's epochs (k,); empty arrays clear the plot. Non-positive or non-finite
        losses leave gaps (the axis is logarithmic)."""
        epochs = np.asarray(epochs, dtype=np.float64)
        for curve, loss in ((self.true_curve, true_loss), (self.plane_curve, plane_loss)):
            loss = np.asarray(loss, dtype=np.float64)
            if not len(epochs):
                curve.setData([], [])
                continue
            shown = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
            curve.setData(epochs, shown, connect="finite")
        self.getPlotItem().enableAutoRange()


__all__ = ["LandscapePlot", "PathTruthPlot", "SlicePlot", "contour_levels", "display_values"]
