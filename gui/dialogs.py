"""File dialogs: every one the program shows is built by `file_dialog` (File menu, plots' right-click Export).

A leaf module: it imports only Qt, so anything in gui/ may use it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from PySide6.QtCore import QFileInfo, QMimeDatabase
from PySide6.QtGui import QAbstractFileIconProvider, QIcon
from PySide6.QtWidgets import QFileDialog, QFileIconProvider

_PATTERN = re.compile(r"\*\.(\w+)")  # a name filter's first "*.png"


class NameOnlyIconProvider(QFileIconProvider):
    """File types and icons from file names alone.

    Qt's own provider asks `QMimeDatabase.mimeTypeForFile` with its default match mode, which reads the first
    bytes of every file whose name does not settle its type, on the GUI thread while the dialog lists a folder:
    in /proc that read blocks for good (`/proc/kmsg`, which it also empties) and the window freezes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setOptions(QAbstractFileIconProvider.Option.DontUseCustomDirectoryIcons)
        self._mime_types = QMimeDatabase()

    def _mime(self, info: QFileInfo):
        return self._mime_types.mimeTypeForFile(info, QMimeDatabase.MatchMode.MatchExtension)

    def type(self, info: QFileInfo) -> str:
        if info.isFile():
            mime = self._mime(info)
            return mime.comment() or mime.name()
        return super().type(info)  # folders, drives, links and devices: named without reading anything

    def icon(self, what) -> QIcon:  # Qt's icon(IconType) and icon(QFileInfo) overloads
        if isinstance(what, QFileInfo) and what.isFile():
            fallback = super().icon(QAbstractFileIconProvider.IconType.File)
            return QIcon.fromTheme(self._mime(what).iconName(), fallback)
        return super().icon(what)


@functools.cache
def name_only_icons() -> NameOnlyIconProvider:
    """The one provider every dialog shares (a dialog does not own the provider it is given: this keeps it)."""
    return NameOnlyIconProvider()


def filter_suffix(name_filter: str) -> str:
    """The suffix a name filter stands for: "png" for "PNG image (*.png)", "" for "All files (*)"."""
    match = _PATTERN.search(name_filter)
    return match.group(1) if match else ""


def file_dialog(parent, title: str, start: str, filters: str, save: bool) -> QFileDialog:
    """A file dialog to open (`save` False: an existing file) or save, at `start` (a folder or a file name).

    Every file dialog of the program is built here. Its icon provider never reads a file to guess its type (see
    `NameOnlyIconProvider`), so browsing or typing /proc does not freeze the window. A save dialog adds the
    selected filter's suffix to a name typed without one (`loss` saves loss.png under "PNG image (*.png)").
    Where the platform offers its own dialog Qt shows that one, which lists folders by itself.
    """
    dialog = QFileDialog(parent, title)
    dialog.setIconProvider(name_only_icons())
    dialog.setNameFilters(filters.split(";;"))
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix(filter_suffix(dialog.selectedNameFilter()))
        dialog.filterSelected.connect(lambda chosen: dialog.setDefaultSuffix(filter_suffix(chosen)))
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    start_path = Path(start)
    if start_path.is_dir():
        dialog.setDirectory(str(start_path))
    else:
        dialog.setDirectory(str(start_path.parent))
        dialog.selectFile(start_path.name)
    return dialog
