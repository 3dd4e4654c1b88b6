"""The control panel: run buttons, speed, every `TrainConfig` setting and the stop rules."""

from __future__ import annotations

import math

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine import ACTIVATIONS, INITS, LOSSES, MODES, OPTIMIZERS, TrainConfig
from engine.config import MAX_BATCH_SIZE, MAX_HIDDEN_LAYERS, MAX_UNITS

from .worker import StopRules

# speed slider positions: 1, 2, 5, 10, ... 1,000,000 epochs per second, then full speed
SPEEDS: tuple[float | None, ...] = (*(m * 10**e for e in range(6) for m in (1, 2, 5)), 1_000_000, None)
MAX_SPIN_INT = 2**31 - 1


class LogSpinBox(QDoubleSpinBox):
    """A positive number spanning decades: shown as %g, arrow keys step 1-2-5 (0.1, 0.2, 0.5, 1, ...)."""

    def __init__(self, minimum: float, maximum: float, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        if stripped in ("", ".", "-", "e", "+"):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped.lower().rstrip("e+-")
            try:
                float(partial)
                return QValidator.State.Intermediate, text, pos
            except ValueError:
                return QValidator.State.Invalid, text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = _next_125(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


def _next_125(value: float, up: bool) -> float:
    exponent = math.floor(math.log10(value))
    ladder = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if up:
        return next(v for v in ladder if v > value * (1 + 1e-9))
    return next(v for v in reversed(ladder) if v < value * (1 - 1e-9))


def parse_hidden(text: str) -> tuple[int, ...] | None:
    """'2' -> (2,), '4, 3' -> (4, 3), '' -> (); None when not allowed."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        return None
    if len(sizes) > MAX_HIDDEN_LAYERS or any(not 1 <= s <= MAX_UNITS for s in sizes):
        return None
    return sizes


def _combo(items: tuple[str, ...], name: str, tip: str) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setObjectName(name)
    box.setToolTip(tip)
    return box


class ControlPanel(QWidget):
    """Emits `configChanged` with a valid `TrainConfig` whenever a setting changes."""

    configChanged = Signal(object)  # TrainConfig
    speedChanged = Signal(object)  # epochs per second, or None for full speed
    stopRulesChanged = Signal(object)  # StopRules

    def __init__(self, config: TrainConfig, parent=None) -> None:
        super().__init__(parent)
        self._building = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        # --- run --------------------------------------------------------------------------------
        run = QGroupBox("Run")
        grid = QVBoxLayout(run)
        buttons = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setObjectName("playButton")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Start or pause training (Space)")
        self.step_button = QPushButton("Step")
        self.step_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.step_button.setObjectName("stepButton")
        self.step_button.setToolTip("Train exactly one epoch, then pause (Right arrow)")
        self.sample_step_button = QPushButton("Sample")
        self.sample_step_button.setObjectName("sampleStepButton")
        self.sample_step_button.setToolTip("Train one sample, then pause (Shift+Right); mode sgd. See the Inspect tab.")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward))
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Back to epoch 0 and the initial weights (Ctrl+R)")
        for b in (self.play_button, self.step_button, self.sample_step_button, self.reset_button):
            buttons.addWidget(b)
        grid.addLayout(buttons)
        step_n = QHBoxLayout()
        self.step_n_spin = QSpinBox()
        self.step_n_spin.setObjectName("stepNSpin")
        self.step_n_spin.setRange(1, MAX_SPIN_INT)
        self.step_n_spin.setValue(100)
        self.step_n_spin.setGroupSeparatorShown(True)
        self.step_n_spin.setToolTip("How many epochs 'Step N' trains")
        self.step_n_button = QPushButton("Step N")
        self.step_n_button.setObjectName("stepNButton")
        self.step_n_button.setToolTip("Train the number of epochs on the left, then pause")
        step_n.addWidget(self.step_n_spin, 1)
        step_n.addWidget(self.step_n_button)
        grid.addLayout(step_n)
        speed_row = QHBoxLayout()
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setValue(len(SPEEDS) - 1)
        self.speed_slider.setToolTip("Training speed: from 1 epoch per second (slow motion) to full speed")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(90)
        speed_row.addWidget(QLabel("Speed"))
        speed_row.addWidget(self.speed_slider, 1)
        speed_row.addWidget(self.speed_label)
        grid.addLayout(speed_row)
        layout.addWidget(run)

        # --- network ----------------------------------------------------------------------------
        net = QGroupBox("Network (changing these restarts)")
        form = QFormLayout(net)
        self.hidden_edit = QLineEdit()
        self.hidden_edit.setObjectName("hiddenEdit")
        self.hidden_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"^\s*(\d{1,4}\s*(,\s*\d{1,4}\s*){0,7})?$")))
        self.hidden_edit.setToolTip(
            f"Hidden layer sizes, input side first: 2, or 4, 3. Empty: no hidden layer. Up to {MAX_HIDDEN_LAYERS} layers "
            f"of 1 to {MAX_UNITS} units. Press Enter to apply."
        )
        self.hidden_error = QLabel()
        self.hidden_error.setStyleSheet("color: #c92a2a")
        self.hidden_error.setWordWrap(True)
        self.hidden_error.hide()
        self.activation_combo = _combo(ACTIVATIONS, "activationCombo", "Hidden-layer activation; the output is always a sigmoid")
        self.init_combo = _combo(
            INITS, "initCombo", "Initial weights: notebook = uniform [0, 1) from np.random.seed(seed); xavier; he"
        )
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setRange(0, MAX_SPIN_INT)
        self.seed_spin.setToolTip("Seed of the initial weights and of the shuffle order")
        form.addRow("Hidden layers", self.hidden_edit)
        form.addRow(self.hidden_error)
        form.addRow("Activation", self.activation_combo)
        form.addRow("Initialisation", self.init_combo)
        form.addRow("Seed", self.seed_spin)
        layout.addWidget(net)

        # --- training ---------------------------------------------------------------------------
        train = QGroupBox("Training (applies live)")
        form = QFormLayout(train)
        self.learning_rate_spin = LogSpinBox(1e-6, 1e6)
        self.learning_rate_spin.setObjectName("learningRateSpin")
        self.learning_rate_spin.setToolTip("Learning rate, from 1e-6 to 1e6. Arrow keys step 1-2-5. Applies from the next chunk.")
        self.loss_combo = _combo(
            LOSSES, "lossCombo", "mse: mean (y − ŷ)², updated by the gradient of ½(y − ŷ)²; bce: cross-entropy"
        )
        self.optimizer_combo = _combo(OPTIMIZERS, "optimizerCombo", "sgd (the notebook's rule), momentum 0.9, or adam")
        self.mode_combo = _combo(
            MODES, "modeCombo", "sgd: update after every sample; minibatch: after 'batch size' samples; batch: once per epoch"
        )
        self.batch_size_spin = QSpinBox()
        self.batch_size_spin.setObjectName("batchSizeSpin")
        self.batch_size_spin.setRange(1, MAX_BATCH_SIZE)
        self.batch_size_spin.setToolTip("Samples per update in minibatch mode")
        self.shuffle_check = QCheckBox("Shuffle each epoch")
        self.shuffle_check.setObjectName("shuffleCheck")
        self.shuffle_check.setToolTip("Visit the samples in a new seeded order every epoch (sgd and minibatch)")
        form.addRow("Learning rate", self.learning_rate_spin)
        form.addRow("Loss", self.loss_combo)
        form.addRow("Optimizer", self.optimizer_combo)
        form.addRow("Mode", self.mode_combo)
        form.addRow("Batch size", self.batch_size_spin)
        form.addRow(self.shuffle_check)
        layout.addWidget(train)

        # --- stop rules -------------------------------------------------------------------------
        stop = QGroupBox("Stop rules")
        form = QFormLayout(stop)
        self.stop_epoch_check = QCheckBox("at epoch")
        self.stop_epoch_check.setObjectName("stopEpochCheck")
        self.stop_epoch_check.setToolTip("Pause when training reaches this epoch")
        self.stop_epoch_spin = QSpinBox()
        self.stop_epoch_spin.setObjectName("stopEpochSpin")
        self.stop_epoch_spin.setRange(1, MAX_SPIN_INT)
        self.stop_epoch_spin.setValue(10000)
        self.stop_epoch_spin.setGroupSeparatorShown(True)
        self.stop_epoch_spin.setToolTip("Epoch at which training pauses")
        self.stop_loss_check = QCheckBox("when loss <")
        self.stop_loss_check.setObjectName("stopLossCheck")
        self.stop_loss_check.setToolTip("Pause after the first epoch whose loss is below this value")
        self.stop_loss_spin = LogSpinBox(1e-12, 1e3)
        self.stop_loss_spin.setObjectName("stopLossSpin")
        self.stop_loss_spin.setValue(0.01)
        self.stop_loss_spin.setToolTip("Loss below which training pauses")
        form.addRow(self.stop_epoch_check, self.stop_epoch_spin)
        form.addRow(self.stop_loss_check, self.stop_loss_spin)
        layout.addWidget(stop)
        layout.addStretch(1)

        self.set_config(config)
        self._update_speed_label()
        for widget in (self.activation_combo, self.init_combo, self.loss_combo, self.optimizer_combo, self.mode_combo):
            widget.currentIndexChanged.connect(self._edited)
        for spin in (self.seed_spin, self.batch_size_spin):
            spin.valueChanged.connect(self._edited)
        self.learning_rate_spin.valueChanged.connect(self._edited)
        self.shuffle_check.toggled.connect(self._edited)
        self.hidden_edit.editingFinished.connect(self._edited)
        self.hidden_edit.textEdited.connect(lambda _text: self.hidden_error.hide())
        self.speed_slider.valueChanged.connect(self._speed_moved)
        for w in (self.stop_epoch_check, self.stop_loss_check):
            w.toggled.connect(self._rules_edited)
        self.stop_epoch_spin.valueChanged.connect(self._rules_edited)
        self.stop_loss_spin.valueChanged.connect(self._rules_edited)
        self._building = False

    # --- reading and writing ------------------------------------------------------------------
    def set_config(self, config: TrainConfig) -> None:
        """Show `config` without emitting `configChanged`."""
        building, self._building = self._building, True
        self.hidden_edit.setText(", ".join(str(s) for s in config.hidden))
        self.activation_combo.setCurrentText(config.activation)
        self.init_combo.setCurrentText(config.init)
        self.seed_spin.setValue(min(config.seed, MAX_SPIN_INT))
        self.learning_rate_spin.setValue(config.learning_rate)
        self.loss_combo.setCurrentText(config.loss)
        self.optimizer_combo.setCurrentText(config.optimizer)
        self.mode_combo.setCurrentText(config.mode)
        self.batch_size_spin.setValue(config.batch_size)
        self.shuffle_check.setChecked(config.shuffle)
        self._config = config
        self._sync_enabled()
        self._building = building

    def config(self) -> TrainConfig:
        return self._config

    def stop_rules(self) -> StopRules:
        return StopRules(
            at_epoch=self.stop_epoch_spin.value() if self.stop_epoch_check.isChecked() else None,
            below_loss=self.stop_loss_spin.value() if self.stop_loss_check.isChecked() else None,
        )

    def speed(self) -> float | None:
        return SPEEDS[self.speed_slider.value()]

    def show_running(self, running: bool) -> None:
        """Label the play button for what a click does next."""
        icon = QStyle.StandardPixmap.SP_MediaPause if running else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setText("Pause" if running else "Play")
        self.play_button.setIcon(self.style().standardIcon(icon))

    def set_training_enabled(self, enabled: bool) -> None:
        self._training_enabled = enabled
        for w in (self.play_button, self.step_button, self.step_n_button, self.reset_button):
            w.setEnabled(enabled)
        self._sync_enabled()

    # --- reactions ----------------------------------------------------------------------------
    def _sync_enabled(self) -> None:
        mode = self.mode_combo.currentText()
        self.batch_size_spin.setEnabled(mode == "minibatch")
        self.shuffle_check.setEnabled(mode != "batch")
        one_per_update = mode == "sgd" or (mode == "minibatch" and self.batch_size_spin.value() == 1)
        self.sample_step_button.setEnabled(getattr(self, "_training_enabled", False) and one_per_update)

    def _edited(self) -> None:
        self._sync_enabled()
        if self._building:
            return
        hidden = parse_hidden(self.hidden_edit.text())
        if hidden is None:
            self.hidden_error.setText(f"Layer sizes are 1 to {MAX_UNITS}, at most {MAX_HIDDEN_LAYERS} layers, e.g. 4, 3")
            self.hidden_error.show()
            return
        self.hidden_error.hide()
        self.hidden_edit.setText(", ".join(str(s) for s in hidden))
        try:
            config = self._config.replace(
                hidden=hidden,
                activation=self.activation_combo.currentText(),
                init=self.init_combo.currentText(),
                seed=self.seed_spin.value(),
                learning_rate=self.learning_rate_spin.value(),
                loss=self.loss_combo.currentText(),
                optimizer=self.optimizer_combo.currentText(),
                mode=self.mode_combo.currentText(),
                batch_size=self.batch_size_spin.value(),
                shuffle=self.shuffle_check.isChecked(),
            )
        except ValueError as err:  # the widgets' ranges should prevent this; say so rather than crash
            self.hidden_error.setText(str(err))
            self.hidden_error.show()
            return
        if config != self._config:
            self._config = config
            self.configChanged.emit(config)

    def _speed_moved(self) -> None:
        self._update_speed_label()
        self.speedChanged.emit(self.speed())

    def _update_speed_label(self) -> None:
        speed = self.speed()
        self.speed_label.setText("full speed" if speed is None else f"{speed:,.0f} epoch/s")

    def _rules_edited(self) -> None:
        if not self._building:
            self.stopRulesChanged.emit(self.stop_rules())
