"""An SVG exporter for pyqtgraph's Export dialog that renders with Qt's QSvgGenerator.

pyqtgraph's own SVG exporter rewrites Qt's SVG output and fails on the paths current Qt writes
(pyqtgraph issue 3485). This one lets Qt write the SVG as it renders the item's part of the scene; it
replaces the broken exporter in every plot's right-click "Export..." dialog.
"""

from __future__ import annotations

from pyqtgraph.exporters import Exporter, SVGExporter
from pyqtgraph.parametertree import Parameter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from engine.files import write_atomically


class QtSVGExporter(Exporter):
    Name = "Scalable Vector Graphics (SVG)"
    allowCopy = False

    def __init__(self, item) -> None:
        super().__init__(item)
        self.params = Parameter.create(name="params", type="group", children=[])

    def parameters(self):
        return self.params

    def render(self) -> bytes:
        """The item (or the whole scene) as an SVG document."""
        source = self.getSourceRect()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(QSize(int(source.width()), int(source.height())))
        generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
        painter = QPainter(generator)
        try:
            self.getScene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
        finally:
            painter.end()
        buffer.close()
        return bytes(data.data())

    def export(self, fileName=None, toBytes=False, copy=False):
        if fileName is None and not toBytes:
            self.fileSaveDialog(filter="Scalable Vector Graphics (*.svg)")
            return None
        svg = self.render()
        if toBytes:
            return svg
        write_atomically(fileName, svg)
        return None


def install() -> None:
    """Put QtSVGExporter in the place of pyqtgraph's SVG exporter in the Export dialog (once)."""
    exporters = Exporter.Exporters
    if QtSVGExporter in exporters:
        return
    at = exporters.index(SVGExporter) if SVGExporter in exporters else len(exporters)
    if SVGExporter in exporters:
        exporters.remove(SVGExporter)
    exporters.insert(at, QtSVGExporter)
