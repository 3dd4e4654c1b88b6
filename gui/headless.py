"""The command line's pictures, made offscreen: `screenshot`, `export --png/--svg`, `compare --png` and `landscape --png`.

A root module: only main.py (and tests) import it; nothing in gui/ does. Each function checks the file name
first, renders to bytes and writes with `write_atomically`: a file that cannot be written raises `OSError`
naming it, a name of the wrong kind `ValueError` (main.py's `written` prints either in one line).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from engine import TrainConfig
from engine.compare import Comparison, x_values
from engine.datasets import Dataset
from engine.files import check_figure_path, write_atomically

from .figures import RUN_COLORS, X_LABELS, fitted_to_data, png_bytes, render_figure


def _application():
    """The QApplication, offscreen unless the caller chose a platform."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .app import application

    return application()


def _offscreen_window(config: TrainConfig, size: tuple[int, int], data: Dataset | None = None):
    from . import MainWindow

    window = MainWindow(config, data=data)
    window.history_panel.log = None  # a picture, not a run: the user's run history is left alone
    window.resize(*size)
    window.show()
    return window


def run_until(app, window, start: Callable[[], object], done: Callable[[object], bool], what: str) -> None:
    """Call `start()`, then run the event loop until the window applies a snapshot for which `done(snapshot)`
    holds. Raises `RuntimeError` (saying the thread stopped before `what`) rather than wait for a training
    thread that died."""
    seen: list[bool] = []

    def check(snapshot) -> None:
        if not seen and done(snapshot):
            seen.append(True)

    window.snapshotApplied.connect(check)
    try:
        start()
        while not seen:
            app.processEvents()
            if window.train.is_finished(wait_ms=5):
                raise RuntimeError(f"the training thread stopped before {what}")
    finally:
        window.snapshotApplied.disconnect(check)
    app.processEvents()


def save_screenshot(config: TrainConfig, epochs: int, path: str, size: tuple[int, int], tab: str = "train",
                    data: Dataset | None = None) -> None:  # fmt: skip
    """Train `epochs` epochs on `data` (XOR unless given) headless, show the result in an offscreen window and save
    it as a PNG, then say so. tab "inspect" also steps one sample (mode sgd) so the Inspect tab shows its numbers."""
    check_figure_path(path, "png")
    app = _application()
    window = _offscreen_window(config, size, data)
    try:
        train = window.train
        start = (lambda: train.queue_steps(epochs)) if epochs else (lambda: None)
        run_until(app, window, start, lambda snap: snap.epoch == epochs, f"epoch {epochs:,}")
        if tab == "inspect":
            window.show_tab("inspect")
            if train.can_step_sample:
                run_until(app, window, train.step_sample, lambda snap: snap.sample_position > 0, "a sample step")
        pixmap = window.grab()
        write_atomically(path, png_bytes(pixmap.toImage()))
    finally:
        window.experiments.set_modified(False)  # a picture, not work to keep: close without asking
        window.close()
    print(f"saved {path} ({pixmap.width()}x{pixmap.height()}, epoch {window.epoch:,})")


def export_figure(experiment, figure: str, path: str, kind: str, size: tuple[int, int] = (1400, 900)) -> None:
    """Show a saved experiment in an offscreen window and export one of its views (`export --png/--svg`)."""
    from .export import export_view

    check_figure_path(path, kind)
    app = _application()
    window = _offscreen_window(experiment.config, size)
    try:
        run_until(app, window, lambda: window.show_experiment(experiment), lambda snap: snap.keep_history,
                  "it showed the experiment")  # fmt: skip
        export_view(window, figure, path, kind)
    finally:
        window.experiments.set_modified(False)
        window.close()


def save_comparison_png(comparison: Comparison, axis: str, path: str, size: tuple[int, int] = (1000, 600)) -> None:
    """The runs' loss curves overlaid (log y) against `axis`, saved as a PNG (`compare --png`)."""
    check_figure_path(path, "png")
    app = _application()
    import pyqtgraph as pg

    plot = pg.PlotWidget()
    plot.resize(*size)
    plot.show()  # offscreen: lays the plot out (title, axes) before it is exported
    try:
        item = plot.getPlotItem()
        item.setLogMode(y=True)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.setLabel("left", "loss")
        item.setLabel("bottom", X_LABELS[axis])
        item.setTitle("Which converges faster? Loss against " + X_LABELS[axis])
        item.addLegend(offset=(-10, 10))
        for i, (label, config) in enumerate(zip(comparison.labels, comparison.configs)):
            loss = comparison.loss(i)
            x = x_values(axis, np.arange(1, len(loss) + 1), comparison.seconds(i), config)
            item.plot(x, loss, pen=pg.mkPen(RUN_COLORS[i % len(RUN_COLORS)], width=2), name=label)
        app.processEvents()
        with fitted_to_data(item):
            app.processEvents()
            data = render_figure(plot.scene(), "png", "Backprop Lab: compare", width=size[0])
    finally:
        plot.close()
    write_atomically(path, data)


def save_landscape_png(landscape, paths, path: str, title: str, log_scale: bool = True, width: int = 1000) -> tuple[int, int]:
    """The loss over a plane (an `engine.landscape.Landscape`) as a heat map with contours, the centre and `paths`
    ((label, colour, a, b) as `LandscapePlot.set_paths` takes them), saved as a PNG `width` pixels wide at the plane's
    square shape (`landscape --png`). Returns the picture's (width, height)."""
    check_figure_path(path, "png")
    app = _application()
    from .landscape_plot import LandscapePlot

    plot = LandscapePlot()
    plot.resize(width, int(width * 0.85))
    plot.show()  # offscreen: lays the plot out (title, legend, axes) before it is exported
    try:
        item = plot.getPlotItem()
        item.setTitle(title)
        plot.set_landscape(landscape)
        plot.set_log_scale(log_scale)
        plot.set_paths(paths)
        app.processEvents()
        data = render_figure(item, "png", "Backprop Lab: loss landscape", width=width)
    finally:
        plot.close()
    write_atomically(path, data)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # the PNG header's IHDR width, height
