"""The control panel: run buttons, speed, every `TrainConfig` setting and the stop rules."""

from __future__ import annotations

import math
import sys

from PySide6.QtCore import QPoint, QRegularExpression, Qt, QTimer, Signal
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
from engine.parsing import format_hidden, parse_hidden  # the command line's rule: "none" is no hidden layer

from .worker import StopRules

# speed slider positions: 1, 2, 5, 10, ... 1,000,000 epochs per second, then full speed
SPEEDS: tuple[float | None, ...] = (*(m * 10**e for e in range(6) for m in (1, 2, 5)), 1_000_000, None)
MAX_SPIN_INT = 2**31 - 1
# Where Play starts (a fresh window, and Settings › Restore notebook defaults): the notebook's 10,000 epochs
# unfold in about 10 seconds, then training pauses. Full speed fits them into a fraction of a second.
DEFAULT_SPEED = 1000
DEFAULT_STOP_EPOCH = 10_000
DEFAULT_STOP_LOSS = 0.01
ERROR_COLOR = "#c92a2a"


class LogSpinBox(QDoubleSpinBox):
    """A positive number spanning decades: shown in Python's shortest exact form, arrow keys step 1-2-5
    (0.1, 0.2, 0.5, 1, ...). Text that is not a number in range gets a red border while typed, and if
    left so, `rejected` says what was kept (Qt's spin boxes would put the last value back silently)."""

    rejected = Signal(str)  # a sentence for the user, "" once the text is good again

    def __init__(self, minimum: float, maximum: float, parent=None, what: str = "value") -> None:
        super().__init__(parent)
        self.setDecimals(323)  # Qt's largest: rounds to 323 decimals, which keeps any normal double > 1e-308
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)
        self.what = what
        self._typed: str | None = None  # text typed that is not acceptable (yet)
        self._problem = False  # a problem is on show
        self.lineEdit().textEdited.connect(self._text_edited)
        self.editingFinished.connect(self._editing_finished)

    def textFromValue(self, value: float) -> str:
        text = repr(float(value))  # the shortest text that reads back as exactly this value
        return text[:-2] if text.endswith(".0") else text

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def sizeHint(self):
        hint = super().sizeHint()  # sized for the longest of minimum and maximum: keep it to a usual value's width
        hint.setWidth(min(hint.width(), self.fontMetrics().horizontalAdvance("0.000123456") + 40))
        return hint

    def minimumSizeHint(self):
        return self.sizeHint()

    def range_text(self) -> str:
        low = "0" if self.minimum() <= 2.3e-308 else f"{self.minimum():g}"
        high = "any finite number" if self.maximum() >= 1.7e308 else f"{self.maximum():g}"
        return f"{self.what} is a number above {low}" if high.startswith("any") else f"{self.what} is from {low} to {high}"

    def validate(self, text: str, pos: int):
        """Acceptable: a finite number in range. Anything else is Intermediate, so that it stays visible
        (in red) rather than the keystroke being refused without a word."""
        try:
            value = float(text.strip())
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        if math.isfinite(value) and self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def _text_edited(self, text: str) -> None:
        good = self.validate(text, 0)[0] == QValidator.State.Acceptable
        self._typed = None if good else text
        rule = self.range_text()
        self._show_problem(None if good else f"{rule[0].upper()}{rule[1:]}, e.g. 0.1 or 1e-3")

    def has_bad_text(self) -> bool:
        """Text is being typed that is not (yet) an acceptable value."""
        return self._typed is not None

    def _editing_finished(self) -> None:
        typed, self._typed = self._typed, None
        if typed is None:
            return
        self._show_problem(f"“{typed.strip()}” is not allowed: {self.range_text()}. Kept {self.textFromValue(self.value())}.",
                           border=False)  # fmt: skip

    def _show_problem(self, message: str | None, border: bool = True) -> None:
        self._problem = bool(message)
        self.setStyleSheet(f"QDoubleSpinBox {{ border: 2px solid {ERROR_COLOR}; }}" if message and border else "")
        self.rejected.emit(message or "")

    def setValue(self, value: float) -> None:
        if self._problem:
            self._typed = None
            self._show_problem(None)
        super().setValue(value)

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = min(max(_next_125(value, up=steps > 0), self.minimum()), self.maximum())
        self.setValue(value)


def _next_125(value: float, up: bool) -> float:
    exponent = math.floor(math.log10(value))
    # from text, so 2e-05 is exactly 2e-05 and 1e309 is inf rather than an OverflowError
    ladder = [float(f"{m}e{e}") for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if up:
        return next((v for v in ladder if v > value * (1 + 1e-9)), math.inf)
    return next((v for v in reversed(ladder) if v < value * (1 - 1e-9)), 0.0)


def _error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setStyleSheet(f"color: {ERROR_COLOR}")
    label.setWordWrap(True)
    label.hide()
    return label


class FloatingError(QLabel):
    """A field's red message that moves nothing: floated over the form just below `anchor` (not in the layout),
    and gone after HIDE_MS or as soon as the next valid edit is made (`ControlPanel._edited`)."""

    HIDE_MS = 8000

    def __init__(self, name: str, anchor: QWidget, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.anchor = anchor
        self.setStyleSheet(f"QLabel {{ color: {ERROR_COLOR}; background: #fff5f5; border: 1px solid {ERROR_COLOR};"
                           " border-radius: 3px; padding: 2px 4px; }")  # fmt: skip
        self.setWordWrap(True)
        self.hide()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(self.HIDE_MS)
        self.timer.timeout.connect(self.hide)

    def say(self, text: str) -> None:
        self.setText(text)
        if not text:
            self.timer.stop()
            self.hide()
            return
        parent = self.parentWidget()
        top = self.anchor.mapTo(parent, QPoint(0, self.anchor.height() + 2)).y()
        left = 4
        width = max(80, parent.width() - 2 * left)
        self.setGeometry(left, top, width, self.heightForWidth(width))
        self.raise_()
        self.show()
        self.timer.start()


def _say(label: QLabel, text: str) -> None:
    if isinstance(label, FloatingError):
        label.say(text)
        return
    label.setText(text)
    label.setVisible(bool(text))


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
        self.step_n_button.setToolTip("Train the number of epochs on the left, then pause (Pause stops it sooner)")
        step_n.addWidget(self.step_n_spin, 1)
        step_n.addWidget(self.step_n_button)
        grid.addLayout(step_n)
        speed_row = QHBoxLayout()
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setValue(SPEEDS.index(DEFAULT_SPEED))
        self.speed_slider.setToolTip(
            f"Training speed: from 1 epoch per second (slow motion) to full speed. It starts at {DEFAULT_SPEED:,} epochs/s, "
            "so that the first epochs, where most happens, can be watched."
        )
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
        self.hidden_edit.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"^\s*(\d{1,4}\s*(,\s*\d{1,4}\s*){0,7}|[Nn][Oo][Nn][Ee]\s*)?$"))
        )
        self.hidden_edit.setToolTip(
            f"Hidden layer sizes, input side first: 2, or 4, 3; none: no hidden layer. Up to {MAX_HIDDEN_LAYERS} layers "
            f"of 1 to {MAX_UNITS} units. Press Enter to apply."
        )
        self.hidden_error = _error_label("hiddenError")
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
        self.learning_rate_spin = LogSpinBox(sys.float_info.min, sys.float_info.max, what="the learning rate")
        self.learning_rate_spin.setObjectName("learningRateSpin")
        self.learning_rate_spin.setToolTip(
            "Learning rate: any number above 0 (type 1e-3 or 1e308). Arrow keys step 1-2-5. Applies from the next chunk."
        )
        self.learning_rate_error = FloatingError("learningRateError", self.learning_rate_spin, self)
        self.learning_rate_spin.rejected.connect(lambda text: _say(self.learning_rate_error, text))
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
        self.stop_epoch_spin.setValue(DEFAULT_STOP_EPOCH)
        self.stop_epoch_check.setChecked(True)
        self.stop_epoch_spin.setGroupSeparatorShown(True)
        self.stop_epoch_spin.setToolTip("Epoch at which training pauses")
        self.stop_loss_check = QCheckBox("when loss <")
        self.stop_loss_check.setObjectName("stopLossCheck")
        self.stop_loss_check.setToolTip("Pause after the first epoch whose loss is below this value")
        self.stop_loss_spin = LogSpinBox(1e-12, 1e3, what="the loss")
        self.stop_loss_spin.setObjectName("stopLossSpin")
        self.stop_loss_spin.setValue(DEFAULT_STOP_LOSS)
        self.stop_loss_spin.setToolTip("Loss below which training pauses")
        self.stop_loss_error = FloatingError("stopLossError", self.stop_loss_spin, self)
        self.stop_loss_spin.rejected.connect(lambda text: _say(self.stop_loss_error, text))
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
        self.hidden_edit.setText(format_hidden(config.hidden))
        self.activation_combo.setCurrentText(config.activation)
        self.init_combo.setCurrentText(config.init)
        self.seed_spin.setValue(min(config.seed, MAX_SPIN_INT))
        self.learning_rate_spin.setValue(config.learning_rate)
        if self.learning_rate_spin.value() != config.learning_rate:  # below 2.2e-308: the field cannot hold it
            _say(self.learning_rate_error, f"The learning rate {config.learning_rate:g} is below what this field holds; "
                                           f"editing a setting will make it {self.learning_rate_spin.value():g}.")  # fmt: skip
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

    def restore_run_defaults(self) -> None:
        """Speed and stop rules as a fresh window has them (emits `speedChanged` and `stopRulesChanged`)."""
        self.speed_slider.setValue(SPEEDS.index(DEFAULT_SPEED))
        self.stop_epoch_spin.setValue(DEFAULT_STOP_EPOCH)
        self.stop_epoch_check.setChecked(True)
        self.stop_loss_spin.setValue(DEFAULT_STOP_LOSS)
        self.stop_loss_check.setChecked(False)

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
        if not self.learning_rate_spin.has_bad_text():  # a valid edit: what was refused before is old news
            _say(self.learning_rate_error, "")
        try:
            hidden = parse_hidden(self.hidden_edit.text())
        except ValueError as err:
            _say(self.hidden_error, f"Hidden layers: {err}")
            return
        _say(self.hidden_error, "")
        self.hidden_edit.setText(format_hidden(hidden))
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
            _say(self.hidden_error, str(err))
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
        if not self.stop_loss_spin.has_bad_text():
            _say(self.stop_loss_error, "")
        if not self._building:
            self.stopRulesChanged.emit(self.stop_rules())
