"""Experiments in the window: save, reopen, exports, settings, unsaved work, bad files, lifecycle."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from engine import TrainConfig, Trainer
from engine.experiment import load_experiment
from gui import MainWindow
from gui.experiments import last_config
from tests.gui_helpers import (
    TIMEOUT_MS,
    assert_history_matches,
    assert_params_equal,
    full_speed,
    open_window,
    step,
    wait_state,
)


def save(qtbot, window, path):
    with qtbot.waitSignal(window.experiments.saved, timeout=TIMEOUT_MS):
        window.experiments.save_to(path)


def test_save_and_reopen_continue_bit_identically(qtbot, tmp_path):
    config = TrainConfig(shuffle=True, optimizer="adam", learning_rate=0.05)
    window = open_window(qtbot, config)
    assert window.windowTitle() == "untitled[*] — Backprop Lab" and not window.isWindowModified()
    step(qtbot, window, 1234)
    assert window.isWindowModified()
    path = tmp_path / "run.bplab"
    save(qtbot, window, path)
    assert window.windowTitle().startswith("run.bplab") and not window.isWindowModified()
    saved_params = window.params()
    step(qtbot, window, 100)  # more work, then go back to the saved file
    assert window.isWindowModified()
    assert window.experiments.open(path)
    qtbot.waitUntil(lambda: window.epoch == 1234 and not window.loading, timeout=TIMEOUT_MS)
    assert not window.isWindowModified()
    assert_params_equal(window.params(), saved_params)
    step(qtbot, window, 766)
    trainer = Trainer(config)
    chunk = trainer.run(2000)
    assert_params_equal(window.params(), trainer.params)
    assert_history_matches(window, chunk.loss, chunk.predictions)
    assert window.controls.config() == config


def test_saving_while_running_saves_a_consistent_state(qtbot, tmp_path):
    window = open_window(qtbot)
    full_speed(window)
    window.play()
    qtbot.waitUntil(lambda: window.epoch > 20000, timeout=TIMEOUT_MS)
    save(qtbot, window, tmp_path / "live.bplab")
    window.pause()
    experiment = load_experiment(tmp_path / "live.bplab")
    epoch = experiment.state.epoch
    assert epoch == experiment.history.n_epochs > 20000
    trainer = Trainer(TrainConfig())
    trainer.run(epoch)
    np.testing.assert_array_equal(experiment.state.theta, trainer.theta)


def test_a_bad_file_changes_nothing(qtbot, tmp_path):
    window = open_window(qtbot)
    step(qtbot, window, 300)
    params, epoch = window.params(), window.epoch
    bad = tmp_path / "bad.bplab"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with qtbot.waitSignal(window.experiments.failed, timeout=TIMEOUT_MS) as blocker:
        assert not window.experiments.open(bad)
    assert "Could not open bad.bplab" in blocker.args[0]
    step(qtbot, window, 1)
    assert window.epoch == epoch + 1
    trainer = Trainer(TrainConfig())
    trainer.run(epoch)
    assert_params_equal(params, trainer.params)


def test_failed_save_keeps_the_work(qtbot, tmp_path):
    window = open_window(qtbot)
    step(qtbot, window, 50)
    with qtbot.waitSignal(window.experiments.failed, timeout=TIMEOUT_MS) as blocker:
        window.experiments.save_to(tmp_path / "no-such-folder" / "x.bplab")
    assert "Could not save" in blocker.args[0] and "nothing was lost" in blocker.args[0]
    assert window.isWindowModified() and window.epoch == 50


def test_closing_with_unsaved_work_asks(qtbot, tmp_path, monkeypatch):
    from gui.experiments import Experiments

    window = open_window(qtbot)
    step(qtbot, window, 10)
    answers = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(Experiments, "ask_unsaved", lambda self: answers.pop(0))
    window.close()
    assert window.isVisible() and window.thread.isRunning()  # cancelled: still open, still working
    window.experiments.path = tmp_path / "kept.bplab"
    answers.append(QMessageBox.StandardButton.Save)
    window.close()  # saves first, then closes
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
    assert load_experiment(tmp_path / "kept.bplab").state.epoch == 10
    assert not window.thread.isRunning()


def test_recent_files(qtbot, tmp_path):
    window = open_window(qtbot)
    step(qtbot, window, 5)
    for name in ("a.bplab", "b.bplab"):
        save(qtbot, window, tmp_path / name)
    recent = window.experiments.recent_files()
    assert recent[:2] == [str(tmp_path / "b.bplab"), str(tmp_path / "a.bplab")]
    assert [a.text() for a in window.experiments.recent_menu.actions()][:2] == ["b.bplab", "a.bplab"]
    (tmp_path / "a.bplab").unlink()
    with qtbot.waitSignal(window.experiments.failed, timeout=TIMEOUT_MS):
        window.experiments.open(str(tmp_path / "a.bplab"))
    assert str(tmp_path / "a.bplab") not in window.experiments.recent_files()


@pytest.mark.parametrize("figure", ["loss", "predictions", "decision-map", "weights"])
def test_exports(qtbot, tmp_path, figure):
    window = open_window(qtbot)
    step(qtbot, window, 400)
    for kind in ("png", "svg"):
        path = tmp_path / f"{figure}.{kind}"
        window.experiments.export_figure(figure, str(path), kind)
        assert path.stat().st_size > 500
    assert QImage(str(tmp_path / f"{figure}.png")).width() >= 800
    assert "<svg" in (tmp_path / f"{figure}.svg").read_text()[:2000]


def test_data_and_window_exports(qtbot, tmp_path):
    window = open_window(qtbot)
    step(qtbot, window, 25)
    window.experiments.export_figure("window", str(tmp_path / "w.png"), "png")
    assert QImage(str(tmp_path / "w.png")).width() == window.width()
    window.experiments.export_data("history", str(tmp_path / "h.csv"))
    lines = (tmp_path / "h.csv").read_text().splitlines()
    header = "epoch,kind,loss,test_loss,train_accuracy,test_accuracy,y_hat_00,y_hat_01,y_hat_10,y_hat_11"
    assert lines[0] == header and len(lines) == 26
    loss = Trainer(TrainConfig()).run(25).loss
    assert float(lines[25].split(",")[2]) == loss[24]
    window.experiments.export_data("params-json", str(tmp_path / "p.json"))
    record = json.loads((tmp_path / "p.json").read_text())
    np.testing.assert_array_equal(record["params"][0]["W"], window.params()[0][0])
    window.experiments.export_data("params-csv", str(tmp_path / "p.csv"))
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "layer,name,row,column,value"
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 1 + 9


def test_restore_defaults_and_remembered_settings(qtbot):
    window = open_window(qtbot, TrainConfig(hidden=(3,), learning_rate=0.7, seed=3))
    step(qtbot, window, 5)
    window.experiments.restore_defaults()
    qtbot.waitUntil(lambda: window.epoch == 0 and len(window.params()[0][0]) == 2, timeout=TIMEOUT_MS)
    assert window.controls.config() == TrainConfig()
    window.controls.learning_rate_spin.setValue(0.5)
    window.main_splitter.setSizes([123, 456])
    geometry, splitter = window.saveGeometry(), window.main_splitter.saveState()
    window.close()
    assert last_config() == TrainConfig(learning_rate=0.5)
    from gui.experiments import settings

    assert settings().value("geometry") == geometry and settings().value("mainSplitter") == splitter
    again = MainWindow(last_config())
    qtbot.addWidget(again)
    assert again.controls.config().learning_rate == 0.5
    assert again.main_splitter.saveState() == splitter


def test_open_and_close_fifty_windows_mid_training(qtbot):
    for _ in range(50):
        window = MainWindow()
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda w=window: w.controls.play_button.isEnabled(), timeout=TIMEOUT_MS)
        window.play()
        qtbot.waitUntil(lambda w=window: w.epoch > 0, timeout=TIMEOUT_MS)
        window.close()
        assert not window.thread.isRunning()


@pytest.fixture
def shared_window(qtbot):
    return open_window(qtbot)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(["play", "pause", "step", "step_n", "reset"]), min_size=1, max_size=8))
def test_random_control_sequences_agree_with_a_headless_twin(qtbot, shared_window, actions):
    window = shared_window
    window.reset()
    qtbot.waitUntil(lambda: window.epoch == 0 and window.state == "Ready", timeout=TIMEOUT_MS)
    twin = Trainer(TrainConfig())
    for action in actions:
        if action == "play":
            window.play()
            qtbot.waitUntil(lambda: window.epoch > twin.epoch, timeout=TIMEOUT_MS)
            window.pause()
            wait_state(qtbot, window, "Paused")
        elif action == "pause":
            window.pause()
            qtbot.waitUntil(lambda: window.state != "Running", timeout=TIMEOUT_MS)
        elif action in ("step", "step_n"):
            step(qtbot, window, 1 if action == "step" else 37)
        else:
            window.reset()
            qtbot.waitUntil(lambda: window.epoch == 0 and window.state == "Ready", timeout=TIMEOUT_MS)
            twin.reset()
        twin.run(window.epoch - twin.epoch)  # the twin catches up with however far the window got
        assert twin.epoch == window.epoch
        assert_params_equal(window.params(), twin.params)


@pytest.mark.parametrize(
    "config",
    [TrainConfig(learning_rate=1e6), TrainConfig(learning_rate=1e6, activation="relu", init="he", hidden=(8, 8)),
     TrainConfig(learning_rate=1e6, loss="bce", optimizer="momentum")],
)  # fmt: skip
def test_numeric_extremes_never_crash_or_hang(qtbot, config):
    window = open_window(qtbot, config)
    full_speed(window)
    window.controls.stop_epoch_spin.setValue(3000)
    window.controls.stop_epoch_check.setChecked(True)
    window.play()
    qtbot.waitUntil(lambda: window.state in ("Diverged", "Stopped at target"), timeout=TIMEOUT_MS)
    if window.state == "Diverged":
        assert "Diverged at epoch" in window.banner.text()


def test_the_export_dialogs_svg_exporter_works(qtbot, tmp_path):
    """Every plot's right-click Export dialog offers SVG through Qt (pyqtgraph's own fails on current Qt)."""
    from pyqtgraph.exporters import listExporters

    from gui.svg_exporter import QtSVGExporter

    window = open_window(qtbot)
    step(qtbot, window, 10)
    svg = [e for e in listExporters() if "SVG" in e.Name]
    assert svg == [QtSVGExporter]
    for item in (window.curves.loss_plot.getPlotItem(), window.heatmaps.scene()):
        path = tmp_path / "view.svg"
        QtSVGExporter(item).export(fileName=str(path))
        assert path.read_text().lstrip().startswith("<?xml") and "<svg" in path.read_text()


def test_cli_file_errors_are_one_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.bplab"
    bad.write_text("nope")
    for args in (["train", "--load", str(bad)], ["export", str(bad), "--history-csv", str(tmp_path / "h.csv")]):
        done = subprocess.run([sys.executable, "main.py", *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2
        assert done.stderr.strip().count("\n") == 0 and "bad.bplab" in done.stderr and "Traceback" not in done.stderr


# --- the window on a small screen --------------------------------------------------------------------
@pytest.fixture
def screen(monkeypatch):
    """Pretend the screen's available geometry (the desktop less its panels) is `screen.size`."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen

    screen.rect = QRect(0, 0, 1366, 768)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(screen.rect))
    return screen


def assert_fits(window, available) -> None:
    """The frame lies within the available geometry; the status bar and both rows of weights are on show."""
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)
    status = window.statusBar()
    assert status.isVisible() and window.rect().contains(status.geometry())
    assert window.bottom_splitter.height() >= 250 and window.heatmaps.height() >= 200
    assert window.main_splitter.sizes()[1] == window.bottom_splitter.height()


def test_the_window_fits_a_1366x768_screen(qtbot, screen):
    from gui.experiments import settings

    for key in ("geometry", "mainSplitter", "bottomSplitter"):  # a fresh profile
        settings().remove(key)
    window = open_window(qtbot)
    assert_fits(window, screen.rect)
    assert window.width() > 1300 and window.height() > 680  # and it uses the room there is
    window.close()


def test_settings_saved_on_a_large_screen_fit_a_small_one(qtbot, screen):
    from PySide6.QtCore import QRect

    screen.rect = QRect(0, 0, 2560, 1440)
    big = open_window(qtbot)
    big.setGeometry(40, 60, 2400, 1300)
    big.main_splitter.setSizes([1100, 120])  # the curves given nearly all the height
    qtbot.waitUntil(lambda: big.main_splitter.sizes()[0] > 900, timeout=TIMEOUT_MS)
    big.close()
    screen.rect = QRect(0, 0, 1366, 768)
    window = open_window(qtbot)
    assert_fits(window, screen.rect)
    window.close()


# --- file dialogs ---------------------------------------------------------------------------------------
def test_file_dialogs_never_read_files_to_guess_their_type(qtbot, tmp_path):
    """Qt's own icon provider reads the first bytes of files to name their type, on the GUI thread: in /proc
    that read blocks for good (/proc/kmsg) and the window froze. Ours goes by the name alone."""
    from PySide6.QtCore import QFileInfo
    from PySide6.QtWidgets import QFileIconProvider, QFileSystemModel

    from gui.dialogs import NameOnlyIconProvider, file_dialog

    picture = tmp_path / "picture"  # PNG content, a name that says nothing: only reading it tells
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert "PNG" in QFileIconProvider().type(QFileInfo(str(picture)))  # what Qt's own provider does
    assert "PNG" not in NameOnlyIconProvider().type(QFileInfo(str(picture)))
    assert not NameOnlyIconProvider().icon(QFileInfo(str(picture))).isNull()
    for save in (False, True):
        dialog = file_dialog(None, "Open experiment", str(tmp_path), "All files (*)", save)
        qtbot.addWidget(dialog)
        assert isinstance(dialog.iconProvider(), NameOnlyIconProvider)
        model = dialog.findChild(QFileSystemModel)
        qtbot.waitUntil(lambda m=model: m.index(str(picture)).isValid() and m.type(m.index(str(picture))) != "", timeout=5000)
        assert "PNG" not in model.type(model.index(str(picture)))


@pytest.mark.qt_log_ignore(r"This plugin does not support raise\(\)")  # pyqtgraph's Export dialog, offscreen
def test_every_file_dialog_is_built_by_the_one_helper(qtbot, tmp_path, monkeypatch):
    """The File menu's dialogs go through `choose_file`, and every plot's right-click Export opens a dialog of
    `file_dialog` (its icon provider never reads a file: /proc froze the window)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QFileDialog

    from gui.dialogs import NameOnlyIconProvider
    from gui.experiments import Experiments

    for name in ("getOpenFileName", "getSaveFileName", "getOpenFileNames", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, lambda *args, **kwargs: pytest.fail("a static QFileDialog function"))
    asked = []
    monkeypatch.setattr(Experiments, "choose_file", lambda self, title, *args, **kwargs: asked.append(title) or ("", ""))
    window = open_window(qtbot)
    menus = [a.menu() for a in window.menuBar().actions()]
    while menus:
        for action in menus.pop().actions():
            if action.menu() is not None:
                menus.append(action.menu())
            elif action.text() not in ("&Quit", "Restore &notebook defaults") and action.isEnabled():
                action.trigger()
    assert {"Open experiment", "Save experiment", "Export figure", "Export data"} <= set(asked)
    exported = set()
    for tab in range(window.tabs.count()):  # the other tabs build their views when first shown
        window.tabs.setCurrentIndex(tab)
    for view in window.findChildren(pg.GraphicsView):  # every plot, map and diagram, on every tab
        scene = view.scene()
        plots = [item for item in scene.items() if isinstance(item, pg.PlotItem)]
        scene.contextMenuItem = plots[0] if plots else next(iter(scene.items()), None)  # what a right-click leaves
        scene.showExportDialog()
        export_dialog = scene.exportDialog
        qtbot.addWidget(export_dialog)
        export_dialog.updateItemList(select=plots[0] if plots else None)
        formats = export_dialog.ui.formatList
        for row in range(formats.count()):
            if not plots and formats.item(row).expClass.__name__ == "CSVExporter":
                continue  # pyqtgraph's CSV is of a plot's data only
            formats.setCurrentRow(row)
            export_dialog.ui.exportBtn.click()
            dialog = export_dialog.currentExporter.fileDialog
            assert dialog.isVisible() and isinstance(dialog.iconProvider(), NameOnlyIconProvider), formats.item(row).text()
            dialog.reject()
            exported.add((view, formats.item(row).text()))
        export_dialog.close()
    assert len({view for view, _ in exported}) >= 8
    exported = {name for _, name in exported}
    assert {"Image File (PNG, TIF, JPG, ...)", "Scalable Vector Graphics (SVG)", "CSV of original plot data"} <= exported


def test_save_as_adds_the_suffix_to_a_bare_name_through_the_dialog(qtbot, tmp_path, monkeypatch):
    """Typing `mine` in Save experiment as saves mine.bplab: the dialog adds its filter's suffix (Qt's default
    suffix), so the window no longer appends it by hand; the data exports get theirs the same way."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

    from gui.dialogs import file_dialog

    def type_in_the_dialog(name: str) -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QFileDialog)
        dialog.setDirectory(str(tmp_path))
        dialog.findChild(QLineEdit, "fileNameEdit").setText(name)
        dialog.accept()

    window = open_window(qtbot)
    step(qtbot, window, 5)
    QTimer.singleShot(0, lambda: type_in_the_dialog("mine"))
    with qtbot.waitSignal(window.experiments.saved, timeout=TIMEOUT_MS) as saved:
        window.experiments.save_as_dialog()
    assert saved.args == [str(tmp_path / "mine.bplab")]
    for filters, name, want in (("*.csv", "h", "h.csv"), ("All files (*)", "h", "h"), ("*.json", "p.txt", "p.txt")):
        dialog = file_dialog(None, "Export data", str(tmp_path), filters, save=True)
        qtbot.addWidget(dialog)
        dialog.findChild(QLineEdit, "fileNameEdit").setText(name)
        assert dialog.selectedFiles() == [str(tmp_path / want)]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "no such file"), (b"", "it is empty"), (b"PK\x03\x04 cut short", "it is not a")],
)
def test_open_warnings_read_could_not_open_name_colon_reason(qtbot, tmp_path, content, reason):
    window = open_window(qtbot)
    path = tmp_path / "trunc.bplab"
    if content is not None:
        path.write_bytes(content)
    with qtbot.waitSignal(window.experiments.failed, timeout=TIMEOUT_MS) as blocker:
        assert not window.experiments.open(path)
    assert blocker.args[0].startswith(f"Could not open trunc.bplab: {reason}"), blocker.args[0]
    assert blocker.args[0].count("trunc.bplab") == 1
