"""The History panel (gui/history_panel.py): every run logged, thumbnails, overlaid curves, reopened exactly, a log that
survives a restart of the window, damaged entries skipped with one message."""

import os

import numpy as np
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QMessageBox

from engine import TrainConfig, Trainer
from gui import MainWindow, history_panel
from gui.experiments import Experiments
from gui.history_panel import HISTORY_ENV, run_log_folder
from tests.gui_helpers import TIMEOUT_MS, assert_params_equal, open_window, step, wait_epoch

Cancel, Discard = QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard


def logged(window) -> list:
    return window.history_panel.entries


def trained(qtbot, window, n: int) -> None:
    """Train `n` epochs (a run replaced after them is logged exactly as it ended: the restart's snapshot brings it)."""
    step(qtbot, window, n)


def wait_logged(qtbot, window, n: int) -> None:
    qtbot.waitUntil(lambda: len(logged(window)) == n, timeout=TIMEOUT_MS)


def test_the_log_is_never_the_users(private_run_history):
    user = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    assert os.environ[HISTORY_ENV] == str(private_run_history)
    assert run_log_folder() == private_run_history and not str(run_log_folder()).startswith(user)


def test_a_replaced_run_is_logged_and_reopens_exactly(qtbot, monkeypatch):
    config = TrainConfig(shuffle=True, optimizer="adam")
    window = open_window(qtbot, config)
    panel = window.history_panel
    assert window.tabs.indexOf(panel) == window.tabs.count() - 1 and window.tabs.tabText(window.tabs.count() - 1) == "History"
    assert panel.objectName() == "historyPanel"
    assert logged(window) == []
    trained(qtbot, window, 300)
    window.reset()  # replaces the run: it is logged as it was when it paused, at epoch 300
    wait_logged(qtbot, window, 1)
    wait_epoch(qtbot, window, 0)
    entry = logged(window)[0]
    assert entry.epoch == 300 and entry.config == config
    assert not panel.list.item(0).icon().isNull()  # the decision map's thumbnail
    trained(qtbot, window, 10)  # 10 epochs of a new run, then open the logged one: this one is logged in turn
    panel.select([entry.id])
    assert panel.open_button.isEnabled()
    asked = []
    monkeypatch.setattr(Experiments, "ask_unsaved", lambda self: asked.append(self.unsaved_question) or Cancel)
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)  # unsaved work: asks first; Cancel keeps it
    assert asked == ["Save the changes to this experiment before opening a run from the history?"]
    assert window.epoch == 10 and "not opened" in window.statusBar().currentMessage()
    monkeypatch.setattr(Experiments, "ask_unsaved", lambda self: Discard)
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    wait_epoch(qtbot, window, 300)
    wait_logged(qtbot, window, 2)
    trainer = Trainer(config)
    trainer.run(300)
    assert_params_equal(window.params(), trainer.params)
    assert window.curves.history.n_epochs == 300 and not window.isWindowModified()
    trained(qtbot, window, 50)  # and it continues exactly
    trainer.run(50)
    assert_params_equal(window.params(), trainer.params)


def test_selected_runs_overlay_their_loss_curves(qtbot):
    window = open_window(qtbot, TrainConfig(seed=1))
    trained(qtbot, window, 40)
    window.train.apply_config(TrainConfig(seed=2))  # a new network: the first run is logged
    wait_logged(qtbot, window, 1)
    trained(qtbot, window, 60)
    window.reset()
    wait_logged(qtbot, window, 2)
    panel = window.history_panel
    assert [e.config.seed for e in logged(window)] == [2, 1]  # newest first
    panel.list.selectAll()
    curves = panel.curves()
    assert len(curves) == 2 and not panel.open_button.isEnabled()  # Open wants one run
    assert [curve.getData()[0][-1] for curve in curves] == [60, 40]


def test_the_history_survives_a_restart_and_skips_damaged_entries(qtbot, private_run_history):
    first = open_window(qtbot, TrainConfig(seed=3))
    trained(qtbot, first, 25)
    first.close()  # the run on show is logged as the window closes
    assert first.train.is_finished()
    second = open_window(qtbot, TrainConfig(seed=4))
    wait_logged(qtbot, second, 1)
    assert logged(second)[0].epoch == 25 and logged(second)[0].config.seed == 3
    trained(qtbot, second, 5)
    second.close()
    damage(private_run_history, logged(second)[-1].id)  # the seed-3 run's summary is garbage now
    messages = []
    third = MainWindow()
    qtbot.addWidget(third)
    third.statusBar().messageChanged.connect(messages.append)
    third.show()
    wait_logged(qtbot, third, 1)
    assert logged(third)[0].config.seed == 4
    said = [m for m in messages if "damaged" in m]
    assert len(said) == 1 and "damaged" in third.statusBar().currentMessage(), messages  # once, and it stays a while
    third.history_panel.refresh()
    assert [m for m in messages if "damaged" in m] == said  # said once only


def damage(folder, run_id) -> None:
    """Overwrite the summary of run `run_id` with garbage."""
    hits = [p for p in folder.rglob("*") if p.is_file() and str(run_id) in p.name and p.suffix == ".json"]
    assert hits, list(folder.rglob("*"))
    hits[0].write_bytes(b"\x00garbage{")


def test_the_history_keeps_the_last_runs_only(qtbot, monkeypatch, private_run_history):
    monkeypatch.setattr(history_panel, "LIMIT", 2)
    window = open_window(qtbot, TrainConfig(seed=5))
    for epochs in (7, 8, 9):
        trained(qtbot, window, epochs)
        window.reset()
        qtbot.waitUntil(lambda n=epochs: bool(logged(window)) and logged(window)[0].epoch == n, timeout=TIMEOUT_MS)
    assert [entry.epoch for entry in logged(window)] == [9, 8] and window.history_panel.list.count() == 2
    assert sorted(p.suffix for p in private_run_history.iterdir()) == [".bplab", ".bplab", ".json", ".json"]


def test_a_run_replaced_while_it_runs_is_logged_exactly_as_it_ended(qtbot):
    config = TrainConfig(mode="sgd", shuffle=True, seed=4)
    window = open_window(qtbot, config)
    window.controls.stop_epoch_check.setChecked(False)
    window.play()
    qtbot.waitUntil(lambda: window.epoch > 2_000, timeout=TIMEOUT_MS)
    window.reset()  # while running: the epochs trained since the last snapshot come with the restart's
    wait_logged(qtbot, window, 1)
    entry = logged(window)[0]
    experiment = window.history_panel.log.load(entry.id)
    assert experiment.state.epoch == entry.epoch == experiment.history.n_epochs >= 2_000
    trainer = Trainer(config)
    rows = trainer.run(entry.epoch).rows()
    assert (experiment.state.theta == trainer.theta).all()
    np.testing.assert_array_equal(experiment.history.exact(), rows)
    window.pause()


def test_closing_the_window_logs_the_run_on_show(qtbot, private_run_history):
    window = open_window(qtbot)
    trained(qtbot, window, 120)
    window.experiments.set_modified(False)
    window.close()
    from engine.run_log import RunLog

    (entry,) = RunLog(private_run_history).entries()
    assert entry.epoch == 120


def test_a_screenshot_is_not_a_run_to_log(qtbot, tmp_path, private_run_history):
    from gui.headless import save_screenshot

    save_screenshot(TrainConfig(), 50, str(tmp_path / "window.png"), (800, 600))
    assert (tmp_path / "window.png").exists() and not any(private_run_history.iterdir())


def test_a_logged_run_keeps_its_branches_and_its_past(qtbot):
    window = open_window(qtbot)
    trained(qtbot, window, 100)
    window.train.scrub(40)
    qtbot.waitUntil(lambda: window.train.scrubbed == 40, timeout=TIMEOUT_MS)
    window.controls.learning_rate_spin.setValue(0.5)
    window.train.branch()
    qtbot.waitUntil(lambda: window.train.tree is not None and len(window.train.tree.runs) == 2, timeout=TIMEOUT_MS)
    trained(qtbot, window, 30)
    window.reset()
    wait_logged(qtbot, window, 1)
    experiment = window.history_panel.log.load(logged(window)[0].id)
    tree = experiment.tree
    assert len(tree.runs()) == 2 and tree.current_run.branch_epoch == 40 and experiment.state.epoch == 70
    assert tree.current_run.timeline.known is True  # reopened, its past shows at once (nothing to recompute first)
