"""Figure export: SVGs rendered back by Qt and by resvg look like the PNG of the same view; PNG plots end at
their data; a figure that cannot be written (or is named for another format) is refused with one message, from
File › Export, the plots' right-click Export and the command line alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QFileDialog

from gui.dialogs import NameOnlyIconProvider
from gui.export import _export_item
from gui.style import TARGET_COLORS
from tests.gui_helpers import open_window, step

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 3000  # the view's x range is rounded up to 5000 while following the run


def as_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, line = image.width(), image.height(), image.bytesPerLine()
    return np.frombuffer(image.constBits(), np.uint8, count=line * h).reshape(h, line)[:, : 3 * w].reshape(h, w, 3).copy()


def qt_render(svg: bytes) -> np.ndarray:
    renderer = QSvgRenderer(QByteArray(svg))
    assert renderer.isValid()
    box = renderer.viewBoxF()
    image = QImage(int(np.ceil(box.width())), int(np.ceil(box.height())), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, box.width(), box.height()))
    painter.end()
    return as_array(image)


def resvg_render(svg: bytes) -> np.ndarray:
    resvg = pytest.importorskip("resvg_py", reason="resvg-py (the test extra) renders SVGs without Qt")
    png = bytes(resvg.svg_to_bytes(svg_string=svg.decode(), background="white"))
    return as_array(QImage.fromData(png, "PNG"))


RENDERERS = {"qt": qt_render, "resvg": resvg_render}


def png_at(path: Path, width: int, height: int) -> np.ndarray:
    """The exported PNG scaled down to the view's size in pixels."""
    image = QImage(str(path))
    return as_array(image.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation))


def dark(pixels: np.ndarray) -> np.ndarray:
    return pixels.mean(axis=2) < 128


def ink(pixels: np.ndarray) -> np.ndarray:
    """Anything drawn on the white background (a 1-pixel antialiased line, or the PNG's scaled down, is grey)."""
    return pixels.mean(axis=2) < 215


def blobs(mask: np.ndarray, min_pixels: int = 12) -> int:
    """Connected groups of at least `min_pixels` True pixels (4-neighbourhood)."""
    seen = np.zeros_like(mask)
    count = 0
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        seen[start], todo, size = True, [start], 0
        while todo:
            y, x = todo.pop()
            size += 1
            for n in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= n[0] < mask.shape[0] and 0 <= n[1] < mask.shape[1] and mask[n] and not seen[n]:
                    seen[n] = True
                    todo.append(n)
        count += size >= min_pixels
    return count


def plot_box(window, figure: str) -> tuple[int, int, int, int]:
    """The plot area (the ViewBox) of `figure` in the exported picture's pixels: left, top, right, bottom."""
    item = _export_item(window, figure)
    outer, box = item.sceneBoundingRect(), item.getViewBox().sceneBoundingRect()
    left, top = box.left() - outer.left(), box.top() - outer.top()
    return round(left), round(top), round(left + box.width()), round(top + box.height())


def export_run(qtbot, folder: Path, figures=("loss", "decision-map")):
    """Export `figures` of a 3,000-epoch run as PNG and SVG: the plot areas, and the loss view's range before and after."""
    window = open_window(qtbot)
    step(qtbot, window, EPOCHS)
    shown = window.curves.loss_plot.getPlotItem().getViewBox().viewRange()
    boxes = {}
    for figure in figures:
        for kind in ("png", "svg"):
            window.experiments.export_figure(figure, str(folder / f"{figure}.{kind}"), kind)
            assert (folder / f"{figure}.{kind}").exists(), window.experiments.last_message
        boxes[figure] = plot_box(window, figure)
    return boxes, shown, window.curves.loss_plot.getPlotItem().getViewBox().viewRange()


@pytest.mark.parametrize("renderer", RENDERERS)
def test_svg_loss_curve_sits_on_its_axes_like_the_png(qtbot, tmp_path, renderer):
    boxes, _, _ = export_run(qtbot, tmp_path, ("loss",))
    folder = tmp_path
    svg = RENDERERS[renderer]((folder / "loss.svg").read_bytes())
    h, w = svg.shape[:2]
    png = png_at(folder / "loss.png", w, h)
    left, top, right, bottom = boxes["loss"]
    for picture in (svg, png):
        inside = picture[top + 3 : bottom - 3, left + 3 : right - 2]
        assert dark(inside).mean() < 0.02, "a large dark area: the curve is filled (or stroked one data unit wide)"
        columns = np.flatnonzero(ink(inside).any(axis=0))
        assert columns.size and columns[-1] >= inside.shape[1] - 4, "the curve stops short of the x axis' end"
        assert columns[0] <= 3
    # the axes lines (the longest dark row and column) where the PNG has them, around the plot area
    for axis in (0, 1):
        svg_line, png_line = int(np.argmax(ink(svg).sum(axis=1 - axis))), int(np.argmax(ink(png).sum(axis=1 - axis)))
        assert abs(svg_line - png_line) <= 2, f"the {'bottom' if axis == 0 else 'left'} axis moved"
    assert abs(int(np.argmax(ink(svg).sum(axis=1))) - bottom) <= 2 and abs(int(np.argmax(ink(svg).sum(axis=0))) - left) <= 2
    # and the curve at the same height as in the PNG across the plot
    # (the darkest row of each column: the PNG's thin line, scaled down, can be lighter than `ink` where it straddles two rows)
    for x in np.linspace(left + 10, right - 10, 9).astype(int):
        columns = [p[top + 3 : bottom - 8, x].mean(axis=1) for p in (svg, png)]
        assert all(column.min() < 235 for column in columns), f"no curve at x = {x}"
        assert abs(int(np.argmin(columns[0])) - int(np.argmin(columns[1]))) <= 3


@pytest.mark.parametrize("renderer", RENDERERS)
def test_svg_decision_map_draws_each_input_once(qtbot, tmp_path, renderer):
    export_run(qtbot, tmp_path, ("decision-map",))
    folder = tmp_path
    svg = RENDERERS[renderer]((folder / "decision-map.svg").read_bytes())
    png = png_at(folder / "decision-map.png", svg.shape[1], svg.shape[0])
    for picture in (svg, png):
        for colour in TARGET_COLORS.values():
            rgb = np.array(QColor(colour).getRgb()[:3])
            assert blobs(np.abs(picture.astype(int) - rgb).sum(axis=2) < 30) == 2, f"{colour}: not one dot per input"


def heatmap_plot(qtbot, cells: np.ndarray, size=(240, 200)):
    """A plot of `cells` as a heatmap drawn as the weight heatmaps are: an ImageItem, one pixel per cell."""
    import pyqtgraph as pg

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(*size)
    image = pg.ImageItem(cells, axisOrder="row-major", levels=(0.0, 1.0), lut=pg.colormap.get("viridis").getLookupTable())
    plot.getPlotItem().addItem(image)
    plot.getPlotItem().setRange(xRange=(0, cells.shape[1]), yRange=(0, cells.shape[0]), padding=0)
    for axis in ("left", "bottom"):  # their ticks point into the plot
        plot.getPlotItem().hideAxis(axis)
    plot.show()
    qtbot.waitExposed(plot)
    return plot, image


def smoothing_ignored(svg: bytes) -> bytes:
    """`svg` as librsvg reads it: librsvg smooths images whatever their image-rendering says."""
    return svg.replace(b'image-rendering="optimizeSpeed"', b"")


def cell_colours(picture: np.ndarray, box: tuple[int, int, int, int], shape: tuple[int, int], margin: int = 3):
    """The distinct colours inside each cell of a `shape` grid drawn over `box` (left, top, right, bottom), keeping
    `margin` pixels from each cell's edges (where antialiasing may blend two cells)."""
    left, top, right, bottom = box
    rows, cols = shape
    found = {}
    for r in range(rows):
        for c in range(cols):
            x0, x1 = left + (right - left) * c / cols, left + (right - left) * (c + 1) / cols
            y0, y1 = top + (bottom - top) * r / rows, top + (bottom - top) * (r + 1) / rows
            inside = picture[int(y0) + margin : int(y1) - margin, int(x0) + margin : int(x1) - margin]
            found[r, c] = {tuple(p) for p in inside.reshape(-1, 3)}
    return found


@pytest.mark.parametrize("renderer", ["qt", "resvg", "resvg-ignoring-image-rendering"])
def test_svg_heatmap_cells_stay_flat_colours(qtbot, renderer):
    """Each cell of a 2×2 heatmap is one flat colour in the SVG, drawn by Qt, by resvg, and by a renderer that
    smooths images whatever image-rendering says (librsvg: it blended the weight heatmaps into gradients)."""
    from gui.figures import render_figure

    cells = np.array([[0.0, 1.0], [0.6, 0.3]])
    plot, image = heatmap_plot(qtbot, cells)
    item = plot.getPlotItem()
    svg = render_figure(item, "svg", "heatmap")
    draw = {"qt": qt_render, "resvg": resvg_render}[renderer.split("-")[0]]
    picture = draw(smoothing_ignored(svg) if renderer.endswith("image-rendering") else svg)
    outer, shown = item.sceneBoundingRect(), image.sceneBoundingRect()
    box = (round(shown.left() - outer.left()), round(shown.top() - outer.top()), round(shown.right() - outer.left()),
           round(shown.bottom() - outer.top()))  # fmt: skip
    colours = cell_colours(picture, box, cells.shape)
    assert all(len(found) == 1 for found in colours.values()), {k: len(v) for k, v in colours.items()}
    assert len({next(iter(found)) for found in colours.values()}) == 4  # four different cells


def test_enlarged_images_are_bounded_and_smoothed_images_are_kept():
    from gui.svg_exporter import MAX_IMAGE_SIDE, portable_svg

    def image_svg(width: int, height: int, shown: float, rendering: str) -> bytes:
        picture = QImage(width, height, QImage.Format.Format_RGB32)
        picture.fill(QColor("red"))
        from gui.figures import png_bytes

        data = __import__("base64").b64encode(png_bytes(picture)).decode()
        return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
                f'<g transform="matrix({shown},0,0,{shown},0,0)"><image width="{width}" height="{height}" {rendering} '
                f'xlink:href="data:image/png;base64,{data}"/></g></svg>').encode()  # fmt: skip

    def embedded(svg: bytes) -> QImage:
        text = svg.decode()
        start = text.index("base64,") + len("base64,")
        return QImage.fromData(__import__("base64").b64decode(text[start : text.index('"', start)]), "PNG")

    enlarged = embedded(portable_svg(image_svg(2, 3, 40.0, 'image-rendering="optimizeSpeed"'), 10, 10))
    assert (enlarged.width(), enlarged.height()) == (80, 120)  # 40 times: at least one pixel per pixel on the page
    huge = embedded(portable_svg(image_svg(3, 1, 1e6, 'image-rendering="optimizeSpeed"'), 10, 10))
    assert huge.width() <= MAX_IMAGE_SIDE and huge.height() <= MAX_IMAGE_SIDE and huge.width() % 3 == 0
    smooth = embedded(portable_svg(image_svg(2, 3, 40.0, ""), 10, 10))
    assert (smooth.width(), smooth.height()) == (2, 3)  # Qt drew it smoothed: so may every renderer


def test_decision_map_exports_at_the_shape_of_its_square(qtbot, tmp_path):
    """The map's place in the window is tall; locked to one unit = one unit, it showed x2 from -1 to 2 around the
    square (800×1007). Exported, the plot is fitted to the square, and the window's view is as it was."""
    from gui.experiments import settings

    for key in ("geometry", "mainSplitter", "bottomSplitter"):  # a fresh profile's layout, whatever ran before
        settings().remove(key)
    window = open_window(qtbot)
    step(qtbot, window, 30)
    item = window.decision_map.getPlotItem()
    vb = item.getViewBox()
    before = (item.geometry(), vb.viewRange(), vb.targetRange())
    assert vb.height() > 1.2 * vb.width()  # the window's layout makes it tall
    for kind in ("png", "svg"):
        window.experiments.export_figure("decision-map", str(tmp_path / f"map.{kind}"), kind)
    # as it was; the y range only up to the left axis's width, which pyqtgraph fits to the labels last drawn
    assert (item.geometry(), vb.viewRange()[0], vb.targetRange()) == (before[0], before[1][0], before[2])
    assert vb.viewRange()[1][0] < -1 and vb.viewRange()[1][1] > 2
    png = QImage(str(tmp_path / "map.png"))
    assert png.width() == 800 and png.height() < 0.85 * png.width()
    for picture in (as_array(png), qt_render((tmp_path / "map.svg").read_bytes())):
        h, w = picture.shape[:2]
        coloured = picture.max(axis=2).astype(int) - picture.min(axis=2) > 25  # the map (the colour bar is at the right)
        rows, cols = (
            np.flatnonzero(coloured[:, : int(0.7 * w)].any(axis=1)),
            np.flatnonzero(coloured[:, : int(0.7 * w)].any(axis=0)),
        )
        height, width = rows[-1] - rows[0], cols[-1] - cols[0]
        assert abs(height - width) <= 0.05 * width, (height, width)  # the square is square ...
        assert height > 0.5 * h, (height, h)  # ... and fills most of the picture's height (the axes take the rest)


def test_png_legend_is_enlarged_with_the_axes(qtbot):
    """pyqtgraph draws a legend at a fixed size: a PNG exported larger than the plot on screen had large axis text
    and a tiny legend. Twice the width, twice the legend."""
    import pyqtgraph as pg

    from gui.figures import render_figure

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    item = plot.getPlotItem()
    item.addLegend(offset=(10, 10))
    item.plot([], [], pen=pg.mkPen("k", width=2), name="a legend entry")
    item.hideAxis("left")
    item.hideAxis("bottom")
    plot.show()
    qtbot.waitExposed(plot)

    def legend_width(width: int) -> int:
        picture = as_array(QImage.fromData(render_figure(item, "png", "legend", width=width), "PNG"))
        columns = np.flatnonzero(dark(picture).any(axis=0))
        return columns[-1] - columns[0]

    small, large = legend_width(300), legend_width(900)
    assert 2.7 * small <= large <= 3.3 * small, (small, large)
    assert item.legend.flags() & item.legend.GraphicsItemFlag.ItemIgnoresTransformations  # as it was


def test_png_plot_ends_at_the_last_epoch_and_the_view_is_kept(qtbot, tmp_path):
    """The curve reaching the box's right end is checked on the PNG above; here the SVG's form and the view."""
    _, shown, after = export_run(qtbot, tmp_path, ("loss",))
    assert shown[0][1] > 1.2 * EPOCHS  # the live view rounds the range up ...
    assert after == shown  # ... and keeps it after the export
    text = (tmp_path / "loss.svg").read_text()
    assert "vector-effect" not in text and "mm" not in text.split("viewBox")[0] and "sans-serif" in text


def test_failed_figure_writes_raise_and_warn(qtbot, tmp_path):
    from gui.export import export_view

    window = open_window(qtbot)
    step(qtbot, window, 10)
    for figure, path, kind in (("loss", "/proc/x.png", "png"), ("loss", "/proc/x.svg", "svg"), ("window", "/proc/w.png", "png")):
        with pytest.raises(OSError):
            export_view(window, figure, path, kind)
    for figure, path, kind in (
        ("loss", tmp_path / "e.svg", "png"),
        ("loss", tmp_path / "e.png", "svg"),
        ("window", tmp_path / "w.jpg", "png"),
    ):
        with pytest.raises(ValueError, match=r"\.(png|svg)"):
            export_view(window, figure, str(path), kind)
        window.experiments.export_figure(figure, str(path), kind)
        assert window.experiments.last_message.startswith(f"Could not export {path.name}:")
        assert not path.exists()
    window.experiments.export_figure("loss", "/proc/x.png", "png")
    assert window.experiments.last_message.startswith("Could not export x.png:") and ".tmp" not in window.experiments.last_message
    assert list(tmp_path.iterdir()) == []


def right_click_export(qtbot, item, exporter_name: str) -> QFileDialog:
    """The file dialog of a plot's right-click Export › `exporter_name` › Export (pyqtgraph's dialog)."""
    scene = item.scene()
    scene.contextMenuItem = item  # as a right-click on the plot leaves it
    scene.showExportDialog()
    export_dialog = scene.exportDialog
    qtbot.addWidget(export_dialog)
    formats = export_dialog.ui.formatList
    row = next(i for i in range(formats.count()) if formats.item(i).expClass.__name__ == exporter_name)
    formats.setCurrentRow(row)
    export_dialog.ui.exportBtn.click()
    dialog = export_dialog.currentExporter.fileDialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    return dialog


def type_name(dialog: QFileDialog, name: str) -> None:
    """Type `name` in the dialog's file name box and press Save."""
    from PySide6.QtWidgets import QLineEdit

    dialog.findChild(QLineEdit, "fileNameEdit").setText(name)
    dialog.accept()


@pytest.mark.qt_log_ignore(r"This plugin does not support raise\(\)")  # pyqtgraph's Export dialog, offscreen
def test_right_click_export_uses_the_windows_dialog_and_writes_atomically(qtbot, tmp_path):
    """The plots' right-click Export opens `file_dialog`'s dialog (whose icon provider never reads /proc, item 15),
    and pyqtgraph's exporters, which wrote in place (CSV) or failed silently (PNG), now write with
    write_atomically (the umask's mode) and a failure says so in one message."""
    window = open_window(qtbot)
    step(qtbot, window, 30)
    plot = window.curves.loss_plot.getPlotItem()
    mask = os.umask(0o022)
    os.umask(mask)
    for exporter, name, written in (("ImageExporter", "loss", "loss.png"), ("CSVExporter", "loss", "loss.csv"),
                                    ("QtSVGExporter", "curve.svg", "curve.svg")):  # fmt: skip
        dialog = right_click_export(qtbot, plot, exporter)
        assert isinstance(dialog.iconProvider(), NameOnlyIconProvider)
        dialog.setDirectory(str(tmp_path))
        type_name(dialog, name)
        path = tmp_path / written
        assert path.is_file(), window.experiments.last_message
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert QImage(str(tmp_path / "loss.png")).width() > 0
    assert (tmp_path / "loss.csv").read_text().count("\n") > 30
    assert "<svg" in (tmp_path / "curve.svg").read_text()
    for exporter, name in (("ImageExporter", "/proc/x.png"), ("CSVExporter", "/proc/x.csv")):
        type_name(right_click_export(qtbot, plot, exporter), name)
        message = window.experiments.last_message
        assert message.startswith(f"Could not export {Path(name).name}: ") and ".tmp" not in message, message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.svg", "loss.csv", "loss.png"]


def test_export_figure_saves_a_name_typed_without_suffix_as_the_chosen_kind(qtbot, tmp_path, monkeypatch):
    """File › Export › Loss plot: typing `loss` saves loss.png (it was refused), or loss.svg under the SVG filter."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QComboBox

    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    window = open_window(qtbot)
    step(qtbot, window, 30)
    for name, filter_row in (("loss", 0), ("drawing", 1)):

        def answer(name=name, filter_row=filter_row) -> None:
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, QFileDialog) and isinstance(dialog.iconProvider(), NameOnlyIconProvider)
            for _ in range(filter_row):  # the user picks the filter from the list
                qtbot.keyClick(dialog.findChild(QComboBox, "fileTypeCombo"), Qt.Key.Key_Down)
            type_name(dialog, name)

        QTimer.singleShot(0, answer)
        window.experiments.export_figure_dialog("loss")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drawing.svg", "loss.png"], window.experiments.last_message
    assert QImage(str(tmp_path / "loss.png")).width() > 0
    assert (tmp_path / "drawing.svg").read_text().lstrip().startswith("<?xml")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip


@pytest.mark.slow
def test_cli_figure_writes_that_fail_exit_2_with_one_line(tmp_path):
    run = tmp_path / "run.bplab"
    assert run_cli("train", "--epochs", "20", "--log-every", "0", "--save", str(run)).returncode == 0
    cases = [
        (["export", str(run), "--figure", "loss", "--png", "/proc/x.png"], "/proc/x.png"),
        (["export", str(run), "--figure", "loss", "--svg", "/proc/x.svg"], "/proc/x.svg"),
        (["export", str(run), "--png", str(tmp_path / "e.svg")], "e.svg"),
        (["export", str(run), "--svg", str(tmp_path / "e.png")], "e.png"),
        (["compare", "--epochs", "20", "--run", "mode=sgd", "--run", "mode=batch", "--png", "/proc/x.png"], "/proc/x.png"),
        (["compare", "--epochs", "20", "--run", "mode=sgd", "--run", "mode=batch", "--png", str(tmp_path / "c.svg")], "c.svg"),
    ]
    for args, name in cases:
        done = run_cli(*args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, (args, done.stderr)
        assert name in lines[0] and "Traceback" not in done.stderr, (args, done.stderr)
        assert len(lines) == 1 or (len(lines) == 2 and "--help" in lines[1]), (args, done.stderr)  # usage errors add a hint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.bplab"]
