"""The control panel: run buttons, speed, every setting of `TrainConfig` and of the data, and the stop rules.

The settings' form is generated from `engine.fields` (one `FieldInput` per field: widget, range, tooltip), so the
window and the command line cannot disagree; the panel adds only the layout, which widgets are enabled or shown,
and the "Open CSV…" button.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine import TrainConfig
from engine.config import MAX_HIDDEN_LAYERS
from engine.datasets import CSV, DATASETS, DataError, Dataset, DataSpec, load_csv, make_dataset, resplit, split_by_file
from engine.features import FEATURES
from engine.fields import BOOL, CHOICE, CONFIG_FIELDS, DATA, DATA_FIELDS, FLOAT, INT, NAMES, NETWORK, SIZES, TRAINING, Field
from engine.optimizers import OPTIMIZERS
from engine.parsing import format_hidden, parse_hidden  # the command line's rule: "none" is no hidden layer

from .dialogs import file_dialog
from .snapshot import StopRules

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
    FIRST_STEP = 1e-4  # up from 0, where 1-2-5 steps have no decade

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
        if self.maximum() >= 1.7e308:
            return f"{self.what} is a number above {low}"
        return f"{self.what} is from {low} to {self.maximum():g}"

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
        rule = self.range_text()
        rule = rule[0].lower() + rule[1:] if rule[1:2].islower() else rule  # mid-sentence, unless it starts "L2"
        self._show_problem(f"“{typed.strip()}” is not allowed: {rule}. Kept {self.textFromValue(self.value())}.", border=False)

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
            if value <= 0:  # a range from 0 (a regularisation rate): up from 0 is the first decade's step
                value = self.FIRST_STEP if steps > 0 else 0.0
                continue
            value = min(max(_next_125(value, up=steps > 0), self.minimum()), self.maximum())
        self.setValue(value)


class ShortSpinBox(QDoubleSpinBox):
    """A number shown without trailing zeros (0.9, not 0.900000), as it is typed on the command line."""

    def textFromValue(self, value: float) -> str:
        return f"{value:.{self.decimals()}f}".rstrip("0").rstrip(".") or "0"


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


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


SUFFIXES = {INT: "Spin", FLOAT: "Spin", CHOICE: "Combo", BOOL: "Check", SIZES: "Edit", NAMES: "Checks"}
SPLITTERS = ("train_fraction", "data_seed")  # the data fields that split a CSV file without a split column
SPLIT_BY_FILE_TIP = "The file's split column decides the split: Train % and Data seed do not apply to it"
BESIDE = {"l2": "l1"}  # fields shown on one line of the form: the panel fits a 768-pixel screen
OBJECT_NAMES = {"features": "featureChecks", "name": "datasetCombo"}  # the contract's names that the rule misses


def object_name(field: Field) -> str:
    """The widget's objectName: the field's name in camelCase and the widget's kind ("learningRateSpin")."""
    return OBJECT_NAMES.get(field.name) or _camel(field.name) + SUFFIXES[field.kind]


class FieldInput:
    """The widget that edits one `Field`, built from its description: a spin box with the field's range (1-2-5
    steps over decades for `log` fields, percent for `percent` ones), a combo box of its choices, a check box, the
    hidden layers' line edit, or a group of check boxes (features: at least one stays checked). Its tooltip is the
    field's help. `value()` reads it (hidden layers may raise `ValueError` with the command line's message),
    `set_value()` shows a value without deciding anything, `connect(slot)` calls `slot` on every edit."""

    def __init__(self, field: Field) -> None:
        self.field = field
        self.boxes: dict[str, QCheckBox] = {}
        self.widget = self._build(field)
        self.widget.setObjectName(object_name(field))
        self.tooltip = f"{field.help[0].upper()}{field.help[1:]} ({field.flag} on the command line)"
        self.widget.setToolTip(self.tooltip)

    def _build(self, field: Field) -> QWidget:
        kind = field.kind
        if kind == INT or (kind == FLOAT and field.percent):
            scale = 100 if field.percent else 1
            spin = QSpinBox()
            spin.setRange(round(field.low * scale), min(round(field.high * scale), MAX_SPIN_INT))
            spin.setSingleStep(int(field.step))
            spin.setSuffix(" %" if field.percent else "")
            spin.setKeyboardTracking(False)  # one edit when the number is typed, not one per digit
            spin.setGroupSeparatorShown(field.high * scale >= 10_000)
            self._read = (lambda: spin.value() / 100) if field.percent else spin.value
            self._show = lambda value: spin.setValue(min(round(value * scale), spin.maximum()))
            self._signals = [spin.valueChanged]
            return spin
        if kind == FLOAT and field.log:
            low = field.low if not field.low_open else sys.float_info.min
            spin = LogSpinBox(low, sys.float_info.max if field.high is None else field.high, what=field.label)
            self._read, self._show, self._signals = spin.value, spin.setValue, [spin.valueChanged]
            return spin
        if kind == FLOAT:
            spin = ShortSpinBox()
            spin.setDecimals(field.decimals)
            spin.setRange(field.low, field.high - 10.0**-field.decimals if field.high_open else field.high)
            spin.setSingleStep(field.step)
            spin.setKeyboardTracking(False)
            self._read, self._show, self._signals = spin.value, spin.setValue, [spin.valueChanged]
            return spin
        if kind == CHOICE:
            box = QComboBox()
            for name in field.choices():
                box.addItem(name, name)
            self._read, self._show = box.currentData, lambda value: self._show_choice(box, value)
            self._signals = [box.currentIndexChanged]
            return box
        if kind == BOOL:
            check = QCheckBox(field.label)
            self._read, self._show, self._signals = check.isChecked, check.setChecked, [check.toggled]
            return check
        if kind == SIZES:
            edit = QLineEdit()
            layers = MAX_HIDDEN_LAYERS - 1
            edit.setValidator(QRegularExpressionValidator(
                QRegularExpression(rf"^\s*(\d{{1,4}}\s*(,\s*\d{{1,4}}\s*){{0,{layers}}}|[Nn][Oo][Nn][Ee]\s*)?$")))  # fmt: skip
            self._read, self._show = lambda: parse_hidden(edit.text()), lambda value: edit.setText(format_hidden(value))
            self._signals = [edit.editingFinished]
            return edit
        # NAMES: one check box per feature, in a grid
        group = QGroupBox(field.label)
        grid = QGridLayout(group)
        grid.setContentsMargins(6, 2, 6, 2)
        grid.setVerticalSpacing(0)
        for i, feature in enumerate(FEATURES.values()):
            box = QCheckBox(feature.label)
            box.setObjectName(f"feature_{feature.name}")
            box.setToolTip(f"{feature.name}: {feature.label}")
            box.toggled.connect(self.keep_one_checked)
            grid.addWidget(box, i // 4, i % 4)
            self.boxes[feature.name] = box
        self._read = lambda: tuple(name for name, box in self.boxes.items() if box.isChecked())
        self._show = lambda names: [box.setChecked(name in names) for name, box in self.boxes.items()]
        self._signals = [box.toggled for box in self.boxes.values()]
        return group

    @staticmethod
    def _show_choice(box: QComboBox, value: str) -> None:
        if box.findData(value) < 0:  # registered after the form was built (the registries are read live)
            box.addItem(value, value)
        box.setCurrentIndex(box.findData(value))

    def keep_one_checked(self) -> None:
        checked = [box for box in self.boxes.values() if box.isChecked()]
        for box in self.boxes.values():
            box.setEnabled(len(checked) != 1 or not box.isChecked())  # the last checked feature cannot be unchecked

    def value(self):
        return self._read()

    def set_value(self, value) -> None:
        self._show(value)

    def connect(self, slot) -> None:
        for signal in self._signals:
            signal.connect(slot)


class ControlPanel(QWidget):
    """Emits `configChanged` with a valid `TrainConfig` whenever a setting changes, and `dataChanged` with the new
    `Dataset` whenever the data does (a dataset, its parameters, or a CSV file opened with "Open CSV…")."""

    configChanged = Signal(object)  # TrainConfig
    dataChanged = Signal(object)  # engine.datasets.Dataset
    speedChanged = Signal(object)  # epochs per second, or None for full speed
    stopRulesChanged = Signal(object)  # StopRules

    def __init__(self, config: TrainConfig, parent=None, data: Dataset | None = None) -> None:
        super().__init__(parent)
        self._building = True
        self._training_enabled = False
        self._loaded: Dataset | None = None  # a CSV file's (or a program's) data, offered in the dataset combo
        self._loaded_splits = False  # the loaded data is a CSV file's that Train % and Data seed split (no split column)
        self._points_kept: int | None = None  # the generators' Points while the box shows the loaded data's rows
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

        # --- the settings: one input per field of engine.fields ----------------------------------
        self.inputs = {name: FieldInput(field) for name, field in CONFIG_FIELDS.items()}
        self.data_inputs = {name: FieldInput(field) for name, field in DATA_FIELDS.items() if field.name != "path"}
        self.forms: dict[str, QFormLayout] = {}
        sections = ((DATA, "Data (changing these restarts)"), (NETWORK, "Network (changing these restarts)"),
                    (TRAINING, "Training (applies live)"))  # fmt: skip
        for section, title in sections:
            group = QGroupBox(title)
            self.forms[section] = QFormLayout(group)
            layout.addWidget(group)
        self.open_data_button = QPushButton("Open CSV…")
        self.open_data_button.setObjectName("openDataButton")
        self.open_data_button.setToolTip(DATA_FIELDS["path"].help[0].upper() + DATA_FIELDS["path"].help[1:] +
                                         ". Train % and Data seed split a file without a split column.")  # fmt: skip
        self.open_data_button.clicked.connect(self.choose_csv)
        data_form = self.forms[DATA]
        for first, *more in (("name",), ("points", "noise"), ("train_fraction", "data_seed")):
            row = self._row([self.data_inputs[name] for name in (first, *more)])
            if first == "name":
                row.addWidget(self.open_data_button)
            data_form.addRow(DATA_FIELDS[first].label, row)
        self.data_error = _error_label("dataError")
        data_form.addRow(self.data_error)
        self.hidden_error = _error_label("hiddenError")
        for name, field_input in self.inputs.items():
            form = self.forms[field_input.field.section]
            if name in BESIDE.values():
                continue
            if field_input.field.kind in (BOOL, NAMES):
                form.addRow(field_input.widget)
            elif name in BESIDE:
                form.addRow(field_input.field.label, self._row([field_input, self.inputs[BESIDE[name]]]))
            else:
                form.addRow(field_input.field.label, field_input.widget)
            if name == "hidden":
                form.addRow(self.hidden_error)
        self.errors: dict[str, FloatingError] = {}
        for name, field_input in self.inputs.items():
            if isinstance(field_input.widget, LogSpinBox):
                error = FloatingError(f"{_camel(name)}Error", field_input.widget, self)
                field_input.widget.rejected.connect(lambda text, error=error: _say(error, text))
                self.errors[name] = error
        w = {name: field_input.widget for name, field_input in {**self.inputs, **self.data_inputs}.items()}
        self.hidden_edit, self.activation_combo, self.init_combo, self.seed_spin = (w["hidden"], w["activation"], w["init"],
                                                                                    w["seed"])  # fmt: skip
        self.learning_rate_spin, self.loss_combo, self.optimizer_combo = w["learning_rate"], w["loss"], w["optimizer"]
        self.momentum_spin, self.beta1_spin, self.beta2_spin, self.eps_spin = w["momentum"], w["beta1"], w["beta2"], w["eps"]
        self.mode_combo, self.batch_size_spin, self.shuffle_check = w["mode"], w["batch_size"], w["shuffle"]
        self.l2_spin, self.l1_spin, self.feature_checks = w["l2"], w["l1"], w["features"]
        self.dataset_combo, self.points_spin, self.noise_spin = w["name"], w["points"], w["noise"]
        self.train_fraction_spin, self.data_seed_spin = w["train_fraction"], w["data_seed"]
        self.learning_rate_error = self.errors["learning_rate"]
        for i, name in enumerate(DATASETS):
            self.dataset_combo.setItemData(i, DATASETS[name].description, Qt.ItemDataRole.ToolTipRole)

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
        self.stop_loss_spin = LogSpinBox(1e-12, 1e3, what="The stop loss")
        self.stop_loss_spin.setObjectName("stopLossSpin")
        self.stop_loss_spin.setValue(DEFAULT_STOP_LOSS)
        self.stop_loss_spin.setToolTip("Loss below which training pauses")
        self.stop_loss_error = FloatingError("stopLossError", self.stop_loss_spin, self)
        self.stop_loss_spin.rejected.connect(lambda text: _say(self.stop_loss_error, text))
        form.addRow(self.stop_epoch_check, self.stop_epoch_spin)
        form.addRow(self.stop_loss_check, self.stop_loss_spin)
        layout.addWidget(stop)
        layout.addStretch(1)

        self.set_data(make_dataset() if data is None else data)
        self.set_config(config)
        self._update_speed_label()
        for field_input in self.inputs.values():
            field_input.connect(self._edited)
        for field_input in self.data_inputs.values():
            field_input.connect(self._data_edited)
        self.hidden_edit.textEdited.connect(lambda _text: self.hidden_error.hide())
        self.speed_slider.valueChanged.connect(self._speed_moved)
        for w in (self.stop_epoch_check, self.stop_loss_check):
            w.toggled.connect(self._rules_edited)
        self.stop_epoch_spin.valueChanged.connect(self._rules_edited)
        self.stop_loss_spin.valueChanged.connect(self._rules_edited)
        self._building = False

    @staticmethod
    def _row(inputs: list[FieldInput]) -> QHBoxLayout:
        """Several fields on one line of a form, each after its label (the first one's label is the form's)."""
        row = QHBoxLayout()
        for i, field_input in enumerate(inputs):
            if i:
                row.addWidget(QLabel(field_input.field.label))
            row.addWidget(field_input.widget, 1)
        return row

    # --- reading and writing ------------------------------------------------------------------
    def set_config(self, config: TrainConfig) -> None:
        """Show `config` without emitting `configChanged`."""
        building, self._building = self._building, True
        for name, field_input in self.inputs.items():
            field_input.set_value(getattr(config, name))
        self.inputs["features"].keep_one_checked()
        if self.learning_rate_spin.value() != config.learning_rate:  # below 2.2e-308: the field cannot hold it
            _say(self.learning_rate_error, f"The learning rate {config.learning_rate:g} is below what this field holds; "
                                           f"editing a setting will make it {self.learning_rate_spin.value():g}.")  # fmt: skip
        self._config = config
        self._sync_enabled()
        self._building = building

    def config(self) -> TrainConfig:
        return self._config

    def set_data(self, data: Dataset) -> None:
        """Show `data` without emitting `dataChanged`. Data that no generator makes (a CSV file, a program's arrays)
        becomes the combo's last entry, so that choosing it again after another dataset brings it back."""
        building, self._building = self._building, True
        spec = data.spec
        if spec.name not in DATASETS:
            self._offer_loaded(data)
        self.data_inputs["name"].set_value(spec.name)  # a dataset registered after the form was built is added
        # a file's points are its rows, not a generator's count (the Points box shows them: `_show_points`)
        for name in ("points", "noise", *SPLITTERS) if spec.generated else SPLITTERS if spec.name == CSV else ():
            field, value = DATA_FIELDS[name], getattr(spec, name)
            if field.low <= value <= field.high:
                self.data_inputs[name].set_value(value)
        self._data = data
        _say(self.data_error, "")
        self._sync_enabled()
        self._building = building

    def data(self) -> Dataset:
        return self._data

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

    # --- data files -----------------------------------------------------------------------------
    def choose_csv(self) -> None:
        """ "Open CSV…": ask for a file with `file_dialog`, then `open_csv` it."""
        start = str(Path(self._loaded.spec.path).parent) if self._loaded is not None and self._loaded.spec.path else ""
        dialog = file_dialog(self, "Open data", start, "CSV files (*.csv);;All files (*)", save=False)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
                return
            path = dialog.selectedFiles()[0]
        finally:
            dialog.deleteLater()
        self.open_csv(path)

    def open_csv(self, path: str) -> bool:
        """Load the CSV file at `path` (split by its split column, else by Train % and Data seed) and train on it
        (`dataChanged`). A file that cannot be used shows one warning naming the row and column, and changes
        nothing. Returns whether the file was loaded."""
        try:
            data = load_csv(path, self.data_inputs["train_fraction"].value(), self.data_inputs["data_seed"].value())
        except DataError as err:
            QMessageBox.warning(self, "Backprop Lab", f"The data was not changed: {err}")
            return False
        self._offer_loaded(data)
        self._set_dataset(data)
        return True

    def _offer_loaded(self, data: Dataset) -> None:
        """Make `data` (not a generator's) the combo's loaded entry, replacing an earlier one."""
        combo = self.dataset_combo
        building, self._building = self._building, True  # the combo's own signals are not an edit
        if self._loaded is not None:
            combo.removeItem(combo.findData(self._loaded.spec.name))
        self._loaded = data
        self._loaded_splits = data.spec.name == CSV and not split_by_file(data)
        text = f"CSV file: {Path(data.spec.path).name}" if data.spec.name == CSV else f"{data.spec.name} data"
        combo.addItem(text, data.spec.name)
        combo.setItemData(combo.count() - 1, data.spec.path or text, Qt.ItemDataRole.ToolTipRole)
        self._building = building

    # --- reactions ----------------------------------------------------------------------------
    def _sync_enabled(self) -> None:
        mode = self.mode_combo.currentText()
        self.batch_size_spin.setEnabled(mode == "minibatch")
        self.shuffle_check.setEnabled(mode != "batch")
        one_per_update = mode == "sgd" or (mode == "minibatch" and self.batch_size_spin.value() == 1)
        self.sample_step_button.setEnabled(self._training_enabled and one_per_update)
        optimizer = OPTIMIZERS.get(self.optimizer_combo.currentText())
        coefficients = {name for opt in OPTIMIZERS.values() for name in opt.uses}
        for name in coefficients & set(self.inputs):  # show only the coefficients the optimizer uses
            self.forms[TRAINING].setRowVisible(self.inputs[name].widget, optimizer is not None and name in optimizer.uses)
        current = self.dataset_combo.currentData()
        kind = DATASETS.get(current)
        loaded = self._loaded if self._loaded is not None and current == self._loaded.spec.name else None
        self._show_points(loaded)
        for name, field_input in self.data_inputs.items():
            if name == "name":
                continue
            if loaded is None:
                field_input.widget.setEnabled(kind is not None and name in kind.parameters)
                field_input.widget.setToolTip(field_input.tooltip)
                continue
            splitter = name in SPLITTERS and loaded.spec.name == CSV
            field_input.widget.setEnabled(splitter and self._loaded_splits)
            field_input.widget.setToolTip(field_input.tooltip if not splitter or self._loaded_splits else SPLIT_BY_FILE_TIP)

    def _show_points(self, loaded: Dataset | None) -> None:
        """The Points box shows the loaded data's rows while its entry is chosen (its range widened to hold them), and
        the generators' count, kept meanwhile, once a generated dataset is chosen again."""
        spin, field = self.points_spin, DATA_FIELDS["points"]
        building, self._building = self._building, True  # showing is not an edit
        if loaded is not None:
            if self._points_kept is None:
                self._points_kept = spin.value()
            spin.setRange(min(field.low, loaded.n), max(field.high, loaded.n))
            spin.setValue(loaded.n)
        elif self._points_kept is not None:
            kept, self._points_kept = self._points_kept, None
            spin.setRange(field.low, field.high)
            spin.setValue(kept)
        self._building = building

    def _edited(self) -> None:
        self._sync_enabled()
        if self._building:
            return
        for name, error in self.errors.items():  # a valid edit: what was refused before is old news
            if not self.inputs[name].widget.has_bad_text():
                _say(error, "")
        try:
            hidden = self.inputs["hidden"].value()
        except ValueError as err:
            _say(self.hidden_error, f"Hidden layers: {err}")
            return
        _say(self.hidden_error, "")
        self.inputs["hidden"].set_value(hidden)
        values = {name: hidden if name == "hidden" else field_input.value() for name, field_input in self.inputs.items()}
        try:
            config = self._config.replace(**values)
        except ValueError as err:  # the widgets' ranges should prevent this; say so rather than crash
            _say(self.hidden_error, str(err))
            return
        if config != self._config:
            self._config = config
            self.configChanged.emit(config)

    def _data_edited(self) -> None:
        self._sync_enabled()
        if self._building:
            return
        name = self.dataset_combo.currentData()
        if self._loaded is not None and name == self._loaded.spec.name:
            if self._loaded is not self._data:  # chosen again: as it was
                self._set_dataset(self._loaded)
            elif self._loaded_splits:  # Train % or Data seed edited: split the file's rows again (not read again)
                data = resplit(self._loaded, *(self.data_inputs[name].value() for name in SPLITTERS))
                if data is not self._loaded:
                    self._loaded = data
                    self._set_dataset(data)
            return
        values = {name: field_input.value() for name, field_input in self.data_inputs.items()}
        try:
            spec = DataSpec(**values).canonical()
            if spec == self._data.spec:
                return
            data = make_dataset(spec)
        except DataError as err:  # the widgets' ranges should prevent this; say so rather than crash
            _say(self.data_error, str(err))
            return
        self._set_dataset(data)

    def _set_dataset(self, data: Dataset) -> None:
        _say(self.data_error, "")
        self.set_data(data)
        self.dataChanged.emit(data)

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
