"""gui/landscape_plot.py: what the heat map, its contours, colour scale, centre, paths and legend show, and the slice
and path-against-truth plots."""

import numpy as np
import pytest

from engine import Layout, TrainConfig, Trainer, landscape
from engine.datasets import make_dataset
from engine.landscape import Directions, Landscape
from gui.grids import pixel_rect
from gui.landscape_plot import CONTOUR_MAX_SIDE, LandscapePlot, PathTruthPlot, SlicePlot, contour_levels, log_ticks

PATH_COLOR = "#f8f9fa"


def bowl(n: int = 41, span: float = 1.0, offsets=(0.0, 0.0), names=None, loss=None) -> Landscape:
    """loss = a² + b² + 0.01 (or `loss`) on an n × n grid, with made-up directions."""
    a = landscape.grid_axis(n, span)
    grid = a[None, :] ** 2 + a[:, None] ** 2 + 0.01 if loss is None else loss
    d = np.zeros(4)
    labels = names or ("direction 1", "direction 2")
    directions = Directions(kind="params" if names else "random", d1=d, d2=d, labels=labels, names=names, offsets=offsets)
    return Landscape(a=a, b=a.copy(), loss=grid, centre=np.zeros(4), centre_loss=float(grid[n // 2, n // 2]),
                     directions=directions, seconds=0.0)  # fmt: skip


@pytest.fixture
def plot(qtbot):
    widget = LandscapePlot()
    qtbot.addWidget(widget)
    widget.resize(700, 560)
    widget.show()
    return widget


def test_heat_map_of_a_real_parameter_plane(plot):
    """Rows b, columns a, each grid point in the middle of its pixel, the axes in the two weights' values; the star at
    θ*, its loss in the legend, the axes named as the maths and the command line name the parameters."""
    trainer = Trainer(TrainConfig(), data=make_dataset())
    trainer.run(200)
    layout = Layout.from_sizes(trainer.config.layer_sizes)
    directions = landscape.parameter_directions(layout, ("W1[0,0]", "b2[0]"), trainer.theta)
    land = landscape.compute_landscape(trainer.config, trainer.data, trainer.theta, directions, grid=31, span=0.5)
    plot.set_landscape(land)
    image = plot.image.image
    assert image.shape == (31, 31)
    assert np.array_equal(image, land.loss)  # linear scale: the loss itself, row j at b[j]
    w, b = directions.offsets
    rect = plot.image.mapRectToParent(plot.image.boundingRect())
    expected = pixel_rect(land.a + w, land.b + b)
    assert [rect.left(), rect.top(), rect.width(), rect.height()] == pytest.approx(expected, rel=1e-9)
    assert plot.centre.getData()[0][0] == w and plot.centre.getData()[1][0] == b
    assert plot.legend_labels() == [f"θ*: loss {land.centre_loss:.6g}"]
    item = plot.getPlotItem()
    assert item.getAxis("bottom").labelText == "value of W⁽¹⁾₁₁  (W1[0,0])"
    assert item.getAxis("left").labelText == "value of b⁽²⁾₁  (b2[0])"
    assert plot.color_levels() == (land.loss.min(), land.loss.max())


def test_log_scale_colours_by_log10_and_non_finite_takes_the_top_colour(plot):
    loss = bowl().loss.copy()
    loss[0, 0], loss[0, 1], loss[1, 0] = np.inf, np.nan, 0.0
    plot.set_landscape(bowl(loss=loss))
    plot.set_log_scale(True)
    low, high = plot.color_levels()
    finite = np.isfinite(loss) & (loss > 0)
    assert low == np.log10(loss[finite].min()) and high == np.log10(loss[finite].max())
    image = plot.image.image
    assert image[0, 0] == high and image[0, 1] == high  # inf and NaN: the top colour
    assert image[1, 0] == low  # a zero loss: the smallest positive one
    assert np.array_equal(image[finite], np.log10(loss[finite]))
    ticks = plot.colorbar.axis._tickLevels[0]
    assert [label for _, label in ticks][:3] == ["0.01", "0.1", "1"]
    plot.set_log_scale(False)
    assert plot.color_levels() == (0.0, loss[np.isfinite(loss)].max())
    assert plot.colorbar.axis._tickLevels is None  # the axis's own ticks again


@pytest.mark.parametrize("n", [81, 401])
def test_contours_lie_on_their_levels(plot, n):
    """The bowl's contours are circles a² + b² = level − 0.01, evenly spaced in the colour scale, out to the grid's
    edges; a grid larger than CONTOUR_MAX_SIDE is traced on every k-th point (as cheap as that, as exact as its cells)."""
    plot.set_landscape(bowl(n=n, offsets=(3.0, -2.0), names=("W1[0,0]", "b2[0]")))
    x, y = plot.contour_data()
    assert len(x) > 100 and len(x) % 2 == 0
    assert x.min() == pytest.approx(2.0) and x.max() == pytest.approx(4.0)  # the outer levels cut the edges
    radius2 = (x - 3.0) ** 2 + (y + 2.0) ** 2 + 0.01  # the loss at each contour point
    levels = contour_levels(*plot.color_levels())
    nearest = np.min(np.abs(radius2[:, None] - levels[None, :]), axis=1)
    stride = -(-(n - 1) // (CONTOUR_MAX_SIDE - 1))
    step = 2.0 / (n - 1) * stride
    assert len(x) < 4 * 8 * CONTOUR_MAX_SIDE * 2  # at most about a contour's length in cells per level and segment
    assert nearest.max() < 2 * step * np.sqrt(2) * 2  # within a cell of a level (the loss's slope is at most 2√2)
    assert np.unique(np.argmin(np.abs(radius2[:, None] - levels[None, :]), axis=1)).size == len(levels)


def test_a_flat_plane_draws_on_either_scale(plot, qtbot):
    """A flat (or nearly flat) loss has no contours and still a colour scale: the log scale's ticks once failed there."""
    for loss in (np.full((5, 5), 0.25), 0.25 + 1e-9 * np.arange(25.0).reshape(5, 5)):
        plot.set_landscape(bowl(n=5, loss=loss))
        for log in (True, False):
            plot.set_log_scale(log)
            low, high = plot.color_levels()
            assert low < high
            assert not plot.grab().isNull()
    assert len(log_ticks(np.log10(0.25), np.log10(0.25) + 1e-9)) >= 2


def test_paths_in_weight_values_with_a_legend_and_cleared_by_a_new_plane(plot):
    plot.set_landscape(bowl(offsets=(3.0, -2.0), names=("W1[0,0]", "b2[0]")))
    a, b = np.array([-0.5, -0.2, 0.0]), np.array([0.4, 0.1, 0.0])
    plot.set_paths([("path, epochs 0 to 100", PATH_COLOR, a, b), ("adam", "#1f4e9c", -a, b)])
    lines = plot.path_items()
    assert len(lines) == 2
    x, y = lines[0].getData()
    assert np.array_equal(x, a + 3.0) and np.array_equal(y, b - 2.0)  # the plot adds the parameters' values
    assert plot.legend_labels()[1:] == ["path, epochs 0 to 100", "adam", "start"]
    halo, line, start = plot._path_items[:3]
    assert start.getData()[0][0] == a[0] + 3.0
    line.setVisible(False)  # as a click on its legend sample does: the halo and the start mark go with it
    assert not halo.isVisible() and not start.isVisible()
    plot.set_landscape(bowl())
    assert plot.path_items() == [] and plot.legend_labels() == ["θ*: loss 0.01"]
    plot.set_paths([("p", PATH_COLOR, a, b)])
    plot.clear_paths()
    assert plot.path_items() == [] and "start" not in plot.legend_labels()
    plot.set_landscape(None)
    assert plot.legend_labels() == [] and not plot.image.isVisible() and len(plot.contour_data()[0]) == 0


def test_readable_at_the_window_s_size(plot, qtbot):
    """Rendered at a Landscape tab's size the picture is drawn (a smoke test that painting works and warns nothing)."""
    plot.set_landscape(bowl(n=121))
    plot.set_log_scale(True)
    plot.set_paths([("path", PATH_COLOR, np.linspace(-0.9, 0, 50), np.linspace(0.8, 0, 50))])
    plot.resize(640, 520)
    image = plot.grab().toImage()
    assert image.width() == 640 and image.height() == 520


def test_slice_draws_the_tangent_through_the_centre(qtbot):
    widget = SlicePlot()
    qtbot.addWidget(widget)
    t = np.linspace(-1, 1, 101)
    widget.set_slice(t, 0.2 + 0.3 * t**2 - 0.1 * t, -0.1, 0.2, "random direction 1 (filter-normalised)")
    x, y = widget.tangent.getData()
    assert np.allclose(y, 0.2 - 0.1 * x, rtol=0, atol=1e-15) and x[0] < 0 < x[-1]
    assert widget.legend.labels() == ["loss along the direction", "θ*: loss 0.2", "slope −0.1 (gradient · d)"]
    assert widget.getPlotItem().getAxis("bottom").labelText == "t along random direction 1 (filter-normalised)"
    widget.set_slice(np.empty(0), np.empty(0), float("nan"), float("nan"), "")
    assert widget.curve.getData()[0] is None or len(widget.curve.getData()[0]) == 0
    assert widget.legend.labels() == []


def test_path_truth_leaves_gaps_where_the_log_axis_cannot_go(qtbot):
    widget = PathTruthPlot()
    qtbot.addWidget(widget)
    epochs = np.array([0, 1, 2, 4], dtype=np.int64)
    widget.set_path_losses(epochs, np.array([0.3, 0.2, 0.1, 0.05]), np.array([0.3, np.nan, 0.0, 0.06]))
    x, y = widget.plane_curve.getOriginalDataset()
    assert np.array_equal(x, epochs) and y[0] == 0.3 and np.isnan(y[1]) and np.isnan(y[2]) and y[3] == 0.06
    assert widget.legend.labels() == ["true loss along the path", "the plane's loss at the projected point"]
    widget.set_path_losses(np.empty(0, np.int64), np.empty(0), np.empty(0))
    assert widget.true_curve.getOriginalDataset()[0] is None or len(widget.true_curve.getOriginalDataset()[0]) == 0
