"""Sample stepping and the Inspect tab in the window."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import TrainConfig, Trainer
from gui.worker import HIDDEN_POINTS
from tests.gui_helpers import TIMEOUT_MS, assert_history_matches, assert_params_equal, open_window, reference, step


def sample_steps(qtbot, window, n):
    for _ in range(n):
        position, epoch = window._sample_position, window.epoch
        qtbot.mouseClick(window.controls.sample_step_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda p=position, e=epoch: (window._sample_position, window.epoch) != (p, e), timeout=TIMEOUT_MS)


def test_four_sample_steps_are_one_epoch(qtbot):
    config = TrainConfig(shuffle=True, optimizer="momentum")
    window = open_window(qtbot, config)
    assert window.findChild(object, "sampleStepButton") is window.controls.sample_step_button
    step(qtbot, window, 10)
    sample_steps(qtbot, window, 3)
    assert window.epoch == 10 and window._sample_position == 3 and "sample 3/4" in window.epoch_label.text()
    sample_steps(qtbot, window, 1)
    assert window.epoch == 11 and window._sample_position == 0
    trainer, loss, preds = reference(config, 11)
    assert_params_equal(window.params(), trainer.params)
    assert_history_matches(window, loss, preds)
    sample_steps(qtbot, window, 2)
    step(qtbot, window, 1)  # Step finishes the epoch in progress
    trainer.run(1)
    assert window.epoch == 12 and window._sample_position == 0
    assert_params_equal(window.params(), trainer.params)


def test_shift_right_steps_a_sample_and_every_view_follows(qtbot):
    window = open_window(qtbot)
    step(qtbot, window, 500)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.setFocus()
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window._sample_position == 1, timeout=TIMEOUT_MS)
    trainer = Trainer(TrainConfig())
    trainer.run(500)
    expected, _ = trainer.step_sample()
    trace = window.inspect_view.trace
    assert trace.applied and trace.index == expected.index == 0 and trace.position == 1
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
    window.inspect_view.input_combo.setCurrentIndex(4)  # (1,1) -> 0
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
