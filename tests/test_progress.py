"""Progress on the terminal: `train`, `compare` and `sweep` show a tqdm bar on stderr when it is a terminal, none when
it is not (a pipe, a file) and none with --quiet; the bar never touches stdout."""

import io
import sys

import pytest

import main

COMMANDS = {
    "train": (["train", "--epochs", "3000", "--log-every", "1000"], "epoch/s]"),
    "compare": (["compare", "--run", "mode=sgd", "--run", "mode=batch", "--epochs", "600"], "epoch/s]"),
    "sweep": (["sweep", "--seeds", "16", "--learning-rate", "0.5,2", "--epochs", "200"], "run/s]"),
}


class Terminal(io.StringIO):
    """stderr as a terminal: what tqdm would draw there."""

    def isatty(self) -> bool:
        return True


def as_terminal(monkeypatch) -> Terminal:
    """stderr a terminal from here on (set in the test itself: pytest's capturing resets sys.stderr after fixtures)."""
    monkeypatch.setattr(main, "PROGRESS_DELAY_S", 0)  # the bar at once, not after 2 s
    monkeypatch.setattr(main, "CLI_CHUNK_EPOCHS", 1000)  # train: several chunks, so several updates
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    return stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_terminal_shows_a_bar_and_quiet_shows_none(capsys, monkeypatch, command):
    argv, rate = COMMANDS[command]
    terminal = as_terminal(monkeypatch)
    assert main.main(argv) == 0
    shown = terminal.getvalue()
    out = capsys.readouterr().out
    assert rate in shown and "it/s" not in shown and shown.endswith("\r"), shown  # drawn in its unit, cleared at the end
    assert rate not in out and "\r" not in out  # results only on stdout
    terminal.seek(0)
    terminal.truncate()
    for quiet in ("--quiet", "-q"):
        assert main.main([*argv, quiet]) == 0
        assert terminal.getvalue() == "", terminal.getvalue()  # not a character of a bar
        quiet_out = capsys.readouterr().out
        if command == "train":  # the same results (train's lines carry no timing)
            assert quiet_out == out
        else:
            assert quiet_out.splitlines()[-1] == out.splitlines()[-1]  # compare's verdict, sweep's last table row


@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_bar_when_stderr_is_not_a_terminal(capsys, monkeypatch, command):
    monkeypatch.setattr(main, "PROGRESS_DELAY_S", 0)
    argv, rate = COMMANDS[command]
    assert main.main(argv) == 0
    captured = capsys.readouterr()  # capsys's stderr is no terminal, like a pipe or a file
    assert captured.err == "" and rate not in captured.out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_quiet_is_documented_on_each_command_that_shows_progress(capsys, command):
    with pytest.raises(SystemExit):
        main.main([command, "--help"])
    assert "-q, --quiet" in capsys.readouterr().out
