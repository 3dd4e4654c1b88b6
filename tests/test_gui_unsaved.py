"""Whatever replaces the experiment on show asks first about unsaved work, as closing does: File › Open,
Recent experiments, a Sweep run clicked, Settings › Restore notebook defaults. Cancel keeps everything;
Discard goes ahead; Save saves first, then goes ahead."""

import pytest
from PySide6.QtWidgets import QMessageBox

from engine import TrainConfig, Trainer
from engine.experiment import Experiment, load_experiment, save_experiment
from engine.history import History, n_series_for
from gui.experiments import SUFFIX, Experiments, Replace
from tests.gui_helpers import TIMEOUT_MS, assert_params_equal, open_window, run_sweep, step

Button = QMessageBox.StandardButton
OTHER = TrainConfig(seed=7, learning_rate=0.3)


def saved_run(path, config: TrainConfig, epochs: int):
    trainer = Trainer(config)
    chunk = trainer.run(epochs)
    history = History(n_series=n_series_for(trainer.data))
    history.extend(chunk.rows())
    save_experiment(path, Experiment.capture(trainer, history))
    return path


@pytest.fixture
def answer(monkeypatch, tmp_path):
    """Answer the unsaved-work question with `answer.button` (closing: Discard); Save's file dialog gives
    tmp_path/mine.bplab."""
    asked: list[str] = []

    def ask(self):
        if self.unsaved_question.endswith("closing?"):  # the window closing after the test: as conftest answers
            return Button.Discard
        asked.append(self.unsaved_question)
        return answer.button

    monkeypatch.setattr(Experiments, "ask_unsaved", ask)
    monkeypatch.setattr(Experiments, "choose_file", lambda self, *args, **kwargs: (str(tmp_path / f"mine{SUFFIX}"), ""))
    answer.asked = asked
    answer.button = Button.Cancel
    return answer


def unsaved_window(qtbot, epochs: int = 12):
    window = open_window(qtbot)
    step(qtbot, window, epochs)
    assert window.isWindowModified()
    return window


def assert_untouched(qtbot, window, epochs: int) -> None:
    """The window still shows the default run at `epochs`, unsaved, and it still trains."""
    assert window.controls.config() == TrainConfig() and window.shown_config() == TrainConfig()
    assert window.epoch == epochs and window.isWindowModified() and window.experiments.path is None
    step(qtbot, window, 1)
    trainer = Trainer(TrainConfig())
    trainer.run(epochs + 1)
    assert_params_equal(window.params(), trainer.params)


@pytest.mark.parametrize("button", [Button.Cancel, Button.Discard, Button.Save], ids=["cancel", "discard", "save"])
def test_file_open_over_unsaved_work_asks_first(qtbot, tmp_path, monkeypatch, answer, button):
    other = saved_run(tmp_path / "other.bplab", OTHER, 30)
    window = unsaved_window(qtbot)
    answer.button = button
    dialogs = []

    def choose(self, title, *args, **kwargs):
        dialogs.append(title)
        return (str(other), "") if title == "Open experiment" else (str(tmp_path / f"mine{SUFFIX}"), "")

    monkeypatch.setattr(Experiments, "choose_file", choose)
    window.experiments.open_action.trigger()  # File › Open
    assert answer.asked == ["Save the changes to this experiment before opening other.bplab?"]
    if button == Button.Cancel:
        assert dialogs == ["Open experiment"]
        assert_untouched(qtbot, window, 12)
        return
    if button == Button.Save:
        assert dialogs == ["Open experiment", "Save experiment"]
        qtbot.waitUntil(lambda: window.experiments.path == other, timeout=TIMEOUT_MS)
        kept = load_experiment(tmp_path / f"mine{SUFFIX}")
        assert kept.config == TrainConfig() and kept.state.epoch == kept.history.n_epochs == 12
    qtbot.waitUntil(lambda: window.epoch == 30 and not window.loading, timeout=TIMEOUT_MS)
    assert window.controls.config() == OTHER and not window.isWindowModified()
    assert window.windowTitle().startswith("other.bplab")


def test_recent_experiment_over_unsaved_work_asks_first(qtbot, tmp_path, answer):
    other = saved_run(tmp_path / "recent.bplab", OTHER, 30)
    window = unsaved_window(qtbot)
    window.experiments.remember(other)
    action = next(a for a in window.experiments.recent_menu.actions() if a.text() == "recent.bplab")
    action.trigger()
    assert answer.asked == ["Save the changes to this experiment before opening recent.bplab?"]
    assert_untouched(qtbot, window, 12)
    answer.button = Button.Discard
    action.trigger()
    qtbot.waitUntil(lambda: window.epoch == 30 and not window.loading, timeout=TIMEOUT_MS)
    assert window.controls.config() == OTHER


def test_a_bad_file_is_refused_before_asking(qtbot, tmp_path, answer):
    window = unsaved_window(qtbot, 5)
    (tmp_path / "bad.bplab").write_bytes(b"nope")
    with qtbot.waitSignal(window.experiments.failed, timeout=TIMEOUT_MS):
        assert not window.experiments.open(tmp_path / "bad.bplab")
    assert answer.asked == []
    assert_untouched(qtbot, window, 5)


def test_restore_notebook_defaults_over_unsaved_work_asks_first(qtbot, answer):
    config = TrainConfig(hidden=(3,), learning_rate=0.7, seed=3)
    window = open_window(qtbot, config)
    step(qtbot, window, 8)
    window.experiments.restore_defaults()
    assert answer.asked == ["Save the changes to this experiment before restoring the notebook's defaults?"]
    assert window.controls.config() == config and window.epoch == 8 and window.isWindowModified()
    answer.button = Button.Discard
    window.experiments.restore_defaults()
    qtbot.waitUntil(lambda: window.epoch == 0 and window.shown_config() == TrainConfig(), timeout=TIMEOUT_MS)


@pytest.fixture
def swept(qtbot):
    """A window with a small sweep done and 12 unsaved epochs in the Train tab."""
    window = unsaved_window(qtbot)
    return window, run_sweep(qtbot, window, seeds=4, epochs=200, learning_rates="0.5", hidden="3")


@pytest.mark.parametrize("button", [Button.Cancel, Button.Discard, Button.Save], ids=["cancel", "discard", "save"])
def test_sweep_run_clicked_over_unsaved_work_asks_first(qtbot, tmp_path, answer, swept, button):
    window, view = swept
    answer.button = button
    seed = int(view.result.seed[1])
    loaded = view.result.config_of(1)

    def reset_arrived(snap) -> bool:
        return snap.reset

    if button == Button.Cancel:
        view.load(1)  # what clicking a seed's point does
        assert answer.asked == [f"Save the changes to this experiment before loading the run of seed {seed}, "
                                "learning rate 0.5, hidden 3, sgd?"]  # fmt: skip
        assert "was not loaded" in view.message.text() and "was not loaded" in window.statusBar().currentMessage()
        window.tabs.setCurrentIndex(0)
        assert_untouched(qtbot, window, 12)
        return
    with qtbot.waitSignal(window.snapshotApplied, check_params_cb=reset_arrived, timeout=TIMEOUT_MS) as reset:
        view.load(1)
    assert reset.args[0].message == f"Loaded seed {seed}, learning rate 0.5, hidden 3, sgd: press Play to replay it"
    if button == Button.Save:
        kept = load_experiment(tmp_path / f"mine{SUFFIX}")
        assert kept.config == TrainConfig() and kept.state.epoch == 12
    assert window.controls.config() == loaded and window.epoch == 0 and window.tabs.currentIndex() == 0
    # the status bar still says what was loaded: the reset's snapshot says it too, not "Reset to epoch 0"
    assert window.statusBar().currentMessage().startswith(f"Loaded seed {seed}, learning rate 0.5")


@pytest.mark.parametrize("button", [Button.Cancel, Button.Discard, Button.Save], ids=["cancel", "discard", "save"])
def test_replace_experiment_returns_the_answer_and_gives_it_to_the_action(qtbot, answer, button):
    window = unsaved_window(qtbot)
    answer.button = button
    told = []
    how = window.experiments.replace_experiment(told.append, "testing")
    assert answer.asked == ["Save the changes to this experiment before testing?"]
    expected = {Button.Cancel: Replace.CANCELLED, Button.Discard: Replace.NOW, Button.Save: Replace.AFTER_SAVE}[button]
    assert how is expected
    if button == Button.Save:  # the action runs once the file is written
        qtbot.waitUntil(lambda: told == [Replace.AFTER_SAVE], timeout=TIMEOUT_MS)
        assert not window.isWindowModified()  # nothing unsaved now: the next replacement asks nothing
        assert window.experiments.replace_experiment(told.append, "testing") is Replace.NOW and told[-1] is Replace.NOW
        assert len(answer.asked) == 1
    else:
        assert told == ([] if button == Button.Cancel else [Replace.NOW])


def test_sample_steps_are_unsaved_work_and_a_saved_file_reopens_clean(qtbot, tmp_path):
    """Two sample steps change the weights without completing an epoch: the title gets its `*` (closing or
    opening then asks); after saving, and after reopening that file mid-epoch, there is no unsaved work."""
    window = open_window(qtbot)
    assert not window.isWindowModified()
    for n in (1, 2):
        window.step_sample()
        qtbot.waitUntil(lambda n=n: window.sample_position == n, timeout=TIMEOUT_MS)
    assert window.epoch == 0 and window.isWindowModified()
    path = tmp_path / "mid-epoch.bplab"
    with qtbot.waitSignal(window.experiments.saved, timeout=TIMEOUT_MS):
        window.experiments.save_to(path)
    assert not window.isWindowModified()
    window.step_sample()
    qtbot.waitUntil(lambda: window.sample_position == 3, timeout=TIMEOUT_MS)
    assert window.isWindowModified()
    assert window.experiments.open(path)
    qtbot.waitUntil(lambda: window.sample_position == 2 and not window.loading, timeout=TIMEOUT_MS)
    assert not window.isWindowModified()
