"""The training thread's work stays bounded: Step N runs in chunks that every request can stop, and a big
network's views cost a bounded amount each, computed in pieces that a request (or closing) cuts short."""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import TrainConfig, Trainer, decision_grid, warm_up
from gui import MainWindow
from gui.experiments import SET_ASIDE_NOTE, claim_last_config, set_aside_config, settings
from gui.maps import reduced
from gui.session import CHUNK_SECONDS, GRID_AXIS, MAP_MACS, MIN_GRID, TrainingSession, map_side
from gui.snapshot import RUNNING, StopRules
from gui.worker import MAX_IN_FLIGHT, TrainingThread
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
BIG = TrainConfig(hidden=(300, 300))  # 91,501 weights: its map (19 x 19 points) costs more than MAP_MACS
CLOSE_SECONDS = 2  # the bound for closing; training's thread itself is given STOP_TIMEOUT_MS = 1 s


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
    qtbot.waitUntil(lambda: window.thread.in_flight == 0, timeout=TIMEOUT_MS)
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
    assert time.perf_counter() - start < CLOSE_SECONDS
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
    config = BIG  # a 121 x 121 map would cost 1.3e9 multiply-adds
    side = map_side(91_501)
    assert side < 121
    window = open_window(qtbot, config)
    qtbot.waitUntil(lambda: len(window.decision_map.axis) == side, timeout=TIMEOUT_MS)
    points = decision_grid(side)[1]
    trainer = Trainer(config)
    np.testing.assert_array_equal(window.decision_map.image.image, trainer.predict(points).reshape(side, side))
    np.testing.assert_array_equal(window.decision_map.axis, decision_grid(side)[0])
    step = (1.25 + 0.25) / (side - 1)  # each point at the centre of its pixel
    assert window.decision_map.image.mapRectToParent(window.decision_map.image.boundingRect()).getRect() == pytest.approx(
        (-0.25 - step / 2, -0.25 - step / 2, 1.5 + step, 1.5 + step)
    )
    W2 = trainer.params[1][0]  # 300 x 300: shown as 100 x 100 blocks, each as its entry of largest magnitude
    window.heatmaps.layer_bar.setValue(1)  # the second layer first, whether or not all rows fit
    assert window.heatmaps.first_layer == min(1, window.heatmaps.n_layers - window.heatmaps.shown)
    shown = dict(zip(window.heatmaps.shown_layers(), window.heatmaps.images))[1][0].image
    assert shown.shape == (100, 100) and shown[0, 0] == W2[:3, :3].flat[np.abs(W2[:3, :3]).argmax()]
    np.testing.assert_array_equal(shown, reduced(W2))
    assert np.abs(shown).max() == np.abs(W2).max()


def test_the_largest_network_opens_answers_and_closes_promptly(qtbot):
    """8 x 1024 hidden units: the window is ready within seconds (the map follows in pieces, with progress in the
    status bar), and closing while the map is being computed takes about a second, not minutes."""
    warm_up()  # the kernels compiled or loaded (a fresh clone's first compile is not what is measured here)
    start = time.perf_counter()
    window = MainWindow(HUGE)
    qtbot.addWidget(window)
    window.show()
    messages = []
    window.thread.progress.connect(messages.append)
    wait_ready(qtbot, window)
    # before: the first 121 x 121 map alone took about 100 s; now building the network and the first snapshot
    # take 1-2 s (a generous bound for a slow, busy CI machine)
    assert time.perf_counter() - start < 15
    qtbot.waitUntil(lambda: any(m.startswith("Computing the decision map") for m in messages), timeout=TIMEOUT_MS)
    assert window.statusBar().currentMessage().startswith("Computing the decision map")
    thread = window.thread
    start = time.perf_counter()
    window.close()
    # a request cuts the map short between pieces of a few milliseconds; a slow machine may need more than 2 s
    assert time.perf_counter() - start < CLOSE_SECONDS + 1
    assert thread.isFinished()


def test_a_big_networks_map_made_while_running_goes_with_the_next_snapshot():
    """Back-pressure holds for a big network's map too: made while running, it waits for the next snapshot
    instead of going in one of its own, so never more than MAX_IN_FLIGHT snapshots are in flight."""
    thread = TrainingThread(BIG)  # never started: the test plays the training thread's part
    sent = []
    thread.snapshot.connect(sent.append)
    session = TrainingSession(thread, thread.take_first_config())  # as `run` starts it
    session.state = RUNNING
    assert thread.may_send(True) and thread.in_flight == 1  # the window has not taken the last snapshot in yet
    session.emit(force=False)
    assert thread.in_flight == MAX_IN_FLIGHT and len(sent) == 1  # before: the map went too, a third in flight
    assert sent[0].grid_output is None and session.pending_grid is not None
    side = map_side(91_501)
    initial_map = Trainer(BIG).predict(decision_grid(side)[1]).reshape(side, side)
    session.record(session.trainer.run(2))
    session.last_emit = -math.inf  # the rate limit would let it go
    session.emit(force=False)
    assert len(sent) == 1  # two in flight: the epochs and the map wait for the window
    thread.snapshot_taken()
    session.emit(force=False)
    assert thread.in_flight == MAX_IN_FLIGHT and len(sent) == 2
    np.testing.assert_array_equal(sent[1].grid_output, initial_map)
    assert sent[1].epoch == 2 and len(sent[1].rows) == 2 and session.pending_grid is None


def test_a_running_big_network_with_a_stalled_window_keeps_two_in_flight(qtbot):
    window = open_window(qtbot, BIG)
    window.controls.stop_epoch_check.setChecked(False)
    in_flight = []  # as each snapshot leaves the training thread
    window.thread.snapshot.connect(lambda snap: in_flight.append((window.thread.in_flight, snap.grid_output is not None)),
                                   Qt.ConnectionType.DirectConnection)  # fmt: skip
    window.play()
    for _ in range(3):
        qtbot.waitUntil(lambda: window.state == "Running" and any(has_map for _, has_map in in_flight[5:]), timeout=TIMEOUT_MS)
        window.thread.wait(300)  # the GUI thread stalls (no events processed) while training goes on
    window.pause()
    wait_state(qtbot, window, "Paused")
    assert max(n for n, _ in in_flight) <= MAX_IN_FLIGHT


def test_the_worker_waits_for_the_rate_limits_next_slot_not_in_a_busy_loop():
    """With the window behind on epochs but fewer than MAX_IN_FLIGHT snapshots in flight, the next snapshot may
    only go once the rate limit allows: the thread waits for that moment (a request still wakes it)."""
    thread = TrainingThread(TrainConfig())  # never started: the test calls what its loop calls
    thread.take_first_config()  # as `run` starts
    start = time.perf_counter()
    thread.wait_for_window(start + 0.3, timeout_ms=10_000)
    assert 0.25 < time.perf_counter() - start < 5  # before: returned at once, and the loop spun
    start = time.perf_counter()
    thread.wait_for_window(start - 1, timeout_ms=10_000)  # the slot has come: no wait
    thread.pause()  # a request waiting to be taken: no wait either
    thread.wait_for_window(start + 10, timeout_ms=10_000)
    assert time.perf_counter() - start < 5


def dead_pid() -> int:
    """The process ID of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_remembered_settings_of_a_session_that_did_not_close_are_set_aside(qtbot):
    store = settings()
    store.setValue("lastConfig", json.dumps(BIG.to_dict()))
    store.setValue("lastConfigInUse", False)
    assert claim_last_config() == (BIG, "")  # the last session closed cleanly: its settings come back
    store.setValue("lastConfigInUse", json.dumps([dead_pid()]))  # ... but that session never closed (killed, or hung)
    config, note = claim_last_config()
    assert config is None and note == SET_ASIDE_NOTE and set_aside_config() == BIG
    window = MainWindow(config)
    window.startup_note = note
    qtbot.addWidget(window)
    window.resize(1366, 740)
    window.show()
    wait_ready(qtbot, window)
    status = window.statusBar()
    assert window.controls.config() == TrainConfig() and status.currentMessage() == note
    # short enough for a 1366-pixel window's status bar (before: 170 characters, cut off); the details in its tooltip
    free = status.width() - sum(label.width() for label in (window.state_label, window.epoch_label, window.loss_label,
                                                             window.rate_label))  # fmt: skip
    assert status.fontMetrics().horizontalAdvance(note) < free - 20
    assert "hidden 300,300" in status.toolTip() and "Restore the last session's settings" in status.toolTip()
    action = window.experiments.set_aside_action
    assert action.isEnabled()
    action.trigger()  # Settings › Restore the last session's settings
    qtbot.waitUntil(lambda: window.shown_config() == BIG, timeout=TIMEOUT_MS)
    assert window.controls.config() == BIG and not action.isEnabled() and status.toolTip() == ""
    window.experiments.set_modified(False)
    window.close()  # a clean close clears the mark: the next launch uses what this one remembers
    assert claim_last_config() == (BIG, "")
    window = MainWindow(TrainConfig())
    qtbot.addWidget(window)
    assert not window.experiments.set_aside_action.isEnabled()  # offered only after a session that did not close
    window.close()
    store.setValue("lastConfigInUse", False)


def test_a_second_window_keeps_the_remembered_settings_of_a_session_still_open():
    store = settings()
    store.setValue("lastConfig", json.dumps(BIG.to_dict()))
    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        store.setValue("lastConfigInUse", json.dumps([other.pid]))  # another window, open now
        assert claim_last_config() == (BIG, "")  # before: set aside, as if that window had crashed
        assert json.loads(store.value("lastConfigInUse")) == [other.pid, os.getpid()]
        assert claim_last_config() == (BIG, "")  # this process's own mark: a window still open too
    finally:
        other.communicate(b"")
    config, note = claim_last_config()  # that window's process ended without a clean close
    assert config is None and "did not close normally" in note
    assert json.loads(store.value("lastConfigInUse")) == [os.getpid()]
    store.setValue("lastConfigInUse", True)  # an older version's mark names no process: as if it were gone
    assert claim_last_config()[0] is None
    store.setValue("lastConfigInUse", False)


def test_chunks_are_sized_by_time_not_epochs():
    """About CHUNK_SECONDS at the last chunk's seconds per epoch, at least one epoch, one while not measured:
    a request waits at most about one chunk, however big the network (before: 64 epochs of 80 ms, 6 s)."""
    thread = TrainingThread(TrainConfig())  # never started: the test calls what its loop calls
    session = TrainingSession(thread, thread.take_first_config())
    assert session.chunk_size() == 1  # not measured yet
    session.timed_run(3)
    assert session.seconds_per_epoch is not None and session.chunk_size() >= 1
    session.seconds_per_epoch = 0.08  # 8 x 1024 hidden units
    assert session.chunk_size() == 1
    session.seconds_per_epoch = 1e-6
    assert session.chunk_size() == round(CHUNK_SECONDS / 1e-6)
    session.seconds_per_epoch = 0.08
    session.rules = session.active_rules = StopRules()
    epoch = session.trainer.epoch
    session.run_chunk(speed=1000)  # a set speed's share of a snapshot (25 epochs) stays within the time too
    assert session.trainer.epoch == epoch + 1


def test_play_and_pause_answer_promptly_on_the_largest_network(qtbot):
    """8 x 1024 hidden units (about 80 ms an epoch): "Running" shows at once and Pause takes effect within about an
    epoch (before: 8.5 s and 6.1 s, and the epoch jumped from 75 to 150)."""
    warm_up()
    window = open_window(qtbot, HUGE)
    start = time.perf_counter()
    qtbot.mouseClick(window.controls.play_button, Qt.MouseButton.LeftButton)
    wait_state(qtbot, window, "Running")
    assert time.perf_counter() - start < 2
    qtbot.waitUntil(lambda: window.epoch >= 3, timeout=TIMEOUT_MS)
    trained = []
    window.thread.snapshot.connect(lambda snap: trained.append(snap.epoch), Qt.ConnectionType.DirectConnection)
    start = time.perf_counter()
    qtbot.mouseClick(window.controls.play_button, Qt.MouseButton.LeftButton)  # Pause
    at_click = max(trained, default=window.epoch)
    wait_state(qtbot, window, "Paused")
    assert time.perf_counter() - start < 3
    assert window.epoch - at_click <= 2, (at_click, window.epoch)  # at most the chunk under way, one epoch
    window.close()
