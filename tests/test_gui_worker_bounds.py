"""The training thread's work stays bounded: Step N runs in chunks that every request can stop, and a big
network's views cost a bounded amount each, computed in pieces that a request (or closing) cuts short."""

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import TrainConfig, Trainer, decision_grid
from gui import MainWindow
from gui.maps import reduced
from gui.worker import GRID_AXIS, MAP_MACS, MIN_GRID, map_side
from tests.gui_helpers import (
    TIMEOUT_MS,
    assert_history_matches,
    assert_params_equal,
    open_window,
    reference,
    wait_ready,
    wait_state,
)

HUGE = TrainConfig(hidden=(1024,) * 8)  # the largest network the settings allow: 7,351,297 weights


def rss_mb() -> float:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        pytest.skip("needs /proc/self/statm to measure memory")
    import os

    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def click_step_n(qtbot, window: MainWindow, n: int) -> None:
    window.controls.step_n_spin.setValue(n)
    qtbot.mouseClick(window.controls.step_n_button, Qt.MouseButton.LeftButton)


def test_step_n_of_a_billion_runs_in_chunks_and_pause_stops_it(qtbot):
    window = open_window(qtbot)
    before = rss_mb()
    click_step_n(qtbot, window, 10**9)
    qtbot.waitUntil(lambda: window.epoch > 0 and window.state == "Running", timeout=TIMEOUT_MS)
    assert "Step N:" in window.statusBar().currentMessage() and "of 1,000,000,000 epochs" in window.statusBar().currentMessage()
    assert window.controls.play_button.isChecked() and window.controls.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: window.epoch > 300_000, timeout=TIMEOUT_MS)
    qtbot.mouseClick(window.controls.play_button, Qt.MouseButton.LeftButton)  # Pause
    wait_state(qtbot, window, "Paused")
    assert 300_000 < window.epoch < 10**9
    assert "Paused at epoch" in window.statusBar().currentMessage()
    assert rss_mb() - before < 400  # not ~120 MB a second
    held = window.epoch
    qtbot.waitUntil(lambda: window.thread._in_flight == 0, timeout=TIMEOUT_MS)
    assert window.epoch == held  # it stays stopped
    _, loss, predictions = reference(TrainConfig(), window.epoch)
    assert_history_matches(window, loss, predictions)  # the same as one run of that many epochs, bit for bit


def test_step_n_equals_one_run_bit_for_bit(qtbot):
    config = TrainConfig(mode="sgd", hidden=(3,), learning_rate=0.3)
    window = open_window(qtbot, config)
    click_step_n(qtbot, window, 123_457)
    qtbot.waitUntil(lambda: window.epoch == 123_457 and window.state == "Paused", timeout=TIMEOUT_MS)
    assert window.statusBar().currentMessage() == "Stepped 123,457 epochs"
    trainer, loss, predictions = reference(config, 123_457)
    assert_history_matches(window, loss, predictions)
    assert_params_equal(window.params(), trainer.params)


def test_reset_and_close_stop_a_step_n_at_once(qtbot):
    window = open_window(qtbot)
    click_step_n(qtbot, window, 10**9)
    qtbot.waitUntil(lambda: window.epoch > 1000, timeout=TIMEOUT_MS)
    qtbot.mouseClick(window.controls.reset_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.epoch == 0 and window.state == "Ready", timeout=TIMEOUT_MS)
    click_step_n(qtbot, window, 10**9)
    qtbot.waitUntil(lambda: window.epoch > 1000, timeout=TIMEOUT_MS)
    thread = window.thread
    start = time.perf_counter()
    window.close()
    assert time.perf_counter() - start < 1.0
    assert thread.isFinished()


def test_play_during_a_step_n_plays_on_and_step_during_play_stops_at_its_target(qtbot):
    window = open_window(qtbot)
    window.controls.stop_epoch_check.setChecked(False)
    click_step_n(qtbot, window, 10**9)
    qtbot.waitUntil(lambda: window.epoch > 1000, timeout=TIMEOUT_MS)
    window.thread.play()  # Play (as the shortcut would when the button is up) takes over from the step
    qtbot.waitUntil(lambda: window.state == "Running" and "Step N" not in window.statusBar().currentMessage(),
                    timeout=TIMEOUT_MS)  # fmt: skip
    window.controls.step_n_spin.setValue(50)
    window.step(50)
    qtbot.waitUntil(lambda: window.state == "Paused", timeout=TIMEOUT_MS)
    assert window.statusBar().currentMessage() == "Stepped 50 epochs"
    _, loss, predictions = reference(TrainConfig(), window.epoch)
    assert_history_matches(window, loss, predictions)


def test_map_grid_follows_the_networks_cost():
    assert map_side(9) == len(GRID_AXIS)  # the notebook's 2-2-1 network: the full grid
    for cost in (9, 100, 4097, 11_281, 50_000, 132_000, 7_351_297):
        side = map_side(cost)
        assert MIN_GRID <= side <= len(GRID_AXIS) and (side - 1) % 6 == 0  # 0 and 1 on the grid
        assert side == MIN_GRID or cost * side**2 <= MAP_MACS
    assert map_side(7_351_297) == MIN_GRID


@pytest.mark.parametrize("hidden", [(3,), (2, 2), (40, 5, 7), (1,) * 7 + (40,), (64, 64)])
def test_first_units_activations_are_the_full_passes_numbers(hidden):
    _, points = decision_grid(41)
    trainer = Trainer(TrainConfig(hidden=hidden, activation="tanh"))
    trainer.run(30)
    full = trainer.activations(points)
    for units in (0, 1, 3, min(32, sum(hidden)), sum(hidden), sum(hidden) + 1):
        np.testing.assert_array_equal(trainer.activations(points, units=units), full[:, :units])


def test_a_big_network_shows_a_coarser_map_that_is_its_predict(qtbot):
    config = TrainConfig(hidden=(300, 300))  # 91,501 weights: a 121 x 121 map would cost 1.3e9 multiply-adds
    side = map_side(91_501)
    assert side < 121
    window = open_window(qtbot, config)
    qtbot.waitUntil(lambda: len(window.decision_map.axis) == side, timeout=TIMEOUT_MS)
    points = decision_grid(side)[1]
    trainer = Trainer(config)
    np.testing.assert_array_equal(window.decision_map.image.image, trainer.predict(points).reshape(side, side))
    np.testing.assert_array_equal(window.decision_map.axis, decision_grid(side)[0])
    W2 = trainer.params[1][0]  # 300 x 300: shown as 100 x 100 blocks, each as its entry of largest magnitude
    shown = window.heatmaps.images[1][0].image
    assert shown.shape == (100, 100) and shown[0, 0] == W2[:3, :3].flat[np.abs(W2[:3, :3]).argmax()]
    np.testing.assert_array_equal(shown, reduced(W2))
    assert np.abs(shown).max() == np.abs(W2).max()


def test_the_largest_network_opens_answers_and_closes_promptly(qtbot):
    """8 x 1024 hidden units: the window is ready within seconds (the map follows in pieces, with progress in the
    status bar), and closing while the map is being computed takes about a second, not minutes."""
    start = time.perf_counter()
    window = MainWindow(HUGE)
    qtbot.addWidget(window)
    window.show()
    messages = []
    window.thread.progress.connect(messages.append)
    wait_ready(qtbot, window)
    assert time.perf_counter() - start < 20  # before: the first 121 x 121 map alone took about 100 s
    qtbot.waitUntil(lambda: any(m.startswith("Computing the decision map") for m in messages), timeout=TIMEOUT_MS)
    assert window.statusBar().currentMessage().startswith("Computing the decision map")
    thread = window.thread
    start = time.perf_counter()
    window.close()
    assert time.perf_counter() - start < 3
    assert thread.isFinished()


def test_remembered_settings_of_a_session_that_did_not_close_are_set_aside(qtbot):
    import json

    from gui.experiments import claim_last_config, settings

    store = settings()
    store.setValue("lastConfig", json.dumps(HUGE.to_dict()))
    store.setValue("lastConfigInUse", False)
    assert claim_last_config() == (HUGE, "")  # the last session closed cleanly: its settings come back
    config, note = claim_last_config()  # ... but that session never closed (killed, or hung)
    assert config is None and "did not close normally" in note and "1024,1024" in note
    window = MainWindow(config)
    window.startup_note = note
    qtbot.addWidget(window)
    window.show()
    wait_ready(qtbot, window)
    assert window.controls.config() == TrainConfig() and window.statusBar().currentMessage() == note
    window.close()  # a clean close clears the mark: the next launch uses what this one remembers
    assert claim_last_config() == (TrainConfig(), "")
    store.setValue("lastConfigInUse", False)
