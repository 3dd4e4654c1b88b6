"""The control panel's form, generated from engine/fields.py: its widgets, their names, and the data it emits."""

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QGroupBox, QMessageBox, QPushButton, QSpinBox

from engine import TrainConfig, optimizers
from engine.datasets import CSV, DATASETS, DataSpec, load_csv, make_dataset, register_dataset, same_arrays
from engine.features import FEATURES
from engine.fields import CONFIG_FIELDS, DATA_FIELDS
from gui import controls
from gui.controls import ControlPanel, LogSpinBox, object_name

CONTRACT = {"datasetCombo": QComboBox, "pointsSpin": QSpinBox, "noiseSpin": QDoubleSpinBox, "trainFractionSpin": QSpinBox,
            "dataSeedSpin": QSpinBox, "featureChecks": QGroupBox, "openDataButton": QPushButton, "l2Spin": LogSpinBox,
            "l1Spin": LogSpinBox}  # fmt: skip
FIRST_WINDOW = ("playButton", "stepButton", "sampleStepButton", "resetButton", "stepNSpin", "stepNButton", "speedSlider",
                "hiddenEdit", "hiddenError", "activationCombo", "initCombo", "seedSpin", "learningRateSpin", "learningRateError",
                "lossCombo", "optimizerCombo", "modeCombo", "batchSizeSpin", "shuffleCheck", "stopEpochCheck", "stopEpochSpin",
                "stopLossCheck", "stopLossSpin", "stopLossError")  # fmt: skip


@pytest.fixture
def panel(qtbot):
    widget = ControlPanel(TrainConfig())
    qtbot.addWidget(widget)
    return widget


def csv_file(tmp_path, rows=20, name="mine.csv"):
    path = tmp_path / name
    path.write_text("x1,x2,label\n" + "".join(f"{i / 7:.3f},{-i / 5:.3f},{i % 2}\n" for i in range(rows)))
    return path


def test_the_contract_names_and_every_field_have_a_widget(panel):
    for name, kind in CONTRACT.items():
        assert isinstance(panel.findChild(kind, name), kind), name
    for name in FIRST_WINDOW:
        assert panel.findChild(object, name) is not None, name
    boxes = panel.feature_checks.findChildren(QCheckBox)
    assert [box.text() for box in boxes] == [f.label for f in FEATURES.values()]
    for field in (*CONFIG_FIELDS.values(), *(f for f in DATA_FIELDS.values() if f.name != "path")):
        widget = panel.findChild(object, object_name(field))
        assert widget is not None and field.help[1:20] in widget.toolTip(), field.name  # the tooltip is the field's help
    combo = panel.dataset_combo
    assert [combo.itemData(i) for i in range(combo.count())] == list(DATASETS)


def test_the_form_shows_the_config_and_edits_emit_it(qtbot, panel):
    config = TrainConfig(hidden=(4, 3), optimizer="adam", beta2=0.99, features=("x1", "x1x2"), l2=0.01, l1=0.002)
    with qtbot.assertNotEmitted(panel.configChanged):
        panel.set_config(config)
    assert panel.hidden_edit.text() == "4, 3" and panel.beta2_spin.value() == 0.99 and panel.beta2_spin.text() == "0.99"
    assert panel.l2_spin.value() == 0.01 and panel.l1_spin.value() == 0.002
    assert [box.isChecked() for box in panel.feature_checks.findChildren(QCheckBox)] == [n in ("x1", "x1x2") for n in FEATURES]
    with qtbot.waitSignal(panel.configChanged) as changed:
        panel.l2_spin.setValue(0.5)
    assert changed.args[0] == config.replace(l2=0.5)
    with qtbot.waitSignal(panel.configChanged) as changed:
        panel.inputs["features"].boxes["sinx2"].setChecked(True)
    assert changed.args[0].features == ("x1", "x1x2", "sinx2") and changed.args[0].layer_sizes == (3, 4, 3, 1)
    panel.l1_spin.setValue(0.0)
    panel.l1_spin.stepBy(1)  # up from 0: the first step of a rate that has no decade yet
    assert panel.config().l1 == LogSpinBox.FIRST_STEP


def test_at_least_one_feature_stays_checked(qtbot, panel):
    boxes = panel.inputs["features"].boxes
    with qtbot.waitSignal(panel.configChanged) as changed:
        boxes["x1"].setChecked(False)
    assert changed.args[0].features == ("x2",)
    assert not boxes["x2"].isEnabled() and boxes["x1"].isEnabled()  # the last one cannot be unchecked
    boxes["x1x2"].setChecked(True)
    assert boxes["x2"].isEnabled() and panel.config().features == ("x2", "x1x2")


def test_only_the_optimizer_s_coefficients_are_shown(panel):
    panel.show()
    shown = {name: panel.inputs[name].widget.isVisible() for name in ("momentum", "beta1", "beta2", "eps")}
    assert not any(shown.values())
    panel.optimizer_combo.setCurrentText("adam")
    assert [panel.inputs[n].widget.isVisible() for n in ("momentum", "beta1", "beta2", "eps")] == [False, True, True, True]
    panel.optimizer_combo.setCurrentText("momentum")
    assert panel.momentum_spin.isVisible() and not panel.eps_spin.isVisible()
    assert panel.config().optimizer == "momentum"


def test_choosing_a_dataset_and_its_parameters_emits_the_data(qtbot, panel):
    params = (panel.points_spin, panel.noise_spin, panel.train_fraction_spin, panel.data_seed_spin)
    assert panel.data().spec == DataSpec() and not any(w.isEnabled() for w in params)  # xor takes no parameters
    with qtbot.waitSignal(panel.dataChanged) as changed:
        panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("spiral"))
    want = make_dataset(DataSpec("spiral"))
    assert changed.args[0].spec == want.spec and all(w.isEnabled() for w in params)
    np.testing.assert_array_equal(changed.args[0].inputs, want.inputs)
    with qtbot.waitSignal(panel.dataChanged) as changed:
        panel.train_fraction_spin.setValue(70)
    assert changed.args[0].spec == DataSpec("spiral", train_fraction=0.7) and changed.args[0].n_train == 140
    for spin, value, field in ((panel.points_spin, 500, "points"), (panel.noise_spin, 0.25, "noise"),
                               (panel.data_seed_spin, 9, "data_seed")):  # fmt: skip
        with qtbot.waitSignal(panel.dataChanged) as changed:
            spin.setValue(value)
        assert getattr(changed.args[0].spec, field) == value
    assert panel.data() is changed.args[0]
    with qtbot.assertNotEmitted(panel.dataChanged):
        panel.set_data(make_dataset())
    assert panel.dataset_combo.currentData() == "xor" and not panel.points_spin.isEnabled()


def test_open_csv_offers_the_file_and_a_bad_one_changes_nothing(qtbot, panel, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    path = csv_file(tmp_path)
    with qtbot.waitSignal(panel.dataChanged) as changed:
        assert panel.open_csv(str(path))
    data = changed.args[0]
    assert data.spec.name == CSV and data.n == 20
    np.testing.assert_array_equal(data.train, load_csv(path).train)
    combo = panel.dataset_combo
    assert combo.currentData() == CSV and "mine.csv" in combo.currentText() and combo.count() == len(DATASETS) + 1
    assert not panel.points_spin.isEnabled() and not panel.noise_spin.isEnabled()
    with qtbot.waitSignal(panel.dataChanged):
        combo.setCurrentIndex(combo.findData("moons"))
    with qtbot.waitSignal(panel.dataChanged) as changed:
        combo.setCurrentIndex(combo.findData(CSV))
    assert changed.args[0] is data  # the file is not read again
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0,0,1\n1,abc,0\n")
    with qtbot.assertNotEmitted(panel.dataChanged):
        assert not panel.open_csv(str(bad))
        assert not panel.open_csv(str(tmp_path / "missing.csv"))
    assert len(warnings) == 2 and "bad.csv" in warnings[0] and "row" in warnings[0] and "missing.csv" in warnings[1]
    assert panel.data() is data and combo.currentData() == CSV and combo.count() == len(DATASETS) + 1


def test_a_csv_without_a_split_column_is_split_again_by_train_and_seed(qtbot, panel, tmp_path):
    """Train % and Data seed stay enabled for a file without a split column (the Open CSV… tooltip says they split it;
    before: greyed out) and split its rows again, exactly as loading it with those values would; the Points box shows
    the file's rows (before: a stale 200) and the generators' count comes back with a generated dataset."""
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("spiral"))
    panel.points_spin.setValue(300)
    path = csv_file(tmp_path, rows=2500)
    with qtbot.waitSignal(panel.dataChanged):
        assert panel.open_csv(str(path))
    assert panel.train_fraction_spin.isEnabled() and panel.data_seed_spin.isEnabled()
    assert not panel.points_spin.isEnabled() and not panel.noise_spin.isEnabled() and panel.points_spin.value() == 2500
    with qtbot.waitSignal(panel.dataChanged) as changed:
        panel.train_fraction_spin.setValue(80)
    data, want = changed.args[0], load_csv(path, 0.8, 0)
    assert data.spec == want.spec and same_arrays(data, want) and data.n_train == 2000
    with qtbot.waitSignal(panel.dataChanged) as changed:
        panel.data_seed_spin.setValue(7)
    assert same_arrays(changed.args[0], load_csv(path, 0.8, 7)) and panel.data() is changed.args[0]
    with qtbot.waitSignal(panel.dataChanged) as changed:
        panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("spiral"))
    assert changed.args[0].spec == DataSpec("spiral", points=300, train_fraction=0.8, data_seed=7)
    assert panel.points_spin.value() == 300 and panel.points_spin.maximum() == DATA_FIELDS["points"].high
    with qtbot.waitSignal(panel.dataChanged) as changed:
        panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData(CSV))
    assert same_arrays(changed.args[0], load_csv(path, 0.8, 7)) and panel.points_spin.value() == 2500


def test_a_csv_with_a_split_column_keeps_train_and_seed_disabled_saying_why(qtbot, panel, tmp_path):
    path = tmp_path / "split.csv"
    path.write_text("x1,x2,label,split\n" + "".join(f"{i},{-i},{i % 2},{'test' if i % 3 == 0 else 'train'}\n" for i in range(5)))
    with qtbot.waitSignal(panel.dataChanged):
        assert panel.open_csv(str(path))
    for spin in (panel.train_fraction_spin, panel.data_seed_spin):
        assert not spin.isEnabled() and "split column decides" in spin.toolTip()
    assert panel.points_spin.value() == 5 and not panel.points_spin.isEnabled()
    with qtbot.waitSignal(panel.dataChanged):
        panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("moons"))
    assert panel.train_fraction_spin.isEnabled() and "split column" not in panel.train_fraction_spin.toolTip()
    assert panel.data().spec == DataSpec("moons") and panel.points_spin.value() == 200


def test_the_open_button_asks_for_a_file(qtbot, panel, tmp_path, monkeypatch):
    path = csv_file(tmp_path, name="asked.csv")

    class Dialog:
        def exec(self):
            return QDialog.DialogCode.Accepted

        def selectedFiles(self):
            return [str(path)]

        def deleteLater(self):
            pass

    asked = []
    monkeypatch.setattr(controls, "file_dialog", lambda *args, **kwargs: asked.append(args) or Dialog())
    with qtbot.waitSignal(panel.dataChanged) as changed:
        panel.open_data_button.click()
    assert asked and "CSV" in asked[0][3] and changed.args[0].spec.path == str(path)


def test_the_panel_fits_a_small_screen(panel):
    """1366×768 less the title bar, menu and status bar: the form, with the data section, needs no more than ~820
    pixels (the window scrolls the rest) and no more width than the first window's."""
    assert panel.sizeHint().height() < 830 and panel.sizeHint().width() < 400


def test_entries_registered_after_the_form_was_built_are_shown(qtbot, panel):
    """The registries are read live: a dataset or an optimizer registered at run time can be shown and chosen."""
    adam = optimizers.OPTIMIZERS["adam"]
    optimizers.register_optimizer(optimizers.Optimizer("toyprop", adam.code, adam.coefficients, ("beta2", "eps"), "-", "-"))
    register_dataset("toyline", "a line", lambda n, noise, rng: (np.column_stack([np.arange(n) - n / 2, np.zeros(n)]),
                                                                  (np.arange(n) % 2).astype(float)))  # fmt: skip
    try:
        panel.set_config(TrainConfig(optimizer="toyprop"))
        assert panel.optimizer_combo.currentText() == "toyprop"
        panel.set_data(make_dataset(DataSpec("toyline", points=40)))
        assert panel.dataset_combo.currentData() == "toyline" and panel.points_spin.value() == 40
        with qtbot.waitSignal(panel.dataChanged) as changed:
            panel.points_spin.setValue(60)
        assert changed.args[0].spec == DataSpec("toyline", points=60) and changed.args[0].n == 60
    finally:
        del optimizers.OPTIMIZERS["toyprop"], DATASETS["toyline"]


def test_the_window_remembers_its_generated_data_with_the_config(qtbot, tmp_path):
    """Closing remembers the data's spec beside the config, so the next launch trains on what this one had (before: the
    features came back on XOR). A CSV file's arrays are not remembered: the next launch starts on XOR. A damaged
    remembered value is ignored."""
    from gui import MainWindow
    from gui.experiments import LAST_DATA, last_config, last_data, settings
    from tests.gui_helpers import wait_ready

    config = TrainConfig(hidden=(4,), features=("x1", "x2", "x1sq"))
    spec = DataSpec("spiral", points=120, noise=0.2, train_fraction=0.7, data_seed=5)
    store = settings()
    try:
        for data, remembered in ((make_dataset(spec), spec), (load_csv(csv_file(tmp_path)), None)):
            window = MainWindow(config, data=data)
            qtbot.addWidget(window)
            window.show()
            wait_ready(qtbot, window)
            window.close()
            assert last_config() == config
            if remembered is None:
                assert last_data() is None and store.value(LAST_DATA) is None
            else:
                assert last_data().spec == remembered and same_arrays(last_data(), make_dataset(remembered))
        store.setValue(LAST_DATA, json.dumps(spec.to_dict()))
        again = MainWindow(last_config(), data=last_data())  # as gui.app.run_window starts a session
        qtbot.addWidget(again)
        assert again.controls.data().spec == spec and again.controls.config() == config
        for damaged in ("{not json", json.dumps({"name": "blobs"}), json.dumps({"name": "spiral", "points": 5}), "[1]",
                        json.dumps({"name": "csv", "path": "gone.csv", "points": 20}), json.dumps({"colour": 1}), 7):  # fmt: skip
            store.setValue(LAST_DATA, damaged)
            assert last_data() is None
    finally:
        store.remove(LAST_DATA)


def test_a_session_with_no_settings_given_starts_on_the_remembered_data(monkeypatch):
    """gui.app.run_window (python main.py with no option) hands the remembered data to the window with the remembered
    config; settings given on the command line, and a config set aside, leave it out."""
    from gui import app
    from gui.experiments import LAST_DATA, settings

    made = []

    class Window:
        def __init__(self, config, data=None):
            made.append((config, data))

        def show(self):
            pass

        def shutdown(self):
            pass

    monkeypatch.setattr("gui.MainWindow", Window)
    monkeypatch.setattr(app, "application", lambda: type("App", (), {"exec": staticmethod(lambda: 0)})())
    config, spec = TrainConfig(features=("x1", "x1x2")), DataSpec("moons", points=80)
    store = settings()
    try:
        store.setValue("lastConfig", json.dumps(config.to_dict()))
        store.setValue(LAST_DATA, json.dumps(spec.to_dict()))
        assert app.run_window(None) == 0
        assert made[-1][0] == config and made[-1][1].spec == spec
        given = make_dataset(DataSpec("circle"))
        assert app.run_window(TrainConfig(), given) == 0 and made[-1] == (TrainConfig(), given)
        store.setValue("lastConfigInUse", json.dumps([2**22 + 12345]))  # a session that did not close: set aside
        assert app.run_window(None) == 0 and made[-1] == (None, None)
    finally:
        for key in ("lastConfig", LAST_DATA, "lastConfigInUse", "setAsideConfig"):  # the marks run_window left too
            store.remove(key)
