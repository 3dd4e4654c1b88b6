"""The Inspect tab: one sample's forward and backward pass with its numbers, the network diagram and
the hidden-unit maps.

What it shows, and the words every label uses (see `inspector.progress`): training stands "after epoch E"
or "after sample p of n of epoch E + 1" (that epoch in progress; n training points). The Show picker chooses
the sample: "the next sample to be trained" (the update Step sample will make, not made yet), "the sample just
trained" (the update Step sample made, with the weights before and after it), or one of the dataset's points,
training points first, then test points (the update it alone would make, not made; a test point is inspected
without any update). Step sample always switches the picker to the sample just trained; once training moves on
(an epoch step, Play, Reset) that entry is disabled and the picker goes back to the next sample to be trained.
A click on a point of the decision map opens it here (`select_point`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from engine import Params
from engine.datasets import Dataset, make_dataset
from engine.inspect import SampleTrace

from .grids import view_bounds
from .inspector import place, place_at, progress, trace_html
from .network_views import HiddenUnitMaps, NetworkDiagram
from .style import sample_label

NEXT, STEPPED, FIRST_POINT = 0, 1, 2  # the picker's entries: the next sample, the sample just trained, then the points


def is_current(trace: SampleTrace, params: Params, epoch: int, position: int) -> bool:
    """The stepped `trace` made the latest update: training stands where it left it, at its weights."""
    if trace.after != (epoch, position) or len(params) != len(trace.params_after):
        return False
    return all(np.array_equal(W, W1) and np.array_equal(b, b1) for (W, b), (W1, b1) in zip(params, trace.params_after))


def point_labels(dataset: Dataset) -> tuple[np.ndarray, list[str]]:
    """(order, labels): the dataset's indices, training points first, then test points, each in the dataset's
    order, and the picker's label of each: "(0,1) → 1" when every point is for training (XOR), else
    "train #12 (0.53,-1.20) → 1" / "test #3 (…) → 0" (numbered within its split from 0, as `SampleTrace.index`)."""
    train = np.flatnonzero(dataset.train)
    test = np.flatnonzero(~dataset.train)
    inputs, targets = dataset.inputs, dataset.targets
    if not len(test):
        return train, [sample_label(inputs[i], targets[i]) for i in train]
    labels = [f"train #{k} {sample_label(inputs[i], targets[i])}" for k, i in enumerate(train)]
    labels += [f"test #{k} {sample_label(inputs[i], targets[i])}" for k, i in enumerate(test)]
    return np.concatenate([train, test]), labels


class InspectView(QWidget):
    """Shows the sample chosen in the Show picker; a sample step shows the sample just trained."""

    # the dataset index (into `Dataset.inputs`) of the point to follow, or None for the next sample to be trained.
    # The training thread inspects training point i with `Trainer.inspect_sample(np.count_nonzero(train[:i]))` (its
    # position among the training points), test point i with `Trainer.inspect_point(inputs[i], targets[i])`.
    inputChosen = Signal(object)

    def __init__(self, dataset: Dataset | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("inspectView")
        self.input_combo = QComboBox()
        self.input_combo.setObjectName("inspectInputCombo")
        self.input_combo.setMaxVisibleItems(20)
        self.input_combo.setToolTip(
            "Which sample the panel shows. Step sample shows the sample it trained; the others show the update"
            " a step would make, without making it (a test point is only looked at: it is never trained on)"
        )
        self.sample_button = QPushButton("Step sample")
        self.sample_button.setObjectName("inspectSampleStep")
        self.sample_button.setToolTip("Train the next sample and show it (Shift+Right); needs mode sgd")
        self.epoch_button = QPushButton("Step epoch")
        self.epoch_button.setObjectName("inspectEpochStep")
        self.epoch_button.setToolTip("Train the rest of the epoch (Right)")
        self.position_label = QLabel()
        self.position_label.setObjectName("samplePositionLabel")
        self.position_label.setToolTip("Where training stands: the weights now")
        self.text = QTextBrowser()
        self.text.setObjectName("inspectorText")
        self.text.setOpenLinks(False)
        self.text.setWordWrapMode(QTextOption.WrapMode.WordWrap)  # a narrow panel scrolls; words never break
        self.diagram = NetworkDiagram()
        self.hidden_label = QLabel()
        self.hidden_label.setObjectName("hiddenMapsLabel")
        self.hidden_label.setWordWrap(True)
        self.hidden_maps = HiddenUnitMaps()
        self.trace: SampleTrace | None = None  # the trace on show
        self.stepped: SampleTrace | None = None  # the last sample step, while it is the latest update
        self.preview: SampleTrace | None = None  # the latest trace of an update not made
        self._drawn_trace: SampleTrace | None = None
        self._maps = None
        self._maps_at = (0, 0)
        self._latest = None
        self._stale = False

        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.input_combo, 1)
        top.addWidget(self.sample_button)
        top.addWidget(self.epoch_button)
        top.addWidget(self.position_label)
        maps = QWidget()
        maps_layout = QVBoxLayout(maps)
        maps_layout.setContentsMargins(0, 0, 0, 0)
        maps_layout.addWidget(self.hidden_label)
        maps_layout.addWidget(self.hidden_maps, 1)
        self._maps_box = maps
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.diagram)
        right.addWidget(maps)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.text)
        split.addWidget(right)
        split.setSizes([760, 560])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.input_combo.currentIndexChanged.connect(self._chosen)
        self.set_data(make_dataset() if dataset is None else dataset)

    def set_data(self, dataset: Dataset) -> None:
        """Inspect `dataset`'s points: the picker lists them, the hidden-unit maps span its region. Forgets the
        traces of the data before (the picker goes back to the next sample to be trained)."""
        self.dataset = dataset
        self.n_train = dataset.n_train
        self.order, labels = point_labels(dataset)
        self._entry = np.empty(dataset.n, dtype=np.int64)  # dataset index -> picker entry
        self._entry[self.order] = np.arange(FIRST_POINT, FIRST_POINT + dataset.n)
        self._position = np.cumsum(dataset.train) - 1  # dataset index -> position among the training points
        combo = self.input_combo
        blocked = combo.blockSignals(True)
        combo.clear()
        combo.addItems(["the next sample to be trained", "the sample just trained", *labels])
        combo.model().item(STEPPED).setEnabled(False)
        combo.setCurrentIndex(NEXT)
        combo.blockSignals(blocked)
        self.trace = self.stepped = self.preview = self._drawn_trace = None
        self._maps = None
        self.hidden_maps.set_bounds(view_bounds(dataset))
        self.text.setHtml("<p>Step a sample, or choose an input, to see the numbers inside backpropagation.</p>")

    def select_point(self, index: int) -> None:
        """Show the dataset's point `index` (into `Dataset.inputs`), e.g. the one clicked on the decision map."""
        if 0 <= index < self.dataset.n:
            self.input_combo.setCurrentIndex(int(self._entry[index]))

    def chosen_point(self) -> int | None:
        """The dataset index of the point the picker shows, None for the next or the just trained sample."""
        entry = self.input_combo.currentIndex()
        return int(self.order[entry - FIRST_POINT]) if entry >= FIRST_POINT else None

    def _chosen(self, entry: int) -> None:
        self.inputChosen.emit(self._wanted(entry))  # the worker answers with a trace at the weights now
        if self._latest is not None:
            self._update()

    def show_state(self, trace: SampleTrace | None, params: Params, epoch: int, position: int, hidden_maps, config) -> None:
        """Take the latest state (`trace` is a sample step's or an inspection's, or None); while the tab is
        hidden, only keep it (drawn when the tab is shown)."""
        self._latest = (params, epoch, position, config)
        if hidden_maps is not None:
            self._maps, self._maps_at = hidden_maps, (epoch, position)
        if trace is not None and trace.applied:
            self.stepped, self.preview = trace, None  # a step makes every earlier inspection out of date
        elif trace is not None:
            self.preview = trace
        if self.stepped is not None and not is_current(self.stepped, params, epoch, position):
            self.stepped = None
        if trace is not None and trace.applied and self.stepped is not None:
            self.input_combo.setCurrentIndex(STEPPED)  # Step sample shows the sample it trained (and may ask for it)
        self._update()

    def _update(self) -> None:
        """Choose the trace on show and label the picker's entries; draw now if the tab is visible."""
        _, epoch, position, config = self._latest
        combo = self.input_combo
        n = self.n_train
        steppable = config.batch_size_for(n) == 1
        next_text = "the next sample to be trained"
        if steppable:
            next_text += f": {place_at(epoch, position, n)}"
        combo.setItemText(NEXT, next_text)
        stepped = self.stepped
        combo.model().item(STEPPED).setEnabled(stepped is not None)
        if stepped is not None:
            combo.setItemText(STEPPED, f"the sample just trained: {place(stepped, n)}, {sample_label(stepped.x, stepped.y)}")
        else:
            combo.setItemText(STEPPED, "the sample just trained (none since training moved on)")
            if combo.currentIndex() == STEPPED:
                blocked = combo.blockSignals(True)  # both entries ask the worker for the next sample
                combo.setCurrentIndex(NEXT)
                combo.blockSignals(blocked)
        entry, preview = combo.currentIndex(), self.preview
        if entry == STEPPED:
            self.trace = stepped
        elif preview is not None and ((preview.next_up or not steppable) if entry == NEXT else self._shows(preview, entry)):
            self.trace = preview
        else:
            self.trace = None  # the worker's answer to the choice is on its way; the panel keeps the last one
        if self.isVisible():
            self._draw()
        else:
            self._stale = True

    def _wanted(self, entry: int) -> int | None:
        """The dataset index an entry asks the worker for (None: the next sample to be trained)."""
        return int(self.order[entry - FIRST_POINT]) if entry >= FIRST_POINT else None

    def _shows(self, trace: SampleTrace, entry: int) -> bool:
        """`trace` is of the point of picker entry `entry`: the training point at its position, or a test point
        (a trace of no training position) at its coordinates."""
        i = self._wanted(entry)
        if self.dataset.train[i]:
            return trace.index == self._position[i]
        return trace.index is None and np.array_equal(trace.x, self.dataset.inputs[i]) and trace.y == self.dataset.targets[i]

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._draw()

    def _draw(self) -> None:
        self._stale = False
        params, epoch, position, config = self._latest
        trace, hidden_maps = self.trace, self._maps
        n = self.n_train
        self.position_label.setText(f"Weights now: {progress(epoch, position, n)}")
        if trace is not None and trace is not self._drawn_trace:
            self._drawn_trace = trace
            scroll = self.text.verticalScrollBar().value()
            self.text.setHtml(trace_html(trace))
            self.text.verticalScrollBar().setValue(scroll)
        if trace is not None:  # the picture of the text's forward pass: its weights and activations
            weights = progress(trace.epoch, trace.samples_done, n)
            when = f"weights before the update ({weights})" if trace.applied else f"weights {weights}"
            title = f"forward pass of {sample_label(trace.x, trace.y)}, {when}"
            self.diagram.set_state(trace.params_before, trace)
        elif self._drawn_trace is None:  # nothing inspected yet (while a choice is answered, the last one stays)
            title = f"weights {progress(epoch, position, n)}"
            self.diagram.set_state(params, None, config.features)
        if trace is not None or self._drawn_trace is None:
            self.diagram.getPlotItem().setTitle(f"{title}<br>edges red + / blue −, width |w|; nodes: activation", size="9pt")
        if hidden_maps is not None and len(hidden_maps):
            self.hidden_maps.set_maps(np.asarray(hidden_maps), config.layer_sizes, config.activation)
            at = progress(*self._maps_at, n)
            units, shown = sum(config.hidden), len(self.hidden_maps.wanted)
            which = "Each hidden unit's" if shown == units else f"The first {shown} of {units:,} hidden units: each one's"
            self.hidden_label.setText(f"{which} activation over the data's region, weights {at}")
        self._maps_box.setVisible(bool(config.hidden))
