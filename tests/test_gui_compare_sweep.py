"""The Compare and Sweep tabs, driven from the window."""

import html
import itertools

import numpy as np
from PySide6.QtCore import Qt

from engine import TrainConfig, Trainer
from engine.compare import Comparison, describe_duplicates, duplicate_runs, updates_per_epoch
from engine.config import MAX_UNITS
from engine.datasets import make_dataset
from tests.gui_helpers import TIMEOUT_MS, assert_params_equal, open_window, run_sweep, step


def open_compare(qtbot, config=None):
    window = open_window(qtbot, config)
    window.tabs.setCurrentWidget(window.compare_view)
    view = window.compare_view
    qtbot.waitUntil(lambda: view.step_button.isEnabled() and len(view.histories) == 2, timeout=TIMEOUT_MS)
    return window, view


def test_compare_runs_share_weights_and_match_the_engine(qtbot):
    _window, view = open_compare(qtbot)
    view.step_spin.setValue(8000)
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.epoch == 8000 and view.state == "Paused", timeout=TIMEOUT_MS)
    reference = Comparison(TrainConfig(), [TrainConfig(mode="sgd"), TrainConfig(mode="batch")])
    reference.run(8000)
    for i in range(2):
        np.testing.assert_array_equal(view.histories[i].exact()[:, 0], reference.loss(i))
    shown, expected = view.summaries(), reference.summaries(0.01)
    assert [s.epochs_to_target for s in shown] == [s.epochs_to_target for s in expected]
    assert view.table.item(0, 1).text() == f"{expected[0].epochs_to_target:,}"
    assert view.verdict_label.text().startswith("SGD reached loss 0.01 after")
    # the updates axis multiplies epochs by each mode's updates per epoch
    view.axis_combo.setCurrentText("updates")
    x_sgd = view.curves[0].xData
    x_batch = view.curves[1].xData
    assert updates_per_epoch(TrainConfig(mode="sgd")) == 4 and updates_per_epoch(TrainConfig(mode="batch")) == 1
    np.testing.assert_array_equal(x_sgd, 4 * x_batch)  # the same epochs, four updates each against one
    assert 8000 - 16 < x_batch.max() <= 8000
    view.axis_combo.setCurrentText("seconds")
    assert 0 < view.curves[0].xData.max() < 60
    assert view.plot.getPlotItem().getViewBox().autoRangeEnabled()[0]


def test_compare_play_pause_reset_and_runs(qtbot):
    _window, view = open_compare(qtbot)
    view._add_run()
    qtbot.waitUntil(lambda: len(view.histories) == 3, timeout=TIMEOUT_MS)
    for _ in range(5):
        view._add_run()
    assert view.editor.rowCount() == 6 and not view.add_button.isEnabled()
    qtbot.waitUntil(lambda: len(view.histories) == 6, timeout=TIMEOUT_MS)
    view.limit_spin.setValue(3000)
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.state == "Stopped at target" and view.epoch == 3000, timeout=TIMEOUT_MS)
    assert not view.play_button.isChecked()
    initial = Trainer(TrainConfig()).initial_params
    trainer = Trainer(view.configs[5], initial_params=initial)
    np.testing.assert_array_equal(view.histories[5].exact()[:, 0], trainer.run(3000).loss)
    qtbot.mouseClick(view.reset_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(h.n_epochs == 0 for h in view.histories), timeout=TIMEOUT_MS)
    for _ in range(10):
        view.editor.remove_last()
    assert view.editor.rowCount() == 2 and not view.remove_button.isEnabled()


def test_compare_add_run_never_repeats_a_run_and_duplicates_are_labelled(qtbot):
    _window, view = open_compare(qtbot)
    for _ in range(4):
        qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    assert view.editor.rowCount() == 6
    qtbot.waitUntil(lambda: len(view.labels) == 6, timeout=TIMEOUT_MS)
    configs = view.editor.configs(view._base)
    assert duplicate_runs(configs) == [] and len(set(view.labels)) == 6
    assert not view.runs_note.isVisibleTo(view)
    # every column of the runs table is as wide as its header (it read "earning rate" at 6 runs)
    header = view.editor.horizontalHeader()
    for col in range(header.count()):
        assert header.sectionSize(col) >= header.sectionSizeFromContents(col).width()
    assert view.editor.viewport().width() >= header.length()
    assert not view.editor.verticalScrollBar().isVisible()
    legend = [label.text for _sample, label in view.plot.getPlotItem().legend.items]
    assert legend == view.labels
    # a run edited into a copy of another is labelled apart and flagged
    view.editor.remove_last()
    view.editor.cellWidget(2, 0).setCurrentText("sgd")
    view.editor.cellWidget(2, 3).setCurrentText("sgd")
    view.editor.cellWidget(2, 2).setValue(view.editor.cellWidget(0, 2).value())
    qtbot.waitUntil(lambda: len(view.labels) == 5 and view.labels[2] == "SGD (run 3)", timeout=TIMEOUT_MS)
    assert view.labels[0] == "SGD" and len(set(view.labels)) == 5
    assert view.runs_note.isVisibleTo(view) and "Runs 1 and 3 are the same" in view.runs_note.text()
    # removing the copy clears the note; Add run then adds a run not yet present
    view.editor.cellWidget(2, 2).setValue(0.5)
    qtbot.waitUntil(lambda: not view.runs_note.isVisibleTo(view), timeout=TIMEOUT_MS)
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    assert duplicate_runs(view.editor.configs(view._base)) == []


def test_compare_flags_a_minibatch_of_all_samples_as_full_batch_in_the_command_lines_words(qtbot):
    """Runs 1 (full batch) and 2 (a mini-batch of 4) train bit for bit alike: the note says so as `compare` does."""
    _window, view = open_compare(qtbot)
    assert [c.mode for c in view.editor.configs(view._base)] == ["sgd", "batch"]
    view.editor.cellWidget(0, 0).setCurrentText("minibatch")
    view.editor.cellWidget(0, 1).setValue(4)
    qtbot.waitUntil(lambda: view.runs_note.isVisibleTo(view), timeout=TIMEOUT_MS)
    expected = describe_duplicates(view.editor.configs(view._base), view._base)
    assert view.runs_note.text() == expected and expected.startswith("Runs 1 and 2 are the same run (full batch): ")
    qtbot.waitUntil(lambda: view.labels == ["full batch", "full batch (run 2)"], timeout=TIMEOUT_MS)


def test_compare_follows_the_train_tab_network(qtbot):
    window, view = open_compare(qtbot)
    window.controls.seed_spin.setValue(5)
    qtbot.waitUntil(lambda: len(view.configs) == 2 and view.configs[0].seed == 5, timeout=TIMEOUT_MS)
    assert "seed 5" in view.base_label.text()


def test_sweep_tab_runs_shows_and_loads_a_run(qtbot):
    window = open_window(qtbot)
    view = run_sweep(qtbot, window, seeds=40, epochs=1500, learning_rates="0.5, 2", hidden="2, 3")
    result = view.result
    assert len(result) == 160 and result.complete and view.progress.value() == 160
    # heatmap: fraction solved per (hidden, learning rate)
    for (row, col), rows in view.cell_rows.items():
        assert view.heat_grid[row, col] == result.solved[rows].mean()
        assert set(result.hidden[rows]) == {(2, 3)[row]} and set(result.learning_rate[rows]) == {(0.5, 2.0)[col]}
    # clicking a cell loads its typical run into the Train tab, which replays it exactly
    view.select_cell(1, 0)
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == 0 and window.epoch == 0 and len(window.params()) == 2
                    and window.params()[0][0].shape == (3, 2), timeout=TIMEOUT_MS)  # fmt: skip
    loaded = window.controls.config()
    assert loaded.hidden == (3,) and loaded.learning_rate == 0.5
    row = int(np.flatnonzero((result.seed == loaded.seed) & (result.hidden == 3) & (result.learning_rate == 0.5))[0])
    step(qtbot, window, 1500)
    trainer = Trainer(loaded)
    chunk = trainer.run(1500)
    assert_params_equal(window.params(), trainer.params)
    assert chunk.loss[-1] == result.final_loss[row]


def test_sweep_heatmap_is_empty_with_a_hint_before_any_sweep(qtbot):
    window = open_window(qtbot)
    window.tabs.setCurrentWidget(window.sweep_view)
    view = window.sweep_view
    assert view.heat_image.image is None  # it was a solid square reading as "0 solved"
    assert view.heat_hint.isVisible() and "Run a sweep" in view.heat_hint.toPlainText()
    run_sweep(qtbot, window, seeds=4, epochs=100, learning_rates="0.5", hidden="2")
    assert view.heat_image.image is not None and not view.heat_hint.isVisible()


def test_sweep_cancel_and_bad_input(qtbot):
    window = open_window(qtbot)
    view = window.sweep_view
    view.lr_edit.setText("0.1,,x")
    view.start()
    assert "Learning rates" in view.message.text() and view.run_button.isEnabled()
    # every input error is a sentence naming the field, the bad value and the rule ("(0,) is not allowed" was not)
    for lrs, hidden, field, rule in [
        ("0.1", "2, 0", "Hidden units", f"0 is not a layer size: each is from 1 to {MAX_UNITS}"),
        ("0.1", f"2, {MAX_UNITS + 1}", "Hidden units", f"{MAX_UNITS + 1} is not a layer size: each is from 1 to {MAX_UNITS}"),
        ("0.1", "2,,3", "Hidden units", "empty item"),
        ("0.1", "", "Hidden units", "nothing given"),
        ("0.1, 0", "2", "Learning rates", "'0' is not allowed; it must be a finite number > 0"),
        ("-1", "2", "Learning rates", "'-1' is not allowed; it must be a finite number > 0"),
        ("1e999", "2", "Learning rates", "'1e999' is not a finite number"),
        ("0.1,,2", "2", "Learning rates", "empty item"),
    ]:
        view.lr_edit.setText(lrs)
        view.hidden_edit.setText(hidden)
        view.start()
        text = html.unescape(view.message.text())
        assert f">{field}: " in text and rule in text and "TrainConfig" not in text and "(0,)" not in text, text
        assert view.run_button.isEnabled() and view.result is None
    view.hidden_edit.setText("2")
    view.lr_edit.setText("0.1")
    for box in view.optimizer_checks.values():
        box.setChecked(False)
    view.start()
    assert "tick at least one" in view.message.text()
    view.optimizer_checks["sgd"].setChecked(True)
    view.hidden_edit.setText("2")
    view.seeds_spin.setValue(20000)
    view.epochs_spin.setValue(20000)
    view.start()
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=TIMEOUT_MS)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.result is not None, timeout=TIMEOUT_MS)
    assert not view.result.complete and 0 < len(view.result) < 20000
    assert "cancelled" in view.message.text()


# --- on a 1366×768 screen -------------------------------------------------------------------------------
SMALL_SCREEN = (1366, 700)  # a 1366×768 screen less a panel and the window's title bar


def assert_legend_beside_data(plot) -> None:
    """The legend lies above the plot area, within the plot and no wider than it: it hides no curve or point."""
    item = plot.getPlotItem()
    legend, box = item.legend.sceneBoundingRect(), item.getViewBox().sceneBoundingRect()
    assert legend.bottom() <= box.top() + 0.5 and not legend.intersected(box).height() > 0.5, (legend, box)
    assert item.sceneBoundingRect().contains(legend) and legend.width() <= box.width(), (legend, box)


def test_compare_shows_all_six_runs_and_a_legend_over_no_curve_at_1366x768(qtbot):
    window, view = open_compare(qtbot)
    for _ in range(4):
        view._add_run()
    qtbot.waitUntil(lambda: len(view.histories) == 6, timeout=TIMEOUT_MS)
    view.step_spin.setValue(2000)
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.epoch == 2000 and view.state == "Paused", timeout=TIMEOUT_MS)
    window.resize(*SMALL_SCREEN)
    table = view.table
    last = table.rowViewportPosition(5) + table.rowHeight(5)
    qtbot.waitUntil(lambda: window.height() == SMALL_SCREEN[1] and table.viewport().height() >= last, timeout=TIMEOUT_MS)
    assert table.rowCount() == 6 and table.rowViewportPosition(0) == 0  # every run's row on show, none scrolled away
    assert view.plot.height() >= 250 and view.verdict_label.isVisible()
    assert view.plot.getPlotItem().legend.labels() == view.labels
    assert_legend_beside_data(view.plot)


def test_legend_row_wraps_its_entries_to_the_plot_width(qtbot):
    import pyqtgraph as pg

    from gui.legends import LegendRow

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    legend = LegendRow(plot.getPlotItem())
    for i in range(6):
        plot.plot([0, 1], [i, i + 1], name=f"run number {i + 1}")
    plot.resize(1000, 400)
    plot.show()
    qtbot.waitUntil(lambda: legend.columnCount == 6, timeout=TIMEOUT_MS)  # one row where they fit
    qtbot.waitUntil(lambda: assert_legend_beside_data(plot), timeout=TIMEOUT_MS)
    plot.resize(350, 400)
    qtbot.waitUntil(lambda: 1 < legend.columnCount < 6, timeout=TIMEOUT_MS)  # more rows, never wider than the plot
    qtbot.waitUntil(lambda: assert_legend_beside_data(plot), timeout=TIMEOUT_MS)  # once the plot's layout has run
    assert legend.labels() == [f"run number {i + 1}" for i in range(6)]
    plot.getPlotItem().clear()
    assert legend.labels() == []


def test_sweep_tab_at_1366x768_legend_hides_no_seed_and_heatmap_labels_fit(qtbot):
    window = open_window(qtbot)
    window.resize(*SMALL_SCREEN)
    learning_rates = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30]
    view = run_sweep(qtbot, window, seeds=5, epochs=300, learning_rates=", ".join(f"{lr:g}" for lr in learning_rates),
                     hidden="2, 3")  # fmt: skip
    result = view.result
    qtbot.waitUntil(lambda: assert_legend_beside_data(view.scatter_plot), timeout=TIMEOUT_MS)
    counts = {name: int(np.sum(result.outcome == name)) for name in set(result.outcome)}
    assert all(f"{name} ({n:,})" in view.legend.labels() for name, n in counts.items())

    # every seed on show (the empty tab's range is not kept)
    def seeds_shown():
        (x0, x1), _ = view.scatter_plot.getPlotItem().getViewBox().viewRange()
        assert x0 <= result.seed.min() and result.seed.max() <= x1 < result.seed.max() + 5, (x0, x1)

    qtbot.waitUntil(seeds_shown, timeout=TIMEOUT_MS)  # pyqtgraph ranges automatically before it paints
    # the heatmap's column values never run together ("0.0010.003"): where ten do not fit, every k-th shows
    hm = view.heatmap.getPlotItem()
    cell_w, cell_h = view.heat_cell_px()
    for side, cell, room in (("bottom", cell_w, view.heat_label_width), ("left", cell_h, view.heat_label_height)):
        axis = hm.getAxis(side)
        ticks = axis._tickLevels[0]
        assert ticks and ticks[0][0] == 0.5, ticks
        for (a, text_a), (b, text_b) in itertools.pairwise(ticks):
            assert (b - a) * cell >= max(room(axis, text_a), room(axis, text_b)), (side, text_a, text_b, cell)
    assert len(hm.getAxis("bottom")._tickLevels[0]) < len(learning_rates)  # at 1366 px, ten did not fit
    for text in view.heat_texts:  # a cell's percentage shows only where it fits
        if text.isVisible():
            assert text.textItem.boundingRect().width() <= cell_w
    assert any(text.isVisible() for text in view.heat_texts)


# --- review follow-up: settings kept as the Train tab has them, and words for any data ------------------------------
def test_compare_runs_take_the_train_tabs_settings_unclamped(qtbot):
    """The runs table's cells are the Train tab's fields (their ranges): a batch of 2,000 and a learning rate of 1e-7
    are not clamped to 1,024 and 1e-6, and a cell's refused text gets a sentence."""
    from PySide6.QtWidgets import QWidget

    from engine.fields import CONFIG_FIELDS
    from gui.controls import LogSpinBox

    config = TrainConfig(mode="minibatch", batch_size=2000, learning_rate=1e-7)
    window, view = open_compare(qtbot, config)
    assert window.controls.config() == config  # the Train tab kept its settings
    qtbot.waitUntil(lambda: len(view.configs) == 2, timeout=TIMEOUT_MS)
    for configs in (view.configs, view.editor.configs(view._base)):
        assert [(c.mode, c.batch_size, c.learning_rate) for c in configs] == [("sgd", 2000, 1e-7), ("batch", 2000, 1e-7)]
    batch = view.editor.cellWidget(0, 1)
    assert batch.maximum() == CONFIG_FIELDS["batch_size"].high and batch.objectName() == "compareBatchSizeSpin"
    assert len(window.findChildren(QWidget, "learningRateSpin")) == 1  # the Train tab's name stays its own
    lr = view.editor.cellWidget(0, 2)
    assert isinstance(lr, LogSpinBox) and lr.objectName() == "compareLearningRateSpin"
    qtbot.keyClicks(lr.lineEdit(), "x")
    assert view.runs_error.isVisibleTo(view) and "Learning rate" in view.runs_error.text()
    lr.setValue(0.5)
    assert not view.runs_error.isVisibleTo(view)
    qtbot.waitUntil(lambda: len(view.configs) == 2 and view.configs[0].learning_rate == 0.5, timeout=TIMEOUT_MS)


def test_compare_and_sweep_follow_the_train_tabs_l2_and_say_so(qtbot):
    """L2 and L1 are every run's, the Train tab's: a change there restarts the runs with it, and the headers name it."""
    from gui.controls import LogSpinBox

    window, view = open_compare(qtbot)
    sweep = window.sweep_view
    window.controls.findChild(LogSpinBox, "l2Spin").setValue(0.01)
    qtbot.waitUntil(lambda: len(view.configs) == 2 and all(c.l2 == 0.01 for c in view.configs), timeout=TIMEOUT_MS)
    assert "seed 42, L2 λ 0.01; data xor" in view.base_label.text()
    assert "L2 λ 0.01" in sweep.base_label.text() and sweep.spec().base.l2 == 0.01
    assert view.labels == ["SGD", "full batch"]  # what all runs share is said once, above the table


def test_compare_and_sweep_name_a_csv_file_by_its_name(qtbot, tmp_path):
    from engine.datasets import load_csv
    from gui.compare_view import CompareView
    from gui.sweep_view import SweepView

    path = tmp_path / "my points.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    data = load_csv(path)
    compare, sweep = CompareView(TrainConfig(), dataset=data), SweepView(TrainConfig(), dataset=data)
    for view in (compare, sweep):
        qtbot.addWidget(view)  # never shown: their threads do not start
        assert "data my points.csv (10 training, 10 test points)" in view.base_label.text(), view.base_label.text()
        assert "data csv" not in view.base_label.text()
    compare.shutdown()
    sweep.shutdown()


def test_sweep_on_data_that_records_no_outputs_says_what_can_happen(qtbot):
    """Spiral data records no outputs: the legend has no "stuck at 0.5 (0)" (it cannot happen there), and where no run
    was solved the histogram says so over the epochs swept (it drew a flat line at 0 on a −4…4 axis)."""
    from engine.datasets import DataSpec
    from gui.main_window import TABS
    from gui.sweep_view import NO_SOLVED_RUN, STUCK, SweepView

    assert "XOR" not in TABS["sweep"][1] and "how often is the data solved" in TABS["sweep"][1]
    xor = SweepView(TrainConfig())
    qtbot.addWidget(xor)
    assert any(label.startswith(STUCK) for label in xor.legend.labels())  # XOR keeps it
    view = SweepView(TrainConfig(), dataset=make_dataset(DataSpec(name="spiral", points=60)))
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    assert view.legend.labels() and not any(label.startswith(STUCK) for label in view.legend.labels())
    view.seeds_spin.setValue(3)
    view.lr_edit.setText("0.001")
    view.hidden_edit.setText("2")
    view.epochs_spin.setValue(40)
    view.start()
    qtbot.waitUntil(lambda: view.result is not None and view.result.complete, timeout=TIMEOUT_MS)
    assert not view.result.solved.any()
    assert view.hist_hint.isVisible() and view.hist_hint.toPlainText() == NO_SOLVED_RUN
    assert view.hist_curve.xData is None or len(view.hist_curve.xData) == 0  # no bar at 0
    (x0, x1), (y0, y1) = view.histogram.getPlotItem().getViewBox().viewRange()
    assert (x0, x1) == (0, 40) and (y0, y1) == (0, 1)
    assert x0 < view.hist_hint.pos().x() < x1 and y0 < view.hist_hint.pos().y() < y1
    labels = view.legend.labels()
    assert len(labels) == 4 and not any(label.startswith(STUCK) for label in labels)
    assert sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label in labels) == 3  # every run in some outcome
    view.set_data(make_dataset())  # the Train tab's data changed: the legend still describes the runs shown
    assert not any(label.startswith(STUCK) for label in view.legend.labels())
    view.shutdown()
    xor.shutdown()
