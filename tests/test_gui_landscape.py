"""The Landscape tab and its thread (gui/landscape_view.py, gui/landscape_thread.py), and the Compare tab's shared
plane: what they compute (against the engine), when they compute it, and how a newer request, Cancel and bad
directions are answered. No sleeps: pytest-qt's waitSignal and waitUntil; every thread is joined."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QProgressBar, QPushButton, QSpinBox

from engine import Layout, TrainConfig, Trainer
from engine.datasets import DataSpec, make_dataset
from engine.landscape import DEFAULT_GRID, MAX_GRID, MIN_GRID, LandscapeError, make_directions, parameter_names
from gui.landscape_plot import LandscapePlot, PathTruthPlot, SlicePlot
from gui.landscape_thread import LandscapeThread, PlaneRequest, PlaneResult, SharedPlaneRequest, SharedPlaneResult
from gui.landscape_view import LandscapeView, SharedPlanePanel
from tests.gui_helpers import TIMEOUT_MS, full_speed, open_window, step

XOR = make_dataset()


def trained(config: TrainConfig, epochs: int, data=XOR) -> Trainer:
    trainer = Trainer(config, data=data)
    trainer.run(epochs)
    return trainer


@pytest.fixture
def thread(qtbot):
    thread = LandscapeThread()
    yield thread
    thread.shutdown()
    assert thread.isFinished() or not thread.isRunning()


def big_request() -> PlaneRequest:
    """A plane that takes long enough to be caught in flight: spiral, hidden (8, 8), 401 × 401 points."""
    data = make_dataset(DataSpec(name="spiral", points=500, train_fraction=0.5))
    config = TrainConfig(hidden=(8, 8))
    theta = Trainer(config, data=data).theta
    return PlaneRequest(config=config, data=data, theta=theta, epoch=0, grid=MAX_GRID, span=1.0)


# --- the thread --------------------------------------------------------------------------------------
def test_the_thread_computes_the_plane_the_path_and_the_slice_of_the_engine(qtbot, thread):
    config = TrainConfig()
    trainer = trained(config, 300)
    request = PlaneRequest(config=config, data=XOR, theta=trainer.theta, epoch=300, kind="random", grid=31, span=0.5)
    with qtbot.waitSignal(thread.result, timeout=TIMEOUT_MS) as got:
        thread.submit(request)
    result: PlaneResult = got.args[0]
    assert result.request is request
    assert result.landscape.centre_loss == trainer.evaluate()["train_loss"]  # bit for bit
    assert result.path is not None and result.path_note == ""
    np.testing.assert_array_equal(result.path.thetas[-1], trainer.theta)
    assert result.path.epochs[0] == 0 and result.path.epochs[-1] == 300
    # the path ends at the plane's centre; the plane's loss there is the true loss
    assert abs(result.path_a[-1]) < 1e-12 and abs(result.path_b[-1]) < 1e-12
    assert result.path_plane_loss[-1] == pytest.approx(result.path.losses[-1], rel=1e-12)
    # the slice passes through the centre with the centre's loss, over the plane's extent along d1
    middle = len(result.slice_t) // 2
    assert result.slice_t[middle] == 0.0
    assert result.slice_loss[middle] == pytest.approx(result.landscape.centre_loss, rel=1e-12)
    assert result.slice_t[-1] == pytest.approx(result.landscape.a[-1], rel=1e-12)  # the plane's line b = 0
    ends = result.landscape.loss[len(result.landscape.b) // 2, [0, -1]]
    np.testing.assert_allclose(result.slice_loss[[0, -1]], ends, rtol=1e-12)
    for array in (result.path_a, result.path_b, result.path_plane_loss, result.slice_t, result.slice_loss):
        assert not array.flags.writeable


def test_the_path_is_left_out_with_a_reason_when_the_replay_does_not_reach_the_shown_weights(qtbot, thread):
    config = TrainConfig()
    trainer = trained(config, 200)
    trainer.set_config(config.replace(learning_rate=2.0))  # the settings changed during the run
    trainer.run(100)
    request = PlaneRequest(config=trainer.config, data=XOR, theta=trainer.theta, epoch=300, grid=11)
    with qtbot.waitSignal(thread.result, timeout=TIMEOUT_MS) as got:
        thread.submit(request)
    result = got.args[0]
    assert result.path is None and result.path_a is None
    assert result.path_note.startswith("The path is not drawn") and "300 epochs" in result.path_note
    assert result.landscape.centre_loss == trainer.evaluate()["train_loss"]


def test_the_plane_is_widened_to_the_whole_path_unless_asked_not_to(qtbot, thread):
    config = TrainConfig()
    trainer = trained(config, 2000)
    names = ("W1[0,0]", "b2[0]")
    results = []
    for fit in (True, False):
        request = PlaneRequest(config=config, data=XOR, theta=trainer.theta, epoch=2000, kind="params", names=names,
                               grid=11, span=0.1, fit_path=fit)  # fmt: skip
        with qtbot.waitSignal(thread.result, timeout=TIMEOUT_MS) as got:
            thread.submit(request)
        results.append(got.args[0])
    widened, kept = results
    reach = max(np.abs(widened.path_a).max(), np.abs(widened.path_b).max())
    assert reach > 0.1 and widened.landscape.a[-1] == pytest.approx(1.1 * reach, rel=1e-12)
    assert kept.landscape.a[-1] == 0.1 and kept.slice_t[-1] == pytest.approx(0.1, rel=1e-12)
    np.testing.assert_array_equal(kept.path_a, widened.path_a)  # the same path and projection (replayed once)


def test_a_newer_request_replaces_the_one_in_flight(qtbot, thread):
    results = []
    thread.result.connect(results.append)
    with qtbot.waitSignal(thread.progress, timeout=TIMEOUT_MS):
        thread.submit(big_request())
    trainer = trained(TrainConfig(), 10)
    small = PlaneRequest(config=TrainConfig(), data=XOR, theta=trainer.theta, epoch=10, grid=11)
    with qtbot.waitSignal(thread.result, timeout=TIMEOUT_MS):
        thread.submit(small)
    thread.shutdown()  # joined: nothing else can arrive
    QCoreApplication.processEvents()  # deliver any queued signal (there must be none)
    assert [r.request for r in results] == [small]


def test_cancel_stops_the_computation_in_flight(qtbot, thread):
    results = []
    thread.result.connect(results.append)
    with qtbot.waitSignal(thread.progress, timeout=TIMEOUT_MS):
        thread.submit(big_request())
    with qtbot.waitSignal(thread.cancelled, timeout=TIMEOUT_MS):
        thread.cancel()
    thread.shutdown()
    QCoreApplication.processEvents()
    assert results == []


@pytest.mark.parametrize(
    ("kind", "names", "epoch", "words"),
    [("pca", None, 0, "principal components"), ("params", ("W1[0,0]", "W1[0,0]"), 0, "W1[0,0]"),
     ("params", ("W9[0,0]", "b2[0]"), 0, "W9[0,0]")],
)  # fmt: skip
def test_bad_directions_fail_with_one_sentence(qtbot, thread, kind, names, epoch, words):
    trainer = trained(TrainConfig(), epoch)
    request = PlaneRequest(config=TrainConfig(), data=XOR, theta=trainer.theta, epoch=epoch, kind=kind, names=names, grid=11)
    with qtbot.waitSignal(thread.failed, timeout=TIMEOUT_MS) as got:
        thread.submit(request)
    text = got.args[0]
    assert words in text and "\n" not in text and "Traceback" not in text


def test_pca_directions_come_from_the_replayed_path(qtbot, thread):
    config = TrainConfig()
    trainer = trained(config, 500)
    request = PlaneRequest(config=config, data=XOR, theta=trainer.theta, epoch=500, kind="pca", grid=11)
    with qtbot.waitSignal(thread.result, timeout=TIMEOUT_MS) as got:
        thread.submit(request)
    result = got.args[0]
    want = make_directions("pca", Layout.from_sizes(config.layer_sizes), trainer.theta, path_thetas=result.path.thetas)
    np.testing.assert_array_equal(result.landscape.directions.d1, want.d1)
    np.testing.assert_array_equal(result.landscape.directions.d2, want.d2)


def test_the_shared_plane_goes_through_the_common_initial_weights_with_every_runs_path(qtbot, thread):
    base = TrainConfig()
    configs = (base.replace(mode="sgd"), base.replace(mode="batch", learning_rate=2.0))
    request = SharedPlaneRequest(base=base, configs=configs, labels=("SGD", "full batch"), data=XOR, epoch=200, grid=21)
    with qtbot.waitSignal(thread.result, timeout=TIMEOUT_MS) as got:
        thread.submit(request)
    result: SharedPlaneResult = got.args[0]
    initial = Trainer(base, data=XOR).theta
    np.testing.assert_array_equal(result.landscape.centre, initial)
    assert [label for label, _a, _b in result.paths] == ["SGD", "full batch"]
    reach = 0.0
    for _label, a, b in result.paths:
        assert a[0] == pytest.approx(0.0, abs=1e-12) and b[0] == pytest.approx(0.0, abs=1e-12)  # all start at the centre
        reach = max(reach, np.abs(a).max(), np.abs(b).max())
    assert result.landscape.a[-1] >= reach  # the plane covers every path
    with pytest.raises(LandscapeError):  # principal components are one path's: the shared plane refuses them
        make_directions("pca", Layout.from_sizes(base.layer_sizes), initial)


# --- the view ----------------------------------------------------------------------------------------
@pytest.fixture
def view(qtbot):
    view = LandscapeView()
    qtbot.addWidget(view)
    yield view
    view.shutdown()


def test_the_view_has_the_widgets_the_issue_names(view):
    for name, kind in (("landscapePlot", LandscapePlot), ("directionCombo", QComboBox), ("param1Combo", QComboBox),
                       ("param2Combo", QComboBox), ("gridSpin", QSpinBox), ("rangeSpin", QDoubleSpinBox),
                       ("logScaleCheck", QCheckBox), ("slicePlot", SlicePlot), ("pathTruthPlot", PathTruthPlot),
                       ("landscapeProgress", QProgressBar), ("cancelLandscapeButton", QPushButton),
                       ("computeButton", QPushButton), ("landscapeMessage", QLabel)):  # fmt: skip
        assert isinstance(view.findChild(kind, name), kind), name
    combo = view.findChild(QComboBox, "directionCombo")
    assert [combo.itemData(i) for i in range(combo.count())] == ["params", "random", "pca"]
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Two parameters", "Random (filter-normalised)", "Principal components of the path"]  # fmt: skip
    grid = view.findChild(QSpinBox, "gridSpin")
    assert (grid.minimum(), grid.maximum(), grid.value()) == (MIN_GRID, MAX_GRID, DEFAULT_GRID)


def test_the_view_computes_only_when_shown_and_follows_the_state(qtbot, view):
    config = TrainConfig()
    trainer = trained(config, 100)
    view.grid_spin.setValue(21)
    view.set_state(config, XOR, trainer.theta, 100)
    assert not view.busy and view.result is None  # hidden: nothing computed
    with qtbot.waitSignal(view.updated, timeout=TIMEOUT_MS):
        view.show()
    assert view.result.landscape.centre_loss == trainer.evaluate()["train_loss"]
    assert view.result.path is not None and "Training loss at θ* (epoch 100)" in view.message.text()
    trainer.run(50)  # training moved on
    with qtbot.waitSignal(view.updated, timeout=TIMEOUT_MS):
        view.set_state(config, XOR, trainer.theta, 150)
    qtbot.waitUntil(lambda: view.result.request.epoch == 150 and not view.busy, timeout=TIMEOUT_MS)
    assert view.result.landscape.centre_loss == trainer.evaluate()["train_loss"]
    view.set_state(config, XOR, trainer.theta.copy(), 150)  # the same state again: nothing to compute
    assert not view.busy and not view._timer.isActive()


def test_the_parameter_combos_list_the_networks_parameters_and_set_the_axes(qtbot, view):
    config = TrainConfig()
    view.set_state(config, XOR, Trainer(config).theta, 0)
    names = parameter_names(Layout.from_sizes(config.layer_sizes))
    first, second = view.param_combos
    assert [first.itemData(i) for i in range(first.count())] == names and second.count() == len(names)
    assert (first.currentData(), second.currentData()) == (names[0], names[-1])  # W⁽¹⁾₁₁ and the output's bias
    assert not first.isEnabled()  # random directions by default
    view.show()
    with qtbot.waitSignal(view.updated, timeout=TIMEOUT_MS):
        view.direction_combo.setCurrentIndex(view.direction_combo.findData("params"))
    assert first.isEnabled()
    assert view.result.landscape.directions.names == (names[0], names[-1])


def test_cancel_in_the_view_says_so_and_keeps_the_controls_usable(qtbot, view):
    request = big_request()
    view.grid_spin.setValue(MAX_GRID)
    view.show()
    with qtbot.waitSignal(view.thread.progress, timeout=TIMEOUT_MS):
        view.set_state(request.config, request.data, request.theta, 0)
    assert view.cancel_button.isEnabled()
    with qtbot.waitSignal(view.thread.cancelled, timeout=TIMEOUT_MS):
        view.cancel_button.click()
    assert "Cancelled" in view.message.text() and not view.cancel_button.isEnabled() and not view.busy
    view.grid_spin.setValue(11)  # a setting changed: computes again
    qtbot.waitUntil(lambda: view.result is not None and len(view.result.landscape.a) == 11, timeout=TIMEOUT_MS)


def test_pca_at_epoch_0_is_one_clear_message_in_the_view(qtbot, view):
    config = TrainConfig()
    view.grid_spin.setValue(11)
    view.set_state(config, XOR, Trainer(config).theta, 0)
    view.show()
    qtbot.waitUntil(lambda: view.result is not None, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(view.updated, timeout=TIMEOUT_MS):
        view.direction_combo.setCurrentIndex(view.direction_combo.findData("pca"))
    assert "principal components" in view.message.text() and view.result is None


# --- in the window --------------------------------------------------------------------------------------
def test_the_landscape_tab_follows_the_train_tab(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 100)
    view = window.show_tab("landscape")
    view.grid_spin.setValue(21)
    qtbot.waitUntil(lambda: view.result is not None and view.result.request.epoch == 100 and not view.busy, timeout=TIMEOUT_MS)
    want = trained(window.shown_config(), 100)
    assert view.result.landscape.centre_loss == want.evaluate()["train_loss"]
    assert view.result.path is not None  # the run replays exactly
    step(qtbot, window, 20)
    qtbot.waitUntil(lambda: view.result.request.epoch == 120 and not view.busy, timeout=TIMEOUT_MS)
    assert view.minimumSizeHint().width() <= window.train.minimumSizeHint().width()  # the tab never widens the window
    window.shutdown()


def test_after_a_sample_step_the_plane_is_drawn_without_the_path_and_says_why(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 10)
    window.step_sample(1)  # the weights are now mid-epoch: no replay of whole epochs reaches them
    qtbot.waitUntil(lambda: window.sample_position == 1, timeout=TIMEOUT_MS)
    view = window.show_tab("landscape")
    view.grid_spin.setValue(11)
    qtbot.waitUntil(lambda: view.result is not None and not view.busy and not view._dirty, timeout=TIMEOUT_MS)
    assert view.result.path is None and not view.plot.path_items()
    assert "The path is not drawn" in view.message.text() and "samples were stepped" in view.message.text()
    np.testing.assert_array_equal(view.result.landscape.centre, Layout.from_sizes((2, 2, 1)).flatten(window.params()))
    window.shutdown()


def test_the_landscape_tab_keeps_up_with_a_running_training(qtbot):
    """While training runs the tab recomputes (at most every half second), and each plane's replayed path reaches the
    shown weights exactly: the running training never starves it."""
    window = open_window(qtbot)
    full_speed(window)
    view = window.show_tab("landscape")
    view.grid_spin.setValue(11)
    epochs = []
    view.updated.connect(lambda: epochs.append((view.result.request.epoch, view.result.path is not None)))
    window.play()
    qtbot.waitUntil(lambda: len({e for e, _ in epochs if e > 0}) >= 3, timeout=TIMEOUT_MS)
    window.pause()
    assert all(drawn for _e, drawn in epochs)  # every plane had the run's own path
    assert [e for e, _ in epochs] == sorted(e for e, _ in epochs)
    window.shutdown()


def test_a_diverged_run_is_one_clear_message(qtbot, thread):
    config = TrainConfig(learning_rate=1e308, activation="tanh", loss="bce")
    trainer = trained(config, 5)
    assert trainer.diverged
    request = PlaneRequest(config=config, data=XOR, theta=trainer.theta, epoch=trainer.epoch, kind="random", grid=11)
    with qtbot.waitSignal(thread.failed, timeout=TIMEOUT_MS) as got:
        thread.submit(request)
    assert "diverge" in got.args[0] and "\n" not in got.args[0]


def test_the_compare_tab_draws_every_runs_path_on_one_plane(qtbot):
    window = open_window(qtbot)
    compare = window.show_tab("compare")
    qtbot.waitUntil(lambda: compare.step_button.isEnabled(), timeout=TIMEOUT_MS)
    compare.step_spin.setValue(200)
    compare.step_button.click()
    qtbot.waitUntil(lambda: getattr(compare, "epoch", 0) == 200, timeout=TIMEOUT_MS)
    panel: SharedPlanePanel = compare.landscape
    assert panel.plot.objectName() == "compareLandscapePlot"
    panel.grid_spin.setValue(21)
    compare.plot_tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.result is not None and not panel.busy, timeout=TIMEOUT_MS)
    assert panel.result.request.epoch == 200
    assert [label for label, _a, _b in panel.result.paths] == compare.labels
    window.shutdown()
