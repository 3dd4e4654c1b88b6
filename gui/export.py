"""Figures rendered offscreen with pyqtgraph's exporters."""

from __future__ import annotations

import os

import numpy as np

from engine.compare import Comparison, x_values

from .style import SAMPLE_COLORS

RUN_COLORS = (*SAMPLE_COLORS, "#5f3dc4", "#2b8a3e")
X_LABELS = {"epochs": "epoch", "seconds": "seconds in the kernel", "gradient evaluations": "sample-gradient evaluations",
            "updates": "weight updates"}  # fmt: skip


def save_comparison_png(comparison: Comparison, axis: str, path: str, size: tuple[int, int] = (1000, 600)) -> None:
    """The runs' loss curves overlaid (log y) against `axis`, saved as a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from pyqtgraph.exporters import ImageExporter

    from .app import application

    app = application()
    plot = pg.PlotWidget()
    plot.resize(*size)
    plot.show()  # offscreen: lays the plot out (title, axes) before it is exported
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
    exporter = ImageExporter(plot.scene())
    exporter.parameters()["width"] = size[0]
    exporter.export(path)
    plot.close()
