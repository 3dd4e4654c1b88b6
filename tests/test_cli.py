"""The headless command line: output, files and exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from engine import TrainConfig, Trainer
from engine.datasets import DATASETS, DataSpec, load_csv, make_dataset
from engine.features import FEATURES
from engine.fields import CONFIG_FIELDS, DATA_FIELDS
from tests.test_notebook import NOTEBOOK_LOSSES, NOTEBOOK_PREDICTIONS

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_the_notebook(capsys):
    code, out, err = run_cli(capsys, "train")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 13  # the notebook's 12, then what the run did (engine/diagnosis.py)
    for line, (epoch, loss) in zip(lines, sorted(NOTEBOOK_LOSSES.items())):
        label, value = line.split(", Loss: ")
        assert label == f"Epoch {epoch}"
        assert float(value) == pytest.approx(loss, rel=1e-14, abs=0)
    assert lines[10] == "Predicted Output after Training:"
    assert lines[11] == " [[" + " ".join(f"{p:.8f}" for p in NOTEBOOK_PREDICTIONS) + "]]"
    assert lines[12].startswith("Diagnosis: solved at epoch ")


def test_losses_printed_at_full_precision(capsys):
    _, out, _ = run_cli(capsys, "train", "--epochs", "3", "--log-every", "1", "--mode", "batch")
    loss = Trainer(TrainConfig(mode="batch")).run(3).loss
    assert out.splitlines()[:3] == [f"Epoch {i + 1}, Loss: {float(loss[i])!r}" for i in range(3)]


def test_log_every_zero_is_quiet(capsys):
    code, out, _ = run_cli(capsys, "train", "--epochs", "50", "--log-every", "0")
    assert code == 0 and out.startswith("Predicted Output after Training:")


def test_options_reach_the_config(capsys, tmp_path):
    path = tmp_path / "run.json"
    args = ["train", "--epochs", "120", "--learning-rate", "0.5", "--hidden", "4,3", "--activation", "tanh", "--loss", "bce",
            "--mode", "minibatch", "--batch-size", "3", "--shuffle", "--init", "xavier", "--seed", "7", "--optimizer", "adam",
            "--log-every", "0", "--json", str(path)]  # fmt: skip
    code, _, _ = run_cli(capsys, *args)
    assert code == 0
    record = json.loads(path.read_text())
    cfg = TrainConfig(hidden=(4, 3), activation="tanh", loss="bce", learning_rate=0.5, mode="minibatch", batch_size=3,
                      shuffle=True, init="xavier", seed=7, optimizer="adam")  # fmt: skip
    assert TrainConfig.from_dict(record["config"]) == cfg
    trainer = Trainer(cfg)
    chunk = trainer.run(120)
    assert record["format"] == "backprop-lab.train" and record["version"] == 1
    assert record["epochs"] == 120 and record["diverged"] is False and record["updates"] == trainer.updates
    np.testing.assert_array_equal(record["loss"], chunk.loss)
    for layer, (W, b) in zip(record["params"], trainer.params):
        np.testing.assert_array_equal(layer["W"], W)
        np.testing.assert_array_equal(layer["b"], b)
    assert record["predictions"] == trainer.predict(np.array(record["inputs"])).tolist()


def test_no_hidden_layer(capsys):
    code, out, _ = run_cli(capsys, "train", "--hidden", "none", "--epochs", "10")
    assert code == 0 and "Predicted Output" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--learning-rate", "-1"], "--learning-rate/--lr: '-1' is not allowed"),
        (["train", "--learning-rate", "nan"], "not a finite number"),
        (["train", "--lr", "abc"], "'abc' is not a number"),
        (["train", "--hidden", "2,x"], "--hidden: 'x' is not a whole number"),
        (["train", "--hidden", "0,2"], "--hidden"),
        (["train", "--batch-size", "0"], "--batch-size: '0' is not allowed; it must be an integer from 1 to 1048576"),
        (["train", "--points", "5"], "--points: '5' is not allowed; it must be an integer from 20 to 2000"),
        (["train", "--features", "x1,foo"], "--features: 'foo' is not a feature; choose from x1, x2, x1sq, x2sq, x1x2, sinx1"),
        (["train", "--features", "x1,x1"], "--features: 'x1,x1' names x1 more than once"),
        (["compare", "--noise", "2"], "--noise: '2' is not allowed; it must be a number from 0 to 0.5"),
        (["sweep", "--train-fraction", "0.95"], "--train-fraction: '0.95' is not allowed; it must be a number from 0.1 to 0.9"),
        (["gui", "--data-seed", "-1"], "--data-seed: '-1' is not allowed; it must be an integer from 0 to 4294967295"),
        (["screenshot", "x.png", "--dataset", "blobs"], "--dataset: invalid choice: 'blobs'"),
        (["train", "--l2", "-1"], "--l2: '-1' is not allowed; it must be a number from 0 to 10"),
        (["train", "--l1", "nan"], "--l1: 'nan' is not a finite number"),
        (["train", "--beta1", "1"], "--beta1: '1' is not allowed; it must be a number with 0 <= value < 1"),
        (["train", "--eps", "0"], "--eps: '0' is not allowed; it must be a finite number > 0"),
        (["train", "--epochs", "-5"], "negative"),
        (["train", "--mode", "online"], "invalid choice"),
        (["train", "--seed", "-1"], "--seed"),
        (["train", "--json", "/nonexistent-folder/x.json"], "does not exist"),
        (["train", "--json", "."], "is a directory"),
        (["bogus"], "invalid choice"),
        (["sweep", "--target-accuracy", "0.9"], "--target-accuracy: on xor data a run is solved when every output is within"),
        (["--dataset", "blobs"], "python main.py gui: error: --dataset: invalid choice: 'blobs'"),
    ],
)
def test_bad_values_exit_2_with_a_message(capsys, argv, needle):
    with pytest.raises(SystemExit) as info:
        main.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert len(err.splitlines()) <= 2  # the error, and where to read more


def test_divergence_exits_1_and_says_so(capsys, tmp_path):
    path = tmp_path / "d.json"
    code, _out, err = run_cli(capsys, "train", "--lr", "1e308", "--loss", "bce", "--activation", "tanh", "--json", str(path))
    assert code == 1
    assert "Diverged at epoch 1" in err and "smaller learning rate" in err
    record = json.loads(path.read_text())  # valid JSON: NaN written as null
    assert record["diverged"] is True and record["loss"] == [None]


def test_help_lists_commands_and_options():
    out = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for word in ("train", "gui", "screenshot", "Exit status"):
        assert word in out
    out = subprocess.run(
        [sys.executable, "main.py", "train", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for option in ("--epochs", "--learning-rate", "--hidden", "--activation", "--loss", "--mode", "--batch-size", "--shuffle",
                   "--init", "--seed", "--log-every", "--json", "--optimizer", "--beta1", "--beta2", "--eps", "--dataset",
                   "--points", "--noise", "--train-fraction", "--data-seed", "--features", "--l2", "--l1", "--data"):  # fmt: skip
        assert option in out


def test_subprocess_exit_codes_and_no_traceback():
    ok = subprocess.run([sys.executable, "main.py", "train", "--epochs", "1001"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("Epoch 1, Loss: 0.32395371581304")
    bad = subprocess.run([sys.executable, "main.py", "train", "--hidden", "-3"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "error:" in bad.stderr


def test_save_load_and_export(capsys, tmp_path):
    path = tmp_path / "run.bplab"
    assert main.main(["train", "--epochs", "3000", "--log-every", "0", "--save", str(path)]) == 0
    capsys.readouterr()
    assert main.main(["train", "--load", str(path), "--epochs", "2001", "--log-every", "1000"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Epoch 3001, Loss: ") and out[2].startswith("Epoch 5001, Loss: 0.01609012322120")
    with pytest.raises(SystemExit) as info:
        main.main(["train", "--load", str(path), "--hidden", "3"])
    assert info.value.code == 2 and "keeps its data, network and seed" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main.main(["train", "--load", str(path), "--dataset", "circle"])
    assert info.value.code == 2 and "--dataset: a loaded experiment keeps its data" in capsys.readouterr().err
    names = {"h": "h.csv", "p": "p.json", "c": "p.csv", "png": "l.png", "svg": "l.svg"}
    files = {k: tmp_path / name for k, name in names.items()}
    export = ["export", str(path), "--history-csv", str(files["h"]), "--params-json", str(files["p"])]
    export += ["--params-csv", str(files["c"]), "--figure", "predictions", "--png", str(files["png"])]
    export += ["--svg", str(files["svg"])]
    assert main.main(export) == 0
    assert len(files["h"].read_text().splitlines()) == 3001
    assert json.loads(files["p"].read_text())["config"]["learning_rate"] == 0.1
    assert files["png"].stat().st_size > 1000 and "<svg" in files["svg"].read_text()
    with pytest.raises(SystemExit):
        main.main(["export", str(path)])
    assert "say what to export" in capsys.readouterr().err


def parsed(*argv):
    """The namespace and the sub-command's parser, as main() gets them."""
    parser, subparsers = main.build_parser()
    return parser.parse_args(list(argv)), subparsers[argv[0]]


@pytest.mark.parametrize("command", ["train", "compare", "sweep", "gui", "screenshot"])
def test_every_field_has_an_option(command):
    """The options are generated from engine/fields.py: every TrainConfig and DataSpec field has its flag (a sweep
    takes the learning rate, hidden layers and optimizer as lists, and seeds as --seeds/--seed-start)."""
    _, subparsers = main.build_parser()
    text = subparsers[command].format_help()
    for field in (*CONFIG_FIELDS.values(), *DATA_FIELDS.values()):
        if not (command == "sweep" and field.name == "seed"):
            assert f"{field.flag} " in text or f"{field.flag}," in text, field.flag
        if command != "sweep" or field.name not in main.SWEPT_FIELDS:
            assert field.help.split(";")[0][:30] in " ".join(text.split()), field.name


def test_features_take_the_spellings_feature_name_reads():
    """--features reads each name as the window does (engine.features.feature_name): before, x1², X1 and sin(x1) were
    refused because the option knew only the registry's names."""
    args, parser = parsed("train", "--features", "X1, x1², sin(x1), x1*x2")
    assert main.config_from_args(args, parser).features == ("x1", "x1sq", "x1x2", "sinx1")


def test_every_config_option_reaches_the_config():
    args, parser = parsed("train", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6", "--momentum", "0.5", "--l2", "0.01",
                          "--l1", "1e-3", "--features", "x1x2, x1,sinx2", "--no-shuffle", "--optimizer", "adam")  # fmt: skip
    config = main.config_from_args(args, parser)
    assert config == TrainConfig(beta1=0.8, beta2=0.99, eps=1e-6, momentum=0.5, l2=0.01, l1=0.001,
                                 features=("x1", "x1x2", "sinx2"), optimizer="adam")  # fmt: skip
    assert main.given_options(parsed("train")[0]) == {}  # nothing given: a loaded experiment keeps its settings


def test_data_options_build_the_dataset():
    args, parser = parsed("train", "--dataset", "spiral", "--points", "100", "--noise", "0.2", "--train-fraction", "0.7",
                          "--data-seed", "3")  # fmt: skip
    data = main.data_from_args(args, parser)
    want = make_dataset(DataSpec("spiral", points=100, noise=0.2, train_fraction=0.7, data_seed=3))
    assert data.spec == want.spec and data.n_train == 70
    np.testing.assert_array_equal(data.inputs, want.inputs)
    np.testing.assert_array_equal(data.train, want.train)
    assert main.data_from_args(*parsed("gui")).spec == DataSpec()  # no option: the notebook's XOR


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--points", "300"], "--points: the xor dataset does not use it; pick another with --dataset"),
        (["sweep", "--dataset", "xor", "--noise", "0.2", "--data-seed", "2"], "--noise, --data-seed: the xor dataset"),
        (["gui", "--dataset", "moons", "--data", "x.csv"], "--dataset, --data: give one of them"),
        (["train", "--data", "x.csv", "--points", "50"], "--points: a CSV file's points are its rows"),
        (["train", "--data", ""], "--data: empty path"),
    ],
)
def test_data_options_the_data_does_not_use_are_refused(capsys, argv, needle):
    with pytest.raises(SystemExit) as info:
        main.data_from_args(*parsed(*argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.splitlines()) == 2


def test_split_options_with_a_file_that_has_a_split_column_are_refused(capsys, tmp_path):
    """The file's split column decides the split: --train-fraction and --data-seed would be silently ignored, so they
    are a usage error naming them (before: accepted and ignored)."""
    path = tmp_path / "split.csv"
    path.write_text("x1,x2,label,split\n" + "".join(f"{i},{-i},{i % 2},{'test' if i % 3 == 0 else 'train'}\n" for i in range(10)))
    data = main.data_from_args(*parsed("train", "--data", str(path)))  # without them: loaded, split by the column
    assert data.train.tolist() == [i % 3 != 0 for i in range(10)]
    for options, flags in ((["--train-fraction", "0.6"], "--train-fraction"), (["--data-seed", "4"], "--data-seed"),
                           (["--data-seed", "4", "--train-fraction", "0.5"], "--train-fraction, --data-seed")):  # fmt: skip
        with pytest.raises(SystemExit) as info:
            main.main(["train", "--data", str(path), *options])
        err = capsys.readouterr().err
        assert info.value.code == 2 and f"error: {flags}: {path}: its split column decides the split" in err
        assert len(err.splitlines()) == 2  # the error, and where to read more


def test_sweep_target_accuracy_is_refused_where_the_outputs_decide(capsys):
    """XOR keeps its 'solved' rule (every output within 0.4): --target-accuracy would be ignored, so it is refused;
    other data takes it."""
    for argv in (["sweep", "--target-accuracy", "0.9", "--seeds", "1", "--epochs", "1"],
                 ["sweep", "--dataset", "xor", "--target-accuracy", "95%", "--seeds", "1", "--epochs", "1"]):  # fmt: skip
        with pytest.raises(SystemExit) as info:
            main.main(argv)
        err = capsys.readouterr().err
        assert info.value.code == 2 and "--target-accuracy: on xor data a run is solved when every output" in err
    assert run_cli(capsys, "sweep", "--seeds", "1", "--epochs", "1")[0] == 0  # not given: XOR's rule, no complaint


@pytest.fixture
def window_opened(monkeypatch):
    """What `run_window` got, instead of opening the window (a display is assumed)."""
    opened = []
    monkeypatch.setattr(main, "display_problem", lambda: None)
    monkeypatch.setattr("gui.app.run_window", lambda config, data=None: opened.append((config, data)) or 0)
    return opened


def test_options_with_no_command_open_the_window_with_them(capsys, window_opened):
    """`python main.py --dataset spiral` is the gui command with that option (before: "COMMAND: invalid choice:
    'spiral'"); with nothing at all the window opens with its remembered settings, and --help is the main help."""
    assert main.main(["--dataset", "spiral", "--points", "60", "--lr", "0.5"]) == 0
    ((config, data),) = window_opened
    assert config == TrainConfig(learning_rate=0.5) and data.spec == DataSpec("spiral", points=60)
    assert main.main([]) == 0 and window_opened[-1] == (None, None)
    with pytest.raises(SystemExit) as info:
        main.main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and out.startswith("usage: python main.py [-h] COMMAND") and "Exit status" in out


def test_a_csv_file_is_loaded_or_refused_in_one_line(capsys, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(10)))
    data = main.data_from_args(*parsed("train", "--data", str(path), "--train-fraction", "0.6", "--data-seed", "4"))
    want = load_csv(path, 0.6, 4)
    assert data.spec == want.spec and data.n == 10
    np.testing.assert_array_equal(data.train, want.train)
    for bad in (tmp_path / "missing.csv", tmp_path):
        with pytest.raises(SystemExit) as info:
            main.data_from_args(*parsed("train", "--data", str(bad)))
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.startswith("error: ") and str(bad.name) in err and len(err.splitlines()) == 1
    path.write_text("x1,x2,label\n0,0,1\n1,1,2\n")
    with pytest.raises(SystemExit):
        main.data_from_args(*parsed("train", "--data", str(path)))
    err = capsys.readouterr().err
    assert "row" in err and "label" in err and len(err.splitlines()) == 1


def test_datasets_lists_datasets_parameters_and_features(capsys):
    code, out, err = run_cli(capsys, "datasets")
    assert code == 0 and err == ""
    for name, kind in DATASETS.items():
        assert f"  {name}" in out and kind.description in out
    for flag in ("--points", "--noise", "--train-fraction", "--data-seed", "--data", "--features"):
        assert flag in out
    for feature in FEATURES.values():
        assert f"  {feature.name}" in out and feature.label in out


def test_datasets_says_of_each_parameter_what_help_says(capsys):
    """`python main.py datasets` and `train --help` write each data parameter's help, range and default from its one
    description: the same words (argparse only wraps them)."""
    _, out, _ = run_cli(capsys, "datasets")
    _, subparsers = main.build_parser()
    help_text = " ".join(subparsers["train"].format_help().split())
    for name in ("points", "noise", "train_fraction", "data_seed"):
        field = DATA_FIELDS[name]
        line = next(line for line in out.splitlines() if line.strip().startswith(f"{field.flag} {field.metavar} "))
        said = line.split(field.metavar, 1)[1].strip()
        assert said == f"{field.help} ({field.range_text()}; default {field.format(field.default)})"
        assert f"{field.flag} {field.metavar} {said}" in help_text, name


# --- output on data other than XOR ---------------------------------------------------------------------------
def test_train_on_a_dataset_prints_test_loss_and_accuracies(capsys):
    argv = ["train", "--dataset", "circle", "--points", "60", "--hidden", "4", "--epochs", "30", "--log-every", "10"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0 and err == ""
    data = make_dataset(DataSpec("circle", points=60))
    trainer = Trainer(TrainConfig(hidden=(4,)), data=data)
    rows = trainer.run(30).rows()
    lines = out.splitlines()
    loss, test_loss, train_acc, test_acc = (rows[:, i].tolist() for i in range(4))
    assert lines[:3] == [
        f"Epoch {e + 1}, Loss: {loss[e]!r}, Test loss: {test_loss[e]!r}, Train accuracy: {train_acc[e]:.1%}, "
        f"Test accuracy: {test_acc[e]:.1%}"
        for e in (0, 10, 20)
    ]
    final = trainer.evaluate()
    assert lines[3] == (
        f"After training: train loss {final['train_loss']:.6g}, train accuracy {final['train_accuracy']:.1%}; "
        f"test loss {final['test_loss']:.6g}, test accuracy {final['test_accuracy']:.1%} (30 training and 30 test points)"
    )


def test_train_on_a_csv_without_test_points_prints_the_train_accuracy(capsys, tmp_path):
    path = tmp_path / "pts.csv"
    rows = [f"{x},{y},{int(x > y)},train" for x, y in np.random.default_rng(0).uniform(-1, 1, (12, 2)).tolist()]
    path.write_text("x1,x2,label,split\n" + "\n".join(rows) + "\n")
    code, out, _ = run_cli(capsys, "train", "--data", str(path), "--epochs", "2", "--log-every", "1")
    lines = out.splitlines()
    assert code == 0 and ", Train accuracy: " in lines[0] and "Test" not in lines[0]
    assert lines[2].startswith("After training: train loss ") and lines[2].endswith("(12 training and 0 test points)")


def test_train_json_carries_the_metrics_and_the_data(capsys, tmp_path):
    path = tmp_path / "r.json"
    argv = ["train", "--dataset", "moons", "--points", "40", "--epochs", "25", "--log-every", "0", "--json", str(path)]
    assert run_cli(capsys, *argv)[0] == 0
    record = json.loads(path.read_text())
    data = make_dataset(DataSpec("moons", points=40))
    trainer = Trainer(TrainConfig(), data=data)
    rows = trainer.run(25).rows()
    assert record["data"] == data.spec.to_dict()
    for i, name in enumerate(("loss", "test_loss", "train_accuracy", "test_accuracy")):
        assert record[name] == rows[:, i].tolist()
    assert record["train"] == data.train.tolist() and len(record["predictions"]) == 40
    assert record["final"] == trainer.evaluate()
    path2 = tmp_path / "x.json"
    assert run_cli(capsys, "train", "--epochs", "3", "--log-every", "0", "--json", str(path2))[0] == 0
    xor = json.loads(path2.read_text())
    assert xor["test_loss"] == [None] * 3 and xor["train_accuracy"] == [0.5] * 3 and len(xor["predictions"]) == 4
    assert xor["inputs"] == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_a_csv_experiment_continues_and_exports_without_the_csv(capsys, tmp_path):
    csv_path, saved = tmp_path / "mine.csv", tmp_path / "mine.bplab"
    points = np.random.default_rng(3).uniform(-2, 2, (30, 2)).tolist()
    csv_path.write_text("x1,x2,label\n" + "\n".join(f"{x},{y},{int(x * y > 0)}" for x, y in points) + "\n")
    argv = ["train", "--data", str(csv_path), "--hidden", "5", "--epochs", "40", "--log-every", "0", "--save", str(saved)]
    assert run_cli(capsys, *argv)[0] == 0
    csv_path.unlink()
    code, out, _ = run_cli(capsys, "train", "--load", str(saved), "--epochs", "20", "--log-every", "10")
    trainer = Trainer(TrainConfig(hidden=(5,)), data=load_csv_text(points, tmp_path))
    rows = trainer.run(60).rows()
    first = f"Epoch 41, Loss: {float(rows[40, 0])!r}, Test loss: {float(rows[40, 1])!r}"
    assert code == 0 and out.splitlines()[0].startswith(first)
    history = tmp_path / "h.csv"
    assert run_cli(capsys, "export", str(saved), "--history-csv", str(history))[0] == 0
    lines = history.read_text().splitlines()
    assert lines[0] == "epoch,kind,loss,test_loss,train_accuracy,test_accuracy" and len(lines) == 41
    assert lines[40] == "40,exact," + ",".join(map(repr, rows[39].tolist()))


def load_csv_text(points, folder):
    """The same points as a fresh CSV file (the data of an experiment saved from it, for comparison)."""
    again = folder / "again.csv"
    again.write_text("x1,x2,label\n" + "\n".join(f"{x},{y},{int(x * y > 0)}" for x, y in points) + "\n")
    return load_csv(again)


def test_export_of_xor_names_its_columns(capsys, tmp_path):
    saved, history = tmp_path / "x.bplab", tmp_path / "h.csv"
    assert run_cli(capsys, "train", "--epochs", "5", "--log-every", "0", "--save", str(saved))[0] == 0
    assert run_cli(capsys, "export", str(saved), "--history-csv", str(history))[0] == 0
    lines = history.read_text().splitlines()
    assert lines[0] == "epoch,kind,loss,test_loss,train_accuracy,test_accuracy,y_hat_00,y_hat_01,y_hat_10,y_hat_11"
    assert lines[1].split(",")[3:5] == ["nan", "0.5"]


@pytest.mark.parametrize("command", [["gui"], [], ["screenshot", "out.png"]])
def test_the_window_commands_check_their_data_first(capsys, tmp_path, command):
    """A missing file is one line and exit 2 before any window opens (or any training starts)."""
    with pytest.raises(SystemExit) as info:
        main.main([*command, "--data", str(tmp_path / "missing.csv")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "missing.csv" in err and len(err.splitlines()) == 1
