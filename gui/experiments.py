"""File and Settings menus: save and open experiments, recent files, exports, remembered settings.

Saving asks the training thread for its state; the thread first sends every epoch trained so far, so the
window's history and the saved state describe the same epoch. Opening checks the whole file before
anything changes; a bad file leaves the current experiment exactly as it was. Messages to the user go
through `warn` and `ask_unsaved`, which tests replace.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine import TrainConfig
from engine.experiment import SUFFIX, Experiment, ExperimentError, default_name, load_experiment, save_experiment
from engine.files import write_atomically
from engine.reports import history_csv, params_csv, params_json

MAX_RECENT = 8
FILTER = f"Backprop Lab experiments (*{SUFFIX});;All files (*)"


def settings() -> QSettings:
    return QSettings("Backprop Lab", "Backprop Lab")


def last_config() -> TrainConfig | None:
    """The config the window had when it last closed, if any and still valid."""
    text = settings().value("lastConfig", "")
    try:
        return TrainConfig.from_dict(json.loads(text)) if text else None
    except (ValueError, TypeError):
        return None


class Experiments(QObject):
    """Owns the window's experiment file: its path, whether it has unsaved changes, and the menus."""

    saved = Signal(str)  # path
    opened = Signal(str)  # path
    failed = Signal(str)  # message

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.path: Path | None = None
        self.modified = False
        self._pending_save: Path | None = None
        self._close_after_save = False
        self.last_message = ""
        window.thread.state_ready.connect(self._state_ready)
        self._build_menus()
        self.update_title()

    # --- menus -------------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.window.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(file_menu, "&Open experiment…", self.open_dialog, QKeySequence.StandardKey.Open,
                                        "Open a saved experiment and continue it")  # fmt: skip
        self.save_action = self._action(file_menu, "&Save experiment", self.save, QKeySequence.StandardKey.Save,
                                        "Save settings, weights, optimizer state and the whole history")  # fmt: skip
        self._action(file_menu, "Save experiment &as…", self.save_as_dialog, QKeySequence.StandardKey.SaveAs,
                     "Save under a new name")  # fmt: skip
        self.recent_menu = file_menu.addMenu("&Recent experiments")
        file_menu.addSeparator()
        export = file_menu.addMenu("&Export")
        views = {"Loss plot": "loss", "Predictions plot": "predictions", "Decision map": "decision-map", "Weights": "weights"}
        for label, figure in views.items():
            self._action(export, f"{label} as PNG or SVG…", lambda _=False, f=figure: self.export_figure_dialog(f),
                         tip=f"Save the {label.lower()} as an image")  # fmt: skip
        self._action(
            export, "Whole window as PNG…", lambda: self.export_figure_dialog("window"), tip="Save a picture of the window"
        )
        export.addSeparator()
        self._action(export, "History as CSV…", lambda: self.export_data_dialog("history"), tip="Per-epoch loss and predictions")
        self._action(export, "Parameters as CSV…", lambda: self.export_data_dialog("params-csv"), tip="Every weight and bias")
        self._action(export, "Parameters as JSON…", lambda: self.export_data_dialog("params-json"), tip="Every weight and bias")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.window.close, QKeySequence.StandardKey.Quit, "Close the window")
        settings_menu = bar.addMenu("&Settings")
        self._action(settings_menu, "Restore &notebook defaults", self.restore_defaults,
                     tip="The reference notebook's 2-2-1 sigmoid network, lr 0.1, seed 42 (restarts training)")  # fmt: skip
        self.update_recent_menu()

    def update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            self._action(self.recent_menu, Path(path).name, lambda _=False, p=path: self.open(p), tip=path)
        self.recent_menu.setEnabled(bool(recent))

    # --- state -------------------------------------------------------------------------------
    def set_modified(self, modified: bool = True) -> None:
        if modified != self.modified:
            self.modified = modified
            self.update_title()

    def update_title(self) -> None:
        name = self.path.name if self.path else "untitled"
        self.window.setWindowTitle(f"{name}[*] — Backprop Lab")
        self.window.setWindowModified(self.modified)

    def recent_files(self) -> list[str]:
        value = settings().value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def remember(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        settings().setValue("recentFiles", recent[:MAX_RECENT])
        self.update_recent_menu()

    def forget(self, path: str) -> None:
        settings().setValue("recentFiles", [p for p in self.recent_files() if p != path])
        self.update_recent_menu()

    # --- messages (tests replace these) ----------------------------------------------------------
    def warn(self, text: str) -> None:
        self.last_message = text
        self.failed.emit(text)
        QMessageBox.warning(self.window, "Backprop Lab", text)

    def ask_unsaved(self) -> QMessageBox.StandardButton:
        buttons = QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        return QMessageBox.question(self.window, "Backprop Lab", "Save the changes to this experiment before closing?", buttons)

    # --- saving ------------------------------------------------------------------------------
    def save(self) -> None:
        if self.path is None:
            self.save_as_dialog()
        else:
            self.save_to(self.path)

    def save_as_dialog(self) -> None:
        start = str(self.path or Path.home() / default_name(self.window.controls.config()))
        path, _ = QFileDialog.getSaveFileName(self.window, "Save experiment", start, FILTER)
        if path:
            self.save_to(path if Path(path).suffix else path + SUFFIX)

    def save_to(self, path: str | Path) -> None:
        """Save asynchronously: the thread's state arrives by `_state_ready`; `saved` or `failed` follows."""
        self._pending_save = Path(path)
        self.window.thread.request_state()
        if not self.window.thread.isRunning():  # never started, or already stopped: save what it left
            trainer = self.window.thread.final_trainer
            if trainer is not None:
                self._state_ready(trainer.state())

    def _state_ready(self, state) -> None:
        path, self._pending_save = self._pending_save, None
        if path is None:
            return
        window = self.window
        try:
            save_experiment(path, Experiment(window.shown_config(), state, window.curves.history, path.stem))
        except OSError as err:
            self.warn(f"Could not save {path.name}: {err.strerror or err}. The experiment is still open; nothing was lost.")
            self._close_after_save = False
            return
        self.path = path
        self.set_modified(False)
        self.update_title()
        self.remember(path)
        window.statusBar().showMessage(f"Saved {path}", 6000)
        self.saved.emit(str(path))
        if self._close_after_save:
            self._close_after_save = False
            window.close()

    # --- opening ------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.path.parent if self.path else Path.home())
        path, _ = QFileDialog.getOpenFileName(self.window, "Open experiment", start, FILTER)
        if path:
            self.open(path)

    def open(self, path: str | Path) -> bool:
        """Open `path`; on any fault say so and change nothing. Returns whether it opened."""
        path = Path(path)
        try:
            experiment = load_experiment(path)
        except ExperimentError as err:
            if not path.exists():
                self.forget(str(path))
            self.warn(f"Could not open {path.name}: {err}".replace(f"{path.name}: {path.name}", path.name))
            return False
        self.window.show_experiment(experiment)
        self.path = path
        self.set_modified(False)
        self.update_title()
        self.remember(path)
        self.opened.emit(str(path))
        return True

    # --- exports ------------------------------------------------------------------------------
    def export_figure_dialog(self, figure: str) -> None:
        filters = "PNG image (*.png)" if figure == "window" else "PNG image (*.png);;SVG drawing (*.svg)"
        base = (self.path.stem if self.path else "backprop-lab") + f"-{figure}.png"
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export figure", str(Path.home() / base), filters)
        if path:
            kind = (
                "svg"
                if path.lower().endswith(".svg") or (chosen.startswith("SVG") and not path.lower().endswith(".png"))
                else "png"
            )
            self.export_figure(figure, path, kind)

    def export_figure(self, figure: str, path: str, kind: str) -> None:
        from .export import export_view

        try:
            export_view(self.window, figure, path, kind)
        except (OSError, ValueError) as err:
            self.warn(f"Could not export {Path(path).name}: {err}")

    def export_data_dialog(self, what: str) -> None:
        suffix = ".json" if what == "params-json" else ".csv"
        base = (self.path.stem if self.path else "backprop-lab") + f"-{what}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export data", str(Path.home() / base), f"*{suffix}")
        if path:
            self.export_data(what, path)

    def export_data(self, what: str, path: str) -> None:
        window = self.window
        config = window.shown_config()
        text = {
            "history": lambda: history_csv(window.curves.history),
            "params-csv": lambda: params_csv(window.params(), config),
            "params-json": lambda: params_json(window.params(), config),
        }[what]()
        try:
            write_atomically(path, text.encode())
        except OSError as err:
            self.warn(f"Could not export {Path(path).name}: {err.strerror or err}")

    # --- settings -----------------------------------------------------------------------------
    def restore_defaults(self) -> None:
        self.window.controls.set_config(TrainConfig())
        self.window.controls.configChanged.emit(TrainConfig())

    def remember_window(self) -> None:
        store = settings()
        store.setValue("lastConfig", json.dumps(self.window.controls.config().to_dict()))
        store.setValue("geometry", self.window.saveGeometry())
        store.setValue("mainSplitter", self.window.main_splitter.saveState())
        store.setValue("bottomSplitter", self.window.bottom_splitter.saveState())

    def restore_window(self) -> None:
        store = settings()
        for key, restore in (("geometry", self.window.restoreGeometry), ("mainSplitter", self.window.main_splitter.restoreState),
                             ("bottomSplitter", self.window.bottom_splitter.restoreState)):  # fmt: skip
            value = store.value(key)
            if value is not None:
                restore(value)

    # --- closing ------------------------------------------------------------------------------
    def may_close(self) -> bool:
        """Ask about unsaved work. True: close now; False: stay open (cancelled, or saving first)."""
        if not self.modified:
            return True
        answer = self.ask_unsaved()
        if answer == QMessageBox.StandardButton.Discard:
            return True
        if answer == QMessageBox.StandardButton.Save:
            self.window.pause()  # nothing more to save after the state the thread sends next
            if self.path is None:
                start = str(Path.home() / default_name(self.window.controls.config()))
                path, _ = QFileDialog.getSaveFileName(self.window, "Save experiment", start, FILTER)
                if not path:
                    return False
                self.path = Path(path if Path(path).suffix else path + SUFFIX)
            self._close_after_save = True
            self.save_to(self.path)
        return False
