"""Issue 10's data in the window: choosing a dataset in the Data section restarts training on it, and the window then
matches `Trainer` on that data bit for bit (history rows with the metrics, weights, decision map over the data's
region); a click on a point of the decision map opens it in the Inspect tab; Compare trains on the Train tab's data;
an experiment keeps its data through a save and an open."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QComboBox

from engine import TrainConfig, Trainer
from engine.compare import Comparison
from engine.datasets import DataSpec, make_dataset
from gui import MainWindow
from gui.grids import grid_for, view_bounds
from gui.session import map_side
from tests.gui_helpers import TIMEOUT_MS, assert_params_equal, open_window, run_sweep, step

SPIRAL = DataSpec(name="spiral", points=200)


def choose_dataset(qtbot, window: MainWindow, name: str) -> None:
    """Pick `name` in the Data section's combo (as a user would) and wait for the restart that brings it."""
    combo = window.controls.findChild(QComboBox, "datasetCombo")
    combo.setCurrentIndex(combo.findData(name))
    qtbot.waitUntil(lambda: window.train.data.spec.name == name and window.epoch == 0 and window.state == "Ready",
                    timeout=TIMEOUT_MS)  # fmt: skip


def test_changing_the_dataset_restarts_and_matches_the_trainer_bit_for_bit(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 5)
    assert window.curves.history.n_epochs == 5
    choose_dataset(qtbot, window, "spiral")
    data = window.train.data
    assert "New data" in window.statusBar().currentMessage() and "restarted" in window.statusBar().currentMessage()
    assert window.curves.history.n_epochs == 0 and window.isWindowModified()
    assert np.array_equal(data.inputs, make_dataset(data.spec).inputs) and not data.inputs.flags.writeable
    step(qtbot, window, 30)
    trainer = Trainer(window.shown_config(), data=data)
    rows = trainer.run(30).rows()
    np.testing.assert_array_equal(window.curves.history.exact(), rows)  # loss, test loss, accuracies: the engine's
    assert_params_equal(window.params(), trainer.params)
    side = map_side(trainer.layout.n_params)
    grid = grid_for(view_bounds(data), side)
    expected = trainer.predict(grid.points).reshape(side, side)
    qtbot.waitUntil(lambda: np.array_equal(window.decision_map.image.image, expected), timeout=TIMEOUT_MS)
    assert window.decision_map.dataset is data and window.curves.dataset is data


def test_clicking_a_point_on_the_decision_map_inspects_it(qtbot):
    window = open_window(qtbot)
    choose_dataset(qtbot, window, "spiral")
    step(qtbot, window, 3)
    data = window.train.data
    view_box = window.decision_map.getPlotItem().getViewBox()
    for index in (int(np.flatnonzero(~data.train)[7]), int(np.flatnonzero(data.train)[11])):  # a test, a training point
        window.tabs.setCurrentIndex(0)
        scene = view_box.mapViewToScene(QPointF(*data.inputs[index]))
        pos = window.decision_map.mapFromScene(scene)
        qtbot.mouseClick(window.decision_map.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        view = window.inspect_view
        assert window.tabs.currentWidget() is view and view.chosen_point() == index
        trainer = Trainer(window.shown_config(), data=data)
        trainer.run(3)
        if data.train[index]:
            want = trainer.inspect_sample(int(np.count_nonzero(data.train[:index])))
        else:
            want = trainer.inspect_point(data.inputs[index], float(data.targets[index]))
        qtbot.waitUntil(lambda v=view, w=want: v.trace is not None and np.array_equal(v.trace.x, w.x), timeout=TIMEOUT_MS)
        assert view.trace.y_hat == want.y_hat and view.trace.loss == want.loss


def test_compare_trains_on_the_train_tabs_data(qtbot):
    window = open_window(qtbot)
    view = window.compare_view  # built before the data changes: it follows
    choose_dataset(qtbot, window, "spiral")
    data = window.train.data
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.step_button.isEnabled() and view.dataset is data, timeout=TIMEOUT_MS)
    view.step_spin.setValue(40)
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.epoch == 40, timeout=TIMEOUT_MS)
    reference = Comparison(window.shown_config(), view.configs, data=data)  # the Train tab's network and weights
    for i, (result, _seconds) in enumerate(reference.advance_chunks(40)):
        history = view.histories[i].exact()
        np.testing.assert_array_equal(history[:, 0], result.loss)
        np.testing.assert_array_equal(history[:, 2:], result.metrics[:, 1:])  # train and test accuracy


def test_an_experiment_keeps_its_data_through_save_and_open(qtbot, tmp_path):
    config = TrainConfig(hidden=(4,), features=("x1", "x2", "x1x2"))
    window = open_window(qtbot, config)
    window.train.apply_data(make_dataset(SPIRAL))
    qtbot.waitUntil(lambda: window.train.data.spec == SPIRAL and window.epoch == 0, timeout=TIMEOUT_MS)
    step(qtbot, window, 25)
    path = tmp_path / "spiral.bplab"
    with qtbot.waitSignal(window.experiments.saved, timeout=TIMEOUT_MS):
        window.experiments.save_to(path)
    other = open_window(qtbot)
    assert other.experiments.open(path)
    qtbot.waitUntil(lambda: other.epoch == 25 and not other.loading, timeout=TIMEOUT_MS)
    assert other.train.data.spec == SPIRAL and np.array_equal(other.train.data.inputs, window.train.data.inputs)
    assert other.controls.data().spec == SPIRAL and other.shown_config() == config
    np.testing.assert_array_equal(other.curves.history.exact(), window.curves.history.exact())
    step(qtbot, other, 5)  # and it continues exactly
    trainer = Trainer(config, data=make_dataset(SPIRAL))
    trainer.run(30)
    assert_params_equal(other.params(), trainer.params)


def test_a_sweeps_run_replays_on_the_sweeps_data(qtbot):
    """Sweep on spiral, switch the Train tab to moons, then load one of the sweep's runs: it comes back with the
    sweep's data (the status bar says it was loaded) and replays that run bit for bit."""
    window = open_window(qtbot)
    choose_dataset(qtbot, window, "spiral")
    spiral = window.train.data
    view = run_sweep(qtbot, window, seeds=3, epochs=60, learning_rates="0.5", hidden="3")
    window.tabs.setCurrentIndex(0)
    choose_dataset(qtbot, window, "moons")
    view.select_cell(0, 0)
    qtbot.waitUntil(lambda: window.train.data is spiral and window.epoch == 0 and window.tabs.currentIndex() == 0
                    and window.shown_config().hidden == (3,), timeout=TIMEOUT_MS)  # fmt: skip
    assert window.controls.data() is spiral and "Loaded" in window.statusBar().currentMessage()
    loaded = window.shown_config()
    step(qtbot, window, 60)
    trainer = Trainer(loaded, data=spiral)
    chunk = trainer.run(60)
    assert_params_equal(window.params(), trainer.params)
    row = int(np.flatnonzero(view.result.seed == loaded.seed)[0])
    assert chunk.loss[-1] == view.result.final_loss[row]
