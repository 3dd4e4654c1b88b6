"""File › Export: one of the window's views saved as PNG or SVG (rendered by gui/figures.py), or the whole
window as PNG. The command line's exports, which first build a window offscreen, are in gui/headless.py."""

from __future__ import annotations

from engine.files import check_figure_path, write_atomically

from .figures import fitted_to_data, png_bytes, render_figure


def _export_item(window, figure: str):
    """The pyqtgraph item that shows `figure` in `window` (its Train tab's views)."""
    return window.train.figure_item(figure)


def export_view(window, figure: str, path: str, kind: str) -> None:
    """Save one of the window's views as PNG (pyqtgraph's exporter) or SVG (Qt's SVG generator), or the whole
    window as PNG. Raises `ValueError` for a figure, kind or file name that does not fit, `OSError` naming the
    file when it cannot be written."""
    check_figure_path(path, kind)
    if figure == "window":
        if kind != "png":
            raise ValueError("the whole window exports as PNG only")
        data = png_bytes(window.grab().toImage())
    else:
        item = _export_item(window, figure)
        if figure in ("loss", "predictions"):
            with fitted_to_data(item):
                data = render_figure(item, kind, f"Backprop Lab: {figure}")
        else:
            data = render_figure(item, kind, f"Backprop Lab: {figure}")
    write_atomically(path, data)
