"""The live window, driven as a user would: buttons, shortcuts, settings. Offscreen, no sleeps."""

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from engine import XOR_INPUTS, TrainConfig
from gui import MainWindow
from gui.session import GRID_POINTS, MAX_SNAPSHOTS_PER_SECOND
from tests.gui_helpers import (
    TIMEOUT_MS,
    assert_history_matches,
    assert_params_equal,
    full_speed,
    open_window,
    reference,
    run_sweep,
    step,
    wait_epoch,
    wait_state,
)


def history_loss(window: MainWindow) -> np.ndarray:
    return window.curves.history.exact()[:, 0]


def test_window_shows_compiling_then_ready(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.state_label.text() == "<b>Compiling</b>"
    assert not window.controls.play_button.isEnabled() and not window.controls.step_button.isEnabled()
    assert window.epoch == 0
    qtbot.waitUntil(lambda: window.controls.play_button.isEnabled(), timeout=TIMEOUT_MS)
    assert window.state == "Ready" and "Ready" in window.state_label.text()
    for name in ("playButton", "stepButton", "resetButton", "learningRateSpin", "modeCombo", "seedSpin", "epochLabel",
                 "lossPlot", "predictionPlot", "decisionMap", "weightHeatmaps"):  # fmt: skip
        assert window.findChild(object, name) is not None, name
    assert window.controls.play_button.isCheckable()
    assert_params_equal(window.params(), reference(TrainConfig(), 0)[0].params)


def test_play_advances_and_fills_the_plots_then_pause_holds(qtbot):
    window = open_window(qtbot)
    full_speed(window)
    qtbot.mouseClick(window.controls.play_button, Qt.MouseButton.LeftButton)
    assert window.controls.play_button.isChecked()
    qtbot.waitUntil(lambda: window.epoch > 2000 and window.state == "Running", timeout=TIMEOUT_MS)
    assert window.controls.play_button.isChecked()
    assert len(window.curves.loss_plot.curve.getData()[0]) > 0
    assert all(len(c.getData()[0]) > 0 for c in window.curves.prediction_plot.curves)
    assert "Epoch" in window.epoch_label.text() and "epochs/s" in window.rate_label.text()
    qtbot.mouseClick(window.controls.play_button, Qt.MouseButton.LeftButton)
    wait_state(qtbot, window, "Paused")
    assert not window.controls.play_button.isChecked()
    held = window.epoch
    step(qtbot, window, 1)  # the step lands exactly one epoch after the paused one: nothing ran in between
    assert window.epoch == held + 1
    # every epoch arrived, none dropped, and the numbers are the engine's
    _, loss, preds = reference(TrainConfig(), window.epoch)
    assert_history_matches(window, loss, preds)


def test_step_adds_exactly_one_epoch_and_updates_every_view(qtbot):
    window = open_window(qtbot)
    map_before = window.decision_map.image.image.copy()
    qtbot.mouseClick(window.controls.step_button, Qt.MouseButton.LeftButton)
    wait_epoch(qtbot, window, 1)
    trainer, loss, preds = reference(TrainConfig(), 1)
    assert window.curves.history.n_epochs == 1
    np.testing.assert_array_equal(history_loss(window), loss)
    assert_params_equal(window.params(), trainer.params)
    assert not np.array_equal(window.decision_map.image.image, map_before)
    assert "Epoch 1" in window.epoch_label.text()
    assert window.curves.table.item(0, 2).text() == f"{preds[0, 0]:.4f}"
    assert_views_match(window, trainer)


def assert_views_match(window: MainWindow, trainer) -> None:
    """Heatmap images are the parameters; the decision map is `predict` on its grid."""
    assert_heatmaps_match(window, trainer)
    n = len(window.decision_map.axis)
    np.testing.assert_array_equal(window.decision_map.image.image, trainer.predict(GRID_POINTS).reshape(n, n))
    x1, x2 = GRID_POINTS[n + 3]
    assert (x1, x2) == (window.decision_map.axis[3], window.decision_map.axis[1])


def assert_heatmaps_match(window: MainWindow, trainer) -> None:
    """Heatmap images are the parameters: every layer, scrolled to where they do not all fit."""
    heatmaps = window.heatmaps
    assert heatmaps.n_layers == len(trainer.params) and heatmaps.shown >= 1
    for first in range(heatmaps.n_layers - heatmaps.shown + 1):
        heatmaps.layer_bar.setValue(first)
        for layer, (w_img, b_img) in zip(heatmaps.shown_layers(), heatmaps.images):
            W, b = trainer.params[layer]
            np.testing.assert_array_equal(w_img.image, W)
            np.testing.assert_array_equal(b_img.image, b)
    heatmaps.layer_bar.setValue(0)


def test_step_n_and_shortcuts(qtbot):
    window = open_window(qtbot)
    window.controls.step_n_spin.setValue(250)
    qtbot.mouseClick(window.controls.step_n_button, Qt.MouseButton.LeftButton)
    wait_epoch(qtbot, window, 250)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.setFocus()
    assert window.focusWidget() is window.views_area
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Right)
    wait_epoch(qtbot, window, 251)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.epoch > 1000, timeout=TIMEOUT_MS)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Space)
    wait_state(qtbot, window, "Paused")
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait_epoch(qtbot, window, 0)
    assert window.curves.history.n_epochs == 0


def test_reset_returns_to_epoch_zero_and_the_initial_weights(qtbot):
    window = open_window(qtbot, TrainConfig(shuffle=True, optimizer="adam"))
    initial = window.params()
    step(qtbot, window, 700)
    assert not np.array_equal(window.params()[0][0], initial[0][0])
    window.experiments.set_modified(False)
    with qtbot.waitSignal(window.snapshotApplied, check_params_cb=lambda snap: snap.reset, timeout=TIMEOUT_MS) as reset:
        qtbot.mouseClick(window.controls.reset_button, Qt.MouseButton.LeftButton)
    assert reset.args[0].message == "Reset to epoch 0" and window.statusBar().currentMessage() == "Reset to epoch 0"
    assert window.isWindowModified()  # a reset is a change to save
    wait_epoch(qtbot, window, 0)
    assert window.state == "Ready"
    assert_params_equal(window.params(), initial)
    assert window.curves.history.n_epochs == 0 and window.curves.loss_plot.curve.getData()[0] is None
    step(qtbot, window, 300)  # after a reset, the run starts over exactly (shuffle and optimizer state too)
    trainer, loss, _ = reference(TrainConfig(shuffle=True, optimizer="adam"), 300)
    assert_params_equal(window.params(), trainer.params)
    np.testing.assert_array_equal(history_loss(window), loss)


def test_shown_state_is_bit_identical_however_reached(qtbot):
    config = TrainConfig(mode="minibatch", batch_size=3, shuffle=True, learning_rate=0.5)
    window = open_window(qtbot, config)
    full_speed(window)
    step(qtbot, window, 1)
    step(qtbot, window, 17)
    window.play()
    qtbot.waitUntil(lambda: window.epoch > 3000, timeout=TIMEOUT_MS)
    window.pause()
    wait_state(qtbot, window, "Paused")
    step(qtbot, window, 5)
    trainer, loss, preds = reference(config, window.epoch)
    assert_params_equal(window.params(), trainer.params)
    assert_history_matches(window, loss, preds)
    assert_views_match(window, trainer)


def test_learning_rate_change_applies_from_the_next_chunk(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 100)
    window.controls.learning_rate_spin.setValue(0.5)
    step(qtbot, window, 50)
    trainer, _, _ = reference(TrainConfig(), 100)
    trainer.set_config(TrainConfig(learning_rate=0.5))
    tail = trainer.run(50)
    assert trainer.epoch == window.epoch == 150  # no reset
    assert_params_equal(window.params(), trainer.params)
    np.testing.assert_array_equal(history_loss(window)[100:], tail.loss)


def test_structure_change_restarts_and_says_so(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 40)
    window.controls.hidden_edit.setText("3, 2")
    window.controls.hidden_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: window.epoch == 0 and len(window.params()) == 3, timeout=TIMEOUT_MS)
    assert "restarted" in window.statusBar().currentMessage()
    assert [W.shape for W, _ in window.params()] == [(3, 2), (2, 3), (1, 2)]
    assert window.heatmaps.n_layers == 3
    window.controls.seed_spin.setValue(7)
    qtbot.waitUntil(lambda: window.epoch == 0 and window.controls.play_button.isEnabled(), timeout=TIMEOUT_MS)
    step(qtbot, window, 10)
    trainer, _, _ = reference(TrainConfig(hidden=(3, 2), seed=7), 10)
    assert_params_equal(window.params(), trainer.params)


def test_bad_hidden_sizes_are_refused_with_a_message(qtbot):
    window = open_window(qtbot)
    edit = window.controls.hidden_edit
    assert edit.validator().validate("4, x", 0)[0].name == "Invalid"
    edit.setText("0, 3")
    edit.editingFinished.emit()
    error = window.findChild(QLabel, "hiddenError")
    assert error is window.controls.hidden_error and error.isVisibleTo(window) and "1 to 1024" in error.text()
    step(qtbot, window, 3)
    assert [W.shape for W, _ in window.params()] == [(2, 2), (1, 2)]  # unchanged network
    edit.setText("3")
    edit.editingFinished.emit()
    assert not error.isVisibleTo(window)  # a valid size clears the message


def test_divergence_pauses_with_a_message(qtbot):
    window = open_window(qtbot, TrainConfig(learning_rate=1e308, activation="tanh", loss="bce"))
    window.play()
    wait_state(qtbot, window, "Diverged")
    assert window.epoch == 1
    assert not window.controls.play_button.isChecked()
    text = window.banner.text()
    assert window.banner.isVisibleTo(window) and "Diverged at epoch 1" in text and "smaller learning rate" in text
    window.play()  # playing a diverged run explains again instead of training
    qtbot.waitUntil(lambda: not window.controls.play_button.isChecked(), timeout=TIMEOUT_MS)
    assert window.epoch == 1
    window.reset()
    wait_state(qtbot, window, "Ready")
    assert not window.banner.isVisibleTo(window)


def test_stop_rules(qtbot):
    window = open_window(qtbot)
    full_speed(window)
    window.controls.stop_epoch_spin.setValue(1234)
    window.controls.stop_epoch_check.setChecked(True)
    views = window.main_splitter.geometry()
    window.play()
    wait_state(qtbot, window, "Stopped at target")
    assert window.epoch == 1234 and not window.controls.play_button.isChecked()
    # the status says which rule stopped it (before: "Stopped at target"), and its banner moves nothing (before: the
    # views moved down by its height)
    assert window.state_label.text() == "<b>Stopped at epoch 1,234</b>"
    assert window.banner.isVisibleTo(window) and window.statusBar().isAncestorOf(window.banner)
    assert window.main_splitter.geometry() == views
    window.controls.stop_epoch_check.setChecked(False)
    window.controls.stop_loss_spin.setValue(0.01)
    window.controls.stop_loss_check.setChecked(True)
    window.play()
    qtbot.waitUntil(lambda: window.state == "Stopped at target" and window.epoch > 1234, timeout=TIMEOUT_MS)
    _, loss, _ = reference(TrainConfig(), 10000)
    assert window.epoch == int(np.argmax(loss < 0.01)) + 1
    assert "loss" in window.banner.text() and window.state_label.text() == "<b>Stopped: loss < 0.01</b>"
    window.play()  # the rule is met already: Play goes on instead of stopping at once
    qtbot.waitUntil(lambda: window.epoch > 7000, timeout=TIMEOUT_MS)
    window.pause()
    wait_state(qtbot, window, "Paused")


def test_slow_motion_runs_single_epochs(qtbot):
    window = open_window(qtbot)
    window.controls.speed_slider.setValue(3)  # 10 epochs per second
    assert "10 epoch/s" in window.controls.speed_label.text()
    sizes = []
    window.snapshotApplied.connect(lambda snap: sizes.append(len(snap.loss)))
    start = time.perf_counter()
    window.play()
    qtbot.waitUntil(lambda: window.epoch >= 4, timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - start
    window.pause()
    wait_state(qtbot, window, "Paused")
    assert max(sizes) <= 2 and elapsed >= 0.25  # 4 epochs at 10 per second take about 0.3 s


def test_snapshots_are_rate_limited_and_lossless(qtbot):
    window = open_window(qtbot)
    times = []
    window.snapshotApplied.connect(lambda snap: times.append(time.perf_counter()))
    window.play()
    qtbot.waitUntil(lambda: len(times) > 40, timeout=TIMEOUT_MS)
    window.pause()
    wait_state(qtbot, window, "Paused")
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= 1.25 * MAX_SNAPSHOTS_PER_SECOND
    assert window.curves.history.n_epochs == window.epoch


def test_running_views_are_drawn_in_turns(qtbot, monkeypatch):
    """While running, the curves and each slow view are redrawn, each in its own event-loop turn, spaced."""
    from gui.pacer import RENDER_SECONDS, STAGGER_SECONDS
    from gui.train_tab import SLOW_VIEWS

    window = open_window(qtbot)
    draws = []
    pacer = window.train.pacer
    for name in ("draw_curves", "draw_slow"):
        method = getattr(pacer, name)

        def record(*args, _method=method):
            draws.append((time.perf_counter(), args[0] if args else "curves", window.state))
            return _method(*args)

        monkeypatch.setattr(pacer, name, record)
    window.play()
    qtbot.waitUntil(lambda: sum(view == SLOW_VIEWS[-1] for _, view, _ in draws) >= 4, timeout=TIMEOUT_MS)
    window.pause()
    wait_state(qtbot, window, "Paused")
    running = [(t, view) for t, view, state in draws if state == "Running"]
    assert {view for _, view in running} == {"curves", *SLOW_VIEWS}
    gaps = np.diff([t for t, _ in running])
    assert gaps.min() >= STAGGER_SECONDS - 0.002  # never two in one turn
    curve_times = [t for t, view in running if view == "curves"]
    assert np.diff(curve_times).min() >= RENDER_SECONDS - 0.002
    assert_views_match(window, reference(TrainConfig(), window.epoch)[0])  # paused mid-round: all views current


def test_close_while_running_joins_promptly(qtbot):
    window = open_window(qtbot)
    window.play()
    qtbot.waitUntil(lambda: window.epoch > 100, timeout=TIMEOUT_MS)
    thread = window.thread
    start = time.perf_counter()
    window.close()
    assert time.perf_counter() - start < 2  # the bound (chunks take ~25 ms; a slow CI machine gets room)
    assert thread.isFinished() and not thread.isRunning()


def test_close_while_compiling_does_not_leave_a_thread(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.close()
    assert not window.thread.isRunning()


@pytest.mark.parametrize("hidden", [(), (3, 2, 2)])
def test_other_depths_show_and_train(qtbot, hidden):
    config = TrainConfig(hidden=hidden, init="xavier", activation="tanh")
    window = open_window(qtbot, config)
    step(qtbot, window, 20)
    trainer, _, _ = reference(config, 20)
    assert_views_match(window, trainer)
    assert window.heatmaps.n_layers == len(hidden) + 1


def test_loss_plot_log_toggle_and_outputs_table(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 5000)
    assert window.curves.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    window.curves.log_box.setChecked(False)
    assert not window.curves.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    outputs = reference(TrainConfig(), 5000)[0].predict(XOR_INPUTS)
    assert window.curves.right_label.text() == "<b>4 / 4</b> right now" and outputs[1] > 0.5
    assert "epoch 5,000" in window.curves.loss_title.text()


def test_a_stalled_window_gets_few_large_snapshots_and_loses_nothing(qtbot):
    """Back-pressure: while the window does not take snapshots in, the worker keeps at most two in flight
    and gathers the epochs trained meanwhile into the next snapshot."""
    from gui.worker import MAX_IN_FLIGHT

    window = open_window(qtbot)
    full_speed(window)
    sizes = []
    window.snapshotApplied.connect(lambda snap: sizes.append(len(snap.rows)))
    window.play()
    qtbot.waitUntil(lambda: window.epoch > 1000, timeout=TIMEOUT_MS)
    window.thread.wait(600)  # the GUI thread stalls (no events processed) while training goes on
    assert window.thread._in_flight <= MAX_IN_FLIGHT  # not ~24 snapshots queued for 0.6 s
    sizes.clear()
    qtbot.waitUntil(lambda: len(sizes) > MAX_IN_FLIGHT, timeout=TIMEOUT_MS)
    assert max(sizes) > 20_000  # the epochs of the stall arrive together
    window.pause()
    wait_state(qtbot, window, "Paused")
    _, loss, preds = reference(TrainConfig(), window.epoch)
    assert_history_matches(window, loss, preds)


def test_play_says_running_before_its_first_chunk(qtbot):
    """A big network's first chunk may take a while: the snapshot that says "Running" goes before it."""
    window = open_window(qtbot)
    with qtbot.waitSignal(window.snapshotApplied, check_params_cb=lambda snap: snap.state == "Running",
                          timeout=TIMEOUT_MS) as running:  # fmt: skip
        window.play()
    assert len(running.args[0].rows) == 0 and running.args[0].epoch == 0  # before: after the first chunk's epochs
    assert window.controls.play_button.text() == "Pause"
    window.pause()
    wait_state(qtbot, window, "Paused")


def test_a_deep_networks_weights_scroll_by_layer_in_legible_rows(qtbot):
    """9 layers: as many rows as fit at ROW_MIN_HEIGHT each (before: all 9 squashed to nothing), a scroll bar and
    the wheel for the others, the colour bars whole, unit names that never overprint; a new network reuses the rows."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    from gui.maps import ROW_MIN_HEIGHT

    window = open_window(qtbot, TrainConfig(hidden=(64,) * 8))
    window.resize(1366, 740)
    heatmaps = window.heatmaps
    qtbot.waitUntil(lambda: heatmaps.shown == max(1, heatmaps.height() // ROW_MIN_HEIGHT), timeout=TIMEOUT_MS)
    assert heatmaps.n_layers == 9 and 1 <= heatmaps.shown < 9
    assert heatmaps.layer_bar.isVisibleTo(window) and heatmaps.layer_bar.maximum() == 9 - heatmaps.shown
    view = heatmaps.viewRect()
    for bar in (heatmaps.colorbar, heatmaps.grad_colorbar):
        assert view.contains(bar.sceneBoundingRect()), (bar.sceneBoundingRect(), view)
    for row in heatmaps.rows[: heatmaps.shown]:
        for plot in row.plots:
            assert plot.getViewBox().height() >= 40  # a picture, not a line
            assert view.contains(plot.sceneBoundingRect())
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                if not axis.isVisible():
                    continue
                low, high = sorted(axis.range)
                size = axis.height() if name == "left" else axis.width()
                values = [v for _spacing, level in axis.tickValues(low, high, size) for v in level]
                gaps_px = np.diff(values) * size / (high - low)
                assert len(values) >= 1 and (gaps_px >= axis._name_px).all(), (name, values, size)
    step(qtbot, window, 1)
    trainer, _, _ = reference(TrainConfig(hidden=(64,) * 8), 1)
    last = heatmaps.n_layers - heatmaps.shown
    position = heatmaps.mapToGlobal(QPoint(20, 20))
    for _ in range(last):  # the wheel turns one layer a notch
        heatmaps.wheelEvent(QWheelEvent(QPointF(20, 20), QPointF(position), QPoint(0, 0), QPoint(0, -120),
                                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                        Qt.ScrollPhase.NoScrollPhase, False))  # fmt: skip
    assert heatmaps.first_layer == last and "of 9" in window.findChild(QLabel, "weightsLayersLabel").text()
    assert_heatmaps_match(window, trainer)
    rows = list(heatmaps.rows)
    window.controls.hidden_edit.setText("3, 2")
    window.controls.hidden_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: heatmaps.n_layers == 3 and window.controls.play_button.isEnabled(), timeout=TIMEOUT_MS)
    assert heatmaps.rows[: len(rows)] == rows  # built once, reused
    assert heatmaps.first_layer == 0


def test_outputs_table_has_no_empty_column(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 1)
    table = window.curves.table
    header = table.horizontalHeader()
    assert all(table.horizontalHeaderItem(c).text() for c in range(table.columnCount()))  # the ✓ column's too
    assert header.length() == table.viewport().width()  # before: 30 px of empty column at the right
    assert table.item(0, table.MARK).text() in ("✓", "✗")


def test_a_sweep_run_says_loaded_only_once_loaded(qtbot, monkeypatch):
    """Clicking a Sweep run over unsaved work: while the question is open, the Sweep tab does not yet say
    "Loaded seed …" (it would be wrong after Cancel)."""
    from PySide6.QtWidgets import QMessageBox

    from gui.experiments import Experiments

    window = open_window(qtbot)
    step(qtbot, window, 3)
    view = run_sweep(qtbot, window, seeds=2, epochs=50)
    seen = []

    def ask(self):
        seen.append(view.message.text())
        return QMessageBox.StandardButton.Discard

    monkeypatch.setattr(Experiments, "ask_unsaved", ask)
    window.experiments.set_modified(True)
    view.load(1)
    assert len(seen) == 1 and "Loaded seed" not in seen[0]
    assert view.message.text().startswith(f"Loaded seed {view.result.config_of(1).seed} ")
