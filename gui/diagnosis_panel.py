"""`DiagnosisPanel`, "What is happening": the run's diagnoses (engine/diagnosis.py) in plain words.

Each diagnosis shows its title (with the units' names), what it means, what to try, and the epoch where it began as a
link: a click scrubs the Train tab there (`scrubRequested`). A diverged run offers "Rewind to the last finite epoch"
(`rewindRequested`, the epoch before the first non-finite loss). `marks()` are the diagnoses' epochs for the
timeline under the loss plot. The panel only shows what it is given (`show_diagnoses`): the training thread computes
the diagnoses (`Snapshot.diagnoses`).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

# one colour per kind (engine.diagnosis.DIAGNOSIS_KINDS): the text's accent and the timeline's mark
KIND_COLORS = {
    "diverged": "#c92a2a",
    "saturated": "#e67700",
    "dead ReLU": "#5f3dc4",
    "plateau": "#1864ab",
    "oscillation": "#c2255c",
    "solved": "#2b8a3e",
}
OTHER_COLOR = "#495057"
STRIP_LINES = 4  # the panel's height in lines of text (more diagnoses scroll)
EMPTY_TEXT = "Nothing to say yet: train a few epochs, or pause, and this panel says what the run is doing and why."
HEALTHY_TEXT = "Nothing wrong so far: the loss is moving and no unit is stuck."


def last_finite_epoch(diverged_epoch: int) -> int:
    """The last epoch whose loss was finite, for a run whose first non-finite loss came at `diverged_epoch`."""
    return max(0, int(diverged_epoch) - 1)


class DiagnosisPanel(QWidget):
    """What the run is doing now, in plain words; links scrub to where each thing began."""

    scrubRequested = Signal(int)  # an epoch link was clicked
    rewindRequested = Signal(int)  # "Rewind to the last finite epoch": that epoch
    marksChanged = Signal(object)  # list[(epoch, colour, tooltip)] for the timeline

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosisPanel")
        self.setToolTip("What the run is doing now and why (diverged, saturated or dead units, plateau, oscillation, "
                        "solved); a click on an epoch shows the run there")  # fmt: skip
        self._diagnoses: tuple = ()
        self._shown_any = False
        self.text = QLabel(EMPTY_TEXT)
        self.text.setObjectName("diagnosisText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)  # fmt: skip
        self.text.linkActivated.connect(self._link)
        self.rewind_button = QPushButton("Rewind to the last finite epoch")
        self.rewind_button.setObjectName("rewindFiniteButton")
        self.rewind_button.setToolTip("Show the run at the last epoch before its loss stopped being finite: from there, "
                                      "try a smaller learning rate (Branch from here)")  # fmt: skip
        self.rewind_button.hide()
        self.rewind_button.clicked.connect(self._rewind)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(2, 0, 2, 0)
        inner_layout.addWidget(self.text)
        inner_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.viewport().setAutoFillBackground(False)  # the window's background, as the timeline's
        inner.setAutoFillBackground(False)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        title = QLabel("<b>What is happening</b>")
        layout = QHBoxLayout(self)  # a strip under the timeline: the title, the words (scrolling), Rewind
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.rewind_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setFixedHeight(STRIP_LINES * self.fontMetrics().lineSpacing() + 4)

    @property
    def diagnoses(self) -> tuple:
        """What is shown (`engine.diagnosis.Diagnosis` objects)."""
        return self._diagnoses

    def show_diagnoses(self, diagnoses: Sequence | None) -> None:
        """Show `diagnoses` (None: keep what is shown); an empty sequence says nothing is wrong (after a first one)."""
        if diagnoses is None:
            return
        diagnoses = tuple(diagnoses)
        if diagnoses == self._diagnoses and self._shown_any:
            return
        self._diagnoses, self._shown_any = diagnoses, True
        self.text.setText(self.html() if diagnoses else HEALTHY_TEXT)
        diverged = self.diverged()
        self.rewind_button.setVisible(diverged is not None)
        if diverged is not None:
            self.rewind_button.setText(f"Rewind to the last finite epoch ({last_finite_epoch(diverged.epoch):,})")
        self.marksChanged.emit(self.marks())

    def clear(self) -> None:
        """A new run: nothing to say yet."""
        self._diagnoses, self._shown_any = (), False
        self.text.setText(EMPTY_TEXT)
        self.rewind_button.hide()
        self.marksChanged.emit([])

    def diverged(self):
        return next((d for d in self._diagnoses if d.kind == "diverged"), None)

    def html(self) -> str:
        parts = []
        for d in self._diagnoses:
            color = KIND_COLORS.get(d.kind, OTHER_COLOR)
            since = f'since <a href="epoch:{int(d.epoch)}">epoch {int(d.epoch):,}</a>'
            parts.append(f'<p style="margin:0 0 3px 0"><b style="color:{color}">{escape(d.title)}</b> <small>({since})</small>: '
                         f"{escape(d.explanation)}"
                         + (f" <i>{escape(d.advice)}</i>" if d.advice else "")  # what to try ("Try a smaller…")
                         + "</p>")  # fmt: skip
        return "".join(parts)

    def marks(self) -> list[tuple[int, str, str]]:
        """(epoch, colour, tooltip) of each diagnosis, for `TimelineBar.set_marks`."""
        return [(int(d.epoch), KIND_COLORS.get(d.kind, OTHER_COLOR), f"{d.title} (epoch {int(d.epoch):,})")
                for d in self._diagnoses]  # fmt: skip

    def _link(self, link: str) -> None:
        if link.startswith("epoch:"):
            self.scrubRequested.emit(int(link.removeprefix("epoch:")))

    def _rewind(self) -> None:
        diverged = self.diverged()
        if diverged is not None:
            self.rewindRequested.emit(last_finite_epoch(diverged.epoch))
