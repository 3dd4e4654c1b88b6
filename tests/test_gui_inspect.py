"""Sample stepping and the Inspect tab in the window."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from engine import TrainConfig, Trainer
from gui.inspect_view import FIRST_POINT, NEXT, STEPPED, InspectView
from gui.inspector import MAX_CELLS, MAX_WRITTEN, fmt, trace_html, written_limit
from gui.network_views import (
    BUILT_PER_TURN,
    MAX_DRAWN_EDGES,
    MAX_DRAWN_UNITS,
    MAX_LABELLED_EDGES,
    MAX_SHOWN_MAPS,
    MIN_MAP_PX,
    NODE_SIZE,
)
from gui.session import HIDDEN_AXIS, HIDDEN_POINTS, MAX_HIDDEN_MAPS
from gui.style import unit_names
from tests.gui_helpers import TIMEOUT_MS, assert_history_matches, assert_params_equal, open_window, reference, step


def sample_steps(qtbot, window, n):
    for _ in range(n):
        position, epoch = window.sample_position, window.epoch
        qtbot.mouseClick(window.controls.sample_step_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda p=position, e=epoch: (window.sample_position, window.epoch) != (p, e), timeout=TIMEOUT_MS)


def test_four_sample_steps_are_one_epoch(qtbot):
    config = TrainConfig(shuffle=True, optimizer="momentum")
    window = open_window(qtbot, config)
    assert window.findChild(object, "sampleStepButton") is window.controls.sample_step_button
    step(qtbot, window, 10)
    sample_steps(qtbot, window, 3)
    assert window.epoch == 10 and window.sample_position == 3 and "after sample 3 of 4 of epoch 11" in window.epoch_label.text()
    sample_steps(qtbot, window, 1)
    assert window.epoch == 11 and window.sample_position == 0
    trainer, loss, preds = reference(config, 11)
    assert_params_equal(window.params(), trainer.params)
    assert_history_matches(window, loss, preds)
    sample_steps(qtbot, window, 2)
    step(qtbot, window, 1)  # Step finishes the epoch in progress
    trainer.run(1)
    assert window.epoch == 12 and window.sample_position == 0
    assert_params_equal(window.params(), trainer.params)


def test_shift_right_steps_a_sample_and_every_view_follows(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 500)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.setFocus()
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.sample_position == 1, timeout=TIMEOUT_MS)
    trainer = Trainer(TrainConfig())
    trainer.run(500)
    expected, _ = trainer.step_sample()
    trace = window.inspect_view.trace
    assert trace.applied and trace.index == expected.index == 0 and trace.samples_done == 0
    assert trace.y_hat == expected.y_hat and trace.loss == expected.loss
    for (gW, gb), (eW, eb) in zip(trace.grads, expected.grads):
        np.testing.assert_array_equal(gW, eW)
        np.testing.assert_array_equal(gb, eb)
    window.tabs.setCurrentWidget(window.inspect_view)
    html = window.inspect_view.text.toHtml()
    assert "Forward pass" in html and "Backward pass" in html and "finite differences" in html
    assert "σ′(z) = v(1 − v)" in html and "0.1" in html
    # the gradient heatmaps show that sample's gradient; the weights the parameters after it
    for (gW, gb), (w_img, b_img) in zip(trace.grads, window.heatmaps.grad_images):
        np.testing.assert_array_equal(w_img.image, gW)
        np.testing.assert_array_equal(b_img.image, gb)
    assert "sample just stepped" in window.heatmaps.toolTip()
    assert_params_equal(window.params(), trainer.params)
    for layer in range(len(trace.grads)):
        for which in (0, 1):
            assert trace.relative_difference(layer, which).max() < 1e-6


def test_inspecting_a_chosen_input_and_the_gradient_over_all_inputs(qtbot):
    window = open_window(qtbot, TrainConfig(hidden=(3, 2), activation="tanh", loss="bce", init="xavier"))
    step(qtbot, window, 40)
    window.inspect_view.input_combo.setCurrentIndex(FIRST_POINT + 3)  # (1,1) -> 0
    qtbot.waitUntil(lambda: window.inspect_view.trace is not None and window.inspect_view.trace.index == 3, timeout=TIMEOUT_MS)
    trace = window.inspect_view.trace
    assert not trace.applied
    trainer = Trainer(TrainConfig(hidden=(3, 2), activation="tanh", loss="bce", init="xavier"))
    trainer.run(40)
    expected = trainer.inspect_sample(3)
    np.testing.assert_array_equal(trace.delta[0], expected.delta[0])
    window.tabs.setCurrentWidget(window.inspect_view)
    assert "1 − v²" in window.inspect_view.text.toHtml()
    for (gW, gb), (w_img, b_img) in zip(trainer.gradient(), window.heatmaps.grad_images):
        np.testing.assert_array_equal(w_img.image, gW)
        np.testing.assert_array_equal(b_img.image, gb)
    assert "averaged over the 4 inputs" in window.heatmaps.toolTip()
    # the gradient's colour bar: levels fitted to it, short tick labels, their factor in the title
    bar, level = window.heatmaps.grad_colorbar, window.heatmaps.grad_level
    assert bar.levels() == (-level, level)
    assert max(abs(g).max() for W, b in trainer.gradient() for g in (W, b)) <= level
    shown = dict(bar.axis._tickLevels[0])
    assert set(shown) == {-level, -level / 2, 0.0, level / 2, level}
    assert all(len(label) <= 4 for label in shown.values())
    assert bar.getAxis("left").labelText.startswith("gradient")


@pytest.mark.parametrize("exponent", range(-300, 301, 13))
def test_colour_bar_ticks_are_short_and_say_their_factor(exponent):
    from gui.style import nice_ceiling, symmetric_ticks

    for mantissa in (1.0, 2.0, 5.0):
        level = nice_ceiling(mantissa * 10.0**exponent)
        ticks, factor = symmetric_ticks(level)
        scale = 10.0 ** int(factor.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")).split("×10")[1]) if factor else 1.0
        assert [v for v, _ in ticks] == [-level, -level / 2, 0.0, level / 2, level]
        for value, label in ticks:
            assert len(label) <= 4, (level, label)
            assert float(label) * scale == pytest.approx(value, rel=1e-12, abs=0.0), (level, label, factor)


def test_hidden_unit_maps_and_network_diagram(qtbot):
    config = TrainConfig(hidden=(3,))
    window = open_window(qtbot, config)
    step(qtbot, window, 300)
    window.tabs.setCurrentWidget(window.inspect_view)  # drawn when shown
    maps = window.inspect_view.hidden_maps
    trainer = Trainer(config)
    trainer.run(300)
    acts = trainer.activations(HIDDEN_POINTS)
    assert len(maps.images) == 3 and maps.names == ["h1", "h2", "h3"]
    side = int(np.sqrt(len(HIDDEN_POINTS)))
    for unit, image in enumerate(maps.images):
        np.testing.assert_array_equal(image.image, acts[:, unit].reshape(side, side))
    diagram = window.inspect_view.diagram
    assert len(diagram.edges) == 2 * 3 + 3 * 1
    (W1, _), (W2, _) = trainer.params
    for layer, j, i, edge in diagram.edges:
        w = (W1, W2)[layer][j, i]
        assert edge.opts["pen"].color().name() == ("#d9480f" if w >= 0 else "#1c7ed6")
        assert f"{w:.6g}" in edge.toolTip()
    tips = list(diagram.nodes.data["data"])
    assert tips[0].startswith("x1: x =") and any(t.startswith("ŷ: a =") for t in tips)


def test_sample_steps_only_in_sgd_mode(qtbot):
    window = open_window(qtbot, TrainConfig(mode="batch"))
    assert not window.controls.sample_step_button.isEnabled()
    window.controls.mode_combo.setCurrentText("sgd")
    assert window.controls.sample_step_button.isEnabled()


def labels(view) -> tuple[str, str, str]:
    """The Inspect tab's header, the Show picker's current entry and the panel's text."""
    return view.position_label.text(), view.input_combo.currentText(), view.text.toPlainText()


@pytest.mark.parametrize("k", [1, 4, 6])
def test_every_label_names_the_same_sample_epoch_and_weights(qtbot, k):
    """Issue 9, defect 7: with Show = (1,1) → 0, k sample steps from epoch 3: the header, the picker and the
    text name the sample just trained, its place in epoch 4's order and the weights before and after it,
    and every number is a headless Trainer's."""
    config = TrainConfig(shuffle=True, seed=11)
    window = open_window(qtbot, config)
    step(qtbot, window, 3)
    view = window.inspect_view
    window.tabs.setCurrentWidget(view)
    view.input_combo.setCurrentIndex(FIRST_POINT + 3)  # (1,1) -> 0
    qtbot.waitUntil(lambda: view.trace is not None and view.trace.index == 3, timeout=TIMEOUT_MS)
    twin = Trainer(config)
    twin.run(3)
    for _ in range(k):
        expected, _ = twin.step_sample()
        qtbot.mouseClick(view.sample_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda e=expected: view.trace is not None and view.trace.applied
                        and (view.trace.epoch, view.trace.samples_done) == (e.epoch, e.samples_done),
                        timeout=TIMEOUT_MS)  # fmt: skip
        trace = view.trace
        assert trace.index == expected.index and view.input_combo.currentIndex() == STEPPED
        assert_params_equal(trace.params_before, expected.params_before)
        assert_params_equal(trace.params_after, expected.params_after)
        assert_params_equal(window.params(), twin.params)
    header, picker, text = labels(view)
    epoch, done = 3 + (k - 1) // 4, (k - 1) % 4  # before the last step
    sample = f"sample {done + 1} of 4 of epoch {epoch + 1}"
    name = f"({','.join(f'{v:g}' for v in expected.x)}) → {expected.y:g}"
    before = f"after sample {done} of 4 of epoch {epoch + 1}" if done else f"after epoch {epoch}"
    after = f"after epoch {epoch + 1}" if done == 3 else f"after sample {done + 1} of 4 of epoch {epoch + 1}"
    assert header == f"Weights now: {after}"
    assert picker == f"the sample just trained: {sample}, {name}"
    assert text.startswith(f"Sample {done + 1} of 4 of epoch {epoch + 1}: {name}, just trained (Step sample)\n")
    assert f"Weights before it: {before}. Weights after it: {after}." in text
    assert (window.epoch, window.sample_position) == (twin.epoch, twin.sample_position)
    # the next sample: the update Step sample will make, named by the same words
    view.input_combo.setCurrentIndex(NEXT)
    qtbot.waitUntil(lambda: view.trace is not None and not view.trace.applied and view.trace.next_up, timeout=TIMEOUT_MS)
    preview = view.trace
    assert preview.index == twin.next_sample_index()
    header, picker, text = labels(view)
    following = f"sample {(done + 1) % 4 + 1} of 4 of epoch {epoch + 1 + (done == 3)}"
    assert header == f"Weights now: {after}" and picker == f"the next sample to be trained: {following}"
    assert text.startswith(f"{following.capitalize()}: ") and f"Weights: {after}. The update below is what Step sample" in text
    made, _ = twin.step_sample()
    assert_params_equal(preview.params_after, made.params_after)
    # an epoch step moves training on: the sample just trained is no longer on offer
    view.input_combo.setCurrentIndex(STEPPED)
    assert view.trace is trace
    qtbot.mouseClick(view.epoch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.input_combo.currentIndex() == NEXT, timeout=TIMEOUT_MS)
    assert not view.input_combo.model().item(STEPPED).isEnabled()
    qtbot.waitUntil(lambda: view.position_label.text() == f"Weights now: after epoch {window.epoch:,}", timeout=TIMEOUT_MS)


def test_diagram_x1_on_top_weights_written_and_readable_node_names(qtbot):
    config = TrainConfig(hidden=(3,), learning_rate=5.0)
    window = open_window(qtbot, config)
    step(qtbot, window, 2000)
    view = window.inspect_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.trace is not None, timeout=TIMEOUT_MS)
    diagram = view.diagram
    (_, y1), (_, y2) = diagram.positions[0]
    assert y1 > y2  # x1 above x2, and h1 above h2 above h3
    assert list(diagram.positions[1][:, 1]) == sorted(diagram.positions[1][:, 1], reverse=True)
    assert len(diagram.edges) <= MAX_LABELLED_EDGES and len(diagram.edge_labels) == len(diagram.edges)
    spots = {}
    for value, (layer, j, i, _) in zip(diagram.edge_labels, diagram.edges):
        w = view.trace.params_before[layer][0][j, i]
        assert value.textItem.toPlainText() == f"{w:.3g}"
        spots[(round(value.pos().x(), 6), round(value.pos().y(), 6))] = value
    assert len(spots) == len(diagram.edges)  # no two values written at one place (crossing edges)
    fills = diagram.nodes.data["brush"]
    for label, brush in zip(diagram.node_labels, fills):
        fill = brush.color()
        text = label.color
        luminance = [(c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4) for c in fill.getRgb()[:3]]
        lum = 0.2126 * luminance[0] + 0.7152 * luminance[1] + 0.0722 * luminance[2]
        contrast = (lum + 0.05) / 0.05 if text.name() == "#000000" else 1.05 / (lum + 0.05)
        assert contrast >= 4.5, (label.textItem.toPlainText(), fill.name(), text.name())
    assert {label.color.name() for label in diagram.node_labels} == {"#000000", "#ffffff"}  # pale and saturated fills
    # bigger nets: values on hover only
    diagram.set_state(Trainer(TrainConfig(hidden=(4, 4))).params, None)
    assert len(diagram.edges) == 2 * 4 + 4 * 4 + 4 > MAX_LABELLED_EDGES and diagram.edge_labels == []


def test_hidden_unit_maps_have_axes(qtbot):
    window = open_window(qtbot, TrainConfig(hidden=(2,)))
    step(qtbot, window, 10)
    view = window.inspect_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: len(view.hidden_maps.images) == 2, timeout=TIMEOUT_MS)
    for image in view.hidden_maps.images:
        plot = image.getViewBox().parentItem()
        for side, name in (("bottom", "x1"), ("left", "x2")):
            axis = plot.getAxis(side)
            assert axis.isVisible() and axis.labelText == name and [v for v, _ in axis._tickLevels[0]] == [0.0, 1.0]
    assert "weights after epoch 10" in view.hidden_label.text()


def test_relative_difference_is_not_squeezed_into_a_narrow_cell(qtbot):
    """Issue 9, item 16: "largest relative differenc/e" broke mid-word in a narrow table cell."""
    window = open_window(qtbot)
    step(qtbot, window, 5)
    view = window.inspect_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.trace is not None, timeout=TIMEOUT_MS)
    assert "layer 1: largest relative difference" in view.text.toPlainText()
    for width in range(100, 1000, 20):
        assert_no_word_broken(view.text.document(), width, "relative difference")


def assert_no_word_broken(document, width: float, phrase: str) -> None:
    """Every line of every paragraph that contains `phrase`, laid out `width` wide, starts at a word."""
    document.setTextWidth(width)
    found = 0
    block = document.begin()
    while block.isValid():
        text = block.text()
        if any(word in text for word in phrase.split()):
            found += 1
            layout = block.layout()
            for i in range(layout.lineCount()):
                start = layout.lineAt(i).textStart()
                assert start == 0 or not (text[start - 1].isalnum() and text[start].isalnum()), (width, text, start)
        block = block.next()
    assert found


@pytest.mark.parametrize("hidden", [(1024,) * 8, (8,) * 8])
def test_the_inspect_tab_does_bounded_work_for_the_largest_networks(qtbot, hidden):
    """Issue 9, item 2: with hidden layers 1024 × 8 showing the Inspect tab held the event loop 2.6 s (the text
    wrote 12×12 corners of every matrix, the diagram drew 1,044 edges, 32 hidden-unit plots were built at once
    and again for each network). The work of a draw is bounded whatever the network: a short text with each big
    matrix summarised, a bounded diagram, and the hidden-unit plots built a few at a time, once, then reused."""
    config = TrainConfig(hidden=hidden)
    trainer = Trainer(config)
    trainer.run(1)
    trace = trainer.inspect_sample(0)
    html = trace_html(trace)
    assert len(html) < 70_000 and html.count("<td") < MAX_CELLS + 200
    assert "shown; norm" in html and "⋮" in html
    view = InspectView()
    qtbot.addWidget(view)
    view.show()
    maps = np.random.default_rng(0).random((MAX_HIDDEN_MAPS, len(HIDDEN_AXIS), len(HIDDEN_AXIS)))
    view.show_state(trace, trainer.params, 1, 0, maps, config)
    diagram, hidden_maps = view.diagram, view.hidden_maps
    assert len(diagram.edges) <= MAX_DRAWN_EDGES and len(diagram.nodes.data) <= MAX_DRAWN_UNITS * len(config.layer_sizes)
    assert len(hidden_maps.plots) <= BUILT_PER_TURN  # the rest follow, a few plots in each event-loop turn
    qtbot.waitUntil(lambda: len(hidden_maps.images) == MAX_SHOWN_MAPS, timeout=TIMEOUT_MS)
    assert hidden_maps.names == [name for layer in unit_names(config.layer_sizes)[1:-1] for name in layer][:MAX_SHOWN_MAPS]
    assert f"The first {MAX_SHOWN_MAPS} of {sum(hidden):,} hidden units: each one's activation" in view.hidden_label.text()
    for image, data in zip(hidden_maps.images, maps):
        np.testing.assert_array_equal(image.image, data)
    plots, edges = list(hidden_maps.plots), [edge for *_, edge in diagram.edges]
    trainer.run(1)
    maps = maps[::-1].copy()
    view.show_state(trainer.inspect_sample(trainer.next_sample_index()), trainer.params, 2, 0, maps, config)
    assert hidden_maps.plots == plots and [edge for *_, edge in diagram.edges] == edges  # reused, not built again
    for image, data in zip(hidden_maps.images, maps):
        np.testing.assert_array_equal(image.image, data)
    assert "Weights: after epoch 2. The update below is what Step sample will make" in view.text.toPlainText()


def test_small_networks_write_every_number():
    for config in (TrainConfig(), TrainConfig(hidden=(8, 8))):
        assert written_limit(config.layer_sizes, True) == MAX_WRITTEN
        trainer = Trainer(config)
        html = trace_html(trainer.inspect_sample(0))
        assert "shown;" not in html and "⋮" not in html
        for W, b in trainer.params:
            for value in (*W.ravel(), *b.ravel()):
                assert f">{fmt(value)}</td>" in html


def test_a_summary_of_weights_near_the_float_limit_says_their_norm_without_overflow():
    """A diverging run's weights near 1e308: the summary's norm is scaled, not squared past the limit (the monkey
    test found NumPy's 'overflow encountered in dot' raised from the Inspect tab's draw)."""
    from gui.inspector import matrix

    text = matrix(np.full((10, 10), 1e308), title="W")
    assert "norm inf" in text  # the norm, 1e309, is past the limit: said as inf, with no warning (warnings are errors here)
    assert "norm 1.0000e+307" in matrix(np.full((10, 10), 1e306))  # 10 × 1e306, exactly, where squaring overflows


def test_big_networks_keep_the_maps_readable_and_the_more_labels_inside_the_diagram(qtbot):
    """Issue 9 (newcomer): with hidden layers 1024 × 8 at 1366×768 the nine hidden-unit maps were ~15 px high
    with their "0 1" ticks running together, and the diagram's "⋮ 1,020 more" labels were cut off at its
    bottom and ran into each other. Each map keeps a readable size, only the outer maps carry ticks, and the
    labels lie inside the diagram, below the nodes, apart."""
    config = TrainConfig(hidden=(1024,) * 8)
    trainer = Trainer(config)
    view = InspectView()
    qtbot.addWidget(view)
    view.resize(1340, 640)
    view.show()
    maps = np.random.default_rng(0).random((MAX_HIDDEN_MAPS, len(HIDDEN_AXIS), len(HIDDEN_AXIS)))
    view.show_state(trainer.inspect_sample(0), trainer.params, 0, 0, maps, config)
    hidden_maps, diagram = view.hidden_maps, view.diagram
    qtbot.waitUntil(lambda: len(hidden_maps.images) == MAX_SHOWN_MAPS, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: hidden_maps.plots[-1].vb.height() > 0, timeout=TIMEOUT_MS)
    assert all(p.vb.height() >= MIN_MAP_PX * 0.75 for p in hidden_maps.plots)
    columns = 3
    for k, plot in enumerate(hidden_maps.plots[:MAX_SHOWN_MAPS]):
        assert plot.getAxis("left").style["showValues"] == (k % columns == 0)
        assert plot.getAxis("bottom").style["showValues"] == (k >= MAX_SHOWN_MAPS - columns)
    assert "units'" not in view.hidden_label.text()
    more = diagram.more_labels
    assert len(more) == len(config.hidden)
    assert [label.toPlainText() for label in more] == ["⋮\n+1,020"] * len(config.hidden)
    qtbot.waitUntil(lambda: diagram.getPlotItem().vb.height() > 100, timeout=TIMEOUT_MS)
    bounds = diagram.getPlotItem().vb.sceneBoundingRect()
    lowest = min(float(pos[:, 1].min()) for pos in diagram.positions)
    lowest_node = diagram.getPlotItem().vb.mapViewToScene(pg.Point(0.0, lowest)).y()
    rects = [label.sceneBoundingRect() for label in more]
    for k, rect in enumerate(rects):
        assert bounds.adjusted(-1, -1, 1, 1).contains(rect), (rect, bounds)
        assert rect.top() >= lowest_node + NODE_SIZE / 2 - 1
        assert not any(rect.intersects(other) for other in rects[k + 1 :])
