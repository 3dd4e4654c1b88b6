"""The Train tab as a learner meets it: a run that unfolds, outputs that say which weights they are at,
a learning-rate field that says what it refused, and labels that fit (issue 9, items 16 and 17)."""

from __future__ import annotations

import sys
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine import XOR_INPUTS, XOR_TARGETS, TrainConfig
from gui.controls import DEFAULT_SPEED, DEFAULT_STOP_EPOCH
from gui.curves import LogAxis
from gui.maps import CELL_AIR_PX, _short, _tiny
from gui.snapshot import StopRules
from tests.gui_helpers import TIMEOUT_MS, open_window, reference, step, wait_state


def thread_requests(window):
    return window.thread.run_settings()


def test_a_fresh_window_plays_the_notebook_run_so_that_it_unfolds_and_stops_at_10000(qtbot):
    window = open_window(qtbot)
    controls = window.controls
    assert controls.speed() == DEFAULT_SPEED == 1000 and "1,000 epoch/s" in controls.speed_label.text()
    assert controls.stop_rules() == StopRules(at_epoch=DEFAULT_STOP_EPOCH) and DEFAULT_STOP_EPOCH == 10_000
    assert thread_requests(window) == (1000, StopRules(at_epoch=10_000))
    start = time.perf_counter()
    window.play()
    qtbot.waitUntil(lambda: window.epoch >= 300, timeout=TIMEOUT_MS)
    assert time.perf_counter() - start >= 0.2  # 1,000 epochs per second, not hundreds of thousands
    x0, x1 = window.curves.loss_plot.getPlotItem().getViewBox().viewRange()[0]
    assert x0 <= 0 and window.epoch >= 0.15 * x1  # the axis follows the run: no vertical line at x = 0
    controls.speed_slider.setValue(controls.speed_slider.maximum())  # finish quickly; the stop rule stays
    wait_state(qtbot, window, "Stopped at target")
    assert window.epoch == 10_000 and "Stopped at epoch 10,000" in window.banner.text()
    for plot in (window.curves.loss_plot, window.curves.prediction_plot):
        x0, x1 = plot.getPlotItem().getViewBox().viewRange()[0]
        assert x0 <= 0 < 10_000 <= x1 <= 10_500  # the whole run fills the width


def test_restore_notebook_defaults_puts_back_the_speed_and_the_stop_rule(qtbot):
    window = open_window(qtbot)
    controls = window.controls
    controls.speed_slider.setValue(controls.speed_slider.maximum())
    controls.stop_epoch_check.setChecked(False)
    controls.stop_epoch_spin.setValue(5)
    controls.stop_loss_check.setChecked(True)
    assert thread_requests(window) == (None, StopRules(below_loss=0.01))
    window.experiments.restore_defaults()
    assert controls.speed() == 1000 and controls.stop_rules() == StopRules(at_epoch=10_000)
    assert thread_requests(window) == (1000, StopRules(at_epoch=10_000))


def test_outputs_table_shows_the_epochs_outputs_and_those_at_the_weights_now(qtbot):
    """lr 1000, relu, bce: after epoch 5 the epoch's own forward passes gave (0, 0, 1, 1), but the weights
    now give 0 everywhere (the decision map is all blue). The table shows both and judges the weights now."""
    config = TrainConfig(learning_rate=1000, activation="relu", loss="bce")
    window = open_window(qtbot, config)
    table = window.curves.table
    trainer, _, predictions = reference(config, 0)
    now = trainer.predict(XOR_INPUTS)
    assert [table.item(r, table.NOW).text() for r in range(4)] == [f"{v:.4f}" for v in now]  # epoch 0: the initial net
    step(qtbot, window, 5)
    trainer, _, predictions = reference(config, 5)
    during, now = predictions[-1], trainer.predict(XOR_INPUTS)
    assert np.array_equal(np.round(during), [0, 0, 1, 1]) and np.all(now < 0.5)  # the case the issue saw
    assert [table.item(r, table.DURING).text() for r in range(4)] == [f"{v:.4f}" for v in during]
    assert [table.item(r, table.NOW).text() for r in range(4)] == [f"{v:.4f}" for v in now]
    assert [table.item(r, table.MARK).text() for r in range(4)] == ["✓", "✗", "✗", "✓"]  # targets 0 1 1 0 at ŷ now < 0.5
    assert window.curves.right_label.text() == "<b>2 / 4</b> right now"
    headers = [table.horizontalHeaderItem(c) for c in (table.DURING, table.NOW)]
    assert "before" in headers[0].toolTip() and "decision map" in headers[1].toolTip()
    assert np.all(window.decision_map.image.image < 0.5)  # the map agrees with the "now" column
    assert XOR_TARGETS.shape[0] == table.rowCount()


def test_learning_rate_field_holds_any_valid_rate(qtbot):
    window = open_window(qtbot, TrainConfig(learning_rate=1e308, activation="tanh", loss="bce"))
    spin = window.controls.learning_rate_spin
    assert spin.value() == 1e308 and spin.text() == "1e+308"  # was clamped to 1e+06
    window.controls.loss_combo.setCurrentText("mse")  # another edit keeps the rate exactly
    assert window.controls.config().learning_rate == 1e308
    for rate in (1e-300, 0.123456789012345, 3e7, 2e-5):
        spin.setValue(rate)
        assert window.controls.config().learning_rate == rate and float(spin.text()) == rate
    spin.setValue(1e308)
    spin.stepBy(1)
    assert spin.value() == sys.float_info.max
    spin.stepBy(1)  # at the top: stays, no exception
    assert spin.value() == sys.float_info.max
    spin.setValue(0.1)
    spin.stepBy(1)
    assert spin.value() == 0.2
    spin.stepBy(-3)
    assert spin.value() == 0.02


def test_refused_learning_rate_text_is_said_not_silently_reverted(qtbot):
    window = open_window(qtbot)
    controls = window.controls
    spin, error = controls.learning_rate_spin, controls.learning_rate_error
    for typed in ("abc", "0", "-1", "1e999"):
        spin.selectAll()
        qtbot.keyClicks(spin, typed)
        assert spin.text() == typed  # the keystrokes are not swallowed
        assert "border" in spin.styleSheet() and error.isVisibleTo(window) and "above 0" in error.text()
        qtbot.keyClick(spin, Qt.Key.Key_Return)
        assert spin.value() == 0.1 and controls.config().learning_rate == 0.1
        assert error.isVisibleTo(window) and f"“{typed}” is not allowed" in error.text() and "Kept 0.1" in error.text()
        assert "border" not in spin.styleSheet()
    spin.selectAll()
    qtbot.keyClicks(spin, "2e-3")
    assert not error.isVisibleTo(window) and not spin.styleSheet()
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert controls.config().learning_rate == 0.002 and not error.isVisibleTo(window)


def _label_gaps_px(axis: pg.AxisItem, low: float, high: float, size: float) -> np.ndarray:
    values = sorted(v for _spacing, level in axis.tickValues(low, high, size) for v in level)
    return np.diff(values) / (high - low) * size


def test_log_axis_labels_never_crowd(qtbot):
    window = open_window(qtbot)
    axis = window.curves.loss_plot.getPlotItem().getAxis("left")
    assert isinstance(axis, LogAxis) and axis.logMode
    for low, high, size in ((-4, -2, 150), (-4, 0, 300), (-3.2, -2.9, 300), (-12, 1, 120), (-300, 300, 200), (-4, -1, 600)):
        values = [v for _spacing, level in axis.tickValues(low, high, size) for v in level]
        assert values, (low, high, size)
        assert _label_gaps_px(axis, low, high, size).min() >= LogAxis.MIN_GAP_PX - 1e-9, (low, high, size)
    assert len(axis.tickValues(-4, -1, 600)[1][1]) > 2  # room: 2 and 5 (or every digit) between decades
    assert pg.AxisItem("left").logTickValues(-4, -2, 150, []) != axis.tickValues(-4, -2, 150)  # pyqtgraph's crowd


def test_heatmap_cell_labels_are_short_and_fit_their_cells(qtbot):
    for value in np.concatenate([np.logspace(-320, 308, 400), [0.0099, 0.01, 99.9, 100, 1e-8, 5.3e-8]]):
        for v in (value, -value):
            assert (len(_tiny(v)) <= 6 and len(_short(v)) <= 6) or abs(v) < 1e-99, v
    assert _tiny(-5.3e-08) == "-5e-8" and _tiny(0.034) == "0.034" and _short(-1234.5) == "-1.2e3"
    window = open_window(qtbot)
    window.resize(1366, 740)
    step(qtbot, window, 1)
    gradient = [(np.full_like(W, -5.3e-8), np.full_like(b, -5.3e-8)) for W, b in window.params()]
    window.heatmaps.set_gradient(gradient, "test")
    qtbot.waitUntil(lambda: window.heatmaps.grad_texts[0][0][0].textItem.toPlainText() == "-5e-8", timeout=TIMEOUT_MS)
    for texts in window.heatmaps.grad_texts:
        for cells in texts:
            for text in cells:
                vb = text.getViewBox()
                x0, x1 = vb.viewRange()[0]
                cell_px = vb.width() / (x1 - x0)
                # "-5.3e-08" was 54 px wide in a 55 px cell: now some air on each side
                assert text.textItem.boundingRect().width() + 8 <= cell_px, (text.textItem.toPlainText(), cell_px)


def _cells_fit(heatmaps) -> list[str]:
    """Every heatmap label on show, after checking that it fits its cell with air on both sides."""
    labels = []
    for texts in heatmaps.texts + heatmaps.grad_texts:
        for cells in texts:
            for text in cells:
                vb = text.getViewBox()
                x0, x1 = vb.viewRange()[0]
                cell_px = vb.width() / (x1 - x0)
                label = text.textItem.toPlainText()
                assert text.textItem.boundingRect().width() + CELL_AIR_PX <= cell_px, (label, cell_px)
                labels.append(label)
    return labels


def test_heatmap_labels_fit_narrow_cells_and_no_tick_mark_reads_as_a_minus(qtbot):
    window = open_window(qtbot, TrainConfig(hidden=(3,), learning_rate=0.7))
    window.resize(1366, 768)
    step(qtbot, window, 1)
    heatmaps = window.heatmaps
    for row in heatmaps.rows[: heatmaps.shown]:
        for plot in row.plots:
            for side in ("left", "bottom"):
                assert plot.getAxis(side).style["tickLength"] == 0  # a tick beside "0.71" read as "-0.71"
    (W1, b1), (_, b2) = window.params()
    for w2, gradient in (([0.71, -0.5, 0.33], 0.026), ([16.02, -15.65, -5.33], 0.0263), ([-1234.5, 99.99, -0.004], -7.5e-9)):
        params = [(W1, b1), (np.array([w2]), b2)]
        heatmaps.set_params(params)
        heatmaps.set_gradient([(np.full_like(W, gradient), np.full_like(b, gradient)) for W, b in params], "test")
        labels = _cells_fit(heatmaps)
        assert all(label == "" or label.lstrip("-")[0].isdigit() for label in labels), labels
        heatmaps.layer_bar.setValue(heatmaps.n_layers - heatmaps.shown)  # W⁽²⁾ on show, however many rows fit
        w2_texts = dict(zip(heatmaps.shown_layers(), heatmaps.texts))[1][0]
        w2_labels = [t.textItem.toPlainText() for t in w2_texts]
        assert [label.startswith("-") for label in w2_labels if label] == [v < 0 for v, label in zip(w2, w2_labels) if label]
    window.resize(900, 600)  # narrower cells: shorter labels (or smaller, or none), never spilling
    qtbot.waitUntil(lambda: heatmaps.width() < 700, timeout=TIMEOUT_MS)
    _cells_fit(heatmaps)


def test_refused_learning_rate_message_moves_nothing_and_goes_away(qtbot):
    window = open_window(qtbot)
    controls = window.controls
    spin, error = controls.learning_rate_spin, controls.learning_rate_error
    below = [controls.loss_combo.geometry(), controls.optimizer_combo.geometry()]
    spin.selectAll()
    qtbot.keyClicks(spin, "abc")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert error.isVisibleTo(window) and "Kept 0.1" in error.text()
    assert [controls.loss_combo.geometry(), controls.optimizer_combo.geometry()] == below  # pushed down 34 px before
    assert error.geometry().top() >= spin.mapTo(controls, spin.rect().bottomLeft()).y()  # below the field, over the form
    controls.seed_spin.setValue(controls.seed_spin.value() + 1)  # the next valid edit: the old refusal is old news
    assert not error.isVisibleTo(window)
    spin.selectAll()
    qtbot.keyClicks(spin, "-1")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert error.isVisibleTo(window) and error.timer.isActive() and error.timer.interval() == error.HIDE_MS
    error.timer.setInterval(1)
    error.timer.start()  # left alone, it goes after a few seconds
    qtbot.waitUntil(lambda: not error.isVisibleTo(window), timeout=TIMEOUT_MS)


def test_sweep_and_compare_log_axes_never_crowd(qtbot):
    window = open_window(qtbot)
    for plot in (window.sweep_view.scatter_plot, window.compare_view.plot):
        axis = plot.getPlotItem().getAxis("left")
        assert isinstance(axis, LogAxis) and axis.logMode, plot.objectName()  # "0.1 0.09 … 0.05" stacked before
        for low, high, size in ((-1.3, -1, 150), (-2.05, -1.95, 200), (-4, 0, 160)):
            assert _label_gaps_px(axis, low, high, size).min() >= LogAxis.MIN_GAP_PX - 1e-9, (plot.objectName(), low, high)


def test_decision_label_over_curves_and_status_labels_apart(qtbot):
    window = open_window(qtbot)
    plot = window.curves.prediction_plot
    assert all(plot.decision_line.zValue() > curve.zValue() for curve in plot.curves)
    window.resize(1366, 768)
    window.epoch_label.setText("Epoch 0 · after sample 1 of 4 of epoch 1")
    window.loss_label.setText("Loss –")
    qtbot.waitUntil(lambda: window.epoch_label.width() >= window.epoch_label.sizeHint().width(), timeout=TIMEOUT_MS)
    epoch, loss = window.epoch_label, window.loss_label
    epoch_text_end = epoch.x() + epoch.contentsMargins().left() + epoch.fontMetrics().horizontalAdvance(epoch.text())
    loss_text_start = loss.x() + loss.contentsMargins().left()
    assert loss_text_start - epoch_text_end >= 8  # "…of epoch 1Loss –" ran together before
