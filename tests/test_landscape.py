"""The loss landscape (engine/landscape.py): the grid kernel against the NumPy twin, the centre against the training loss,
directions, paths, slices and the CSV."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import TrainConfig, Trainer
from engine import landscape as ls
from engine.datasets import DataSpec, make_dataset
from engine.landscape import (
    LandscapeError,
    compute_landscape,
    landscape_csv,
    loss_slice,
    make_directions,
    parameter_directions,
    parameter_label,
    parameter_names,
    parse_directions,
    pca_directions,
    plane_losses,
    project,
    random_directions,
    replay_path,
)
from engine.network import Layout
from tests.reference import plane_loss

RTOL = 1e-12  # the kernels call libm's exp, NumPy its own (see tests/test_engine_twin.py)
XOR = make_dataset()
CIRCLE = make_dataset(DataSpec(name="circle", points=40, train_fraction=0.5))  # 20 training points, 20 test points
SPIRAL = make_dataset(DataSpec(name="spiral", points=60, train_fraction=0.5))
DATA = {"xor": XOR, "circle": CIRCLE, "spiral": SPIRAL}


def trained(cfg: TrainConfig, data=XOR, epochs: int = 30) -> Trainer:
    trainer = Trainer(cfg, data=data)
    trainer.run(epochs)
    return trainer


def assert_one_sentence(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert text and "\n" not in text and "Traceback" not in text
    return text


# --- the kernel against the twin -------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hidden=st.sampled_from([(), (2,), (3,), (3, 2)]),
    activation=st.sampled_from(["sigmoid", "tanh", "relu"]),
    loss=st.sampled_from(["mse", "bce"]),
    features=st.sampled_from([("x1", "x2"), ("x1", "x2", "x1x2"), ("x1sq", "x2sq", "sinx1")]),
    data=st.sampled_from(sorted(DATA)),
    kind=st.sampled_from(["random", "params"]),
    grid=st.integers(3, 9),
    span=st.sampled_from([0.3, 1.0, 2.5]),
    seed=st.integers(0, 2**16),
)
def test_grid_matches_numpy_twin(hidden, activation, loss, features, data, kind, grid, span, seed):
    cfg = TrainConfig(hidden=hidden, activation=activation, loss=loss, features=features, seed=seed, init="xavier")
    dataset = DATA[data]
    trainer = trained(cfg, dataset, epochs=5)
    theta = trainer.theta
    names = tuple(parameter_names(trainer.layout)[k] for k in (0, -1))
    directions = make_directions(kind, trainer.layout, theta, names=names, seed=seed)
    land = compute_landscape(cfg, dataset, theta, directions, grid, span)
    rng = np.random.default_rng(seed)
    for j, i in rng.integers(0, grid, size=(6, 2)):
        want = plane_loss(cfg, theta, directions.d1, directions.d2, land.a[i], land.b[j], dataset.train_inputs,
                          dataset.train_targets)  # fmt: skip
        np.testing.assert_allclose(land.loss[j, i], want, rtol=RTOL)
        # and bit for bit the training loss of a Trainer started at that point (the same arithmetic)
        point = theta + land.a[i] * directions.d1 + land.b[j] * directions.d2
        at = Trainer(cfg, data=dataset, initial_params=trainer.layout.copies(point))
        assert land.loss[j, i] == at.evaluate()["train_loss"]
    assert land.loss.shape == (grid, grid)
    assert land.a[0] == -span and land.a[-1] == span


@pytest.mark.parametrize(
    ("cfg", "data"),
    [
        (TrainConfig(), XOR),
        (TrainConfig(hidden=(3, 2), activation="tanh", loss="bce", features=("x1", "x2", "x1x2")), CIRCLE),
        (TrainConfig(hidden=(8, 8), activation="relu", init="he", optimizer="adam", mode="minibatch"), SPIRAL),
    ],
)
def test_centre_is_the_training_loss_bit_for_bit(cfg, data):
    trainer = trained(cfg, data, epochs=50)
    directions = random_directions(trainer.layout, trainer.theta, seed=3)
    land = compute_landscape(cfg, data, trainer.theta, directions, grid=11, span=0.5)
    want = trainer.evaluate()["train_loss"]
    assert land.centre_loss == want
    assert land.a[5] == 0.0 and land.b[5] == 0.0
    assert land.loss[5, 5] == want  # the kernel's own centre point, not a copy of centre_loss
    np.testing.assert_array_equal(land.centre, trainer.theta)


def test_grid_is_parallel_numba_and_plane_losses_agree_with_the_grid():
    cfg = TrainConfig(hidden=(3,), loss="bce")
    trainer = trained(cfg)
    directions = random_directions(trainer.layout, trainer.theta)
    land = compute_landscape(cfg, XOR, trainer.theta, directions, grid=7, span=1.5)
    jj, ii = np.meshgrid(np.arange(7), np.arange(7), indexing="ij")
    got = plane_losses(cfg, XOR, trainer.theta, directions, land.a[ii.ravel()], land.b[jj.ravel()])
    np.testing.assert_array_equal(got, land.loss.ravel())
    assert ls.landscape_kernels().grid_rows.targetoptions["parallel"]


def test_a_parameter_direction_slice_equals_a_trainer_with_that_parameter_set_by_hand():
    cfg = TrainConfig(hidden=(2,))
    trainer = trained(cfg, epochs=200)
    theta, layout = trainer.theta, trainer.layout
    names = ("W1[0,1]", "b2[0]")
    directions = parameter_directions(layout, names, theta)
    p, q = parameter_names(layout).index("W1[0,1]"), parameter_names(layout).index("b2[0]")
    assert directions.offsets == (theta[p], theta[q])
    assert directions.labels == names and directions.names == names
    land = compute_landscape(cfg, XOR, theta, directions, grid=9, span=2.0)
    for j, i in [(0, 0), (4, 8), (8, 3), (2, 4), (6, 6)]:
        by_hand = theta.copy()
        by_hand[p] = theta[p] + land.a[i]
        by_hand[q] = theta[q] + land.b[j]
        other = Trainer(cfg, data=XOR, initial_params=layout.copies(by_hand))
        assert land.loss[j, i] == other.evaluate()["train_loss"]
    # the CSV's a and b are the two weights' values
    rows = landscape_csv(land).splitlines()[1:]
    a0, b0, loss0 = (float(x) for x in rows[0].split(","))
    assert (a0, b0, loss0) == (theta[p] - 2.0, theta[q] - 2.0, land.loss[0, 0])


# --- directions ------------------------------------------------------------------------------------------------
def test_pca_plane_reproduces_a_trajectory_that_lies_in_a_plane():
    rng = np.random.default_rng(7)
    n = 17
    centre, u, v = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    s, t = rng.normal(size=30), rng.normal(size=30) * 0.3
    thetas = centre + np.outer(s, u) + np.outer(t, v)
    directions = pca_directions(thetas, centre)
    assert directions.kind == "pca"
    np.testing.assert_allclose([directions.d1 @ directions.d1, directions.d2 @ directions.d2, directions.d1 @ directions.d2],
                               [1.0, 1.0, 0.0], atol=1e-12)  # fmt: skip
    a, b = project(thetas, centre, directions)
    rebuilt = centre + np.outer(a, directions.d1) + np.outer(b, directions.d2)
    np.testing.assert_allclose(rebuilt, thetas, rtol=0, atol=1e-12)
    assert "PC1" in directions.labels[0] and "%" in directions.labels[0]
    variance = [float(label.split("(")[1].split("%")[0]) for label in directions.labels]
    assert variance[0] >= variance[1] and sum(variance) == pytest.approx(100.0, abs=0.11)  # the path has no third axis


def test_pca_of_a_line_or_too_few_points_is_one_clear_error():
    centre = np.zeros(4)
    line = np.outer(np.arange(5.0), np.array([1.0, 2.0, 0.0, -1.0]))
    with pytest.raises(LandscapeError, match="line") as err:
        pca_directions(line, centre)
    assert_one_sentence(err)
    with pytest.raises(LandscapeError, match="fewer than 3") as err:
        pca_directions(np.array([[0.0, 0, 0, 0], [1.0, 0, 0, 0], [1.0, 0, 0, 0]]), centre)
    assert_one_sentence(err)
    with pytest.raises(LandscapeError, match="path"):
        make_directions("pca", Layout.from_sizes((2, 1)), np.zeros(3))


def test_random_directions_are_filter_normalised_per_unit():
    cfg = TrainConfig(hidden=(3, 2), init="xavier")
    layout = Layout.from_sizes(cfg.layer_sizes)
    theta = np.random.default_rng(1).normal(size=layout.n_params)
    theta[layout.w_offsets[1] : layout.w_offsets[1] + 3] = 0.0  # unit 1 of layer 2: a zero row of W ...
    theta[layout.b_offsets[1]] = 0.0  # ... and a zero bias
    directions = random_directions(layout, theta, seed=5)
    for d in (directions.d1, directions.d2):
        for layer in range(layout.n_layers):
            n_in, n_out = int(layout.sizes[layer]), int(layout.sizes[layer + 1])
            w0, b0 = int(layout.w_offsets[layer]), int(layout.b_offsets[layer])
            for j in range(n_out):
                row = np.r_[w0 + j * n_in : w0 + (j + 1) * n_in, b0 + j]
                assert np.linalg.norm(d[row]) == pytest.approx(np.linalg.norm(theta[row]), rel=1e-12)
        assert not d.flags.writeable
    assert not np.any(directions.d1[np.r_[layout.w_offsets[1] : layout.w_offsets[1] + 3, layout.b_offsets[1]]])
    again = random_directions(layout, theta, seed=5)
    np.testing.assert_array_equal(again.d1, directions.d1)
    assert not np.array_equal(random_directions(layout, theta, seed=6).d1, directions.d1)
    assert "filter-normalised" in directions.labels[0]


def test_diverged_weights_give_one_clear_error():
    cfg = TrainConfig()
    layout = Layout.from_sizes(cfg.layer_sizes)
    theta = np.ones(layout.n_params)
    directions = random_directions(layout, theta)
    theta[3] = np.inf
    for call in (
        lambda: random_directions(layout, theta),
        lambda: parameter_directions(layout, ("b2[0]", "b1[0]"), theta),
        lambda: compute_landscape(cfg, XOR, theta, directions, 5, 1.0),
        lambda: loss_slice(cfg, XOR, theta, directions.d1, 1.0),
        lambda: plane_losses(cfg, XOR, theta, directions, [0.0], [0.0]),
    ):
        with pytest.raises(LandscapeError, match="finite") as err:
            call()
        assert_one_sentence(err)
    # a diverged path's points project to non-finite coordinates (the window draws the finite part)
    a, b = project(np.vstack([np.ones(layout.n_params), theta]), np.ones(layout.n_params), directions)
    assert a[0] == 0.0 and not np.isfinite(a[1]) and not np.isfinite(b[1])


def test_a_diverged_runs_huge_weights_give_one_clear_error():
    cfg = TrainConfig(learning_rate=1e308, activation="tanh", loss="bce")
    trainer = trained(cfg, epochs=5)
    assert trainer.diverged and np.all(np.isfinite(trainer.theta))  # finite weights, a loss that is not
    layout = trainer.layout
    directions = random_directions(layout, np.ones(layout.n_params))
    for call in (
        lambda: random_directions(layout, trainer.theta),
        lambda: parameter_directions(layout, ("W1[0,0]", "b2[0]"), trainer.theta),
        lambda: compute_landscape(cfg, XOR, trainer.theta, directions, 5, 1.0),
        lambda: loss_slice(cfg, XOR, trainer.theta, directions.d1, 1.0, 5),
        lambda: replay_path(cfg, XOR, 5, initial_theta=trainer.theta),
    ):
        with pytest.raises(LandscapeError, match="diverge") as err:
            call()
        assert_one_sentence(err)


def test_zero_weights_give_one_clear_error():
    layout = Layout.from_sizes((2, 2, 1))
    with pytest.raises(LandscapeError, match="zero") as err:
        random_directions(layout, np.zeros(layout.n_params))
    assert_one_sentence(err)
    with pytest.raises(LandscapeError, match="zero") as err:
        loss_slice(TrainConfig(), XOR, np.ones(layout.n_params), np.zeros(layout.n_params), 1.0)
    assert_one_sentence(err)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("params:W1[0,0],b2[0]", ("params", ("W1[0,0]", "b2[0]"))),
        (" params : w1[ 1 , 0 ] , B1[1] ", ("params", ("W1[1,0]", "b1[1]"))),
        ("random", ("random", None)),
        ("PCA", ("pca", None)),
    ],
)
def test_parse_directions(text, want):
    assert parse_directions(text) == want


@pytest.mark.parametrize(
    "text", ["", "params", "params:", "params:W1[0,0]", "params:W1[0],b2[0]", "params:W1[0,0],b2[0],b1[0]", "random:W1[0,0]",
             "sideways", "params:W1[0,0];b2[0]", "params:x[0],b2[0]"],
)  # fmt: skip
def test_bad_direction_syntax_is_one_clear_error(text):
    with pytest.raises(LandscapeError) as err:
        parse_directions(text)
    assert_one_sentence(err)


def test_unknown_and_repeated_parameters_are_one_clear_error():
    layout = Layout.from_sizes((2, 2, 1))
    theta = np.ones(layout.n_params)
    with pytest.raises(LandscapeError, match=r"'W3\[0,0\]' is not a parameter") as err:
        parameter_directions(layout, ("W3[0,0]", "b2[0]"), theta)
    assert "W1[0,0]" in assert_one_sentence(err)  # lists valid names
    with pytest.raises(LandscapeError, match=r"W1\[2,0\]"):
        parameter_directions(layout, ("b1[0]", "W1[2,0]"), theta)
    with pytest.raises(LandscapeError, match="twice") as err:
        parameter_directions(layout, ("b2[0]", "b2[0]"), theta)
    assert_one_sentence(err)
    with pytest.raises(LandscapeError):
        make_directions("params", layout, theta)  # no names
    with pytest.raises(LandscapeError):
        make_directions("diagonal", layout, theta)


def test_parameter_names_and_labels():
    layout = Layout.from_sizes((2, 2, 1))
    assert parameter_names(layout) == ["W1[0,0]", "W1[0,1]", "W1[1,0]", "W1[1,1]", "b1[0]", "b1[1]", "W2[0,0]", "W2[0,1]",
                                       "b2[0]"]  # fmt: skip
    assert len(parameter_names(Layout.from_sizes((3, 4, 2, 1)))) == Layout.from_sizes((3, 4, 2, 1)).n_params
    assert parameter_label("W1[0,0]") == "W⁽¹⁾₁₁"
    assert parameter_label("b2[0]") == "b⁽²⁾₁"
    assert parameter_label("W1[9,0]") == "W⁽¹⁾₁₀,₁"


# --- grid and range --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("grid", "span"), [(2, 1.0), (402, 1.0), (5.0, 1.0), (True, 1.0), (5, 0.0), (5, -1.0),
                                            (5, float("nan")), (5, float("inf")), (5, "wide")])  # fmt: skip
def test_bad_grid_or_range_is_one_clear_error(grid, span):
    layout = Layout.from_sizes((2, 2, 1))
    directions = random_directions(layout, np.ones(layout.n_params))
    with pytest.raises(LandscapeError) as err:
        compute_landscape(TrainConfig(), XOR, np.ones(layout.n_params), directions, grid, span)
    assert_one_sentence(err)


def test_progress_is_reported_and_cancel_returns_none(monkeypatch):
    monkeypatch.setattr(ls, "_BLOCK_WORK", 1)  # one row per block
    cfg = TrainConfig()
    trainer = trained(cfg)
    directions = random_directions(trainer.layout, trainer.theta)
    calls = []
    land = compute_landscape(cfg, XOR, trainer.theta, directions, grid=5, span=1.0, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert land is not None and land.seconds >= 0.0
    asked = []

    def cancelled():
        asked.append(1)
        return len(asked) > 2

    assert compute_landscape(cfg, XOR, trainer.theta, directions, grid=5, span=1.0, cancelled=cancelled) is None
    assert len(asked) == 3


def test_landscape_csv_has_one_row_per_grid_point():
    cfg = TrainConfig()
    trainer = trained(cfg)
    land = compute_landscape(cfg, XOR, trainer.theta, random_directions(trainer.layout, trainer.theta), grid=7, span=1.0)
    lines = landscape_csv(land).splitlines()
    assert lines[0] == "a,b,loss"
    assert len(lines) == 1 + 7 * 7
    rows = np.array([[float(x) for x in line.split(",")] for line in lines[1:]])
    np.testing.assert_array_equal(rows[:7, 0], land.a)  # a varies fastest
    np.testing.assert_array_equal(rows[::7, 1], land.b)
    np.testing.assert_array_equal(rows[:, 2], land.loss.ravel())  # repr floats read back exactly


# --- the slice -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_slice_slope_matches_a_finite_difference_of_the_slice(loss):
    cfg = TrainConfig(hidden=(3,), loss=loss, activation="tanh", l2=0.01, l1=0.001)  # the penalty is not in the slice
    trainer = trained(cfg, CIRCLE, epochs=20)
    direction = random_directions(trainer.layout, trainer.theta, seed=2).d1
    t, losses, slope = loss_slice(cfg, CIRCLE, trainer.theta, direction, span=1.0, n=21)
    assert t[10] == 0.0 and losses[10] == trainer.evaluate()["train_loss"]
    h = 1e-5
    t_fd, fd_losses, fd_slope = loss_slice(cfg, CIRCLE, trainer.theta, 7.0 * direction, span=h, n=3)
    assert fd_slope == pytest.approx(slope, rel=1e-12)  # along the unit direction: its length does not matter
    finite_difference = (fd_losses[2] - fd_losses[0]) / (t_fd[2] - t_fd[0])
    assert slope == pytest.approx(finite_difference, rel=1e-6, abs=1e-12)
    # t is in theta's units along the unit direction
    unit = direction / np.linalg.norm(direction)
    want = plane_loss(cfg, trainer.theta, unit, np.zeros_like(unit), t[0], 0.0, CIRCLE.train_inputs, CIRCLE.train_targets)
    np.testing.assert_allclose(losses[0], want, rtol=RTOL)


# --- the path --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(),
        TrainConfig(mode="minibatch", batch_size=3, shuffle=True, optimizer="adam", hidden=(3, 2), seed=4),
        TrainConfig(mode="batch", optimizer="momentum", loss="bce", features=("x1", "x2", "x1x2")),
    ],
)
def test_replay_path_ends_at_the_run_bit_for_bit(cfg):
    epochs = 700
    progress = []
    path = replay_path(cfg, CIRCLE, epochs, max_points=50, progress=lambda d, t: progress.append((d, t)))
    run = Trainer(cfg, data=CIRCLE)
    run.run(epochs)
    np.testing.assert_array_equal(path.thetas[-1], run.theta)
    np.testing.assert_array_equal(path.thetas[0], Trainer(cfg, data=CIRCLE).theta)  # the initial weights
    assert path.epochs[0] == 0 and path.epochs[-1] == epochs and len(path.epochs) <= 50
    assert np.all(np.diff(path.epochs) > 0)
    assert list(path.epochs[:6]) == [0, 1, 2, 3, 4, 5]  # dense early, where the weights move most
    assert progress[-1] == (epochs, epochs) and len(progress) == len(path.epochs) - 1
    for k in (0, len(path.epochs) // 2, -1):
        at = Trainer(cfg, data=CIRCLE, initial_params=run.layout.copies(path.thetas[k]))
        assert path.losses[k] == at.evaluate()["train_loss"]
    for arr in (path.epochs, path.thetas, path.losses):
        assert not arr.flags.writeable


def test_replay_path_from_given_initial_weights_and_short_runs():
    cfg = TrainConfig(hidden=(2,))
    start = np.linspace(-1.0, 1.0, 9)
    path = replay_path(cfg, XOR, 12, initial_theta=start)
    run = Trainer(cfg, data=XOR, initial_params=Layout.from_sizes(cfg.layer_sizes).copies(start))
    run.run(12)
    np.testing.assert_array_equal(path.epochs, np.arange(13))
    np.testing.assert_array_equal(path.thetas[0], start)
    np.testing.assert_array_equal(path.thetas[-1], run.theta)
    assert len(replay_path(cfg, XOR, 0).epochs) == 1
    with pytest.raises(LandscapeError):
        replay_path(cfg, XOR, -1)


def test_replay_path_cancelled_returns_none():
    asked = []

    def cancelled():
        asked.append(1)
        return len(asked) > 3

    assert replay_path(TrainConfig(), XOR, 1000, cancelled=cancelled) is None
    assert len(asked) == 4


def test_path_projection_and_plane_losses_on_pca_directions():
    cfg = TrainConfig(hidden=(2,), learning_rate=0.5)
    path = replay_path(cfg, XOR, 400)
    centre = path.thetas[-1]
    directions = make_directions("pca", Layout.from_sizes(cfg.layer_sizes), centre, path_thetas=path.thetas)
    a, b = project(path.thetas, centre, directions)
    assert a[-1] == pytest.approx(0.0, abs=1e-12) and b[-1] == pytest.approx(0.0, abs=1e-12)
    assert a[0] <= 0.0 and b[0] <= 0.0  # signed so that the path starts at negative coordinates
    on_plane = plane_losses(cfg, XOR, centre, directions, a, b)
    assert on_plane[-1] == path.losses[-1]
    for k in (0, 10):
        want = plane_loss(cfg, centre, directions.d1, directions.d2, a[k], b[k], XOR.train_inputs, XOR.train_targets)
        np.testing.assert_allclose(on_plane[k], want, rtol=RTOL)


def test_each_kernel_is_compiled_for_one_signature_whatever_arrays_it_is_given():
    ls.warm_up()
    cfg = TrainConfig(hidden=(3,), features=("x1", "x2", "x1x2"))
    trainer = trained(cfg, CIRCLE)
    theta = trainer.theta
    theta.flags.writeable = False
    directions = random_directions(trainer.layout, theta)  # read-only d1, d2
    compute_landscape(cfg, CIRCLE, theta, directions, grid=3, span=1.0)
    plane_losses(cfg, CIRCLE, theta[::1], directions, [0.5], (0.25,))
    loss_slice(cfg, CIRCLE, theta, directions.d2[::-1], 1.0, 5)
    replay_path(cfg, CIRCLE, 3)
    K = ls.landscape_kernels()
    for kernel in (K.grid_rows, K.plane_points, K.losses_at):
        assert len(kernel.signatures) == 1, kernel


def test_two_threads_computing_at_once_get_the_planes_they_would_get_alone(monkeypatch):
    monkeypatch.setattr(ls, "_BLOCK_WORK", 1)  # many blocks, so that the threads interleave
    cfg = TrainConfig(hidden=(3,))
    trainer = trained(cfg, SPIRAL)
    jobs = [random_directions(trainer.layout, trainer.theta, seed=s) for s in (1, 2)]
    alone = [compute_landscape(cfg, SPIRAL, trainer.theta, d, grid=15, span=1.0).loss for d in jobs]
    together = [None, None]

    def work(k):
        together[k] = compute_landscape(cfg, SPIRAL, trainer.theta, jobs[k], grid=15, span=1.0).loss

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(together, alone, strict=True):
        np.testing.assert_array_equal(got, want)


CONCURRENT_SCRIPT = """
import threading
import numpy as np
from engine import TrainConfig, Trainer
from engine import landscape as ls
from engine.datasets import DataSpec, make_dataset
import numba

ls._BLOCK_WORK = 1
data = make_dataset(DataSpec(name="spiral", points=60, train_fraction=0.5))
cfg = TrainConfig(hidden=(3,))
trainer = Trainer(cfg, data=data)
jobs = [ls.random_directions(trainer.layout, trainer.theta, seed=s) for s in (1, 2, 3)]
alone = [ls.compute_landscape(cfg, data, trainer.theta, d, grid=15, span=1.0).loss for d in jobs]
from engine.sweep import SweepSpec, run_sweep
spec = SweepSpec(TrainConfig(), seeds=tuple(range(20)), learning_rates=(0.5,), hidden=(2,), optimizers=("sgd",), epochs=300)
sweep_alone = run_sweep(spec).final_loss
together = [None] * 4
def work(k):
    if k == 3:  # a sweep (the window's Sweep tab) beside the planes: engine/parallel.py's one lock for both
        together[k] = run_sweep(spec).final_loss
    else:
        together[k] = ls.compute_landscape(cfg, data, trainer.theta, jobs[k], grid=15, span=1.0).loss
threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert all(np.array_equal(a, b) for a, b in zip(alone + [sweep_alone], together))
print(numba.threading_layer())
"""


def test_concurrent_planes_are_safe_on_numbas_workqueue_threading_layer():
    """The workqueue layer (Numba's fallback without TBB or OpenMP) aborts the process when two threads run parallel
    code at once: planes and sweeps serialise their kernel calls (engine/parallel.py)."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    done = subprocess.run([sys.executable, "-c", CONCURRENT_SCRIPT], env=env, capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "workqueue"
