"""Backprop Lab: watch a neural network learn XOR.

``python main.py`` opens the window; ``python main.py train`` trains headless and prints like the
reference notebook. ``python main.py --help`` lists every command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import numpy as np

from engine import ACTIVATIONS, INITS, LOSSES, MODES, OPTIMIZERS, XOR_INPUTS, TrainConfig, Trainer
from engine.compare import COMPARABLE_FIELDS, DEFAULT_TARGET_LOSS, X_AXES, Comparison, parse_run_spec, verdict
from engine.compare import MAX_RUNS as MAX_COMPARE
from engine.compare import MIN_RUNS as MIN_COMPARE
from engine.files import check_writable, train_record, write_atomically, write_json
from engine.reports import compare_csv, compare_table, sweep_csv, sweep_table
from engine.sweep import SweepSpec, run_sweep, summarize_groups

CLI_CHUNK_EPOCHS = 1_000_000
EXIT_OK, EXIT_DIVERGED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
Backprop Lab: watch a 2-2-1 sigmoid network learn XOR by backpropagation.

With no command, opens the training window. Commands:
  train       train headless and print the loss every --log-every epochs, like the reference notebook
  compare     which converges faster? 2 to 6 variations (SGD, mini-batch, batch, optimizers) side by side
  sweep       many seeds and settings on all cores: how often is XOR solved, and how fast?
  gui         open the window with the given settings
  screenshot  train headless, render the window offscreen and save it as a PNG
Run 'python main.py COMMAND --help' for a command's options.
"""

EPILOG = """\
examples:
  python main.py train                                   # the notebook's output
  python main.py train --mode batch --epochs 20000       # full-batch gradient descent
  python main.py train --hidden 4,3 --activation tanh --loss bce --json run.json
  python main.py compare --run mode=sgd --run mode=batch --epochs 20000 --png compare.png
  python main.py sweep --seeds 1000 --learning-rate 0.1,0.5,2 --hidden 2,3,4 --csv sweep.csv
  python main.py screenshot window.png --epochs 5000

Exit status: 0 done, 1 the loss diverged (NaN or inf), 2 bad usage or input, 130 interrupted.
"""


def parse_hidden(text: str) -> tuple[int, ...]:
    """'2' -> (2,), '4,3' -> (4, 3), '' or 'none' -> () (no hidden layer)."""
    cleaned = text.strip().lower()
    if cleaned in ("", "none", "0"):
        return ()
    try:
        return tuple(int(part) for part in cleaned.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of layer sizes such as 2 or 4,3") from None


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give a number >= 0")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; give a number >= 1")
    return value


def _list(text: str, convert, what: str) -> tuple:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r} is empty; give {what}")
    try:
        return tuple(convert(p) for p in parts)
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {what}") from None


def float_list(text: str) -> tuple[float, ...]:
    return _list(text, finite_float, "numbers such as 0.1,0.5,2")


def int_list(text: str) -> tuple[int, ...]:
    return _list(text, int, "whole numbers such as 2,3,4")


def name_list(allowed: tuple[str, ...]):
    def convert(text: str) -> tuple[str, ...]:
        names = _list(text, str, "names")
        bad = [n for n in names if n not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"{', '.join(bad)}: choose from {', '.join(allowed)}")
        return names

    return convert


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def add_config_arguments(parser: argparse.ArgumentParser, swept: bool = False) -> None:
    """The `TrainConfig` fields as options; defaults are the notebook's. `swept`: leave out the options
    that a sweep takes as lists (learning rate, hidden, optimizer) and the seed."""
    d = TrainConfig()
    g = parser.add_argument_group("training settings (defaults: the reference notebook)")
    if not swept:
        g.add_argument(
            "--learning-rate",
            "--lr",
            type=finite_float,
            default=d.learning_rate,
            metavar="LR",
            help=f"step size, a number > 0 (default {d.learning_rate})",
        )
        g.add_argument(
            "--hidden",
            type=parse_hidden,
            default=d.hidden,
            metavar="SIZES",
            help="hidden layer sizes, e.g. 2 or 4,3; 'none' for no hidden layer (default 2)",
        )
    g.add_argument("--activation", choices=ACTIVATIONS, default=d.activation, help=f"hidden activation (default {d.activation})")
    g.add_argument(
        "--loss",
        choices=LOSSES,
        default=d.loss,
        help="mse: mean (y - ŷ)², updated by the gradient of ½(y - ŷ)²; bce: cross-entropy (default mse)",
    )
    g.add_argument(
        "--mode",
        choices=MODES,
        default=d.mode,
        help="sgd: update after each sample; minibatch: after --batch-size samples; batch: once per epoch (default sgd)",
    )
    g.add_argument("--batch-size", type=int, default=d.batch_size, metavar="B", help=f"minibatch size (default {d.batch_size})")
    g.add_argument("--shuffle", action="store_true", help="visit the samples in a new seeded order each epoch (sgd, minibatch)")
    g.add_argument(
        "--init",
        choices=INITS,
        default=d.init,
        help="notebook: uniform [0, 1) from np.random.seed(SEED); xavier; he (default notebook)",
    )
    if not swept:
        g.add_argument("--seed", type=int, default=d.seed, help=f"seed of the initial weights and shuffling (default {d.seed})")
        g.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer, help="update rule (default sgd, the notebook's)")
    g.add_argument("--momentum", type=finite_float, default=d.momentum, help=f"momentum coefficient (default {d.momentum})")


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser, swept: bool = False) -> TrainConfig:
    """The config the options give; with `swept`, the swept options (lists) are left at their defaults."""
    d = TrainConfig()
    try:
        return TrainConfig(
            hidden=d.hidden if swept else args.hidden, activation=args.activation, loss=args.loss,
            learning_rate=d.learning_rate if swept else args.learning_rate, mode=args.mode, batch_size=args.batch_size,
            shuffle=args.shuffle, init=args.init, seed=d.seed if swept else args.seed,
            optimizer=d.optimizer if swept else args.optimizer, momentum=args.momentum,
        )  # fmt: skip
    except ValueError as err:
        parser.error(str(err).replace("TrainConfig.", "--").replace("_", "-"))
        raise  # unreachable: parser.error exits


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="python main.py", description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train headless and print the loss",
        formatter_class=fmt,
        description="Train headless. With no options, prints exactly what the reference notebook prints.",
    )
    train.add_argument("--epochs", type=non_negative_int, default=10000, help="epochs to train (default 10000)")
    train.add_argument(
        "--log-every",
        type=non_negative_int,
        default=1000,
        metavar="K",
        help="print the loss of epochs 1, K+1, 2K+1, ...; 0 prints none (default 1000)",
    )
    train.add_argument(
        "--json", metavar="PATH", help="write the config, every epoch's loss, the final parameters and predictions as JSON"
    )
    add_config_arguments(train)

    compare = sub.add_parser(
        "compare",
        help="run 2 to 6 variations side by side from the same initial weights",
        formatter_class=fmt,
        description="Which converges faster? Trains each --run (a variation of the settings below) from the same "
        "initial weights and prints epochs, updates, gradient evaluations and seconds to reach --target-loss, "
        "and a sentence that answers the question.",
        epilog="example: python main.py compare --run mode=sgd --run mode=batch --run mode=minibatch,batch_size=2,optimizer=adam",
    )
    compare.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="FIELD=VALUE,...",
        required=True,
        help="one run, given 2 to 6 times; fields: " + ", ".join(COMPARABLE_FIELDS),
    )
    compare.add_argument("--epochs", type=non_negative_int, default=20000, help="epochs per run (default 20000)")
    compare.add_argument(
        "--target-loss",
        type=finite_float,
        default=DEFAULT_TARGET_LOSS,
        metavar="LOSS",
        help=f"the loss that counts as converged (default {DEFAULT_TARGET_LOSS})",
    )
    compare.add_argument("--csv", metavar="PATH", help="write every epoch of every run as CSV")
    compare.add_argument("--png", metavar="PATH", help="save the overlaid loss curves as a PNG")
    compare.add_argument(
        "--x-axis",
        choices=[a.replace(" ", "-") for a in X_AXES],
        default="epochs",
        help="x axis of the PNG (default epochs)",
    )
    add_config_arguments(compare)

    sweep = sub.add_parser(
        "sweep",
        help="train many seeds (and settings) on all cores: how often does XOR get solved?",
        formatter_class=fmt,
        description="Trains every (setting, seed) run on all cores and prints, per setting, the fraction solved "
        "(every output within 0.4 of its target), the median and 90th percentile of epochs to solve, and how the "
        "other runs end (stuck at 0.5, local minimum, diverged).",
        epilog="example: python main.py sweep --seeds 1000 --learning-rate 0.1,0.5,2 --hidden 2,3,4 --csv sweep.csv",
    )
    sweep.add_argument("--seeds", type=positive_int, default=100, metavar="N", help="seeds per setting: S .. S+N-1 (default 100)")
    sweep.add_argument("--seed-start", type=non_negative_int, default=0, metavar="S", help="first seed (default 0)")
    sweep.add_argument(
        "--learning-rate",
        "--lr",
        type=float_list,
        default=(0.1,),
        metavar="LR,...",
        help="learning rates to sweep, e.g. 0.1,0.5,2 (default 0.1)",
    )
    sweep.add_argument(
        "--hidden",
        type=int_list,
        default=(2,),
        metavar="H,...",
        help="hidden-layer widths, one hidden layer each, e.g. 2,3,4 (default 2)",
    )
    sweep.add_argument(
        "--optimizer",
        type=name_list(OPTIMIZERS),
        default=("sgd",),
        metavar="NAME,...",
        help="optimizers, e.g. sgd,adam (default sgd)",
    )
    sweep.add_argument("--epochs", type=positive_int, default=10000, help="epochs per run (default 10000)")
    sweep.add_argument("--csv", metavar="PATH", help="write one row per run as CSV")
    add_config_arguments(sweep, swept=True)

    gui = sub.add_parser(
        "gui",
        help="open the window (the default command)",
        formatter_class=fmt,
        description="Open the training window with these settings.",
    )
    add_config_arguments(gui)

    shot = sub.add_parser(
        "screenshot",
        help="save a picture of the window after training",
        formatter_class=fmt,
        description="Train headless, render the window offscreen and save it as a PNG.",
    )
    shot.add_argument("output", metavar="OUT.png", help="where to save the PNG")
    shot.add_argument("--epochs", type=non_negative_int, default=5000, help="epochs to train first (default 5000)")
    shot.add_argument("--size", default="1400x900", metavar="WxH", help="window size in pixels (default 1400x900)")
    add_config_arguments(shot)
    return parser, {"train": train, "compare": compare, "sweep": sweep, "gui": gui, "screenshot": shot}


def cmd_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    config = config_from_args(args, parser)
    if args.json:
        try:
            check_writable(args.json)
        except ValueError as err:
            parser.error(f"--json: {err}")
    trainer = Trainer(config)
    keep_history = bool(args.json)
    history: list[np.ndarray] = []
    out = sys.stdout
    while trainer.epoch < args.epochs and not trainer.diverged:
        chunk = trainer.run(min(CLI_CHUNK_EPOCHS, args.epochs - trainer.epoch))
        if keep_history:
            history.append(chunk.loss)
        if args.log_every:
            logged = np.flatnonzero((chunk.epochs - 1) % args.log_every == 0)
            out.writelines(f"Epoch {chunk.epochs[i]}, Loss: {float(chunk.loss[i])!r}\n" for i in logged)
            out.flush()
    if trainer.diverged:
        print(
            f"Diverged at epoch {trainer.epoch}: the loss became {float(chunk.loss[-1])}. "
            f"Try a smaller learning rate than {config.learning_rate:g}.",
            file=sys.stderr,
        )
    print("Predicted Output after Training:\n", trainer.predict(XOR_INPUTS).reshape(1, -1))
    if args.json:
        loss = np.concatenate(history) if history else np.empty(0)
        try:
            write_json(args.json, train_record(trainer, loss))
        except OSError as err:
            print(f"error: could not write {args.json}: {err.strerror or err}", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_DIVERGED if trainer.diverged else EXIT_OK


def cmd_compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    base = config_from_args(args, parser)
    if not MIN_COMPARE <= len(args.run) <= MAX_COMPARE:
        parser.error(f"--run: give {MIN_COMPARE} to {MAX_COMPARE} runs, got {len(args.run)}")
    try:
        configs = [parse_run_spec(spec, base) for spec in args.run]
    except ValueError as err:
        parser.error(f"--run: {err}")
    if not args.target_loss > 0:
        parser.error(f"--target-loss: {args.target_loss:g} is not allowed; give a loss > 0")
    for option in ("csv", "png"):
        if getattr(args, option):
            try:
                check_writable(getattr(args, option))
            except ValueError as err:
                parser.error(f"--{option}: {err}")
    comparison = Comparison(base, configs)
    comparison.run(args.epochs)
    summaries = comparison.summaries(args.target_loss)
    print(compare_table(summaries, args.target_loss))
    print()
    print(verdict(summaries, args.target_loss))
    try:
        if args.csv:
            write_atomically(args.csv, compare_csv(comparison).encode())
        if args.png:
            from gui.export import save_comparison_png

            save_comparison_png(comparison, args.x_axis.replace("-", " "), args.png)
    except OSError as err:
        print(f"error: could not write: {err}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    base = config_from_args(args, parser, swept=True)
    if args.csv:
        try:
            check_writable(args.csv)
        except ValueError as err:
            parser.error(f"--csv: {err}")
    try:
        spec = SweepSpec(
            base=base, seeds=tuple(range(args.seed_start, args.seed_start + args.seeds)), learning_rates=args.learning_rate,
            hidden=args.hidden, optimizers=args.optimizer, epochs=args.epochs,
        )  # fmt: skip
    except ValueError as err:
        parser.error(str(err).replace("TrainConfig.", "--").replace("_", "-"))
    interrupted = {"now": False}
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\r{done:,} / {total:,} runs", end="", file=sys.stderr, flush=True)

    try:
        result = run_sweep(spec, progress=progress, cancelled=lambda: interrupted["now"])
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if show:
        print(file=sys.stderr)
    print(f"{len(result):,} runs of {spec.epochs:,} epochs in {result.seconds:.1f} s "
          f"(seeds {spec.seeds[0]}..{spec.seeds[-1]}; solved = every output within 0.4 of its target)")  # fmt: skip
    print(sweep_table(summarize_groups(result)))
    if args.csv:
        try:
            write_atomically(args.csv, sweep_csv(result).encode())
        except OSError as err:
            print(f"error: could not write {args.csv}: {err.strerror or err}", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_OK


def display_missing() -> bool:
    """True on Linux when no display server is set and Qt was not told to render offscreen."""
    if not sys.platform.startswith("linux"):
        return False
    return not any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def cmd_gui(args: argparse.Namespace | None, parser: argparse.ArgumentParser) -> int:
    config = config_from_args(args, parser) if args is not None else None
    if display_missing():
        print(
            "error: no display (DISPLAY and WAYLAND_DISPLAY are unset). Run the window under 'xvfb-run python main.py', "
            "or use the headless commands: 'python main.py train', 'python main.py screenshot OUT.png'.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from gui.app import run_window

    return run_window(config)


def cmd_screenshot(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    config = config_from_args(args, parser)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        if not (200 <= width <= 8000 and 200 <= height <= 8000):
            raise ValueError
    except ValueError:
        parser.error(f"--size: {args.size!r} is not WIDTHxHEIGHT with each from 200 to 8000, e.g. 1400x900")
    try:
        check_writable(args.output)
    except ValueError as err:
        parser.error(str(err))
    from gui.app import save_screenshot

    return save_screenshot(config, args.epochs, args.output, (width, height))


def main(argv: Sequence[str] | None = None) -> int:
    parser, subparsers = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return cmd_gui(None, parser)
        command = {"train": cmd_train, "compare": cmd_compare, "sweep": cmd_sweep, "gui": cmd_gui,
                   "screenshot": cmd_screenshot}[args.command]  # fmt: skip
        return command(args, subparsers[args.command])
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
