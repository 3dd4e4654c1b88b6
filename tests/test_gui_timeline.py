"""Time travel in the window (issue 11): the timeline under the loss plot, scrubbing to any epoch's exact state,
continuing from it or branching, the tree of runs, and saving it. Offscreen, no sleeps."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMessageBox

from engine import TrainConfig, Trainer
from engine.experiment import load_experiment
from gui.experiments import Experiments
from gui.train_tab import BRANCH, CANCEL, CONTINUE, TrainTab
from tests.gui_helpers import TIMEOUT_MS, assert_params_equal, open_window, step, wait_epoch

Cancel = QMessageBox.StandardButton.Cancel


def headless(config: TrainConfig, epochs: int) -> Trainer:
    trainer = Trainer(config)
    trainer.run(epochs)
    return trainer


def scrub(qtbot, window, epoch: int) -> None:
    window.train.scrub(epoch)
    qtbot.waitUntil(lambda: window.train.scrubbed == epoch and window.epoch == epoch, timeout=TIMEOUT_MS)


def wait_runs(qtbot, window, n: int) -> None:
    qtbot.waitUntil(lambda: window.train.tree is not None and len(window.train.tree.runs) == n, timeout=TIMEOUT_MS)


def branch_from(qtbot, window, epoch: int, learning_rate: float | None = None) -> None:
    """Show `epoch`, set the form's learning rate (if given) and Branch from here; wait for the new run."""
    scrub(qtbot, window, epoch)
    if learning_rate is not None:
        window.controls.learning_rate_spin.setValue(learning_rate)
    runs = len(window.train.tree.runs)
    window.train.branch()
    wait_runs(qtbot, window, runs + 1)


def test_the_timeline_widgets_are_there_under_the_loss_plot(qtbot):
    window = open_window(qtbot)
    for name in ("timelineSlider", "rewindButton", "branchButton", "branchTree"):
        assert window.findChild(object, name) is not None, name
    bar = window.train.timeline
    assert bar.slider.maximum() == 0 and not bar.branch_button.isEnabled()
    assert not bar.tree.isVisible()  # one run: no tree to show
    step(qtbot, window, 30)
    qtbot.waitUntil(lambda: bar.slider.maximum() == 30, timeout=TIMEOUT_MS)
    assert "30" in bar.epoch_label.text() and bar.branch_button.isEnabled()
    plot = window.curves.loss_plot
    assert bar.mapTo(window, bar.rect().topLeft()).y() > plot.mapTo(window, plot.rect().bottomLeft()).y()


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(),
        TrainConfig(mode="sgd", optimizer="adam", learning_rate=0.05, seed=3),
        TrainConfig(mode="minibatch", batch_size=3, hidden=(3,), activation="tanh", seed=7),
    ],
)
def test_scrubbed_views_are_the_headless_trainer_at_that_epoch(qtbot, config):
    window = open_window(qtbot, config)
    step(qtbot, window, 300)
    for epoch in (0, 1, 137, 299, 64):
        scrub(qtbot, window, epoch)
        assert_params_equal(window.params(), headless(config, epoch).params)
    bar = window.train.timeline
    assert bar.shown_epoch == 64 and bar.last_epoch == 300 and "64" in bar.epoch_label.text()
    assert window.curves.cursors[0].isVisible() and window.curves.cursors[0].value() == 64
    assert window.curves.history.n_epochs == 300  # the curves keep the whole run
    from gui.style import format_loss

    assert format_loss(window.curves.history.exact()[63, 0]) in window.loss_label.text()  # the status bar: epoch 64's loss
    window.train.scrub(300)  # the latest epoch: the run as it is, no longer scrubbed
    qtbot.waitUntil(lambda: window.train.scrubbed is None and window.epoch == 300, timeout=TIMEOUT_MS)
    assert_params_equal(window.params(), headless(config, 300).params)
    assert not window.curves.cursors[0].isVisible()


def test_the_slider_and_a_click_on_the_loss_plot_scrub(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 200)
    bar = window.train.timeline
    qtbot.waitUntil(lambda: bar.slider.maximum() == 200, timeout=TIMEOUT_MS)
    bar.slider.setValue(50)  # as a drag does
    qtbot.waitUntil(lambda: window.train.scrubbed == 50, timeout=TIMEOUT_MS)
    assert_params_equal(window.params(), headless(TrainConfig(), 50).params)
    got = []
    window.curves.epochClicked.connect(got.append)
    plot = window.curves.loss_plot
    vb = plot.getPlotItem().getViewBox()
    y_mid = sum(vb.viewRange()[1]) / 2
    point = plot.mapFromScene(vb.mapViewToScene(QPointF(120, y_mid)))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    expected = round(vb.mapSceneToView(plot.mapToScene(point)).x())
    assert got == [expected] and abs(expected - 120) <= 5
    qtbot.waitUntil(lambda: window.train.scrubbed == expected, timeout=TIMEOUT_MS)
    assert_params_equal(window.params(), headless(TrainConfig(), expected).params)
    assert window.curves.cursors[0].value() == expected


def test_play_from_the_past_asks_then_continues_dropping_the_later_epochs(qtbot, monkeypatch):
    window = open_window(qtbot)
    step(qtbot, window, 100)
    scrub(qtbot, window, 40)
    asked = []
    monkeypatch.setattr(TrainTab, "ask_past", lambda self, epoch, later: asked.append((epoch, later)) or CANCEL)
    window.step(1)
    assert asked == [(40, 60)] and window.train.scrubbed == 40  # cancelled: nothing changes
    monkeypatch.setattr(TrainTab, "ask_past", lambda self, epoch, later: asked.append((epoch, later)) or CONTINUE)
    window.step(5)
    wait_epoch(qtbot, window, 45)
    qtbot.waitUntil(lambda: window.curves.history.n_epochs == 45 and window.train.scrubbed is None, timeout=TIMEOUT_MS)
    reference = Trainer(TrainConfig())
    chunk = reference.run(45)
    assert_params_equal(window.params(), reference.params)
    np.testing.assert_array_equal(window.curves.history.exact()[:, 0], chunk.loss)
    assert len(window.train.tree.runs) == 1


def test_branch_from_a_past_epoch_with_a_new_learning_rate_then_select_runs(qtbot, monkeypatch):
    window = open_window(qtbot)
    step(qtbot, window, 120)
    scrub(qtbot, window, 50)
    window.controls.learning_rate_spin.setValue(0.5)  # the form's settings, for the branch
    monkeypatch.setattr(TrainTab, "ask_past", lambda self, epoch, later: BRANCH)
    window.step(30)
    wait_runs(qtbot, window, 2)
    wait_epoch(qtbot, window, 80)
    tree = window.train.tree
    branch = tree.run(tree.current)
    assert branch.parent == 0 and branch.branch_epoch == 50 and "lr 0.5" in branch.label and "50" in branch.label
    reference = headless(TrainConfig(), 50)
    reference.set_config(TrainConfig(learning_rate=0.5))
    reference.run(30)
    assert_params_equal(window.params(), reference.params)
    assert window.curves.history.n_epochs == 80
    assert window.train.timeline.tree.isVisible() and window.train.timeline.tree.topLevelItemCount() == 1
    assert any(c.isVisible() and len(c.getData()[0]) for c in window.curves.branch_curves)  # the first run's curve overlaid
    window.step(20)  # the branch trains on: its history is the window's alone until it is left
    wait_epoch(qtbot, window, 100)
    reference.run(20)
    window.train.select_run(0)  # back to the first run, at its latest epoch
    qtbot.waitUntil(lambda: window.train.tree.current == 0 and window.epoch == 120, timeout=TIMEOUT_MS)
    assert_params_equal(window.params(), headless(TrainConfig(), 120).params)
    assert window.curves.history.n_epochs == 120 and window.controls.config().learning_rate == 0.1
    root_rows = Trainer(TrainConfig()).run(120).rows()
    np.testing.assert_array_equal(window.curves.history.exact(), root_rows)
    item = window.train.timeline.tree.topLevelItem(0).child(0)  # a click on the branch's row selects it
    rect = window.train.timeline.tree.visualItemRect(item)
    qtbot.mouseClick(window.train.timeline.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.train.tree.current == branch.id and window.epoch == 100, timeout=TIMEOUT_MS)
    assert window.controls.config().learning_rate == 0.5
    assert_params_equal(window.params(), reference.params)
    branch_rows = Trainer(TrainConfig()).run(50).rows()  # the branch's history: the root's first 50 epochs, then its own
    again = headless(TrainConfig(), 50)
    again.set_config(TrainConfig(learning_rate=0.5))
    np.testing.assert_array_equal(window.curves.history.exact(), np.vstack([branch_rows, again.run(50).rows()]))


def test_the_branch_button_branches_from_the_shown_epoch(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 60)
    scrub(qtbot, window, 20)
    qtbot.waitUntil(lambda: window.train.timeline.branch_button.isEnabled(), timeout=TIMEOUT_MS)
    qtbot.mouseClick(window.train.timeline.branch_button, Qt.MouseButton.LeftButton)
    wait_runs(qtbot, window, 2)
    wait_epoch(qtbot, window, 20)
    assert window.train.scrubbed is None and window.curves.history.n_epochs == 20
    assert_params_equal(window.params(), headless(TrainConfig(), 20).params)
    step(qtbot, window, 10)
    assert_params_equal(window.params(), headless(TrainConfig(), 30).params)  # same settings: the same run on


def test_rewind_goes_to_the_last_finite_epoch_after_a_divergence(qtbot):
    config = TrainConfig(learning_rate=1e308, activation="tanh", loss="bce")
    window = open_window(qtbot, config)
    window.step(50)
    qtbot.waitUntil(lambda: window.state == "Diverged", timeout=TIMEOUT_MS)
    last = window.epoch
    assert last >= 1 and not np.isfinite(window.curves.history.last[0])
    qtbot.mouseClick(window.train.timeline.rewind_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.train.scrubbed == last - 1, timeout=TIMEOUT_MS)
    assert_params_equal(window.params(), headless(config, last - 1).params)
    assert window.state == "Paused"


def test_a_saved_tree_reopens_with_its_branches(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot)
    step(qtbot, window, 100)
    branch_from(qtbot, window, 30, learning_rate=0.7)
    step(qtbot, window, 20)
    path = tmp_path / "tree.bplab"
    with qtbot.waitSignal(window.experiments.saved, timeout=TIMEOUT_MS):
        window.experiments.save_to(path)
    experiment = load_experiment(path)
    assert experiment.tree is not None and len(experiment.tree.runs()) == 2 and experiment.state.epoch == 50
    window.train.select_run(0)
    qtbot.waitUntil(lambda: window.train.tree.current == 0, timeout=TIMEOUT_MS)
    window.experiments.set_modified(False)
    assert window.experiments.open(path)
    qtbot.waitUntil(lambda: window.train.tree is not None and window.train.tree.current == 1 and window.epoch == 50,
                    timeout=TIMEOUT_MS)  # fmt: skip
    assert len(window.train.tree.runs) == 2
    reference = headless(TrainConfig(), 30)
    reference.set_config(TrainConfig(learning_rate=0.7))
    reference.run(20)
    assert_params_equal(window.params(), reference.params)
    scrub(qtbot, window, 10)  # the reopened run's past, on its path through the first run
    assert_params_equal(window.params(), headless(TrainConfig(), 10).params)
    window.train.select_run(0)
    qtbot.waitUntil(lambda: window.train.tree.current == 0 and window.epoch == 100, timeout=TIMEOUT_MS)
    assert_params_equal(window.params(), headless(TrainConfig(), 100).params)
    window.reset()  # then reopening the same file says what Save would write over
    wait_epoch(qtbot, window, 0)
    asked = []
    monkeypatch.setattr(Experiments, "ask_unsaved", lambda self: asked.append(self.unsaved_question) or Cancel)
    assert not window.experiments.open(path)
    assert "tree.bplab is the experiment on show" in asked[0] and "Discard reopens it as it was saved" in asked[0]
    assert len(load_experiment(path).tree.runs()) == 2
    window.experiments.set_modified(False)  # (closing then asks nothing)


def test_set_marks_draws_on_the_timeline(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 40)
    bar = window.train.timeline
    qtbot.waitUntil(lambda: bar.last_epoch == 40, timeout=TIMEOUT_MS)
    bar.set_marks([(10, "#e03131", "plateau from epoch 10"), (500, "#000000", "beyond the run")])
    assert [(v, c) for v, c, _ in bar.slider.marks] == [(10, "#e03131")]
    bar.grab()  # paints the marks


def test_snapshots_bring_the_diagnoses_of_the_epoch_shown(qtbot):
    window = open_window(qtbot)
    got = []
    window.train.diagnosed.connect(got.append)
    step(qtbot, window, 10_000)  # XOR is solved (every output within 0.4 of its target) by then
    qtbot.waitUntil(lambda: bool(got) and any(d.kind == "solved" for d in got[-1]), timeout=TIMEOUT_MS)
    scrub(qtbot, window, 20)  # not solved yet at epoch 20
    qtbot.waitUntil(lambda: not any(d.kind == "solved" for d in got[-1]), timeout=TIMEOUT_MS)


def test_an_older_file_opens_as_one_run_whose_past_is_checked_then_shown(qtbot):
    window = open_window(qtbot)
    experiment = load_experiment("tests/fixtures/v2_spiral_adam_400.bplab")
    assert window.experiments.open("tests/fixtures/v2_spiral_adam_400.bplab")
    qtbot.waitUntil(lambda: window.epoch == 400 and not window.train.loading, timeout=TIMEOUT_MS)
    scrub(qtbot, window, 150)  # recomputed from the initial weights, checked against the file's state first
    reference = Trainer(experiment.config, data=experiment.data)
    reference.run(150)
    assert_params_equal(window.params(), reference.params)


def test_a_file_whose_settings_changed_mid_run_keeps_training_but_cannot_show_its_past(qtbot):
    window = open_window(qtbot)
    assert window.experiments.open("tests/fixtures/v2_xor_lr_changed.bplab")
    qtbot.waitUntil(lambda: window.epoch == 1000 and not window.train.loading, timeout=TIMEOUT_MS)
    step(qtbot, window, 10)
    experiment = load_experiment("tests/fixtures/v2_xor_lr_changed.bplab")
    trainer = experiment.trainer()
    trainer.run(10)
    assert_params_equal(window.params(), trainer.params)
    window.train.scrub(1005)  # after the file's end: recorded, so shown
    qtbot.waitUntil(lambda: window.train.scrubbed == 1005, timeout=TIMEOUT_MS)
    window.train.scrub(500)  # before it: one clear message, the views stay
    qtbot.waitUntil(lambda: "outside this run" in window.statusBar().currentMessage(), timeout=TIMEOUT_MS)


def test_a_network_too_big_to_keep_its_past_says_so_and_still_trains(qtbot):
    from engine.timeline import keeps_past

    config = TrainConfig(hidden=(1024, 1024))  # 1.05 M parameters: four full checkpoints exceed 64 MB
    assert not keeps_past(1_054_721) and keeps_past(100_000)
    window = open_window(qtbot, config)
    step(qtbot, window, 2)
    window.train.scrub(1)
    qtbot.waitUntil(lambda: "too big to keep its past" in window.statusBar().currentMessage(), timeout=TIMEOUT_MS)
    assert window.train.scrubbed is None and window.epoch == 2


def test_selecting_a_run_at_the_same_epoch_redraws_the_map_and_the_diagnoses(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 100)
    branch_from(qtbot, window, 50, learning_rate=0.5)
    window.step(50)  # the branch at epoch 100 with as many updates as the first run: only the run differs
    wait_epoch(qtbot, window, 100)
    qtbot.waitUntil(lambda: window.state != "Running", timeout=TIMEOUT_MS)
    fresh = []
    window.train.snapshotApplied.connect(lambda snap: fresh.append((snap.grid_output is not None, snap.diagnoses is not None)))
    window.train.select_run(0)
    qtbot.waitUntil(lambda: window.train.tree.current == 0 and any(g for g, _ in fresh) and any(d for _, d in fresh),
                    timeout=TIMEOUT_MS)  # fmt: skip
    assert_params_equal(window.params(), headless(TrainConfig(), 100).params)


def test_settings_typed_on_a_past_epoch_train_the_run_after_a_reset(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 60)
    scrub(qtbot, window, 20)
    window.controls.learning_rate_spin.setValue(0.5)  # held while the past is shown
    window.reset()
    wait_epoch(qtbot, window, 0)
    step(qtbot, window, 30)
    assert_params_equal(window.params(), headless(TrainConfig(learning_rate=0.5), 30).params)


def test_continue_is_not_offered_where_it_would_drop_a_branch_point(qtbot, monkeypatch):
    window = open_window(qtbot)
    step(qtbot, window, 100)
    branch_from(qtbot, window, 60)
    window.train.select_run(0)
    qtbot.waitUntil(lambda: window.train.tree.current == 0 and window.epoch == 100, timeout=TIMEOUT_MS)
    scrub(qtbot, window, 30)
    assert [r.branch_epoch for r in window.train.branches_after(30)] == [60]
    monkeypatch.setattr(TrainTab, "ask_past", lambda self, epoch, later: CONTINUE)  # (the question's button is disabled)
    window.train.step(10)
    assert window.train.scrubbed == 30 and window.train.last_epoch == 100  # nothing dropped, nothing trained
