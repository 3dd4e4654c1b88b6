"""The "What is happening" panel (gui/diagnosis_panel.py): plain words, epoch links that scrub, Rewind on divergence,
marks on the timeline."""

import numpy as np
from PySide6.QtCore import Qt

from engine import TrainConfig, Trainer
from engine.diagnosis import DIAGNOSIS_KINDS, Diagnosis
from gui.diagnosis_panel import HEALTHY_TEXT, KIND_COLORS, DiagnosisPanel
from tests.gui_helpers import TIMEOUT_MS, assert_params_equal, open_window, step, wait_state

DIVERGED = Diagnosis("diverged", 120, "The loss stopped being finite at epoch 120", "The weights overflowed.",
                     "Rewind to the last finite epoch and branch with a smaller learning rate.")  # fmt: skip
SATURATED = Diagnosis("saturated", 40, "Hidden unit h₂ of layer 1 is saturated", "Its gradient vanishes.",
                      "A smaller learning rate, or another initialisation.", ("h₂",))  # fmt: skip


def test_every_kind_has_a_colour():
    assert set(KIND_COLORS) == set(DIAGNOSIS_KINDS)


def test_the_panel_says_each_diagnosis_in_plain_words_and_its_links_scrub(qtbot):
    panel = DiagnosisPanel()
    qtbot.addWidget(panel)
    assert panel.objectName() == "diagnosisPanel" and not panel.rewind_button.isVisibleTo(panel)
    with qtbot.waitSignal(panel.marksChanged) as marks:
        panel.show_diagnoses((SATURATED, DIVERGED))
    assert [(epoch, colour) for epoch, colour, _ in marks.args[0]] == [(40, KIND_COLORS["saturated"]),
                                                                       (120, KIND_COLORS["diverged"])]  # fmt: skip
    assert "h₂" in marks.args[0][0][2]
    text = panel.text.text()
    for words in ("Hidden unit h₂ of layer 1 is saturated", "Its gradient vanishes.", "another initialisation",
                  'href="epoch:40"', 'href="epoch:120"'):  # fmt: skip
        assert words in text
    with qtbot.waitSignal(panel.scrubRequested) as scrub:
        panel.text.linkActivated.emit("epoch:40")  # what a click on the link sends
    assert scrub.args == [40]
    assert panel.rewind_button.isVisibleTo(panel) and "119" in panel.rewind_button.text()
    with qtbot.waitSignal(panel.rewindRequested) as rewind:
        qtbot.mouseClick(panel.rewind_button, Qt.MouseButton.LeftButton)
    assert rewind.args == [119]  # the epoch before the first non-finite loss
    with qtbot.assertNotEmitted(panel.marksChanged):
        panel.show_diagnoses(None)  # nothing new: kept
        panel.show_diagnoses((SATURATED, DIVERGED))  # the same assessment again: nothing redrawn
    panel.show_diagnoses(())
    assert panel.text.text() == HEALTHY_TEXT and not panel.rewind_button.isVisibleTo(panel)


def test_the_window_shows_a_divergence_and_rewinds_to_the_last_finite_epoch(qtbot):
    config = TrainConfig(learning_rate=1e308, activation="tanh", loss="bce")  # diverges at epoch 1
    window = open_window(qtbot, config)
    panel = window.diagnosis_panel
    assert panel.isVisibleTo(window) and window.train.isAncestorOf(panel)  # under the Train tab's timeline
    slider = window.train.timeline.slider
    assert window.train.timeline.isAncestorOf(panel)
    assert panel.mapTo(window, panel.rect().topLeft()).y() >= slider.mapTo(window, slider.rect().bottomLeft()).y()
    initial = window.params()
    window.play()
    wait_state(qtbot, window, "Diverged")
    qtbot.waitUntil(lambda: panel.diverged() is not None, timeout=TIMEOUT_MS)
    assert panel.diverged().epoch == 1 and panel.rewind_button.objectName() == "rewindFiniteButton"
    assert "Diverged" in panel.text.text() or "finite" in panel.text.text()
    assert [colour for _value, colour, _tip in window.train.timeline.slider.marks] == [KIND_COLORS["diverged"]]
    with qtbot.waitSignal(window.snapshotApplied, check_params_cb=lambda snap: snap.scrubbed == 0, timeout=TIMEOUT_MS):
        qtbot.mouseClick(panel.rewind_button, Qt.MouseButton.LeftButton)
    assert window.epoch == 0
    assert_params_equal(window.params(), initial)
    assert np.isfinite(window.params()[0][0]).all()


def test_a_stuck_run_is_explained_and_a_link_shows_the_run_where_it_began(qtbot):
    config = TrainConfig(learning_rate=50)  # sigmoid at lr 50: the output saturates, the loss sits at 0.5
    window = open_window(qtbot, config)
    step(qtbot, window, 300)
    panel = window.diagnosis_panel
    qtbot.waitUntil(lambda: {"saturated", "plateau"} <= {d.kind for d in panel.diagnoses}, timeout=TIMEOUT_MS)
    plateau = next(d for d in panel.diagnoses if d.kind == "plateau")
    saturated = next(d for d in panel.diagnoses if d.kind == "saturated")
    assert 0 < plateau.epoch < 300 and saturated.title in panel.text.text() and "ŷ" in saturated.units
    colours = [colour for _value, colour, _tip in window.train.timeline.slider.marks]
    assert KIND_COLORS["plateau"] in colours and KIND_COLORS["saturated"] in colours
    with qtbot.waitSignal(window.snapshotApplied, check_params_cb=lambda snap: snap.scrubbed == plateau.epoch,
                          timeout=TIMEOUT_MS):  # fmt: skip
        panel.text.linkActivated.emit(f"epoch:{plateau.epoch}")  # what a click on "since epoch N" sends
    assert window.epoch == plateau.epoch
    trainer = Trainer(config)
    trainer.run(plateau.epoch)
    assert_params_equal(window.params(), trainer.params)


def test_a_long_runs_diagnoses_read_its_first_epochs_and_its_latest_rows_exactly(qtbot):
    """Past DIAGNOSE_EXACT epochs the training thread reads the latest rows it trained and recomputes the epoch at
    90 %: the same diagnoses as from the headless run's own rows."""
    from engine.diagnosis import diagnose_rows, history_rows
    from engine.history import History
    from gui.session import DIAGNOSE_EXACT

    config = TrainConfig(learning_rate=3, optimizer="momentum")  # stuck at a local minimum from epoch 90 on
    epochs = DIAGNOSE_EXACT + 5_000
    window = open_window(qtbot, config)
    step(qtbot, window, epochs)
    trainer = Trainer(config)
    rows = trainer.run(epochs).rows()
    early = History(rows.shape[1])
    early.extend(rows[:DIAGNOSE_EXACT])
    at, found = history_rows(early, epochs, rows=lambda first, last: rows[first - 1 : last])
    expected = [(d.kind, d.epoch) for d in diagnose_rows(config, trainer.data, trainer.theta, at, found) if d.kind != "saturated"]
    assert expected and any(kind == "plateau" for kind, _ in expected)
    panel = window.diagnosis_panel
    qtbot.waitUntil(lambda: [(d.kind, d.epoch) for d in panel.diagnoses if d.kind != "saturated"] == expected, timeout=TIMEOUT_MS)


def test_nothing_is_said_before_the_first_epoch_nor_at_epoch_0(qtbot):
    from gui.diagnosis_panel import EMPTY_TEXT

    window = open_window(qtbot)
    panel = window.diagnosis_panel
    qtbot.waitUntil(lambda: window.train.is_ready, timeout=TIMEOUT_MS)
    assert panel.text.text() == EMPTY_TEXT
    step(qtbot, window, 20)
    qtbot.waitUntil(lambda: panel.text.text() != EMPTY_TEXT, timeout=TIMEOUT_MS)
    window.train.scrub(0)
    qtbot.waitUntil(lambda: window.train.scrubbed == 0 and panel.text.text() == EMPTY_TEXT, timeout=TIMEOUT_MS)
