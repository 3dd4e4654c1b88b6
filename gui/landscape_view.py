"""The Landscape tab: the real loss over a plane through the weights on show, θ = θ* + a·d₁ + b·d₂, with the run's
path drawn on it, the true loss along that path against the plane's (how far the picture is from the truth), and the
loss along d₁ with the gradient's slope at θ*. And `SharedPlanePanel`, the Compare tab's "Loss surface": one plane
through the runs' common initial weights with every run's path on it.

Both compute on a `LandscapeThread` (gui/landscape_thread.py), never on the GUI thread: when shown and when what they
show changed (after a short pause, and at most every `FOLLOW_INTERVAL_MS` while training runs); a newer request
cancels the one in flight, except that while one is in flight a mere move of the training waits for it (so a running
training cannot starve the picture).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import Layout, TrainConfig
from engine.datasets import Dataset
from engine.landscape import DEFAULT_GRID, DEFAULT_RANGE, MAX_GRID, MIN_GRID, parameter_label, parameter_names

from .controls import ERROR_COLOR, LogSpinBox
from .figures import RUN_COLORS
from .landscape_plot import LandscapePlot, PathTruthPlot, SlicePlot
from .landscape_thread import LandscapeThread, PlaneRequest, PlaneResult, SharedPlaneRequest, SharedPlaneResult
from .style import format_loss

DIRECTIONS = {"params": "Two parameters", "random": "Random (filter-normalised)", "pca": "Principal components of the path"}
SHARED_DIRECTIONS = ("random", "params")  # the Compare tab's: PCA depends on one path
SHARED_GRID = 81  # the Compare tab's plane: every run's replay comes first, so a coarser grid by default
DEBOUNCE_MS = 150  # a setting changed: wait this long for the next change before computing
FOLLOW_INTERVAL_MS = 500  # the shown state moved (training): at most one new plane this often
PATH_COLOR = "#f8f9fa"  # the run's path: light on the heat map's dark low-loss colours
RANGE_TIPS = {
    "params": "a and b run from the parameter's value − range to value + range (the axes show the weights' values)",
    "random": "a and b run from −range to +range, in multiples of each filter-normalised direction (1 = the weights' own size)",
    "pca": "a and b run from −range to +range along the unit principal components (distance in weight space)",
}


def _combo(tip: str) -> QComboBox:
    combo = QComboBox()
    combo.setToolTip(tip)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(10)
    return combo


class _PlaneTab(QWidget):
    """What the Landscape tab and the Compare tab's panel share: the thread, when to compute, the grid and direction
    controls, progress, Cancel, Recompute and the message. Subclasses give `_job()` (None: nothing to compute yet) and
    `_show(result)`; `_changed(setting)` says the picture is out of date."""

    updated = Signal()  # a computation's result (`result`) or failure (the message) is on show

    def __init__(self, kinds: tuple[str, ...], parent=None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._dirty = False  # what is shown (or the settings) changed since the last request
        self._settings_moved = False  # the pending change is a setting's (it cancels the request in flight)
        self._last_submit = -1e9
        self._submitted: PlaneRequest | SharedPlaneRequest | None = None
        self.result: PlaneResult | SharedPlaneResult | None = None  # the result on show
        self._outcome: PlaneResult | SharedPlaneResult | str | None = None  # the thread's last answer, until `ended`

        self.direction_combo = _combo("Which plane through the weights: θ = θ* + a·d₁ + b·d₂")
        for kind in kinds:
            self.direction_combo.addItem(DIRECTIONS[kind], kind)
        self.direction_combo.setCurrentIndex(self.direction_combo.findData("random"))
        self.param_combos = (_combo("d₁: the parameter along a"), _combo("d₂: the parameter along b"))
        self.grid_spin = QSpinBox()
        self.grid_spin.setRange(MIN_GRID, MAX_GRID)
        self.grid_spin.setValue(DEFAULT_GRID)
        self.grid_spin.setSuffix(" points per side")
        self.grid_spin.setKeyboardTracking(False)
        self.grid_spin.setToolTip(f"The grid is n × n points ({MIN_GRID} to {MAX_GRID} per side); each is one full-batch loss")
        self.compute_button = QPushButton("Recompute")
        self.compute_button.setToolTip("Compute the loss surface now")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the computation in flight")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("%p %")
        self.progress_bar.setValue(0)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.thread = LandscapeThread()
        self.thread.progress.connect(self._progress)
        self.thread.stage.connect(self._stage)
        self.thread.result.connect(self._take_outcome)
        self.thread.failed.connect(self._take_outcome)
        self.thread.ended.connect(self._ended)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)
        self.compute_button.clicked.connect(lambda: self._submit())
        self.cancel_button.clicked.connect(self.cancel)
        self.direction_combo.currentIndexChanged.connect(self._direction_changed)
        for combo in self.param_combos:
            combo.currentIndexChanged.connect(lambda _: self._changed(setting=True))
        self.grid_spin.valueChanged.connect(lambda _: self._changed(setting=True))
        self._show_param_combos()

    # --- settings -------------------------------------------------------------------------------
    def kind(self) -> str:
        return self.direction_combo.currentData()

    def names(self) -> tuple[str, str] | None:
        """The two parameters of "params" directions (None for other directions)."""
        if self.kind() != "params":
            return None
        return tuple(combo.currentData() for combo in self.param_combos)  # type: ignore[return-value]

    def _set_layout(self, layout: Layout) -> None:
        """The network's parameters changed: the parameter combos list its parameters (a kept name stays chosen;
        the defaults are the first weight, W⁽¹⁾₁₁, and the output's bias)."""
        names = parameter_names(layout)
        if names == self._names:
            return
        old = [combo.currentData() for combo in self.param_combos]
        self._names = names
        defaults = (names[0], names[-1])
        for combo, was, default in zip(self.param_combos, old, defaults):
            blocked = combo.blockSignals(True)
            combo.clear()
            for name in names:
                combo.addItem(parameter_label(name), name)
            combo.setCurrentIndex(names.index(was if was in names else default))
            combo.blockSignals(blocked)

    def _direction_changed(self) -> None:
        self._show_param_combos()
        self._changed(setting=True)

    def _show_param_combos(self) -> None:
        for combo in self.param_combos:
            combo.setEnabled(self.kind() == "params")

    # --- when to compute --------------------------------------------------------------------------
    def _changed(self, setting: bool = False) -> None:
        """What the picture shows (`setting`: a setting of it) changed: compute soon if shown."""
        self._dirty = True
        self._settings_moved |= setting
        if not self.isVisible():
            return  # showEvent computes
        wait = DEBOUNCE_MS
        if not setting:  # the shown state moved: at most once every FOLLOW_INTERVAL_MS
            wait = max(wait, int(FOLLOW_INTERVAL_MS - 1000 * (time.perf_counter() - self._last_submit)))
        if not self._timer.isActive() or setting:
            self._timer.start(wait)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty and not self._timer.isActive():
            self._timer.start(0)

    def _fire(self) -> None:
        if not (self._dirty and self.isVisible()):
            return
        if self.busy and not self._settings_moved:
            return  # the training moved on while a plane is in flight: the next one starts when it is done
        self._submit()

    def _submit(self) -> None:
        job = self._job()
        if job is None:
            return
        self._dirty = self._settings_moved = False
        self._timer.stop()
        self._submitted = job  # in flight until the thread's `ended` says it is answered
        self._last_submit = time.perf_counter()
        self.cancel_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%p %")
        self.thread.submit(job)

    def cancel(self) -> None:
        """Stop the computation in flight (the picture stays as it was until the next change or Recompute)."""
        self._timer.stop()
        self._dirty = self._settings_moved = False
        if self.busy:
            self.thread.cancel()
            self._submitted = None  # whatever the thread still says of it is ignored
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("cancelled")
            self._say("Cancelled: the picture is that of the last plane computed. Press Recompute to compute it again.")
            self._idle()

    def shutdown(self) -> None:
        """Stop and join the thread (idempotent)."""
        self._timer.stop()
        self.thread.shutdown()

    @property
    def busy(self) -> bool:
        """Whether a computation is in flight."""
        return self._submitted is not None

    # --- the thread's answers ---------------------------------------------------------------------
    def _progress(self, done: int, total: int) -> None:
        if self.busy:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)

    def _stage(self, text: str) -> None:
        if self.busy:
            self.progress_bar.setFormat(f"{text}: %p %")

    def _idle(self) -> None:
        self.cancel_button.setEnabled(False)
        if self._dirty and self.isVisible() and not self._timer.isActive():
            self._timer.start(0)  # what changed meanwhile

    def _take_outcome(self, outcome) -> None:
        """A result or a failure's sentence: applied when `ended` says which request it answered."""
        self._outcome = outcome

    def _ended(self, job) -> None:
        outcome, self._outcome = self._outcome, None
        if job is not self._submitted:
            return  # an older request's (overtaken or cancelled)
        self._submitted = None
        if isinstance(outcome, str):
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("failed")
            self.result = None
            self._clear()
            self._say(outcome, error=True)
        elif outcome is not None:
            self.progress_bar.setValue(self.progress_bar.maximum())
            self.progress_bar.setFormat(f"done in {outcome.seconds:.2f} s")
            self.result = outcome
            self._show(outcome)
        self._idle()
        if outcome is not None:
            self.updated.emit()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {ERROR_COLOR}" if error else "")
        self.message.setText(text)

    # --- for subclasses ---------------------------------------------------------------------------
    def _job(self):
        raise NotImplementedError

    def _show(self, result) -> None:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError


class LandscapeView(_PlaneTab):
    """The Landscape tab. It shows the state of the Train tab `train` when given (`follow`), else what `set_state` says."""

    def __init__(self, parent=None, train=None) -> None:
        super().__init__(tuple(DIRECTIONS), parent)
        self.setObjectName("landscapeView")
        self._state: tuple | None = None  # (config, data, theta, epoch, initial_theta)
        self._initial: np.ndarray | None = None  # the followed Train tab's initial weights, from its last restart
        self.direction_combo.setToolTip(
            "The plane through the weights θ*: two chosen parameters (the axes are their values), two random "
            "directions scaled to each unit's weights (Li et al. 2018), or the first two principal components of "
            "the run's own path"
        )  # fmt: skip
        self.direction_combo.setObjectName("directionCombo")
        self.param_combos[0].setObjectName("param1Combo")
        self.param_combos[1].setObjectName("param2Combo")
        self.grid_spin.setObjectName("gridSpin")
        self.range_spin = LogSpinBox(1e-3, 1e3, what="range")
        self.range_spin.setObjectName("rangeSpin")
        self.range_spin.setValue(DEFAULT_RANGE)
        self.fit_check = QCheckBox("widen to show the whole path")
        self.fit_check.setObjectName("fitPathCheck")
        self.fit_check.setChecked(True)
        self.fit_check.setToolTip("Widen the range (never narrow it) so that the run's whole path is on the plane")
        self.log_check = QCheckBox("log colour scale")
        self.log_check.setObjectName("logScaleCheck")
        self.log_check.setChecked(True)
        self.log_check.setToolTip("Colour by log₁₀ of the loss: the low valleys, where training ends, show their shape")
        self.compute_button.setObjectName("computeButton")
        self.cancel_button.setObjectName("cancelLandscapeButton")
        self.progress_bar.setObjectName("landscapeProgress")
        self.message.setObjectName("landscapeMessage")

        self.plot = LandscapePlot()
        self.plot.setObjectName("landscapePlot")
        self.slice_plot = SlicePlot()
        self.slice_plot.setObjectName("slicePlot")
        self.path_truth_plot = PathTruthPlot()
        self.path_truth_plot.setObjectName("pathTruthPlot")
        self._build_layout()
        self._range_tip()

        self.range_spin.valueChanged.connect(lambda _: self._changed(setting=True))
        self.fit_check.toggled.connect(lambda _: self._changed(setting=True))
        self.range_spin.rejected.connect(lambda text: text and self._say(text, error=True))
        self.log_check.toggled.connect(self.plot.set_log_scale)
        self.direction_combo.currentIndexChanged.connect(self._range_tip)
        self.plot.set_log_scale(self.log_check.isChecked())
        self._say("The loss surface is computed once the Train tab has a network to show.")
        if train is not None:
            self.follow(train)

    def _build_layout(self) -> None:
        settings = QGroupBox("Plane θ = θ* + a·d₁ + b·d₂")
        form = QFormLayout(settings)
        form.addRow("Directions", self.direction_combo)
        form.addRow("d₁ (a)", self.param_combos[0])
        form.addRow("d₂ (b)", self.param_combos[1])
        form.addRow("Grid", self.grid_spin)
        form.addRow("Range ±", self.range_spin)
        form.addRow(self.fit_check)
        form.addRow(self.log_check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compute_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.progress_bar)
        form.addRow(self.message)
        notes = QLabel(
            "θ* is the Train tab's weights. The loss is the training loss without L1/L2 penalties, at those weights "
            "(the loss curve's last point is the mean over the last epoch's forward passes, during its updates). "
            "A path projected onto a plane can lie: the plot at the bottom right compares it with the truth."
        )  # fmt: skip
        notes.setWordWrap(True)
        notes.setStyleSheet("color: #495057")
        form.addRow(notes)
        settings.setFixedWidth(330)

        def titled(title: str, widget: QWidget) -> QWidget:
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            label = QLabel(title)
            label.setWordWrap(True)  # never widens the window: it wraps where the tab is narrow
            column.addWidget(label)
            column.addWidget(widget, 1)
            return box

        right = QVBoxLayout()
        right.addWidget(titled("<b>Slice</b> &nbsp; the loss along d₁ through θ*, and its slope", self.slice_plot), 1)
        right.addWidget(titled("<b>Path vs truth</b> &nbsp; the true loss and the plane's", self.path_truth_plot), 1)
        row = QHBoxLayout(self)
        row.addWidget(settings)
        row.addWidget(titled("<b>Loss surface</b> &nbsp; the training loss over the plane; ★ θ*", self.plot), 5)
        row.addLayout(right, 4)  # the map keeps its aspect: width beyond its height would be blank

    def _range_tip(self) -> None:
        self.range_spin.setToolTip(RANGE_TIPS[self.kind()])

    # --- what is shown ------------------------------------------------------------------------------
    def set_state(self, config: TrainConfig, data: Dataset, theta: np.ndarray, epoch: int,
                  initial_theta: np.ndarray | None = None) -> None:  # fmt: skip
        """The state to show: the weights `theta` at epoch `epoch` of the run of `config` on `data` from `initial_theta`
        (None: the config's own initial weights). Recomputes when the tab is visible (debounced; the latest wins)."""
        theta = np.array(theta, dtype=np.float64)
        theta.flags.writeable = False
        if initial_theta is not None:
            initial_theta = np.array(initial_theta, dtype=np.float64)
            initial_theta.flags.writeable = False
        old = self._state
        self._state = (config, data, theta, int(epoch), initial_theta)
        self._set_layout(Layout.from_sizes(config.layer_sizes))
        same = (old is not None and old[0] == config and old[1] is data and old[3] == epoch
                and np.array_equal(old[2], theta, equal_nan=True)
                and (old[4] is None) == (initial_theta is None)
                and (initial_theta is None or np.array_equal(old[4], initial_theta)))  # fmt: skip
        if not same:
            self._changed()

    def follow(self, train) -> None:
        """Show what the Train tab `train` (gui/train_tab.py) shows, now and after each of its snapshots (the window
        calls this once, when it builds the tab)."""
        train.snapshotApplied.connect(lambda snap: self._follow(train, snap))
        self._push(train, train.shown_config(), train.params(), train.epoch)

    def _follow(self, train, snap) -> None:
        if snap.restarted and snap.initial_params:
            self._initial = Layout.from_sizes(snap.config.layer_sizes).flatten(snap.initial_params)
        self._push(train, snap.config, snap.params, snap.epoch)

    def _push(self, train, config: TrainConfig, params, epoch: int) -> None:
        if not params:
            return  # no network yet (the training thread has not sent its first snapshot)
        layout = Layout.from_sizes(config.layer_sizes)
        initial = self._initial if self._initial is not None and len(self._initial) == layout.n_params else None
        self.set_state(config, train.data, layout.flatten(params), epoch, initial)

    def _job(self) -> PlaneRequest | None:
        if self._state is None:
            return None
        config, data, theta, epoch, initial = self._state
        return PlaneRequest(config=config, data=data, theta=theta, epoch=epoch, initial_theta=initial, kind=self.kind(),
                            names=self.names(), grid=self.grid_spin.value(), span=self.range_spin.value(),
                            fit_path=self.fit_check.isChecked())  # fmt: skip

    def _show(self, result: PlaneResult) -> None:
        landscape = result.landscape
        self.plot.set_landscape(landscape)
        self.plot.set_log_scale(self.log_check.isChecked())
        if result.path is not None:
            self.plot.set_paths([(f"path, epochs 0 to {result.request.epoch:,}", PATH_COLOR, result.path_a, result.path_b)])
            self.path_truth_plot.set_path_losses(result.path.epochs, result.path.losses, result.path_plane_loss)
        else:
            self.plot.clear_paths()
            self.path_truth_plot.set_path_losses(np.empty(0, np.int64), np.empty(0), np.empty(0))
        directions = landscape.directions
        label = directions.labels[0].split(" (")[0]  # "random direction 1", "PC1": the plane's axis says the rest
        if directions.names is not None:  # the heat map's axis shows the weight's value; the slice's t is the offset
            label += f" (0 = its value {directions.offsets[0]:.4g})"
        self.slice_plot.set_slice(result.slice_t, result.slice_loss, result.slope, landscape.centre_loss, label)
        text = f"Training loss at θ* (epoch {result.request.epoch:,}): {format_loss(landscape.centre_loss)}."
        span = float(landscape.a[-1])
        if span > result.request.span:
            text += f" The range is widened to ±{span:.3g} to show the whole path."
        if result.path is not None:
            gap = np.abs(result.path.losses - result.path_plane_loss)
            text += f" Along the path the plane's loss is off by at most {format_loss(float(np.nanmax(gap)))}."
        self._say(f"{text} {result.path_note}".strip())

    def _clear(self) -> None:
        self.plot.set_landscape(None)
        self.plot.clear_paths()
        self.slice_plot.set_slice(np.empty(0), np.empty(0), float("nan"), float("nan"), "")
        self.path_truth_plot.set_path_losses(np.empty(0, np.int64), np.empty(0), np.empty(0))


class SharedPlanePanel(_PlaneTab):
    """The Compare tab's loss surface: one plane through the runs' common initial weights (random or parameter
    directions: principal components would be those of one run's path), every run's path on it in its colour, the
    plane's range fitted around the paths. Fed by `set_runs`."""

    def __init__(self, parent=None) -> None:
        super().__init__(SHARED_DIRECTIONS, parent)
        self.setObjectName("compareLandscapePanel")
        self.direction_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for widget, name in zip(
            (self.direction_combo, *self.param_combos), ("compareDirectionCombo", "compareParam1Combo", "compareParam2Combo")
        ):
            widget.setObjectName(name)
        self.compute_button.setObjectName("compareLandscapeCompute")
        self.cancel_button.setObjectName("compareLandscapeCancel")
        self.progress_bar.setObjectName("compareLandscapeProgress")
        self.message.setObjectName("compareLandscapeMessage")
        self.grid_spin.setValue(SHARED_GRID)
        self.grid_spin.setSuffix("")
        self._runs: tuple | None = None  # (base, configs, labels, data, epoch)
        self.plot = LandscapePlot()
        self.plot.setObjectName("compareLandscapePlot")
        top = QHBoxLayout()
        top.addWidget(QLabel("Plane through the shared initial weights"))
        top.addWidget(self.direction_combo)
        top.addWidget(self.param_combos[0])
        top.addWidget(self.param_combos[1])
        top.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(QLabel("Grid points per side"))
        second.addWidget(self.grid_spin)
        second.addWidget(self.compute_button)
        second.addWidget(self.cancel_button)
        second.addWidget(self.progress_bar, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addLayout(second)
        column.addWidget(self.message)
        column.addWidget(self.plot, 1)
        self.log_check = QCheckBox("log colours")
        self.log_check.setObjectName("compareLogScaleCheck")
        self.log_check.setToolTip("Colour by log₁₀ of the loss")
        self.log_check.toggled.connect(self.plot.set_log_scale)
        second.insertWidget(2, self.log_check)
        self._say("Train the runs to see their paths on one loss surface.")

    def _show_param_combos(self) -> None:
        for combo in self.param_combos:  # in a row of their own: shown only when they are used
            combo.setVisible(self.kind() == "params")

    def set_runs(self, base: TrainConfig, configs: list[TrainConfig], labels: list[str], data: Dataset, epoch: int) -> None:
        """The runs on show: variations of `base` (whose initial weights they share) trained `epoch` epochs on `data`."""
        runs = (base, tuple(configs), tuple(labels), data, int(epoch))
        old = self._runs
        if old is not None and old[3] is data and old[:3] == runs[:3] and old[4] == runs[4]:
            return
        self._runs = runs
        self._set_layout(Layout.from_sizes(base.layer_sizes))
        self._changed()

    def _job(self) -> SharedPlaneRequest | None:
        if self._runs is None:
            return None
        base, configs, labels, data, epoch = self._runs
        return SharedPlaneRequest(base=base, configs=configs, labels=labels, data=data, epoch=epoch, kind=self.kind(),
                                  names=self.names(), grid=self.grid_spin.value())  # fmt: skip

    def _show(self, result: SharedPlaneResult) -> None:
        self.plot.set_landscape(result.landscape)
        self.plot.set_paths([(label, RUN_COLORS[i % len(RUN_COLORS)], a, b) for i, (label, a, b) in enumerate(result.paths)])
        request, landscape = result.request, result.landscape
        text = (f"Every run from the shared initial weights (loss {format_loss(landscape.centre_loss)}, ★) to epoch "
                f"{request.epoch:,}, projected onto one plane.")  # fmt: skip
        if any(config.loss != request.base.loss for config in request.configs):
            text += f" The surface is the {request.base.loss} loss of run 1; runs with another loss descend another surface."
        self._say(text)

    def _clear(self) -> None:
        self.plot.set_landscape(None)
        self.plot.clear_paths()


__all__ = ["LandscapeView", "SharedPlanePanel"]
