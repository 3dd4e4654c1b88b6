"""The views of issue 10's data, each tested alone: the decision map over the data's region with its training
(filled) and test (hollow) points and a click that names a point, the loss and accuracy curves, the Inspect tab's
point picker, and the maps' grid (`gui.grids`), which the training thread and the views share."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from engine import TrainConfig, Trainer
from engine.datasets import Dataset, DataSpec, make_dataset
from engine.history import n_series_for
from engine.trainer import METRIC_COLUMNS, decision_grid
from gui.curves import CurvesPanel
from gui.grids import GRID_SIDE, HIDDEN_SIDE, Bounds, grid_for, pixel_rect, view_bounds
from gui.inspect_view import FIRST_POINT, NEXT, InspectView
from gui.maps import DecisionMap
from gui.network_views import HiddenUnitMaps, few_ticks
from gui.style import TARGET_COLORS


def spiral_like(n: int = 500, seed: int = 0, train_fraction: float = 0.5) -> Dataset:
    """Two interleaved noisy spirals in about [-3, 3]², labels alternating, a random half for training: built
    here with `Dataset` itself, so that these tests depend on the views and not on a generator."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    label = k % 2
    t = 0.5 + (k // 2) / (n // 2) * 3 * np.pi
    radius = 3 * t / (3 * np.pi + 0.5)
    angle = t + np.pi * label
    inputs = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) + rng.normal(0, 0.1, (n, 2))
    train = np.zeros(n, dtype=bool)
    train[rng.permutation(n)[: int(n * train_fraction)]] = True
    return Dataset(DataSpec(name="spiral", points=n), inputs, label.astype(float), train)


def saddle(points: np.ndarray) -> np.ndarray:
    """A smooth ŷ over the plane that crosses 0.5 along x1 = x2 (and so has a contour in any region)."""
    return 1 / (1 + np.exp(-2 * (points[:, 0] - points[:, 1])))


def show(qtbot, widget, width: int = 560, height: int = 480):
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def image_rect(view: DecisionMap) -> tuple[float, float, float, float]:
    return view.image.mapRectToParent(view.image.boundingRect()).getRect()


# --- the grid ---------------------------------------------------------------------------------------------------


def test_xor_keeps_its_square_and_its_grid():
    """XOR is shown over [-0.25, 1.25]² as before issue 10, on exactly the engine's `decision_grid` points."""
    bounds = view_bounds(make_dataset())
    assert bounds == Bounds(-0.25, 1.25, -0.25, 1.25)
    for side in (GRID_SIDE, HIDDEN_SIDE, 19):
        x, y, points = grid_for(bounds, side)
        axis, expected = decision_grid(side)
        np.testing.assert_array_equal(x, axis)
        np.testing.assert_array_equal(y, axis)
        np.testing.assert_array_equal(points, expected)


def test_view_bounds_hold_every_point_with_a_margin():
    data = spiral_like()
    x0, x1, y0, y1 = view_bounds(data)
    low, high = data.inputs.min(axis=0), data.inputs.max(axis=0)
    margin = 0.05 * max(high - low)
    assert x0 <= low[0] - margin and x1 >= high[0] + margin and y0 <= low[1] - margin and y1 >= high[1] + margin
    assert max(x1 - x0, y1 - y0) <= 1.3 * max(high - low)  # a margin, not a wide empty frame
    one_point = Dataset(DataSpec(name="custom"), np.array([[2.0, 5.0]]), np.array([1.0]), np.array([True]))
    x0, x1, y0, y1 = view_bounds(one_point)
    assert x0 < 2.0 < x1 and y0 < 5.0 < y1  # never an empty region


def test_few_ticks_are_round_and_inside():
    assert few_ticks(-0.25, 1.25) == [(0.0, "0"), (1.0, "1")]  # XOR's maps keep their ticks
    assert few_ticks(-3.4, 3.4) == [(-2.0, "-2"), (0.0, "0"), (2.0, "2")]
    assert [v for v, _ in few_ticks(0.0, 0.01)] == [0.0, 0.01]


# --- the decision map -------------------------------------------------------------------------------------------


def test_decision_map_draws_training_points_filled_test_points_hollow_and_the_contour(qtbot):
    data = spiral_like()
    view = show(qtbot, DecisionMap(data))
    train_x, train_y = view.train_points.getData()
    test_x, test_y = view.test_points.getData()
    np.testing.assert_array_equal(np.column_stack([train_x, train_y]), data.train_inputs)
    np.testing.assert_array_equal(np.column_stack([test_x, test_y]), data.test_inputs)
    train_spots, test_spots = view.train_points.points(), view.test_points.points()
    for spot, label in zip(train_spots, data.train_targets):  # filled with the label's colour
        assert spot.brush().color().name() == TARGET_COLORS[int(label)] and spot.brush().color().alpha() == 255
    for spot, label in zip(test_spots, data.test_targets):  # hollow: a ring of the label's colour
        assert spot.pen().color().name() == TARGET_COLORS[int(label)] and spot.brush().color().alpha() < 128
    grid = grid_for(view.bounds, GRID_SIDE)
    view.set_output(saddle(grid.points).reshape(GRID_SIDE, GRID_SIDE))
    x, y = view.boundary.getData()
    assert len(x) > 10
    np.testing.assert_allclose(x, y, atol=0.05)  # the 0.5 contour of `saddle` is the diagonal
    low, high = max(grid.x[0], grid.y[0]), min(grid.x[-1], grid.y[-1])  # the diagonal across the whole region
    assert x.min() == pytest.approx(low, abs=0.1) and x.max() == pytest.approx(high, abs=0.1)


def test_the_maps_rect_follows_the_datas_bounds(qtbot):
    data = spiral_like()
    view = show(qtbot, DecisionMap(data))
    bounds = view_bounds(data)
    for side in (GRID_SIDE, 19):  # a big network's coarser map covers the same region
        grid = grid_for(bounds, side)
        view.set_output(saddle(grid.points).reshape(side, side))
        np.testing.assert_array_equal(view.axis, grid.x)
        np.testing.assert_array_equal(view.y_axis, grid.y)
        assert image_rect(view) == pytest.approx(pixel_rect(grid.x, grid.y))
    (vx0, vx1), (vy0, vy1) = view.getPlotItem().getViewBox().viewRange()
    assert vx0 <= bounds.x_min and vx1 >= bounds.x_max and vy0 <= bounds.y_min and vy1 >= bounds.y_max  # none cut off
    view.set_data(make_dataset())  # back to XOR: its square, its four points, all for training
    step = 1.5 / (GRID_SIDE - 1)
    assert image_rect(view) == pytest.approx((-0.25 - step / 2, -0.25 - step / 2, 1.5 + step, 1.5 + step))
    assert len(view.train_points.points()) == 4 and len(view.test_points.points()) == 0


def click_at(qtbot, view: DecisionMap, x: float, y: float, dx: int = 0) -> None:
    scene = view.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))
    pos = view.mapFromScene(scene)
    pos.setX(pos.x() + dx)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def lonely(view: DecisionMap, candidates: np.ndarray, gap_px: float) -> int:
    """A dataset index among `candidates` with no other point within `gap_px` pixels."""
    inputs = view.dataset.inputs
    sx, sy = view.getPlotItem().getViewBox().viewPixelSize()
    for i in candidates:
        d = np.hypot((inputs[:, 0] - inputs[i, 0]) / sx, (inputs[:, 1] - inputs[i, 1]) / sy)
        d[i] = np.inf
        if d.min() > gap_px:
            return int(i)
    raise AssertionError("no point stands apart")


def test_clicking_a_point_emits_its_dataset_index(qtbot):
    data = spiral_like()
    view = show(qtbot, DecisionMap(data))
    for candidates in (np.flatnonzero(data.train), np.flatnonzero(~data.train)):  # a training point, then a test point
        index = lonely(view, candidates, 12)
        for dx in (0, 3):  # on it, or a few pixels beside it
            with qtbot.waitSignal(view.pointClicked, timeout=2000) as blocker:
                click_at(qtbot, view, *data.inputs[index], dx=dx)
            assert blocker.args == [index]
    with qtbot.assertNotEmitted(view.pointClicked):
        click_at(qtbot, view, view.bounds.x_max, view.bounds.y_min)  # a corner, far from the spirals


def test_clicking_an_xor_point(qtbot):
    view = show(qtbot, DecisionMap())
    for index, (x, y) in enumerate(make_dataset().inputs):
        with qtbot.waitSignal(view.pointClicked, timeout=2000) as blocker:
            click_at(qtbot, view, x, y, dx=5)
        assert blocker.args == [index]


# --- the curves -------------------------------------------------------------------------------------------------


def rows_for(data: Dataset, n: int = 300) -> np.ndarray:
    """n epochs of made-up history rows for `data`: metrics (METRIC_COLUMNS), then its predictions if recorded."""
    epochs = np.arange(1, n + 1)
    rows = np.full((n, n_series_for(data)), np.nan)
    columns = {name: i for i, name in enumerate(METRIC_COLUMNS)}
    rows[:, columns["loss"]] = 0.7 * np.exp(-epochs / 100) + 0.01
    rows[:, columns["train_accuracy"]] = 1 - 0.5 * np.exp(-epochs / 80)
    if data.n_test:
        rows[:, columns["test_loss"]] = 0.7 * np.exp(-epochs / 120) + 0.05
        rows[:, columns["test_accuracy"]] = 1 - 0.5 * np.exp(-epochs / 90) - 0.04
    if data.records_predictions:
        rows[:, len(METRIC_COLUMNS) :] = 0.5 + (data.train_targets - 0.5) * (1 - np.exp(-epochs / 50))[:, None]
    return rows


def test_the_accuracy_plot_shows_for_data_other_than_xor_and_the_predictions_for_xor(qtbot):
    panel = show(qtbot, CurvesPanel(spiral_like()), 1100, 320)
    assert panel.findChild(type(panel.accuracy_plot), "accuracyPlot") is panel.accuracy_plot
    plots = (panel.loss_plot, panel.prediction_plot, panel.accuracy_plot)
    assert panel.accuracy_plot.isVisible() and not panel.prediction_plot.isVisible() and not panel.table.isVisible()
    rows = rows_for(panel.dataset)
    panel.append(rows)
    panel.show_epoch(len(rows))
    panel.redraw()
    x, y = panel.accuracy_plot.train_curve.getData()
    np.testing.assert_allclose(y, 100 * rows[x.astype(int) - 1, 2])  # percent
    x, y = panel.accuracy_plot.test_curve.getData()
    np.testing.assert_allclose(y, 100 * rows[x.astype(int) - 1, 3])
    assert panel.loss_plot.test_curve.isVisible() and panel.loss_plot.legend.isVisible()
    assert len(panel.loss_plot.test_curve.getData()[0]) == len(rows)
    legend = [label.text for _, label in panel.accuracy_plot.legend.items]
    assert legend == ["train", "test"]
    assert f"train {100 * rows[-1, 2]:.1f} %, test {100 * rows[-1, 3]:.1f} %" in panel.panel_title.text()
    assert "test" in panel.loss_title.text()

    panel.set_data(make_dataset())  # XOR: the same plots, fed other data
    assert (panel.loss_plot, panel.prediction_plot, panel.accuracy_plot) == plots
    assert panel.prediction_plot.isVisible() and not panel.accuracy_plot.isVisible() and panel.table.isVisible()
    assert not panel.loss_plot.test_curve.isVisible() and not panel.loss_plot.legend.isVisible()
    assert panel.history.n_epochs == 0 and panel.history.n_series == len(METRIC_COLUMNS) + 4
    rows = rows_for(panel.dataset)
    panel.append(rows)
    panel.show_epoch(len(rows))
    panel.redraw()
    assert len(panel.prediction_plot.curves) == 4
    for i, curve in enumerate(panel.prediction_plot.curves):
        np.testing.assert_array_equal(curve.getData()[1], rows[:, len(METRIC_COLUMNS) + i])
    assert [label.text for _, label in panel.prediction_plot.legend.items] == ["(0,0) → 0", "(0,1) → 1", "(1,0) → 1",
                                                                              "(1,1) → 0"]  # fmt: skip
    assert panel.table.rowCount() == 4 and panel.right_label.text() == "<b>4 / 4</b> right"


def test_data_without_a_test_set_shows_one_loss_and_one_accuracy(qtbot):
    data = spiral_like(60, train_fraction=1.0)  # more points than XOR's and all for training: accuracy, no test
    panel = show(qtbot, CurvesPanel(data), 1100, 320)
    assert panel.accuracy_plot.isVisible() and not panel.loss_plot.test_curve.isVisible()
    assert [label.text for _, label in panel.accuracy_plot.legend.items] == ["train"]
    panel.append(rows_for(data))
    panel.show_epoch(300)
    panel.redraw()
    assert "test" not in panel.panel_title.text() and "test" not in panel.loss_title.text()


# --- the Inspect tab --------------------------------------------------------------------------------------------


def test_the_inspect_picker_lists_the_points_and_select_point_opens_one(qtbot):
    data = spiral_like()
    view = show(qtbot, InspectView(data), 1200, 700)
    combo = view.input_combo
    assert combo.count() == FIRST_POINT + data.n
    train, test = np.flatnonzero(data.train), np.flatnonzero(~data.train)
    first = data.inputs[train[0]]
    assert combo.itemText(FIRST_POINT) == f"train #0 ({first[0]:.2f},{first[1]:.2f}) → {data.targets[train[0]]:g}"
    assert combo.itemText(FIRST_POINT + data.n_train).startswith("test #0 (")
    assert combo.itemText(combo.count() - 1).startswith(f"test #{data.n_test - 1} (")
    for index in (int(test[7]), int(train[12])):
        with qtbot.waitSignal(view.inputChosen, timeout=2000) as blocker:
            view.select_point(index)
        assert blocker.args == [index] and view.chosen_point() == index
    with qtbot.waitSignal(view.inputChosen, timeout=2000) as blocker:
        combo.setCurrentIndex(NEXT)
    assert blocker.args == [None] and view.chosen_point() is None


def test_a_test_point_is_inspected_without_an_update(qtbot):
    data = spiral_like(100)
    config = TrainConfig(hidden=(4,))
    trainer = Trainer(config, inputs=data.train_inputs, targets=data.train_targets)
    view = show(qtbot, InspectView(data), 1200, 700)
    index = int(np.flatnonzero(~data.train)[3])
    view.select_point(index)
    trace = trainer.inspect_point(data.inputs[index], data.targets[index])
    view.show_state(trace, trainer.params, 0, 0, None, config)
    assert view.trace is trace and not trace.applied and trace.index is None
    text = view.text.toPlainText()
    assert "not a training sample" in text and f"of {data.n_train} of epoch" not in text.split("\n")[0]
    assert view.position_label.text() == "Weights now: initial (epoch 0)"
    view.select_point(int(np.flatnonzero(data.train)[5]))  # another point: that trace is not its
    assert view.trace is None


def test_xor_picker_reads_as_before(qtbot):
    view = show(qtbot, InspectView(), 1200, 700)
    labels = [view.input_combo.itemText(i) for i in range(view.input_combo.count())]
    assert labels == ["the next sample to be trained", "the sample just trained",
                      "(0,0) → 0", "(0,1) → 1", "(1,0) → 1", "(1,1) → 0"]  # fmt: skip


def test_hidden_unit_maps_span_the_datas_region(qtbot):
    maps_view = show(qtbot, HiddenUnitMaps(), 600, 400)
    bounds = view_bounds(spiral_like())
    maps_view.set_bounds(bounds)
    maps = np.random.default_rng(0).random((4, HIDDEN_SIDE, HIDDEN_SIDE))
    maps_view.set_maps(maps, (2, 4, 1), "sigmoid")
    grid = grid_for(bounds, HIDDEN_SIDE)
    for image, data in zip(maps_view.images, maps):
        np.testing.assert_array_equal(image.image, data)
        assert image.mapRectToParent(image.boundingRect()).getRect() == pytest.approx(pixel_rect(grid.x, grid.y))
    ticks = maps_view.plots[0].getAxis("bottom")._tickLevels[0]
    assert [v for v, _ in ticks] == [-2.0, 0.0, 2.0]


# --- the Compare and Sweep forms ----------------------------------------------------------------------------------


def test_the_compare_table_says_accuracy_on_data_other_than_xor(qtbot):
    from gui.compare_thread import CompareSnapshot
    from gui.compare_view import CompareView

    data = spiral_like(100)
    base = TrainConfig(hidden=(4,))
    view = CompareView(base, dataset=data)
    qtbot.addWidget(view)  # never shown: its thread does not start
    configs, labels = [base.replace(mode="sgd"), base.replace(mode="batch")], ["SGD", "full batch"]
    empty = [np.empty((0, 4)), np.empty((0, 4))]
    rows = [np.array([[0.5, 0.001, 0.60, 0.55], [0.4, 0.002, 0.75, 0.70]]), np.array([[0.6, 0.001, 0.5, 0.5]] * 2)]
    common = {"configs": configs, "labels": labels, "diverged": [False, False]}
    view.thread.snapshot.emit(CompareSnapshot("Ready", 0, rows=empty, predictions=[np.empty(0)] * 2, restarted=True, **common))
    view.thread.snapshot.emit(CompareSnapshot("Paused", 2, rows=rows, predictions=[np.empty(0)] * 2, **common))
    table = view.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[-2:] == ["train accuracy", "test accuracy"] and not any("solved" in h for h in headers)
    assert [table.item(0, c).text() for c in (len(headers) - 2, len(headers) - 1)] == ["75.0 %", "70.0 %"]
    assert [table.item(1, c).text() for c in (len(headers) - 2, len(headers) - 1)] == ["50.0 %", "50.0 %"]
    assert "100 training, " not in view.base_label.text() and "50 training, 50 test points" in view.base_label.text()
    view.set_data(make_dataset())  # XOR: its "solved" column again
    assert table.horizontalHeaderItem(table.columnCount() - 1).text().startswith("solved")


def test_the_sweep_form_asks_for_a_target_accuracy_on_data_other_than_xor(qtbot):
    from gui.sweep_view import SweepView

    data = spiral_like(100)
    view = SweepView(TrainConfig(), dataset=data)
    qtbot.addWidget(view)
    assert view.accuracy_spin.objectName() == "sweepTargetAccuracySpin" and view.accuracy_spin.isVisibleTo(view)
    view.accuracy_spin.setValue(90)
    spec = view.spec()
    assert spec.data is data and spec.target_accuracy == pytest.approx(0.9) and spec.solved_rule == "test accuracy >= 90%"
    assert "50 training, 50 test points" in view.base_label.text()
    view.set_data(make_dataset())
    assert not view.accuracy_spin.isVisibleTo(view) and view.spec().data.records_predictions


def test_the_inspector_shows_the_point_and_the_features_it_enters_as(qtbot):
    config = TrainConfig(features=("x1", "x2", "x1x2"))
    trainer = Trainer(config)
    trainer.run(2)
    trace = trainer.inspect_sample(3)  # (1, 1): x1·x2 = 1
    view = show(qtbot, InspectView(), 1200, 700)
    view.select_point(3)
    view.show_state(trace, trainer.params, 2, 0, None, config)
    text = view.text.toPlainText()
    assert "the point (x₁, x₂) = (1, 1) enters as its features x = (x₁, x₂, x₁·x₂)" in text
    assert "W⁽¹⁾ (2×3)" in text
    assert [label.toPlainText() for label in view.diagram.node_labels[:3]] == ["x₁", "x₂", "x₁·x₂"]


# --- the weight heatmaps ------------------------------------------------------------------------------------------


def input_names(heatmaps) -> list[str]:
    """The names under W⁽¹⁾'s columns: the first layer's inputs."""
    (row,) = [row for row in heatmaps.rows[: heatmaps.shown] if row.layer == 0]
    return row.plots[0].getAxis("bottom").names


def test_the_weight_heatmaps_name_the_first_layers_inputs_by_their_features(qtbot):
    from gui.maps import WeightHeatmaps

    heatmaps = show(qtbot, WeightHeatmaps(), 700, 500)
    config = TrainConfig(features=("x1sq", "x1x2", "sinx1"))
    heatmaps.build(config.layer_sizes, config.features)
    assert input_names(heatmaps) == ["x₁²", "x₁·x₂", "sin x₁"]
    heatmaps.build(TrainConfig().layer_sizes, TrainConfig().features)
    assert input_names(heatmaps) == ["x1", "x2"]  # the default features keep the notebook's names


def test_the_windows_heatmaps_follow_a_change_of_features_of_the_same_width(qtbot):
    """x1, x2 -> x1², x2²: the network keeps its layer sizes, and the heatmaps' columns are renamed all the same."""
    from tests.gui_helpers import open_window

    window = open_window(qtbot)
    assert input_names(window.heatmaps) == ["x1", "x2"]
    window.controls.configChanged.emit(TrainConfig(features=("x1sq", "x2sq")))
    qtbot.waitUntil(lambda: input_names(window.heatmaps) == ["x₁²", "x₂²"], timeout=60_000)
    assert window.heatmaps.sizes == (2, 2, 1)


def drawn_names(axis) -> list[str]:
    """The names `axis` writes when painted (pyqtgraph leaves out those that would not fit)."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2]] if specs else []


def test_the_heatmaps_name_every_input_of_a_narrow_matrix_and_the_first_and_last_unit(qtbot):
    """At the size the 1366×768 window gives them, W⁽¹⁾ of x1, x2, x1x2 names all three columns (small font or
    short names rather than thinning), as ∂W⁽¹⁾ does; 8 units too many to name each show their first and last."""
    from gui.maps import WeightHeatmaps

    heatmaps = show(qtbot, WeightHeatmaps(), 640, 330)
    config = TrainConfig(features=("x1", "x2", "x1x2"), hidden=(8, 8))
    heatmaps.build(config.layer_sizes, config.features)
    trainer = Trainer(config)
    heatmaps.set_params(trainer.params)
    (first, second) = heatmaps.rows[:2]
    qtbot.waitUntil(lambda: first.plots[0].getViewBox().width() > 0)
    assert first.plots[0].getViewBox().width() < 110  # narrow: 3 columns of at most ~35 pixels
    for plot in (first.plots[0], first.plots[2]):  # W and ∂W
        names = drawn_names(plot.getAxis("bottom"))
        assert [name.replace("·", "") for name in names] == ["x₁", "x₂", "x₁x₂"], names
    for axis in (first.plots[0].getAxis("left"), second.plots[0].getAxis("bottom")):  # h1.1 … h1.8
        names = drawn_names(axis)
        assert len(names) >= 2 and names[0] == "h1.1" and names[-1] == "h1.8", names
    rows = drawn_names(second.plots[0].getAxis("left"))
    assert rows[0] == "h2.1" and rows[-1] == "h2.8", rows
    assert all(text.textItem.toPlainText() for text in first.cells[0]), [t.textItem.toPlainText() for t in first.cells[0]]


def test_the_unit_axis_keeps_its_names_apart_and_names_the_first_and_the_last():
    from gui.maps import UnitAxis

    axis = UnitAxis("bottom")
    axis.set_names([f"h{k}" for k in range(1, 101)])
    for size in (80, 200, 400, 900, 3000):
        units = axis.named_units(size)
        assert units[0] == 0 and (units[-1] == 99 or len(units) == 1), (size, units)
        assert (np.diff(units) * size / 100 >= axis._name_px + axis.GAP_PX - 1e-9).all(), (size, units)
    axis.set_names(["x₁", "x₂", "x₁·x₂"])
    assert axis.named_units(30) == [0, 1, 2]  # never fewer than all of ALL_NAMED units, however tight
    assert axis.shown_names == ["x₁", "x₂", "x₁x₂"]  # shorter, in the smallest font


def test_the_diagram_fits_its_input_names_and_keeps_its_edge_values_apart(qtbot):
    """x₁·x₂'s name stays on its node (a smaller font) and the written weights neither cover one another nor a
    node: a value with no free place along its edge is hidden, its edge's tooltip still giving it."""
    from PySide6.QtGui import QFontMetricsF

    from gui.network_views import MAX_LABELLED_EDGES, NODE_SIZE, NetworkDiagram

    diagram = show(qtbot, NetworkDiagram(), 580, 300)
    config = TrainConfig(features=("x1", "x2", "x1x2"), hidden=(4,))
    trainer = Trainer(config, data=spiral_like(200))
    trainer.run(300)  # weights of all sizes
    diagram.set_state(trainer.params, None, config.features)
    assert len(diagram.edges) == MAX_LABELLED_EDGES == len(diagram.edge_labels)
    qtbot.waitUntil(lambda: diagram.getPlotItem().vb.height() > 100)
    diagram.grab()  # laid out and painted: the items' scene rectangles are the ones on show
    vb = diagram.getPlotItem().vb
    nodes = []
    for pos in diagram.positions:
        for x, y in pos:
            centre = vb.mapViewToScene(pg.Point(float(x), float(y)))
            nodes.append(QRectF(centre.x() - NODE_SIZE / 2, centre.y() - NODE_SIZE / 2, NODE_SIZE, NODE_SIZE))
    for k, label in enumerate(diagram.node_labels):
        text = label.textItem.toPlainText()
        width = QFontMetricsF(label.textItem.font()).horizontalAdvance(text)
        on_node = label.textItem.sceneBoundingRect().intersects(nodes[k])
        assert width <= NODE_SIZE - 2 or not on_node, (text, width)
    shown = [label for label in diagram.edge_labels if label.isVisible()]
    assert len(shown) >= MAX_LABELLED_EDGES // 2
    rects = [label.textItem.sceneBoundingRect().adjusted(1, 1, -1, -1) for label in shown]
    for a, rect in enumerate(rects):
        assert not any(rect.intersects(node) for node in nodes), shown[a].textItem.toPlainText()
        for b in range(a):
            assert not rect.intersects(rects[b]), (shown[a].textItem.toPlainText(), shown[b].textItem.toPlainText())
    for layer, j, i, edge in diagram.edges:
        assert edge.toolTip().endswith(f"= {float(trainer.params[layer][0][j, i]):.6g}")
