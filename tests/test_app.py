"""The window as a process: no display, closing mid-training, the screenshot command."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parent.parent


def run(args, env=None, timeout=120):
    """Run Python with `args`; its QSettings in a fresh folder, never the user's (whose remembered network could
    be 8 layers of 1024 units)."""
    env = dict(os.environ if env is None else env, XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="bplab-settings-"))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_no_display_says_so_and_exits_2():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for args in (["main.py"], ["main.py", "gui", "--lr", "0.5"]):
        done = run(args, env=env)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "no display" in lines[0] and "xvfb-run" in lines[0] and "main.py train" in lines[0]


MID_TRAINING = """
import os, signal, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from gui.app import application, run_window
import gui.experiments as ex
import gui.main_window as mw

answers = {answers}
def ask(self):
    print("asked about unsaved work", flush=True)
    return answers.pop(0)
ex.Experiments.ask_unsaved = ask

def at_epoch_5000(window):
    {action}

done = set()
def follow():  # once the event loop runs: the window run_window made, through its public signal
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, mw.MainWindow))
    def applied(snap):
        if snap.state == "Ready" and "started" not in done:
            done.add("started")
            window.controls.speed_slider.setValue(window.controls.speed_slider.maximum())  # full speed: epoch 5000 soon
            window.play()
        elif snap.epoch > 5000 and "acted" not in done:
            done.add("acted")
            at_epoch_5000(window)
    window.snapshotApplied.connect(applied)
application()
QTimer.singleShot(0, follow)
sys.exit(run_window(None))
"""
DISCARD = "[QMessageBox.StandardButton.Discard]"


def run_mid_training(action: str, answers: str = DISCARD):
    """Run the window offscreen, play, and at epoch 5000 do `action` (a line of Python with `window`);
    the unsaved-work question prints that it was asked and gives the next of `answers`."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return run(["-c", MID_TRAINING.format(action=action, answers=answers)], env=env)


def test_closing_while_training_exits_0_without_qthread_complaints():
    done = run_mid_training("QTimer.singleShot(0, window.close)")
    assert done.returncode == 0, done.stderr
    assert "asked about unsaved work" in done.stdout
    assert "QThread" not in done.stderr and "Traceback" not in done.stderr


CTRL_C = (
    "os.kill(os.getpid(), signal.SIGINT); "  # as Ctrl+C in the terminal
    "QTimer.singleShot(500, lambda: (print('still open', window.isVisible(), flush=True), window.close()))"
)


def test_ctrl_c_closes_the_window_as_its_close_button_would():
    done = run_mid_training(CTRL_C)
    assert done.returncode == 130, done.stderr  # 128 + SIGINT, at once: no mouse move needed to wake Python
    assert done.stdout.count("asked about unsaved work") == 1 and "still open" not in done.stdout
    assert "Traceback" not in done.stderr and "QThread" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    # Cancel in the unsaved-work question keeps the window open; closing it later exits normally
    done = run_mid_training(CTRL_C, answers="[QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard]")
    assert done.returncode == 0, done.stderr
    assert "still open True" in done.stdout and done.stdout.count("asked about unsaved work") == 2
    assert "Traceback" not in done.stderr


def test_screenshot_command(tmp_path):
    out = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = run(["main.py", "screenshot", str(out), "--epochs", "300", "--size", "1200x800"], env=env)
    assert done.returncode == 0, done.stderr
    assert "epoch 300" in done.stdout
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)


def test_screenshot_bad_arguments():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = run(["main.py", "screenshot", "/nonexistent-dir/x.png"], env=env)
    assert done.returncode == 2 and "does not exist" in done.stderr
    done = run(["main.py", "screenshot", "x.png", "--size", "big"], env=env)
    assert done.returncode == 2 and "WIDTHxHEIGHT" in done.stderr
