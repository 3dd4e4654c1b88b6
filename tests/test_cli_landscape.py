"""`python main.py landscape`: the summary, the CSV (a, b, loss per grid point), the PNG, and one clear line (exit 2)
for every bad direction, grid or range."""

import numpy as np
import pytest

import main
from engine import Layout, TrainConfig, Trainer, landscape
from engine.datasets import make_dataset

EPOCHS = 300


def run_cli(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv: str) -> str:
    """Run the command line, expect exit 2, return stderr."""
    with pytest.raises(SystemExit) as info:
        main.main(list(argv))
    assert info.value.code == main.EXIT_USAGE
    return capsys.readouterr().err


def read_csv(path) -> tuple[str, np.ndarray]:
    lines = path.read_text().splitlines()
    return lines[0], np.array([[float(v) for v in line.split(",")] for line in lines[1:]])


def trained(epochs: int = EPOCHS, **options) -> Trainer:
    trainer = Trainer(TrainConfig(**options), data=make_dataset())
    trainer.run(epochs)
    return trainer


def test_parameter_plane_csv_png_and_summary(capsys, tmp_path):
    """The CSV has one row per grid point (a fastest), the axes in the two weights' exact values around the trained
    weights; the middle point's loss is the training loss bit for bit; the PNG decodes at the size printed."""
    csv, png = tmp_path / "s.csv", tmp_path / "s.png"
    code, out, err = run_cli(capsys, "landscape", "--epochs", str(EPOCHS), "--directions", "params:W1[0,0],b2[0]",
                             "--grid", "21", "--range", "0.5", "--csv", str(csv), "--png", str(png), "-q")  # fmt: skip
    assert code == 0 and err == ""
    trainer = trained()
    layout = Layout.from_sizes(trainer.config.layer_sizes)
    names = landscape.parameter_names(layout)
    w, b = trainer.theta[names.index("W1[0,0]")], trainer.theta[names.index("b2[0]")]
    header, rows = read_csv(csv)
    assert header == "a,b,loss" and rows.shape == (21 * 21, 3)
    a_axis, b_axis = np.unique(rows[:, 0]), np.unique(rows[:, 1])
    assert np.allclose(a_axis, w + np.linspace(-0.5, 0.5, 21), rtol=0, atol=1e-12)
    assert np.allclose(b_axis, b + np.linspace(-0.5, 0.5, 21), rtol=0, atol=1e-12)
    assert np.array_equal(rows[:21, 0], a_axis) and np.all(rows[:21, 1] == rows[0, 1])  # a varies fastest
    centre = rows[10 * 21 + 10]
    assert centre[0] == w and centre[1] == b
    assert centre[2] == trainer.evaluate()["train_loss"]
    assert rows[:, 2].min() <= centre[2] <= rows[:, 2].max()
    assert f"after {EPOCHS:,} epochs, along two parameters" in out
    assert "grid 21 × 21: W1[0,0] from" in out and f"loss at the centre θ*: {float(centre[2])!r}" in out
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull()
    assert f"saved {png} ({image.width()}x{image.height()})" in out
    assert image.width() == main.LANDSCAPE_PNG_WIDTH and 0.7 * image.width() < image.height() < 1.2 * image.width()


def test_random_directions_follow_their_seed(capsys, tmp_path):
    paths = [tmp_path / f"{name}.csv" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("1", "1", "2")):
        code, out, _ = run_cli(capsys, "landscape", "--epochs", "50", "--grid", "5", "--seed-directions", seed,
                               "--csv", str(path), "-q")  # fmt: skip
        assert code == 0 and f"filter-normalised (seed {seed})" in out
    texts = [path.read_text() for path in paths]
    assert texts[0] == texts[1] != texts[2]
    _, rows = read_csv(paths[0])
    assert np.array_equal(np.unique(rows[:, 0]), landscape.grid_axis(5, landscape.DEFAULT_RANGE))  # offsets, not values


def test_pca_plane_and_the_path_in_the_summary(capsys):
    code, out, _ = run_cli(capsys, "landscape", "--epochs", "400", "--directions", "pca", "--grid", "7", "--range", "3", "-q")
    assert code == 0
    assert "principal components" in out and "PC1 (" in out and "PC2 (" in out
    assert "path: " in out and "from epoch 0 to 400" in out and "differs from the true loss by at most" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--directions", "params:W1[0,0],W9[0,0]"], "--directions: 'W9[0,0]' is not a parameter of this network"),
        (["--directions", "params:b2[0],b2[0]"], "--directions: b2[0] is named twice"),
        (["--directions", "params:W1[0,0]"], "--directions: 'params:W1[0,0]': name two parameters"),
        (["--directions", "sideways"], "--directions: 'sideways': choose params:W1[0,0],b2[0], random or pca"),
        (["--directions", "pca", "--epochs", "1"], "--directions pca: the path of 1 epoch(s) has too few points"),
        (["--directions", "pca", "--seed-directions", "3"], "--seed-directions: only random directions are drawn at random"),
        (["--grid", "2"], "--grid: 2 is not allowed; give 3 to 401 points"),
        (["--grid", "402"], "--grid: 402 is not allowed"),
        (["--range", "0"], "--range: 0 is not allowed; give a range > 0"),
        (["--range", "inf"], "--range: 'inf' is not a finite number"),
        (["--png", "x.jpg"], "--png: x.jpg: a PNG file's name must end in .png"),
        (["--csv", "/nonexistent-folder/x.csv"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    err = usage_error(capsys, "landscape", "--epochs", "5", *argv)
    assert needle in err and "Traceback" not in err
    assert len(err.splitlines()) <= 2  # the error, and where to read more


def test_unknown_parameter_is_refused_before_training(capsys, monkeypatch):
    monkeypatch.setattr(landscape, "replay_path", lambda *args, **kwargs: pytest.fail("trained before checking"))
    err = usage_error(capsys, "landscape", "--directions", "params:W3[0,0],b1[0]")
    assert "'W3[0,0]' is not a parameter" in err and "choose from W1[0,0]" in err


def test_zero_direction_is_one_line(capsys, monkeypatch):
    """All-zero weights make filter-normalised random directions zero: said in one line, exit 2."""
    replay = landscape.replay_path

    def from_zero(config, data, epochs, **kwargs):
        return replay(config, data, epochs, initial_theta=np.zeros(Layout.from_sizes(config.layer_sizes).n_params), **kwargs)

    monkeypatch.setattr(landscape, "replay_path", from_zero)
    err = usage_error(capsys, "landscape", "--epochs", "0", "--directions", "random")
    assert "--directions: the weights are all zero" in err and len(err.splitlines()) == 2


def test_divergence_exits_1_and_says_so(capsys):
    code, out, err = run_cli(capsys, "landscape", "--lr", "1e308", "--loss", "bce", "--activation", "tanh", "-q")
    assert code == main.EXIT_DIVERGED and out == ""
    assert err.startswith("error: the training diverged at epoch 1:") and "smaller learning rate" in err
    assert len(err.splitlines()) == 1
