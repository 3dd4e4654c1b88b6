"""The command line under bad conditions: a closed pipe, no display, runs too big for memory, Ctrl+C, empty values,
usage errors, failed writes and file modes (issue 9)."""

import ctypes
import errno
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from engine import TrainConfig, Trainer
from engine.experiment import Experiment, load_experiment, save_experiment
from engine.files import check_writable, write_atomically, write_json
from engine.history import History, n_series_for

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "main.py", *args], cwd=ROOT, text=True, **kwargs)


def usage_error(capsys, *argv: str) -> str:
    """Run the command line, expect exit 2, return stderr."""
    with pytest.raises(SystemExit) as info:
        main.main(list(argv))
    assert info.value.code == main.EXIT_USAGE
    return capsys.readouterr().err


# --- 8: a closed stdout ---------------------------------------------------------------------------------------


def test_a_closed_stdout_stops_quietly_with_status_141():
    process = cli("train", "--epochs", "100000", "--log-every", "1", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith("Epoch 1, Loss: ")
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=120) == main.EXIT_OUTPUT_CLOSED == 141
    assert process.stderr.read() == ""
    process.stderr.close()


# --- 9: an X display that does not answer ---------------------------------------------------------------------


def _free_display() -> str:
    number = 99
    while Path(f"/tmp/.X11-unix/X{number}").exists():
        number += 1
    return f":{number}"


def _libxcb_loads() -> bool:
    try:
        ctypes.CDLL("libxcb.so.1")
    except OSError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _libxcb_loads(), reason="X11 on Linux, with libxcb")
def test_an_unreachable_display_is_one_line_and_exit_2():
    display = _free_display()
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for args in ((), ("gui", "--lr", "0.5")):
        process = cli(*args, env=dict(env, DISPLAY=display), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 2, err  # not Qt's abort (134)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "no display" in lines[0] and f"{display!r} in DISPLAY does not answer" in lines[0]
        assert "xvfb-run" in lines[0] and out == ""


@pytest.mark.skipif(shutil.which("Xvfb") is None or not _libxcb_loads(), reason="needs Xvfb and libxcb")
def test_a_live_display_passes_the_check(monkeypatch):
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    os.close(write)
    try:
        with os.fdopen(read) as ready:
            number = ready.readline().strip()  # Xvfb writes its display number once it accepts connections
        assert number
        monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        monkeypatch.setenv("DISPLAY", f":{number}")
        assert main.display_problem() is None
        monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # offscreen needs no display at all
        monkeypatch.setenv("DISPLAY", _free_display())
        assert main.display_problem() is None
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- 10: runs too big for memory, Ctrl+C, progress ---------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--epochs", "1000000000000", "--json", "x.json"],
        ["compare", "--run", "mode=sgd", "--run", "mode=batch", "--epochs", "1000000000000"],
    ],
)
def test_runs_that_cannot_fit_in_memory_are_refused_up_front(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    err = usage_error(capsys, *argv)
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "--epochs 1,000,000,000,000" in lines[0] and "GB of memory" in lines[0]
    assert "is available; give fewer --epochs" in lines[0]
    assert not any(tmp_path.iterdir())


def test_memory_estimate_scales_with_epochs(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(main, "available_memory", lambda: 10**9)
    path = tmp_path / "x.json"
    limit = 10**9 // main.JSON_BYTES_PER_EPOCH
    assert "needs about 1.0 GB" in usage_error(capsys, "train", "--epochs", str(limit + 1), "--json", str(path))
    assert main.main(["train", "--epochs", "1000", "--log-every", "0", "--json", str(path)]) == 0  # small runs pass
    assert len(json.loads(path.read_text())["loss"]) == 1000


def test_ctrl_c_saves_what_was_trained_and_the_file_continues_exactly(tmp_path):
    path = tmp_path / "run.bplab"
    process = cli("train", "--epochs", str(10**12), "--log-every", str(10**6), "--save", str(path),
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout.readline().startswith("Epoch 1, Loss: ")  # training has begun
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == main.EXIT_INTERRUPTED, err
    experiment = load_experiment(path)
    epoch = experiment.trainer().epoch
    assert epoch > 0 and epoch % experiment.tree.current_run.timeline.every == 0  # whole chunks (they end at checkpoints)
    assert err.strip() == f"interrupted at epoch {epoch:,}; saving what was trained to {path}"
    assert "Traceback" not in err and "Predicted Output" not in out
    reference = Trainer(TrainConfig())
    while reference.epoch < epoch:
        reference.run(min(10**6, epoch - reference.epoch))
    loaded = experiment.trainer()
    np.testing.assert_array_equal(loaded.run(500).loss, reference.run(500).loss)  # continues exactly
    for (W, b), (W_ref, b_ref) in zip(loaded.params, reference.params):
        np.testing.assert_array_equal(W, W_ref)
        np.testing.assert_array_equal(b, b_ref)


def test_ctrl_c_between_chunks_in_process(capsys, tmp_path, monkeypatch):
    """The same, in this process: SIGINT during the third chunk stops after it, and --json gets those epochs too."""
    monkeypatch.setattr(main, "CLI_CHUNK_EPOCHS", 100)
    runs = {"n": 0}
    original = Trainer.run

    def run(self, n_epochs, *args, **kwargs):
        runs["n"] += 1
        if runs["n"] == 3:
            signal.raise_signal(signal.SIGINT)  # Ctrl+C while the chunk trains
        return original(self, n_epochs, *args, **kwargs)

    monkeypatch.setattr(Trainer, "run", run)
    save, record = tmp_path / "run.bplab", tmp_path / "run.json"
    code = main.main(["train", "--epochs", "1000", "--log-every", "0", "--save", str(save), "--json", str(record)])
    assert code == main.EXIT_INTERRUPTED
    assert capsys.readouterr().err == f"interrupted at epoch 300; saving what was trained to {save} and {record}\n"
    assert load_experiment(save).trainer().epoch == 300 and json.loads(record.read_text())["epochs"] == 300
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminals_stderr_only(capsys, monkeypatch):
    assert main.main(["train", "--log-every", "1000"]) == 0
    out = capsys.readouterr().out  # the plain output
    assert main.progress_bar(10, "epoch") is None  # capsys's stderr is no terminal: no bar
    monkeypatch.setattr(main, "PROGRESS_DELAY_S", 0)
    monkeypatch.setattr(main, "CLI_CHUNK_EPOCHS", 2500)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main.main(["train", "--log-every", "1000"]) == 0
    assert capsys.readouterr().out == out  # stdout untouched
    shown = terminal.getvalue()
    assert "/10.0k [" in shown and "epoch/s]" in shown and shown.endswith("\r")  # a bar of the 10,000 epochs, cleared at the end


# --- 11: empty values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--load", ""], "--load: empty path"),
        (["train", "--save", ""], "--save: empty path"),
        (["train", "--json", ""], "--json: empty path"),
        (["train", "--hidden", ""], "--hidden: nothing given"),
        (["train", "--hidden", " "], "--hidden: nothing given"),
        (["train", "--hidden", "0"], "--hidden: 0 is not a layer size"),
        (["train", "--hidden", "2,,3"], "--hidden: '2,,3' has an empty item"),
        (["sweep", "--learning-rate", "0.1,,2"], "'0.1,,2' has an empty item"),
        (["sweep", "--learning-rate", ","], "',' is only commas: nothing given"),
        (["sweep", "--learning-rate", "0.1,"], "'0.1,' ends with a comma"),
        (["sweep", "--learning-rate", ",0.1"], "',0.1' starts with a comma"),
        (["sweep", "--hidden", "2,,3"], "'2,,3' has an empty item"),
        (["sweep", "--hidden", "0"], "0 is not a layer size"),
        (["sweep", "--optimizer", "sgd,"], "'sgd,' ends with a comma"),
        (["sweep", "--csv", ""], "--csv: empty path"),
        (["compare", "--run", "mode=sgd", "--run", "mode=batch", "--csv", ""], "--csv: empty path"),
        (["export", "", "--params-json", "p.json"], "EXPERIMENT: empty path"),
        (["export", "run.bplab", "--history-csv", ""], "--history-csv: empty path"),
        (["screenshot", ""], "OUT.png: empty path"),
    ],
)
def test_empty_values_are_refused(capsys, argv, needle):
    assert needle in usage_error(capsys, *argv)


# --- 13: messages -------------------------------------------------------------------------------------------


def test_usage_errors_are_one_line_and_where_to_read_more(capsys):
    lines = usage_error(capsys, "train", "--lr", "abc").splitlines()
    assert lines == [
        "python main.py train: error: --learning-rate/--lr: 'abc' is not a number",
        "see 'python main.py train --help'",
    ]
    lines = usage_error(capsys, "frobnicate").splitlines()
    assert len(lines) == 2 and "invalid choice: 'frobnicate'" in lines[0] and lines[1] == "see 'python main.py --help'"


def test_write_errors_name_the_users_file(tmp_path):
    for path in ("/proc/x.csv", str(tmp_path / "missing" / "x.csv")):
        with pytest.raises(OSError) as info:
            write_atomically(path, b"data")
        assert info.value.filename == path and ".tmp" not in str(info.value)
    assert not any(tmp_path.iterdir())  # no temporary file left behind


def test_unrecognized_arguments_name_the_command(capsys):
    """argparse blamed the main parser for a sub-command's unknown option ("python main.py: error: ...")."""
    assert usage_error(capsys, "train", "--bogus", "x").splitlines() == [
        "python main.py train: error: unrecognized arguments: --bogus x",
        "see 'python main.py train --help'",
    ]
    assert usage_error(capsys, "sweep", "--seeds", "1", "--bogus").startswith(
        "python main.py sweep: error: unrecognized arguments:"
    )
    # options with no command are the window's (`python main.py --dataset spiral` opens it on spiral)
    assert usage_error(capsys, "--bogus").splitlines() == [
        "python main.py gui: error: unrecognized arguments: --bogus",
        "see 'python main.py gui --help'",
    ]


def test_a_failed_write_on_the_command_line_is_one_line_naming_the_file(capsys, tmp_path, monkeypatch):
    """A write that fails after the work (a full disk) is one line naming the file, without the pointer to --help:
    it is not a usage error."""

    def full_disk(path, _record):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(main, "write_json", full_disk)
    path = str(tmp_path / "x.json")
    code = main.main(["train", "--epochs", "3", "--log-every", "0", "--json", path])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: could not write {path}: No space left on device\n"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, a folder that takes no new files")
@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["train", "--epochs", "3", "--save", "/proc/x.bplab"], "/proc/x.bplab"),
        (["train", "--epochs", "3", "--json", "/proc/x.json"], "/proc/x.json"),
        (["compare", "--epochs", "3", "--run", "mode=sgd", "--run", "mode=batch", "--png", "/proc/x.png"], "/proc/x.png"),
        (["compare", "--epochs", "3", "--run", "mode=sgd", "--run", "mode=batch", "--csv", "/proc/x.csv"], "/proc/x.csv"),
        (["sweep", "--seeds", "2", "--epochs", "3", "--csv", "/proc/s.csv"], "/proc/s.csv"),
        (["export", "run.bplab", "--history-csv", "/proc/h.csv"], "/proc/h.csv"),
        (["export", "run.bplab", "--png", "/proc/x.png"], "/proc/x.png"),
        (["screenshot", "/proc/x.png"], "/proc/x.png"),
    ],
)
def test_unwritable_outputs_are_refused_before_any_work(capsys, argv, path):
    """/proc passes the permission bits (root may write anywhere) but takes no new file: the commands trained,
    printed everything and only then failed. Now each stops first, with one line naming the file."""
    err = usage_error(capsys, *argv)
    assert err == f"error: cannot write {path}: the folder /proc takes no new files\n"
    assert capsys.readouterr().out == ""  # nothing trained, nothing printed


def test_check_writable_creates_and_removes_a_file_to_ask(tmp_path):
    assert check_writable(tmp_path / "x.csv") == tmp_path / "x.csv"
    assert list(tmp_path.iterdir()) == []  # the probe is gone
    (tmp_path / "x.csv").write_text("old")
    check_writable(tmp_path / "x.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"] and (tmp_path / "x.csv").read_text() == "old"
    for path, reason in ((tmp_path / "no" / "x.csv", "does not exist"), (tmp_path, "it is a directory"),
                         ("/dev/null", "it is not a regular file")):  # fmt: skip
        with pytest.raises(ValueError, match=reason):
            check_writable(path)
    if Path("/proc/self").is_dir():
        with pytest.raises(ValueError, match=r"^cannot write /proc/x\.csv: the folder /proc takes no new files$"):
            check_writable("/proc/x.csv")


def test_a_file_that_cannot_be_loaded_is_named_as_given(capsys, tmp_path, monkeypatch):
    """'--load /proc/kmsg' said "error: kmsg: it is empty"; the path as typed says which file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "empty.bplab").write_bytes(b"")
    for argv in (["train", "--load", "runs/empty.bplab"], ["export", "runs/empty.bplab", "--params-json", "p.json"]):
        assert main.main(argv) == 2
        assert capsys.readouterr().err == "error: runs/empty.bplab: it is empty\n"
    assert main.main(["train", "--load", "/dev/null"]) == 2  # a device is refused unread (reading could block)
    assert capsys.readouterr().err == "error: /dev/null: it is not a regular file\n"


def test_figure_names_of_the_wrong_kind_say_a_png_and_an_svg(capsys):
    assert "x.png: an SVG file's name must end in .svg" in usage_error(capsys, "export", "r.bplab", "--svg", "x.png")
    assert "x.svg: a PNG file's name must end in .png" in usage_error(capsys, "export", "r.bplab", "--png", "x.svg")


# --- 14: file modes -----------------------------------------------------------------------------------------


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(not hasattr(os, "umask") or sys.platform == "win32", reason="POSIX file modes")
def test_saved_files_get_the_umasks_mode_or_keep_the_replaced_files(tmp_path, umask_022):
    trainer = Trainer(TrainConfig())
    history = History(n_series=n_series_for(trainer.data))
    history.extend(trainer.run(10).rows())
    save_experiment(tmp_path / "run.bplab", Experiment.capture(trainer, history))
    write_json(tmp_path / "run.json", {"a": 1})
    write_atomically(tmp_path / "run.csv", b"a\n")
    for name in ("run.bplab", "run.json", "run.csv"):
        assert _mode(tmp_path / name) == 0o644, name
    private = tmp_path / "private.csv"
    private.write_bytes(b"old")
    private.chmod(0o600)
    write_atomically(private, b"new")
    assert _mode(private) == 0o600 and private.read_bytes() == b"new"
    os.umask(0o077)
    write_atomically(tmp_path / "strict.csv", b"a\n")
    assert _mode(tmp_path / "strict.csv") == 0o600


# --- 16: the screenshot's file type ---------------------------------------------------------------------------


def test_screenshot_refuses_a_name_that_is_not_png(capsys, tmp_path):
    err = usage_error(capsys, "screenshot", str(tmp_path / "s.jpg"), "--epochs", "1")
    assert "a PNG file's name must end in .png" in err and not (tmp_path / "s.jpg").exists()


# --- issue 9 (newcomer): one form for a refused value -------------------------------------------------------
@pytest.mark.parametrize(
    "argv, message",
    [
        (("train", "--lr", "0"), "--learning-rate/--lr: '0' is not allowed; it must be a finite number > 0"),
        (("train", "--lr", "-1"), "--learning-rate/--lr: '-1' is not allowed; it must be a finite number > 0"),
        (("train", "--learning-rate", "nan"), "--learning-rate/--lr: 'nan' is not a finite number"),
        (("sweep", "--lr", "0.1,-1"), "--learning-rate/--lr: '-1' is not allowed; it must be a finite number > 0"),
        (
            ("sweep", "--seeds", "2", "--hidden", "none"),
            "--hidden: 'none' is not allowed here: each width is one hidden layer, a whole number from 1 to 1024",
        ),
    ],
)
def test_refused_values_name_the_option_and_echo_the_typed_text(capsys, argv, message):
    """`train --lr 0` said '--learning-rate: 0.0 is not allowed' and `--lr -1` echoed '-1.0', while `--lr nan` said
    "--learning-rate/--lr: 'nan' ..."; `sweep --hidden none` said "'none' is not a whole number". Every one now
    names the option the same way and quotes the value as typed."""
    err = usage_error(capsys, *argv)
    assert len(err.splitlines()) == 2 and message in err.splitlines()[0]
