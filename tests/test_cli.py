"""The headless command line: output, files and exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from engine import TrainConfig, Trainer
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
    assert len(lines) == 12
    for line, (epoch, loss) in zip(lines, sorted(NOTEBOOK_LOSSES.items())):
        label, value = line.split(", Loss: ")
        assert label == f"Epoch {epoch}"
        assert float(value) == pytest.approx(loss, rel=1e-14, abs=0)
    assert lines[10] == "Predicted Output after Training:"
    assert lines[11] == " [[" + " ".join(f"{p:.8f}" for p in NOTEBOOK_PREDICTIONS) + "]]"


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
        (["train", "--batch-size", "0"], "--batch-size: 0 is not allowed"),
        (["train", "--epochs", "-5"], "negative"),
        (["train", "--mode", "online"], "invalid choice"),
        (["train", "--seed", "-1"], "--seed"),
        (["train", "--json", "/nonexistent-folder/x.json"], "does not exist"),
        (["train", "--json", "."], "is a directory"),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_values_exit_2_with_a_message(capsys, argv, needle):
    with pytest.raises(SystemExit) as info:
        main.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


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
                   "--init", "--seed", "--log-every", "--json", "--optimizer"):  # fmt: skip
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
    assert info.value.code == 2 and "keeps its network" in capsys.readouterr().err
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
