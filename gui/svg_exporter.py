"""SVG export with Qt's QSvgGenerator, for the CLI, File › Export and pyqtgraph's Export dialog; and that
dialog's file dialog and writes made like the rest of the window's (see `install`).

pyqtgraph's own SVG exporter rewrites Qt's SVG output and fails on the paths current Qt writes
(pyqtgraph issue 3485). This one lets Qt write the SVG as it renders the item's part of the scene, then
makes these repairs so that every renderer (Qt's, librsvg, resvg, browsers) draws what the PNG shows:

- the generator's resolution is the one QPicture records at: pyqtgraph's axes replay cached QPictures,
  which Qt rescales on a device of another resolution (the ticks and labels no longer met the curves);
- items are painted in pyqtgraph's export mode, so scatter symbols are drawn as shapes: Qt's SVG engine
  ignores the source rectangle of a pixmap fragment and drew the whole symbol atlas for every point;
- Qt names fonts by its own aliases ("Sans Serif"); the family that alias resolved to and the generic
  `sans-serif` follow it, so renderers without Qt's aliases still draw the text;
- lines drawn with 1-pixel (cosmetic) pens inside a scaled group (a curve in data coordinates) get their
  coordinates mapped to pixels: Qt marks them `vector-effect="non-scaling-stroke"`, which renderers
  without that SVG Tiny 1.2 feature ignore, drawing a stroke as wide as one data unit (a black block);
- images that Qt draws unsmoothed (a heatmap's cells, the decision map's grid), which it marks
  `image-rendering="optimizeSpeed"`, are embedded enlarged by whole factors with nearest-neighbour scaling to
  at least their size on the page: librsvg ignores `image-rendering` (optimizeSpeed, pixelated, crisp-edges
  alike) and smoothed a 2×2 heatmap into one gradient.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import math
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from pyqtgraph.exporters import Exporter, MatplotlibExporter, SVGExporter
from pyqtgraph.parametertree import Parameter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontInfo, QImage, QPainter, QPicture
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QMessageBox

from engine.files import error_reason, write_atomically

from .dialogs import file_dialog, filter_suffix

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_SHAPES = {f"{{{SVG_NS}}}{tag}" for tag in ("path", "polyline", "polygon", "line", "rect")}
_PNG_DATA = "data:image/png;base64,"
MAX_IMAGE_SIDE = 4096  # an enlarged image's largest side, in pixels
_PG_EXPORTER = importlib.import_module("pyqtgraph.exporters.Exporter")  # the module: its LastExportDirectory


class QtSVGExporter(Exporter):
    Name = "Scalable Vector Graphics (SVG)"
    allowCopy = False

    def __init__(self, item, title: str = "Backprop Lab") -> None:
        super().__init__(item)
        self.title = title
        self.params = Parameter.create(name="params", type="group", children=[])

    def parameters(self):
        return self.params

    def render(self) -> bytes:
        """The item (or the whole scene) as an SVG document, one user unit per screen pixel."""
        source = self.getSourceRect()
        width, height = source.width(), source.height()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setResolution(QPicture().logicalDpiX())
        generator.setSize(QSize(math.ceil(width), math.ceil(height)))
        generator.setViewBox(QRectF(0, 0, width, height))
        generator.setTitle(self.title)
        painter = QPainter(generator)
        self.setExportMode(True, {"painter": painter, "antialias": True, "resolutionScale": 1.0})
        try:
            target = QRectF(0, 0, width, height)
            background = self.getScene().views()[0].backgroundBrush()
            if background.style() != Qt.BrushStyle.NoBrush:
                painter.fillRect(target, background)
            self.getScene().render(painter, target, source)
        finally:
            self.setExportMode(False)
            painter.end()
        buffer.close()
        return portable_svg(bytes(data.data()), width, height)

    def export(self, fileName=None, toBytes=False, copy=False):
        if fileName is None and not toBytes:
            self.fileSaveDialog(filter="Scalable Vector Graphics (*.svg)")
            return None
        svg = self.render()
        if toBytes:
            return svg
        write_atomically(fileName, svg)
        return None


def portable_svg(svg: bytes, width: float, height: float) -> bytes:
    """Qt's SVG with the size in pixels, fonts with fallbacks, every non-scaling stroke's transform applied to
    its points and unsmoothed images enlarged to their size on the page."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    root.set("width", f"{width:g}")  # Qt writes millimetres at its resolution; renderers disagree on those
    root.set("height", f"{height:g}")
    for group in list(root.iter(f"{{{SVG_NS}}}g")):
        _bake_transform(group)
    families: dict[str, str] = {}
    for element in root.iter():
        element.attrib.pop("vector-effect", None)
        family = element.get("font-family")
        if family is not None:
            if family not in families:
                families[family] = ", ".join(dict.fromkeys((family, QFontInfo(QFont(family)).family(), "sans-serif")))
            element.set("font-family", families[family])
    _enlarge_unsmoothed_images(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _enlarge_unsmoothed_images(element: ET.Element, scale: tuple[float, float] = (1.0, 1.0)) -> None:
    """Replace every embedded PNG under `element` that Qt marked `image-rendering="optimizeSpeed"` by the same
    picture enlarged with nearest-neighbour scaling, by whole factors, to at least the pixels it covers at one
    user unit per pixel; `scale` is how much the enclosing transforms enlarge it. Each cell then stays one flat
    colour in a renderer that smooths images whatever the attribute says: at most a pixel's seam is blended."""
    matrix = element.get("transform", "")
    if matrix.startswith("matrix("):
        a, b, c, d = (float(v) for v in _NUMBER.findall(matrix)[:4])
        scale = (scale[0] * math.hypot(a, b), scale[1] * math.hypot(c, d))
    href = f"{{{XLINK_NS}}}href"
    if element.tag == f"{{{SVG_NS}}}image" and element.get("image-rendering") == "optimizeSpeed":
        data = element.get(href, "")
        image = QImage.fromData(base64.b64decode(data[len(_PNG_DATA) :]), "PNG") if data.startswith(_PNG_DATA) else QImage()
        if not image.isNull():
            shown = (float(element.get("width", 0)) * scale[0], float(element.get("height", 0)) * scale[1])
            w, h = image.width(), image.height()
            fx = max(1, min(math.ceil(shown[0] / w), MAX_IMAGE_SIDE // w))
            fy = max(1, min(math.ceil(shown[1] / h), MAX_IMAGE_SIDE // h))
            if fx > 1 or fy > 1:
                big = image.scaled(w * fx, h * fy, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)
                element.set(href, _PNG_DATA + base64.b64encode(_png(big)).decode("ascii"))
    for child in element:
        _enlarge_unsmoothed_images(child, scale)


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def _bake_transform(group: ET.Element) -> None:
    """Map the points of `group`'s non-scaling strokes through its transform; keep it for everything else."""
    matrix = group.get("transform")
    strokes = [child for child in group if child.tag in _SHAPES and child.get("vector-effect") == "non-scaling-stroke"]
    if matrix is None or not strokes:
        return
    a, b, c, d, e, f = (float(v) for v in _NUMBER.findall(matrix))

    def apply(x: float, y: float) -> tuple[float, float]:
        return a * x + c * y + e, b * x + d * y + f

    del group.attrib["transform"]
    for index, child in enumerate(list(group)):
        if child not in strokes:  # text, images: wrapped in the transform they were drawn with
            wrapper = ET.Element(f"{{{SVG_NS}}}g", transform=matrix)
            group.remove(child)
            wrapper.append(child)
            group.insert(index, wrapper)
        elif child.tag == f"{{{SVG_NS}}}rect" and b == 0 and c == 0:
            x, y, w, h = (float(child.get(k, 0)) for k in ("x", "y", "width", "height"))
            (x0, y0), (x1, y1) = apply(x, y), apply(x + w, y + h)
            child.attrib.update(x=f"{min(x0, x1):g}", y=f"{min(y0, y1):g}", width=f"{abs(x1 - x0):g}", height=f"{abs(y1 - y0):g}")
        elif child.tag == f"{{{SVG_NS}}}rect":  # rotated or sheared: a closed path
            x, y, w, h = (float(child.get(k, 0)) for k in ("x", "y", "width", "height"))
            corners = " L".join(_pair(*apply(px, py)) for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))
            child.tag = f"{{{SVG_NS}}}path"
            for key in ("x", "y", "width", "height"):
                child.attrib.pop(key, None)
            child.set("d", f"M{corners} Z")
        elif child.tag == f"{{{SVG_NS}}}line":
            x1, y1 = apply(float(child.get("x1", 0)), float(child.get("y1", 0)))
            x2, y2 = apply(float(child.get("x2", 0)), float(child.get("y2", 0)))
            child.attrib.update(x1=f"{x1:g}", y1=f"{y1:g}", x2=f"{x2:g}", y2=f"{y2:g}")
        else:  # path d, polyline/polygon points: absolute coordinates in x,y pairs (Qt writes no relative commands)
            key = "d" if child.tag == f"{{{SVG_NS}}}path" else "points"
            child.set(key, _map_pairs(child.get(key, ""), apply))


def _pair(x: float, y: float) -> str:
    return f"{x:.6g},{y:.6g}"


def _map_pairs(text: str, apply) -> str:
    """`text` with every x,y number pair replaced by its image under `apply` (commands kept in place)."""
    numbers = iter(list(_NUMBER.finditer(text)))
    out, last = [], 0
    for first in numbers:
        second = next(numbers)
        out.append(text[last : first.start()])
        out.append(_pair(*apply(float(first.group()), float(second.group()))))
        last = second.end()
    out.append(text[last:])
    return "".join(out)


def save_dialog(exporter: Exporter, filter=None, opts=None) -> None:
    """pyqtgraph's `Exporter.fileSaveDialog` (what the plots' right-click Export opens), made like the window's
    File › Export: the dialog is built by `file_dialog`, and the exporter writes to a scratch file that
    `write_atomically` then puts in place, so a failed write leaves any previous file whole and says why in one
    message (pyqtgraph's image exporter returns False and its CSV exporter writes in place)."""
    filters = [filter] if isinstance(filter, str) else list(filter or ["All files (*)"])
    window = exporter.getScene().views()[0].window()
    start = _PG_EXPORTER.LastExportDirectory or str(Path.home())
    dialog = file_dialog(window, "Export", start, ";;".join(filters), save=True)
    exporter.fileDialog = dialog  # as pyqtgraph keeps it
    offered = {filter_suffix(f) for f in filters}

    def chosen(name: str) -> None:
        path = Path(name)
        _PG_EXPORTER.LastExportDirectory = str(path.parent)
        selected = filter_suffix(dialog.selectedNameFilter())
        if path.suffix.lower().lstrip(".") not in offered and selected:  # pyqtgraph's rule: the filter's suffix
            path = path.with_name(f"{path.name}.{selected}")
        save_exported(exporter, path, opts or {})

    dialog.fileSelected.connect(chosen)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


def save_exported(exporter: Exporter, path: Path, opts: dict) -> None:
    """Let `exporter` write a scratch copy of `path`, then put it in place with `write_atomically`; a failure is
    reported once, in a warning on the plot's window."""
    try:
        with tempfile.TemporaryDirectory(prefix="backprop-lab-export.") as folder:
            scratch = Path(folder) / path.name
            if exporter.export(fileName=str(scratch), **opts) is False or not scratch.is_file():
                raise ValueError(f"the exporter could not write a {path.suffix or 'file without a suffix'} file")
            write_atomically(path, scratch.read_bytes())
    except Exception as err:  # pyqtgraph's exporters raise bare Exceptions too: each is one message
        window = exporter.getScene().views()[0].window()
        text = f"Could not export {path.name}: {error_reason(err)}"
        experiments = getattr(window, "experiments", None)
        if experiments is not None:
            experiments.warn(text)
        else:
            QMessageBox.warning(window, "Backprop Lab", text)


def install() -> None:
    """Put QtSVGExporter in the place of pyqtgraph's SVG exporter in the Export dialog, drop the Matplotlib
    exporter when Matplotlib is not installed (it would fail on use), and make every exporter's file dialog and
    write `save_dialog`'s (once)."""
    Exporter.fileSaveDialog = save_dialog
    exporters = Exporter.Exporters
    if MatplotlibExporter in exporters and importlib.util.find_spec("matplotlib") is None:
        exporters.remove(MatplotlibExporter)
    if QtSVGExporter in exporters:
        return
    at = exporters.index(SVGExporter) if SVGExporter in exporters else len(exporters)
    if SVGExporter in exporters:
        exporters.remove(SVGExporter)
    exporters.insert(at, QtSVGExporter)
