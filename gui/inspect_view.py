"""The Inspect tab: one sample's forward and backward pass with its numbers, the network diagram and
the hidden-unit maps."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from engine import XOR_INPUTS, XOR_TARGETS, Params
from engine.inspect import SampleTrace

from .inspector import trace_html
from .network_views import HiddenUnitMaps, NetworkDiagram
from .style import sample_label
from .worker import HIDDEN_AXIS


class InspectView(QWidget):
    """Shows the last sample stepped, or the input chosen in the combo box."""

    inputChosen = Signal(object)  # index of the training input to follow, or None for the next sample

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("inspectView")
        self.input_combo = QComboBox()
        self.input_combo.setObjectName("inspectInputCombo")
        self.input_combo.addItem("the next sample to be trained")
        for x, y in zip(XOR_INPUTS, XOR_TARGETS):
            self.input_combo.addItem(sample_label(x, y))
        self.input_combo.setToolTip("Which input the panel shows; sample steps always show the sample just trained")
        self.sample_button = QPushButton("Step sample")
        self.sample_button.setObjectName("inspectSampleStep")
        self.sample_button.setToolTip("Train one sample (Shift+Right); needs mode sgd")
        self.epoch_button = QPushButton("Step epoch")
        self.epoch_button.setObjectName("inspectEpochStep")
        self.epoch_button.setToolTip("Train the rest of the epoch (Right)")
        self.position_label = QLabel()
        self.position_label.setObjectName("samplePositionLabel")
        self.text = QTextBrowser()
        self.text.setObjectName("inspectorText")
        self.text.setOpenLinks(False)
        self.diagram = NetworkDiagram()
        self.hidden_maps = HiddenUnitMaps(HIDDEN_AXIS)
        self.trace: SampleTrace | None = None
        self._drawn_trace: SampleTrace | None = None
        self._maps = None
        self._latest = None
        self._stale = False

        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.input_combo, 1)
        top.addWidget(self.sample_button)
        top.addWidget(self.epoch_button)
        top.addWidget(self.position_label)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.diagram)
        right.addWidget(self.hidden_maps)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.text)
        split.addWidget(right)
        split.setSizes([760, 560])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.input_combo.currentIndexChanged.connect(lambda i: self.inputChosen.emit(None if i == 0 else i - 1))
        self.text.setHtml("<p>Step a sample, or choose an input, to see the numbers inside backpropagation.</p>")

    def show_state(self, trace: SampleTrace | None, params: Params, epoch: int, position: int, hidden_maps, config) -> None:
        """Show the latest state; while the tab is hidden, only keep it (drawn when the tab is shown)."""
        if trace is not None:
            self.trace = trace
        if hidden_maps is not None:
            self._maps = hidden_maps
        self._latest = (params, epoch, position, config)
        if self.isVisible():
            self._draw()
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._draw()

    def _draw(self) -> None:
        self._stale = False
        params, epoch, position, config = self._latest
        trace, hidden_maps = self.trace, self._maps
        self.position_label.setText(f"epoch {epoch:,}, sample {position} of 4" if position else f"epoch {epoch:,}")
        if trace is not None and trace is not self._drawn_trace:
            self._drawn_trace = trace
            scroll = self.text.verticalScrollBar().value()
            self.text.setHtml(trace_html(trace, epoch))
            self.text.verticalScrollBar().setValue(scroll)
        self.diagram.set_state(params, trace)
        if hidden_maps is not None and len(hidden_maps):
            self.hidden_maps.set_maps(np.asarray(hidden_maps), config.layer_sizes, config.activation)
        self.hidden_maps.setVisible(bool(config.hidden))
