"""A plot's legend in a row of its own between the title and the plot area, where it hides no data.

pyqtgraph's `PlotItem.addLegend` floats the legend inside the view box, over the curves and points. `LegendRow`
takes the place of the (hidden) top axis in the plot item's layout instead: the view box starts below it, and
the plot's right-click Export still includes it. Its entries wrap into as many columns as the plot's width holds.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy

ENTRY_SPACING = 16  # pixels between one entry's label and the next entry's mark


class LegendRow(pg.LegendItem):
    """The legend of `plot_item` (which it replaces as `plot_item.legend`, so plots made with name= join it),
    centred above its view box."""

    def __init__(self, plot_item: pg.PlotItem, **kwargs) -> None:
        kwargs.setdefault("labelTextColor", "#212529")
        super().__init__(offset=None, frame=False, horSpacing=4, **kwargs)
        self.layout.setContentsMargins(0, 1, 0, 1)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        self.setMinimumWidth(1)  # a narrow plot wraps the entries into more rows instead of growing wider
        self._plot_item = plot_item
        self._width = -1.0
        self._fitting = False
        top = plot_item.getAxis("top")
        if top.isVisible():
            raise ValueError("LegendRow takes the top axis's place: the plot must not show a top axis")
        plot_item.layout.removeItem(top)
        plot_item.layout.addItem(self, 1, 1, Qt.AlignmentFlag.AlignCenter)
        plot_item.legend = self
        plot_item.vb.sigResized.connect(self._fit)

    def _addItemToLayout(self, sample, label) -> None:  # pyqtgraph's; updateSize, which follows, places every entry
        pass

    def setColumnCount(self, columnCount: int) -> None:
        if columnCount != self.columnCount:
            self.columnCount = columnCount
            self.updateSize()

    def _place(self) -> None:
        """Entry i at row i // columns. (pyqtgraph's own placing trusts the grid's row and column counts, which
        never shrink once entries are taken out, so fewer columns kept the old places.)"""
        for index in reversed(range(self.layout.count())):
            self.layout.removeAt(index)
        for index, (sample, label) in enumerate(self.items):
            row, column = divmod(index, self.columnCount)
            self.layout.addItem(sample, row, 2 * column, alignment=Qt.AlignmentFlag.AlignVCenter)
            self.layout.addItem(label, row, 2 * column + 1)
            if column:
                self.layout.setColumnSpacing(2 * column - 1, ENTRY_SPACING)  # after a label: the entries read apart
        self.rowCount = max(1, -(-len(self.items) // self.columnCount))

    def updateSize(self) -> None:  # pyqtgraph's, after it adds, removes or clears entries
        self._place()
        self.updateGeometry()  # the plot item's layout sizes and places it (pyqtgraph's own moved it to 0, 0)
        if not self._fitting:
            self._width = -1.0
            self._fit()

    def _fit(self, *_args) -> None:
        """As many columns as the view box's width holds (at least one); nothing to do while the width stays."""
        width = self._plot_item.vb.width()
        if self._fitting or not self.items or width <= 0 or width == self._width:
            return
        self._fitting, self._width = True, width
        try:
            for columns in range(len(self.items), 0, -1):
                self.setColumnCount(columns)
                if columns == 1 or self.row_width() <= width:
                    break
        finally:
            self._fitting = False

    def row_width(self) -> float:
        """The legend's width as laid out (its widest row)."""
        self.layout.activate()
        return self.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).width()

    def labels(self) -> list[str]:
        return [label.text for _sample, label in self.items]


__all__ = ["LegendRow"]
