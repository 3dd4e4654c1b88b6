"""Driving the window from tests."""

from __future__ import annotations

import numpy as np

from engine import TrainConfig, Trainer
from engine.trainer import METRIC_COLUMNS
from gui import MainWindow

TIMEOUT_MS = 60_000  # the first test pays for Numba's first compile


def open_window(qtbot, config: TrainConfig | None = None) -> MainWindow:
    window = MainWindow(config)
    qtbot.addWidget(window)
    window.show()
    wait_ready(qtbot, window)
    return window


def full_speed(window: MainWindow) -> None:
    """Play as fast as the machine goes, with no stop rule (a fresh window plays at 1,000 epochs/s and stops
    at epoch 10,000, so that a learner sees the run unfold)."""
    window.controls.speed_slider.setValue(window.controls.speed_slider.maximum())
    window.controls.stop_epoch_check.setChecked(False)
    window.controls.stop_loss_check.setChecked(False)


def wait_ready(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.controls.play_button.isEnabled(), timeout=TIMEOUT_MS)


def wait_epoch(qtbot, window: MainWindow, epoch: int) -> None:
    qtbot.waitUntil(lambda: window.epoch == epoch, timeout=TIMEOUT_MS)


def wait_state(qtbot, window: MainWindow, state: str) -> None:
    qtbot.waitUntil(lambda: window.state == state, timeout=TIMEOUT_MS)


def step(qtbot, window: MainWindow, n: int = 1) -> None:
    target = window.epoch + n
    window.step(n)
    wait_epoch(qtbot, window, target)


def assert_params_equal(got, want) -> None:
    assert len(got) == len(want)
    for (W, b), (W2, b2) in zip(got, want):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


def reference(config: TrainConfig, epochs: int) -> tuple[Trainer, np.ndarray, np.ndarray]:
    trainer = Trainer(config)
    chunk = trainer.run(epochs)
    return trainer, chunk.loss, chunk.predictions


def assert_history_matches(window: MainWindow, loss: np.ndarray, predictions: np.ndarray) -> None:
    """The window's history holds exactly these epochs (their loss and recorded predictions; the metrics between
    them, `METRIC_COLUMNS[1:]`, are the engine's own): exact rows, then true min/max buckets."""
    history = window.curves.history
    assert history.n_epochs == len(loss) == window.epoch
    columns = [0, *range(len(METRIC_COLUMNS), history.n_series)]  # the loss, then the predictions
    exact = history.exact()
    np.testing.assert_array_equal(exact[:, 0], loss[: history.n_exact])
    np.testing.assert_array_equal(exact[:, len(METRIC_COLUMNS) :], predictions[: history.n_exact])
    first, last, mins, maxs = history.summary()
    rows = np.column_stack([loss, predictions])
    for i in range(len(first)):
        block = rows[first[i] - 1 : last[i]]
        np.testing.assert_array_equal(mins[i][columns], block.min(axis=0))
        np.testing.assert_array_equal(maxs[i][columns], block.max(axis=0))


def run_sweep(qtbot, window: MainWindow, seeds: int, epochs: int, learning_rates: str | None = None, hidden: str | None = None):
    """Run a sweep from the Sweep tab (its own learning rates and hidden widths unless given) with the Run
    button, wait until it is complete and return the tab."""
    from PySide6.QtCore import Qt

    window.tabs.setCurrentWidget(window.sweep_view)
    view = window.sweep_view
    view.seeds_spin.setValue(seeds)
    if learning_rates is not None:
        view.lr_edit.setText(learning_rates)
    if hidden is not None:
        view.hidden_edit.setText(hidden)
    view.epochs_spin.setValue(epochs)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.result is not None and view.result.complete, timeout=TIMEOUT_MS)
    return view
