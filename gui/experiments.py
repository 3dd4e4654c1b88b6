"""File and Settings menus: save and open experiments, recent files, exports, remembered settings.

Saving asks the training thread for its state; the thread first sends every epoch trained so far, so the
window's history and the saved state describe the same epoch. Opening checks the whole file before
anything changes; a bad file leaves the current experiment exactly as it was. Whatever replaces the
experiment on show (opening a file, loading a sweep's run, restoring the notebook's defaults, closing)
first asks about unsaved work, as `replace_experiment` does. Messages to the user go through `warn` and
`ask_unsaved`, and file names through `choose_file`, which tests replace. Every file dialog is built by
`gui.dialogs.file_dialog`.
"""

from __future__ import annotations

import enum
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMargins, QObject, QRect, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog, QMessageBox

from engine import TrainConfig
from engine.datasets import Dataset, DataSpec, make_dataset
from engine.experiment import SUFFIX, Experiment, ExperimentError, default_name, load_experiment, save_experiment
from engine.files import FIGURE_KINDS, error_reason, write_atomically
from engine.reports import history_csv, params_csv, params_json

from .dialogs import file_dialog

MAX_RECENT = 8
FILTER = f"Backprop Lab experiments (*{SUFFIX});;All files (*)"
DEFAULT_SIZE = QSize(1400, 900)  # the window's size on a fresh profile, when the screen has room for it
# room for a title bar and borders: the window manager reports the real ones only once the window is shown
FRAME_ALLOWANCE = QMargins(8, 40, 8, 8)
IN_USE = "lastConfigInUse"  # settings key: the process IDs of the sessions using the remembered config (JSON list)
SET_ASIDE = "setAsideConfig"  # settings key: the remembered config that a session set aside (see claim_last_config)
SET_ASIDE_NOTE = "Last session did not close normally: started with the notebook defaults"


def settings() -> QSettings:
    return QSettings("Backprop Lab", "Backprop Lab")


def last_config(key: str = "lastConfig") -> TrainConfig | None:
    """The config the window had when it last closed, if any and still valid (or the one set aside: SET_ASIDE)."""
    text = settings().value(key, "")
    try:
        return TrainConfig.from_dict(json.loads(text)) if text else None
    except (ValueError, TypeError):
        return None


LAST_DATA = "lastData"  # settings key: the generated data's DataSpec the window had when it last closed (JSON)


def last_data() -> Dataset | None:
    """The generated data the window had when it last closed, made again from its remembered `DataSpec`; None when
    none is remembered (a CSV file's arrays are not: the next session starts on XOR) or the value is damaged."""
    text = settings().value(LAST_DATA, "")
    try:
        spec = DataSpec.from_dict(json.loads(text)) if isinstance(text, str) and text else None
        return make_dataset(spec) if spec is not None and spec.generated else None
    except (ValueError, TypeError):  # DataError is a ValueError, as json's errors are
        return None


def remember_data(store: QSettings, data: Dataset) -> None:
    """Remember generated data by its spec; forget any earlier one for a file's or a program's data."""
    if data.spec.generated:
        store.setValue(LAST_DATA, json.dumps(data.spec.canonical().to_dict()))
    else:
        store.remove(LAST_DATA)


def fit_to_screen(window) -> None:
    """Shrink and move `window` so that its frame (title bar and borders too) lies within its screen's
    available geometry, the desktop less its panels. A window that was never placed is centred."""
    inner, frame = window.geometry(), window.frameGeometry()
    screen = QGuiApplication.screenAt(inner.center()) or window.screen() or QGuiApplication.primaryScreen()
    available = screen.availableGeometry()
    margins = QMargins(inner.left() - frame.left(), inner.top() - frame.top(),
                       frame.right() - inner.right(), frame.bottom() - inner.bottom())  # fmt: skip
    if not window.isVisible() and margins.isNull():
        margins = FRAME_ALLOWANCE
    room = available.marginsRemoved(margins)
    rect = QRect(inner.topLeft(), window.size().boundedTo(room.size()))
    if not window.testAttribute(Qt.WidgetAttribute.WA_Moved):
        rect.moveCenter(room.center())
    rect.moveRight(min(rect.right(), room.right()))
    rect.moveBottom(min(rect.bottom(), room.bottom()))
    rect.moveLeft(max(rect.left(), room.left()))
    rect.moveTop(max(rect.top(), room.top()))
    if rect != inner:
        window.setGeometry(rect)


def claim_last_config() -> tuple[TrainConfig | None, str]:
    """The remembered config for a session that starts now, and a note when it is set aside.

    The remembered config is marked "in use" by each session's process ID until that session closes cleanly
    (`release_last_config`). A mark left by a process that is gone means a session did not close normally,
    perhaps because of these very settings (a network too big to be usable, say): this session then starts
    with the notebook's defaults, and the note says so. A mark of a session still open (another window) is no
    such sign. The set-aside config stays under SET_ASIDE (`set_aside_config`): Settings › Restore the last
    session's settings brings it back.
    """
    store = settings()
    config, note = last_config(), ""
    claims = _claims(store)
    gone = [pid for pid in claims if not _running(pid)]
    if config is not None and gone:
        note = SET_ASIDE_NOTE  # short enough for the status bar of a small screen; the details are in its tooltip
        store.setValue(SET_ASIDE, json.dumps(config.to_dict()))
        config = None
    _set_claims(store, [pid for pid in claims if pid not in gone and pid != os.getpid()] + [os.getpid()])
    store.sync()  # on disk now: a session that hangs never writes it later
    return config, note


def set_aside_config() -> TrainConfig | None:
    """The remembered config that `claim_last_config` last set aside, if any."""
    return last_config(SET_ASIDE)


def release_last_config(store: QSettings) -> None:
    """A clean close: this process no longer holds the remembered config's "in use" mark."""
    _set_claims(store, [pid for pid in _claims(store) if pid != os.getpid()])


def _claims(store: QSettings) -> list[int]:
    """The process IDs holding the "in use" mark. An older version's mark (true) names none: it counts as one gone."""
    value = store.value(IN_USE, "[]")
    if value in (True, "true"):
        return [0]
    try:
        pids = json.loads(value) if isinstance(value, str) else None
        return [int(pid) for pid in pids] if isinstance(pids, list) else []
    except (ValueError, TypeError):
        return []


def _set_claims(store: QSettings, pids: list[int]) -> None:
    store.setValue(IN_USE, json.dumps(pids))


def _running(pid: int) -> bool:
    """Whether process `pid` is still there (on Windows, where os.kill would end it, never: as if it were gone)."""
    if pid <= 0 or os.name == "nt":
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Replace(enum.Enum):
    """How `Experiments.replace_experiment` went: its action ran NOW (nothing unsaved, or Discard), runs
    AFTER_SAVE (Save: once the file is written), or the user CANCELLED (nothing changes)."""

    NOW = "now"
    AFTER_SAVE = "after save"
    CANCELLED = "cancelled"


class Experiments(QObject):
    """Owns the window's experiment file: its path, whether it has unsaved changes, and the menus. `train` is the
    window's Train tab (gui/train_tab.py): what is saved, exported and restored."""

    saved = Signal(str)  # path
    opened = Signal(str)  # path
    failed = Signal(str)  # message

    def __init__(self, window, train) -> None:
        super().__init__(window)
        self.window = window
        self.train = train
        self.path: Path | None = None
        self.modified = False
        self._pending_save: Path | None = None
        self._after_save: Callable[[], object] | None = None  # what waits for the save under way (then runs)
        self.last_message = ""
        self.unsaved_question = ""  # what `ask_unsaved` asks, set by `replace_experiment`
        train.stateReady.connect(self._state_ready)
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
                     tip="The reference notebook's 2-2-1 sigmoid network, lr 0.1, seed 42 (restarts training); "
                     "1,000 epochs/s, stop at epoch 10,000")  # fmt: skip
        self.set_aside_action = self._action(settings_menu, "Restore the &last session's settings", self.restore_set_aside)
        self.offer_set_aside(None)
        self.update_recent_menu()

    def offer_set_aside(self, config: TrainConfig | None) -> str:
        """Offer (or, None, stop offering) the settings a session that did not close normally left; returns the
        status bar's tooltip that says what they were."""
        self._set_aside = config
        self.set_aside_action.setEnabled(config is not None)
        if config is None:
            self.set_aside_action.setStatusTip("Only after a session that did not close normally")
            return ""
        hidden = ",".join(map(str, config.hidden)) or "none"
        tip = (f"The last session did not close normally, perhaps because of its settings (hidden {hidden}, learning "
               f"rate {config.learning_rate:g}, {config.activation}): they were set aside. "
               f"Settings › Restore the last session's settings brings them back.")  # fmt: skip
        self.set_aside_action.setStatusTip(f"Hidden {hidden}, learning rate {config.learning_rate:g} (restarts training)")
        return tip

    def restore_set_aside(self) -> None:
        """Put back the settings set aside at the start (asks first about unsaved work)."""
        config = self._set_aside
        if config is not None:
            self.replace_experiment(lambda _how: self._apply_config(config), "restoring the last session's settings")

    def _apply_config(self, config: TrainConfig) -> None:
        self.train.apply_config(config)
        self.window.startup_note = ""

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
        question = self.unsaved_question or "Save the changes to this experiment before closing?"
        return QMessageBox.question(self.window, "Backprop Lab", question, buttons)

    def choose_file(self, title: str, start: str, filters: str, save: bool = False) -> tuple[str, str]:
        """Ask for a file name with `file_dialog`: (path, the chosen filter), or ("", "") when cancelled."""
        dialog = file_dialog(self.window, title, start, filters, save)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
                return "", ""
            return dialog.selectedFiles()[0], dialog.selectedNameFilter()
        finally:
            dialog.deleteLater()

    # --- unsaved work --------------------------------------------------------------------------
    def replace_experiment(
        self, action: Callable[[Replace], object], doing: str = "closing", question: str | None = None
    ) -> Replace:
        """Run `action`, which replaces the experiment on show, once its unsaved work is saved or given up.

        With unsaved work this asks as closing does: Save saves first and runs `action` once the file is
        written (never, if saving fails: the warning says the work is still open), Discard runs it now,
        Cancel keeps everything as it is. Returns how it went, and `action` is given the same answer. `question`
        replaces the usual one ("Save the changes to this experiment before `doing`?").
        """
        if not self.modified:
            action(Replace.NOW)
            return Replace.NOW
        self.unsaved_question = question or f"Save the changes to this experiment before {doing}?"
        try:
            answer = self.ask_unsaved()
        finally:
            self.unsaved_question = ""
        if answer == QMessageBox.StandardButton.Discard:
            action(Replace.NOW)
            return Replace.NOW
        if answer != QMessageBox.StandardButton.Save:
            return Replace.CANCELLED
        self.train.pause()  # nothing more to save after the state the thread sends next
        path = self.path
        if path is None:
            path = self._ask_save_path()
            if path is None:
                return Replace.CANCELLED
        self._after_save = functools.partial(action, Replace.AFTER_SAVE)
        self.save_to(path)
        return Replace.AFTER_SAVE

    # --- saving ------------------------------------------------------------------------------
    def save(self) -> None:
        if self.path is None:
            self.save_as_dialog()
        else:
            self.save_to(self.path)

    def _ask_save_path(self) -> Path | None:
        start = str(self.path or Path.home() / default_name(self.train.config()))
        path, _ = self.choose_file("Save experiment", start, FILTER, save=True)  # the dialog adds .bplab to a bare name
        return Path(path) if path else None

    def save_as_dialog(self) -> None:
        path = self._ask_save_path()
        if path is not None:
            self.save_to(path)

    def save_to(self, path: str | Path) -> None:
        """Save asynchronously: the thread's state arrives by `_state_ready`; `saved` or `failed` follows."""
        self._pending_save = Path(path)
        self.train.request_state()  # a thread never started, or already stopped, answers with what it left

    def _state_ready(self, state) -> None:
        path, self._pending_save = self._pending_save, None
        if path is None:
            return
        try:  # with the tree of runs (its branches, and checkpoints so that the past reopens fast)
            save_experiment(path, Experiment(self.train.shown_config(), state, self.train.history, path.stem,
                                             self.train.data, self.train.run_tree()))  # fmt: skip
        except OSError as err:
            self._after_save = None
            self.warn(f"Could not save {path.name}: {error_reason(err)}. The experiment is still open; nothing was lost.")
            return
        self.path = path
        self.set_modified(False)
        self.update_title()
        self.remember(path)
        self.window.statusBar().showMessage(f"Saved {path}", 6000)
        self.saved.emit(str(path))
        action, self._after_save = self._after_save, None
        if action is not None:
            action()

    # --- opening ------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.path.parent if self.path else Path.home())
        path, _ = self.choose_file("Open experiment", start, FILTER)
        if path:
            self.open(path)

    def open(self, path: str | Path) -> bool:
        """Open `path`; on any fault say so and change nothing. Unsaved work is first saved or given up, as
        the user answers (`replace_experiment`). Returns whether it opened now."""
        path = Path(path)
        try:
            experiment = load_experiment(path)
        except ExperimentError as err:
            if not path.exists():
                self.forget(str(path))
            self.warn(f"Could not open {err.name}: {err.reason}")
            return False

        def show(how: Replace) -> None:
            if how is Replace.NOW:
                self._show(path, experiment)
            else:  # saved first: read the file again, in case that save was to this very file
                self.open(path)

        question = None
        if self.path is not None and Path(self.path).resolve() == path.resolve():  # Save would write over what is opened
            question = (
                f"{path.name} is the experiment on show, changed since it was saved. Save writes what is "
                "shown now into it (after a Reset: epoch 0) and reopens that; Discard reopens it as it was saved."
            )
        return self.replace_experiment(show, f"opening {path.name}", question) is Replace.NOW

    def _show(self, path: Path, experiment: Experiment) -> None:
        self.window.show_experiment(experiment)
        self.path = path
        self.set_modified(False)
        self.update_title()
        self.remember(path)
        self.opened.emit(str(path))

    # --- exports ------------------------------------------------------------------------------
    def export_figure_dialog(self, figure: str) -> None:
        filters = "PNG image (*.png)" if figure == "window" else "PNG image (*.png);;SVG drawing (*.svg)"
        base = (self.path.stem if self.path else "backprop-lab") + f"-{figure}.png"
        path, _ = self.choose_file("Export figure", str(Path.home() / base), filters, save=True)
        if path:  # the kind its name says (the dialog adds the chosen filter's suffix to a bare name); others are refused
            kind = Path(path).suffix.lower().lstrip(".")
            self.export_figure(figure, path, kind if kind in FIGURE_KINDS else "png")

    def export_figure(self, figure: str, path: str, kind: str) -> None:
        from .export import export_view

        try:
            export_view(self.window, figure, path, kind)
        except (OSError, ValueError) as err:
            self.warn(f"Could not export {Path(path).name}: {error_reason(err)}")

    def export_data_dialog(self, what: str) -> None:
        suffix = ".json" if what == "params-json" else ".csv"
        base = (self.path.stem if self.path else "backprop-lab") + f"-{what}{suffix}"
        path, _ = self.choose_file("Export data", str(Path.home() / base), f"*{suffix}", save=True)
        if path:
            self.export_data(what, path)

    def export_data(self, what: str, path: str) -> None:
        train = self.train
        config = train.shown_config()
        text = {
            "history": lambda: history_csv(train.history),
            "params-csv": lambda: params_csv(train.params(), config),
            "params-json": lambda: params_json(train.params(), config),
        }[what]()
        try:
            write_atomically(path, text.encode())
        except OSError as err:
            self.warn(f"Could not export {Path(path).name}: {error_reason(err)}")

    # --- settings -----------------------------------------------------------------------------
    def restore_defaults(self) -> None:
        """Put back the notebook's settings, which restarts training: asks first about unsaved work."""
        self.replace_experiment(self._restore_defaults, "restoring the notebook's defaults")

    def _restore_defaults(self, _how: Replace) -> None:
        self.train.apply_config(TrainConfig())
        if self.train.data.spec != DataSpec():  # the notebook's XOR
            self.train.apply_data(make_dataset())
        self.train.restore_run_defaults()  # the speed and stop rule that show the notebook's run unfold

    def remember_window(self) -> None:
        store = settings()
        store.setValue("lastConfig", json.dumps(self.train.config().to_dict()))
        remember_data(store, self.train.controls.data())  # the form's, as the config
        release_last_config(store)  # a clean close (see claim_last_config)
        store.setValue("geometry", self.window.saveGeometry())
        for key, splitter in self.train.splitters().items():
            store.setValue(key, splitter.saveState())

    def restore_window(self) -> None:
        """The remembered size, place and splitters, kept within the screen as it is now (it may be smaller
        than the one they were saved on); on a fresh profile DEFAULT_SIZE, or less where it does not fit.
        The splitters' panes keep their minimum sizes, so a small screen never squeezes the weights away."""
        store = settings()
        window = self.window
        window.resize(DEFAULT_SIZE)
        if store.value("geometry") is not None:
            window.restoreGeometry(store.value("geometry"))
        self.train.restore_splitters({key: store.value(key) for key in self.train.splitters()})
        fit_to_screen(window)

    # --- closing ------------------------------------------------------------------------------
    def may_close(self) -> bool:
        """Ask about unsaved work. True: close now; False: stay open (cancelled, or saving first)."""

        def close(how: Replace) -> None:
            if how is Replace.AFTER_SAVE:  # saved: close again, now that nothing is unsaved
                self.window.close()

        return self.replace_experiment(close, "closing") is Replace.NOW
