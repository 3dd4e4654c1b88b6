"""The Qt binding under the window must not leak or drop references on repaint.

PySide6 6.12.0 drops a reference to None (and True/False) on every pyqtgraph repaint. On Python before
3.12, where these objects are not immortal, the interpreter aborts after a few thousand repaints
("Fatal Python error: none_dealloc"). pyproject.toml excludes that release there; this test notices if
an installed binding brings the fault back (6.12.0 loses about 11 references per repaint; 6.11.3 keeps one more).

Garbage collection is run first and held off during the loop: earlier tests leave garbage whose release
would lower None's count by itself and look like the fault.
"""

import gc
import sys

import numpy as np
import pyqtgraph as pg
import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_repaints_keep_none_alive(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(300, 200)
    widget.show()
    curve = widget.plot()
    curve.setData(np.arange(10.0), np.arange(10.0))
    widget.viewport().repaint()
    gc.collect()
    gc.disable()
    try:
        before = sys.getrefcount(None)
        for i in range(200):
            curve.setData(np.arange(10.0), np.arange(10.0) * i)
            widget.viewport().repaint()
        lost = before - sys.getrefcount(None)
    finally:
        gc.enable()
    import PySide6

    assert lost < 100, f"PySide6 {PySide6.__version__} drops references to None on repaint ({lost} in 200): use another release"
