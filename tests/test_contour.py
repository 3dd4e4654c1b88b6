"""The decision-map contour: segments lie on the level set."""

import numpy as np

from gui.contour import contour_segments


def test_straight_line_contour():
    axis = np.linspace(-0.25, 1.25, 61)
    x, y = np.meshgrid(axis, axis)
    values = 0.5 + (x + y - 1.0) * 0.3  # level 0.5 on the line x + y = 1
    sx, sy = contour_segments(values, axis)
    assert len(sx) > 0 and len(sx) % 2 == 0
    np.testing.assert_allclose(sx + sy, 1.0, atol=1e-12)
    assert sx.min() <= -0.2 and sx.max() >= 1.2  # the whole line across the square


def test_circle_contour_is_close_to_the_circle():
    axis = np.linspace(-1.0, 1.0, 101)
    x, y = np.meshgrid(axis, axis)
    values = x**2 + y**2  # level 0.25: radius 0.5
    sx, sy = contour_segments(values, axis, level=0.25)
    radius = np.hypot(sx, sy)
    np.testing.assert_allclose(radius, 0.5, atol=0.01)
    assert len(sx) // 2 >= 60


def test_saddle_and_flat_and_nan():
    axis = np.linspace(0.0, 1.0, 3)
    saddle = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    sx, sy = contour_segments(saddle, axis)
    assert len(sx) == 2 * 2 * 4  # four saddle cells, two segments each
    # every crossing is halfway along a cell edge (values 1 and 0 around level 0.5)
    np.testing.assert_allclose(np.round(sx * 4), sx * 4, atol=1e-12)
    np.testing.assert_allclose(np.round(sy * 4), sy * 4, atol=1e-12)
    on_grid_line = np.isclose(np.round(sx * 2), sx * 2) | np.isclose(np.round(sy * 2), sy * 2)
    assert on_grid_line.all()
    assert contour_segments(np.zeros((5, 5)), np.linspace(0, 1, 5))[0].size == 0
    values = np.full((4, 4), np.nan)
    assert contour_segments(values, np.linspace(0, 1, 4))[0].size == 0
