"""`TimelineBar`: under the loss plot, the run's epochs as a slider (drag to any past epoch: every view shows that
epoch's exact state), Rewind, "Branch from here", and the tree of runs (each branch named by what it changed, in
the colour of its loss curve on the loss plot; selecting one makes it the current run).

It only says what the user asked for (`scrubRequested`, `rewindRequested`, `branchRequested`, `runSelected`); the
Train tab (gui/train_tab.py) sends the requests to the training thread and shows what comes back (`show_epoch`,
`set_tree`). `set_marks` draws marks on the slider (the diagnoses' epochs: gui/diagnosis_panel.py).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolTip,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .snapshot import TreeSummary

CURRENT_COLOR = "#212529"  # the current run is the loss plot's own curve (gui/curves.py's TRAIN_COLOR)
RUN_COLORS = ("#1c7ed6", "#e03131", "#2f9e44", "#f08c00", "#9c36b5", "#0c8599", "#d6336c", "#5c940d", "#862e9c")
MAX_SLIDER = 2**31 - 1  # a QSlider's values are ints: longer runs are scaled onto this many steps
TREE_WIDTH = 200
TREE_HEIGHT = 58  # between two and three rows: the tree shows only once there is a branch


def run_color(index: int) -> str:
    """The colour of run `index`'s curve and swatch when it is not the current run (that one is drawn black)."""
    return RUN_COLORS[index % len(RUN_COLORS)]


class MarkedSlider(QSlider):
    """A horizontal slider with marks (epoch, colour, tooltip) drawn as small triangles under its groove."""

    def __init__(self, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.marks: list[tuple[int, str, str]] = []  # (slider value, colour, tooltip)
        self.setMouseTracking(True)

    def _x(self, value: int) -> float:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self)
        span = max(1, groove.width() - handle.width())
        pos = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), value, span)
        return groove.x() + handle.width() / 2 + pos

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self.marks:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bottom = self.height() - 1
        for value, colour, _tip in self.marks:
            x = self._x(value)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawPolygon(QPolygonF([QPointF(x, bottom - 6), QPointF(x - 4, bottom), QPointF(x + 4, bottom)]))
        painter.end()

    def mouseMoveEvent(self, event) -> None:
        super().mouseMoveEvent(event)
        near = [tip for value, _c, tip in self.marks if abs(self._x(value) - event.position().x()) <= 5]
        if near:
            QToolTip.showText(event.globalPosition().toPoint(), "\n".join(near), self)

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setHeight(max(hint.height(), 24))
        return hint


class TimelineBar(QWidget):
    """The run's epochs as a slider, Rewind, "Branch from here", and the tree of runs (shown once there are branches)."""

    scrubRequested = Signal(int)  # show this epoch (the user moved the slider)
    rewindRequested = Signal()  # Rewind: to the start, or after a divergence to the last finite epoch
    branchRequested = Signal()  # Branch from here: a new run from the epoch shown, with the form's training settings
    runSelected = Signal(int)  # the user chose this run of the tree

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineBar")
        self._last = 0  # the current run's latest epoch
        self._shown = 0  # the epoch on show
        self._scale = 1.0  # epochs per slider step
        self._setting = False  # the slider is being set by the program, not the user
        self._marks: list[tuple[int, str, str]] = []
        self.tree_summary: TreeSummary | None = None

        self.rewind_button = QPushButton("Rewind")
        self.rewind_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward))
        self.rewind_button.setObjectName("rewindButton")
        self.rewind_button.setToolTip("Show epoch 0 (after a divergence: the last epoch whose loss was finite)")
        self.slider = MarkedSlider()
        self.slider.setObjectName("timelineSlider")
        self.slider.setToolTip(
            "The run's epochs: drag (or click the loss or accuracy plot) to see any past epoch's exact state in every view;\n"
            "training pauses. Play then asks whether to continue from there (dropping the later epochs) or to branch."
        )
        self.slider.setRange(0, 0)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("timelineLabel")
        self.epoch_label.setMinimumWidth(self.epoch_label.fontMetrics().horizontalAdvance("epoch 1,000,000 of 1,000,000"))
        self.epoch_label.setToolTip("The epoch the views show, of the current run's epochs")
        self.branch_button = QPushButton("Branch from here")
        self.branch_button.setObjectName("branchButton")
        self.branch_button.setToolTip(
            "Start a new run from the epoch shown, with the training settings in the form (learning rate, optimizer,\n"
            "mode, batch size, regularisation); the runs are listed beside the timeline and saved with the experiment."
        )
        self.tree = QTreeWidget()
        self.tree.setObjectName("branchTree")
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(12)
        self.tree.setFixedSize(TREE_WIDTH, TREE_HEIGHT)
        self.tree.setToolTip("The runs branched from this one: select one to make it the current run")
        self.tree.setVisible(False)

        self.slider.setMinimumWidth(80)
        title = QLabel("<b>Timeline</b>")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(title)
        row.addWidget(self.rewind_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.epoch_label)
        row.addWidget(self.branch_button)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(row)
        left.addStretch(1)
        self._left = left
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(left, 1)
        outer.addWidget(self.tree, 0, Qt.AlignmentFlag.AlignTop)

        self.slider.valueChanged.connect(self._slider_moved)
        self.rewind_button.clicked.connect(self.rewindRequested)
        self.branch_button.clicked.connect(self.branchRequested)
        self.tree.itemClicked.connect(self._item_clicked)
        self.show_epoch(0, 0, scrubbed=False, can_branch=False)

    def add_below(self, widget: QWidget) -> None:
        """Put `widget` under the slider's row, left of the tree of runs."""
        self._left.insertWidget(1, widget)

    # --- what is shown ------------------------------------------------------------------------------
    @property
    def last_epoch(self) -> int:
        return self._last

    @property
    def shown_epoch(self) -> int:
        return self._shown

    def epoch_of(self, value: int) -> int:
        """The epoch a slider value stands for."""
        return min(self._last, round(value * self._scale))

    def value_of(self, epoch: int) -> int:
        return min(self.slider.maximum(), round(epoch / self._scale))

    def show_epoch(self, shown: int, last: int, scrubbed: bool, can_branch: bool) -> None:
        """The current run has epochs 0..`last`; the views show `shown` (`scrubbed`: a past one)."""
        self._last, self._shown = max(0, int(last)), max(0, int(shown))
        self._scale = max(1.0, self._last / MAX_SLIDER)
        self._setting = True
        try:
            maximum = min(MAX_SLIDER, round(self._last / self._scale))
            if self.slider.maximum() != maximum:
                self.slider.setMaximum(maximum)
                self._place_marks()
            self.slider.setValue(self.value_of(self._shown))
        finally:
            self._setting = False
        if scrubbed:
            self.epoch_label.setText(f"epoch <b>{self._shown:,}</b> of {self._last:,}")
        else:
            self.epoch_label.setText(f"epoch {self._last:,} (latest)")
        self.branch_button.setEnabled(can_branch)
        self.rewind_button.setEnabled(self._last > 0)

    def _slider_moved(self, value: int) -> None:
        if not self._setting:
            self.scrubRequested.emit(self.epoch_of(value))

    # --- marks --------------------------------------------------------------------------------------
    def set_marks(self, marks: list[tuple[int, str, str]]) -> None:
        """Draw marks on the timeline: (epoch, colour, tooltip) each (the diagnoses' epochs)."""
        self._marks = [(int(e), str(c), str(t)) for e, c, t in marks]
        self._place_marks()

    def _place_marks(self) -> None:
        self.slider.marks = [(self.value_of(e), c, t) for e, c, t in self._marks if 0 <= e <= self._last]
        self.slider.update()

    # --- the tree of runs -----------------------------------------------------------------------------
    def set_tree(self, summary: TreeSummary) -> None:
        """List the runs (nested by the run they branched from), the current one selected; shown from two runs on."""
        self.tree_summary = summary
        self.tree.clear()
        items: dict[int, QTreeWidgetItem] = {}
        for run in summary.runs:
            parent = items.get(run.parent)
            item = QTreeWidgetItem([run.label])
            item.setData(0, Qt.ItemDataRole.UserRole, run.id)
            item.setIcon(0, _swatch(CURRENT_COLOR if run.id == summary.current else run_color(run.colour)))
            item.setToolTip(0, f"{run.label}: epochs {run.branch_epoch:,} to {run.last_epoch:,} (click to make it current)")
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            items[run.id] = item
        self.tree.expandAll()
        current = items.get(summary.current)
        if current is not None:
            self.tree.setCurrentItem(current)
        self.tree.setVisible(len(summary.runs) > 1)

    def _item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        run_id = item.data(0, Qt.ItemDataRole.UserRole)
        if self.tree_summary is not None and run_id != self.tree_summary.current:
            self.runSelected.emit(int(run_id))


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setBrush(QColor(colour))
    painter.setPen(QColor("#495057"))
    painter.drawRect(QRectF(0.5, 0.5, 11, 11))
    painter.end()
    return QIcon(pixmap)
