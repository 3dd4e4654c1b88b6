"""Backprop Lab: watch a neural network learn XOR.

``python main.py`` opens the window; ``python main.py train`` trains headless and prints like the
reference notebook. ``python main.py --help`` lists every command.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from engine import ACTIVATIONS, INITS, LOSSES, MODES, OPTIMIZERS, XOR_INPUTS, TrainConfig, Trainer, parsing
from engine.compare import (
    COMPARABLE_FIELDS,
    DEFAULT_TARGET_LOSS,
    X_AXES,
    Comparison,
    describe_duplicates,
    parse_run_spec,
    verdict,
)
from engine.compare import MAX_RUNS as MAX_COMPARE
from engine.compare import MIN_RUNS as MIN_COMPARE
from engine.config import STRUCTURAL_FIELDS, ConfigError
from engine.experiment import Experiment, ExperimentError, load_experiment, save_experiment
from engine.files import FIGURE_KINDS, check_figure_path, check_writable, error_reason, train_record, write_atomically, write_json
from engine.history import History
from engine.reports import FIGURES, compare_csv, compare_table, history_csv, params_csv, params_json, sweep_csv, sweep_table
from engine.sweep import SweepSpec, run_sweep, summarize_groups

CLI_CHUNK_EPOCHS = 1_000_000
CHUNK_PARAMETER_EPOCHS = 10_000_000  # parameters x epochs per chunk: ~0.1 s, the delay of Ctrl+C and of the progress bar
JSON_BYTES_PER_EPOCH = 170  # train --json: measured peak (the loss array, its list of floats and its JSON text)
COMPARE_BYTES_PER_EPOCH = 40  # compare, per run: loss and seconds, and their copies for the summary
COMPARE_CSV_BYTES_PER_EPOCH = 200  # compare --csv, per run: as above plus the CSV text
COMPARE_CHUNK = 5000  # compare: epochs each run trains in turn
PROGRESS_DELAY_S = 2.0  # a progress bar appears once a run has taken this long
EXIT_OK, EXIT_DIVERGED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_OUTPUT_CLOSED = 128 + 13  # 141: stdout was closed early (SIGPIPE's number is 13)

DESCRIPTION = """\
Backprop Lab: watch a 2-2-1 sigmoid network learn XOR by backpropagation.

With no command, opens the training window. Commands:
  train       train headless and print the loss every --log-every epochs, like the reference notebook
  compare     which converges faster? 2 to 6 variations (SGD, mini-batch, batch, optimizers) side by side
  sweep       many seeds and settings on all cores: how often is XOR solved, and how fast?
  export      write a saved experiment's history, parameters and plots (CSV, JSON, PNG, SVG)
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

Exit status: 0 done, 1 the loss diverged (NaN or inf), 2 bad usage or input, 130 interrupted,
141 the output was closed early (as by '| head').
"""


def argument(parse):
    """An argparse `type` from an `engine.parsing` parser: its ValueError message becomes the usage error."""

    def convert(text: str):
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = parse.__name__  # argparse names the type in some messages
    return convert


parse_hidden = argument(parsing.parse_hidden)
finite_float = argument(parsing.parse_number)
learning_rates = argument(parsing.parse_learning_rates)
learning_rate = argument(parsing.parse_learning_rate)
int_list = argument(parsing.parse_layer_sizes)
path_text = argument(parsing.parse_path)


def name_list(allowed: tuple[str, ...]):
    return argument(parsing.parse_names(allowed))


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


def add_config_arguments(parser: argparse.ArgumentParser, swept: bool = False) -> None:
    """The `TrainConfig` fields as options; defaults are the notebook's. `swept`: leave out the options
    that a sweep takes as lists (learning rate, hidden, optimizer) and the seed."""
    d = TrainConfig()
    g = parser.add_argument_group("training settings (defaults: the reference notebook)")
    if not swept:
        g.add_argument(
            "--learning-rate",
            "--lr",
            type=learning_rate,
            default=argparse.SUPPRESS,
            metavar="LR",
            help=f"step size, a number > 0 (default {d.learning_rate})",
        )
        g.add_argument(
            "--hidden",
            type=parse_hidden,
            default=argparse.SUPPRESS,
            metavar="SIZES",
            help="hidden layer sizes, e.g. 2 or 4,3; 'none' for no hidden layer (default 2)",
        )
    g.add_argument(
        "--activation", choices=ACTIVATIONS, default=argparse.SUPPRESS, help=f"hidden activation (default {d.activation})"
    )
    g.add_argument(
        "--loss",
        choices=LOSSES,
        default=argparse.SUPPRESS,
        help="mse: mean (y - ŷ)², updated by the gradient of ½(y - ŷ)²; bce: cross-entropy (default mse)",
    )
    g.add_argument(
        "--mode",
        choices=MODES,
        default=argparse.SUPPRESS,
        help="sgd: update after each sample; minibatch: after --batch-size samples; batch: once per epoch (default sgd)",
    )
    g.add_argument(
        "--batch-size", type=int, default=argparse.SUPPRESS, metavar="B", help=f"minibatch size (default {d.batch_size})"
    )
    g.add_argument(
        "--shuffle",
        action="store_true",
        default=argparse.SUPPRESS,
        help="visit the samples in a new seeded order each epoch (sgd, minibatch)",
    )
    g.add_argument(
        "--init",
        choices=INITS,
        default=argparse.SUPPRESS,
        help="notebook: uniform [0, 1) from np.random.seed(SEED); xavier; he (default notebook)",
    )
    if not swept:
        g.add_argument(
            "--seed", type=int, default=argparse.SUPPRESS, help=f"seed of the initial weights and shuffling (default {d.seed})"
        )
        g.add_argument(
            "--optimizer", choices=OPTIMIZERS, default=argparse.SUPPRESS, help="update rule (default sgd, the notebook's)"
        )
    g.add_argument(
        "--momentum", type=finite_float, default=argparse.SUPPRESS, help=f"momentum coefficient (default {d.momentum})"
    )


CONFIG_OPTIONS = ("hidden", "activation", "loss", "learning_rate", "mode", "batch_size", "shuffle", "init", "seed",
                  "optimizer", "momentum")  # fmt: skip


def given_options(args: argparse.Namespace, swept: bool = False) -> dict:
    """The config options given on the command line (they default to absent), as TrainConfig fields."""
    skip = ("learning_rate", "hidden", "seed", "optimizer") if swept else ()
    return {name: getattr(args, name) for name in CONFIG_OPTIONS if hasattr(args, name) and name not in skip}


def config_from_args(
    args: argparse.Namespace, parser: argparse.ArgumentParser, swept: bool = False, base: TrainConfig | None = None
) -> TrainConfig:
    """`base` (the notebook's defaults unless given) with the options given on the command line."""
    try:
        return (base or TrainConfig()).replace(**given_options(args, swept))
    except ConfigError as err:
        parser.error(option_error(err))
        raise  # unreachable: parser.error exits


def option_error(err: ConfigError) -> str:
    """A refused setting as a usage error naming its option: '--learning-rate: -1.0 is not allowed; ...'."""
    return f"--{err.field.replace('_', '-')}: {err.reason}"


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line naming the problem and where to read more, not the usage block.
    Its sub-commands' parsers are of this class too (argparse makes them of the parent's class)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message.removeprefix('argument ')}\nsee '{self.prog} --help'\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog="python main.py", description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt)
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
        "--json",
        type=path_text,
        metavar="PATH",
        help="write the config, every epoch's loss, the final parameters and predictions as JSON",
    )
    train.add_argument(
        "--save", type=path_text, metavar="PATH", help="save the experiment (settings, weights, optimizer state, history)"
    )
    train.add_argument(
        "--load",
        type=path_text,
        metavar="PATH",
        help="continue a saved experiment for --epochs more epochs (training options may change)",
    )
    add_config_arguments(train)

    export = sub.add_parser(
        "export",
        help="write a saved experiment's data and figures",
        formatter_class=fmt,
        description="Write a saved experiment's history and parameters as CSV or JSON, and its plots as PNG or SVG.",
        epilog="example: python main.py export run.bplab --history-csv run.csv --figure loss --svg loss.svg",
    )
    export.add_argument(
        "experiment", type=path_text, metavar="EXPERIMENT", help="an experiment file (train --save, or File › Save)"
    )
    export.add_argument(
        "--history-csv", type=path_text, metavar="PATH", help="per-epoch loss and the 4 predictions, with a header"
    )
    export.add_argument(
        "--params-csv", type=path_text, metavar="PATH", help="the parameters as CSV: layer, name, row, column, value"
    )
    export.add_argument("--params-json", type=path_text, metavar="PATH", help="the parameters as JSON")
    export.add_argument("--figure", choices=FIGURES, default="loss", help="what --png/--svg show (default loss)")
    export.add_argument("--png", type=path_text, metavar="PATH", help="save the figure as PNG")
    export.add_argument("--svg", type=path_text, metavar="PATH", help="save the figure as SVG (plots only)")

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
    compare.add_argument("--csv", type=path_text, metavar="PATH", help="write every epoch of every run as CSV")
    compare.add_argument("--png", type=path_text, metavar="PATH", help="save the overlaid loss curves as a PNG")
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
        type=learning_rates,
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
    sweep.add_argument("--csv", type=path_text, metavar="PATH", help="write one row per run as CSV")
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
    shot.add_argument("output", type=path_text, metavar="OUT.png", help="where to save the PNG")
    shot.add_argument("--epochs", type=non_negative_int, default=5000, help="epochs to train first (default 5000)")
    shot.add_argument("--size", default="1400x900", metavar="WxH", help="window size in pixels (default 1400x900)")
    shot.add_argument("--tab", choices=("train", "inspect"), default="train",
                      help="the tab to show; inspect also steps one sample to fill the panel (default train)")  # fmt: skip
    add_config_arguments(shot)
    return parser, {"train": train, "compare": compare, "sweep": sweep, "export": export, "gui": gui, "screenshot": shot}


def require_writable(parser: argparse.ArgumentParser, args: argparse.Namespace, *options: str) -> None:
    """Stop now, before any work, with a usage error when a figure option (--png, --svg) names a file of another
    kind (e.svg for --png), or with `refuse_unwritable`'s line when an output option's path cannot be written."""
    for option in options:
        path = getattr(args, option, None)
        if path and option in FIGURE_KINDS:
            try:
                check_figure_path(path, option)
            except ValueError as err:
                parser.error(f"--{option}: {err}")
        if path:
            refuse_unwritable(path)


def refuse_unwritable(path: str) -> None:
    """Exit 2 now, with one line naming `path`, when it cannot be written. Not a usage error (the command was
    typed right; the file system says no), so it reads like a failed write, without the pointer to --help."""
    try:
        check_writable(path)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def available_memory() -> int | None:
    """Bytes this process may still allocate: Linux's MemAvailable, less where a cgroup limit is lower; None when unknown."""
    available = None
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            left = int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text())
            available = left if available is None else min(available, left)
    return available


def gigabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:,.{1 if n_bytes < 1e10 else 0}f} GB"


def refuse_beyond_memory(parser: argparse.ArgumentParser, needed: int, what: str, instead: str) -> None:
    """Stop with a usage error now when the run would need more memory than is available."""
    available = available_memory()
    if available is not None and needed > available:
        parser.error(f"{what} needs about {gigabytes(needed)} of memory and {gigabytes(available)} is available; {instead}")


def progress_bar(total: int, unit: str):
    """A progress bar on stderr (tqdm) for a run of `total` units, or None. Shown only when stderr is a terminal,
    and only once the run has lasted `PROGRESS_DELAY_S`: short runs, pipes, files and stdout stay clean."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())  # a thread lock, not tqdm's default multiprocessing one (a semaphore)
    tqdm.monitor_interval = 0  # no monitor thread: the bar is updated after every chunk anyway
    return tqdm(total=total, unit=unit, unit_scale=True, delay=PROGRESS_DELAY_S, file=sys.stderr, leave=False, dynamic_ncols=True)


def printing_beside(bar):
    """A context for writing to stdout while `bar` (None: no bar) may be shown: once shown, tqdm clears and redraws it
    (its own refresh would show a bar that is still waiting out its delay)."""
    return bar.external_write_mode() if bar is not None and bar.last_print_n > 0 else contextlib.nullcontext()


@contextlib.contextmanager
def interrupt_between_chunks():
    """Ctrl+C (SIGINT) sets `stop.requested` instead of raising KeyboardInterrupt wherever Python happens to be,
    so a training loop that checks it ends after a whole chunk, with a consistent trainer that can be saved.
    A second Ctrl+C interrupts at once. Leaves SIGINT alone where it is ignored or handled by someone else."""
    stop = SimpleNamespace(requested=False)
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield stop
        return

    def request_stop(_signum, _frame) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def chunk_epochs(trainer: Trainer) -> int:
    """Epochs per chunk: about a tenth of a second of training, however large the network (at most CLI_CHUNK_EPOCHS)."""
    return max(1, min(CLI_CHUNK_EPOCHS, CHUNK_PARAMETER_EPOCHS // trainer.theta.size))


def cmd_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    require_writable(parser, args, "json", "save")
    if args.json:
        refuse_beyond_memory(parser, args.epochs * JSON_BYTES_PER_EPOCH, f"--epochs {args.epochs:,} with --json",
                             "give fewer --epochs, or leave out --json (without it memory stays bounded)")  # fmt: skip
    history = History()
    if args.load:
        try:
            experiment = load_experiment(args.load)
        except ExperimentError as err:
            print(f"error: {args.load}: {err.reason}", file=sys.stderr)  # one line, naming the file as given
            return EXIT_USAGE
        structural = [f for f in STRUCTURAL_FIELDS if f in given_options(args)]
        if structural:
            names = ", ".join("--" + f.replace("_", "-") for f in structural)
            parser.error(f"{names}: a loaded experiment keeps its network and seed; change only training settings")
        trainer = experiment.trainer()
        trainer.set_config(config_from_args(args, parser, base=experiment.config))
        history = experiment.history
    else:
        trainer = Trainer(config_from_args(args, parser))
    config = trainer.config
    first, target = trainer.epoch + 1, trainer.epoch + args.epochs
    new_loss: list[np.ndarray] = []
    out = sys.stdout
    step = chunk_epochs(trainer)
    bar = progress_bar(args.epochs, "epoch")
    try:
        with interrupt_between_chunks() as stop:
            while trainer.epoch < target and not trainer.diverged and not stop.requested:
                chunk = trainer.run(min(step, target - trainer.epoch))
                history.extend(np.column_stack([chunk.loss, chunk.predictions]))
                if args.json:
                    new_loss.append(chunk.loss)
                if args.log_every:
                    logged = np.flatnonzero((chunk.epochs - 1) % args.log_every == 0)
                    with printing_beside(bar):
                        out.writelines(f"Epoch {chunk.epochs[i]}, Loss: {float(chunk.loss[i])!r}\n" for i in logged)
                        out.flush()
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    if stop.requested:
        kept = " and ".join(path for path in (args.save, args.json) if path)
        print(f"interrupted at epoch {trainer.epoch:,}" + (f"; saving what was trained to {kept}" if kept else ""),
              file=sys.stderr)  # fmt: skip
    elif trainer.diverged:
        last = history.last[0]
        print(
            f"Diverged at epoch {trainer.epoch}: the loss became {float(last)}. "
            f"Try a smaller learning rate than {config.learning_rate:g}.",
            file=sys.stderr,
        )
    if not stop.requested:
        print("Predicted Output after Training:\n", trainer.predict(XOR_INPUTS).reshape(1, -1))

    def json_record(path: str) -> None:
        record = train_record(trainer, np.concatenate(new_loss) if new_loss else np.empty(0))
        record["first_epoch"] = first
        write_json(path, record)

    for path, write in (
        (args.json, json_record),
        (args.save, lambda path: save_experiment(path, Experiment.capture(trainer, history))),
    ):
        if path and not written(path, write):
            return EXIT_USAGE
    if stop.requested:
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if trainer.diverged else EXIT_OK


def cmd_export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not any((args.history_csv, args.params_csv, args.params_json, args.png, args.svg)):
        parser.error("say what to export: --history-csv, --params-csv, --params-json, --png or --svg")
    if args.svg and args.figure == "window":
        parser.error("--svg: the whole window exports as --png only; pick a plot with --figure for SVG")
    require_writable(parser, args, "history_csv", "params_csv", "params_json", "png", "svg")
    try:
        experiment = load_experiment(args.experiment)
    except ExperimentError as err:
        print(f"error: {args.experiment}: {err.reason}", file=sys.stderr)  # one line, naming the file as given
        return EXIT_USAGE
    params = experiment.trainer().params
    writes = (
        (args.history_csv, lambda path: write_atomically(path, history_csv(experiment.history).encode())),
        (args.params_csv, lambda path: write_atomically(path, params_csv(params, experiment.config).encode())),
        (args.params_json, lambda path: write_atomically(path, params_json(params, experiment.config).encode())),
        (args.png, lambda path: headless().export_figure(experiment, args.figure, path, "png")),
        (args.svg, lambda path: headless().export_figure(experiment, args.figure, path, "svg")),
    )
    for path, write in writes:
        if path and not written(path, write):
            return EXIT_USAGE
    return EXIT_OK


def headless():
    """gui.headless, imported only when a picture is asked for (it loads Qt)."""
    from gui import headless

    return headless


def written(path: str, write) -> bool:
    """Run `write(path)`; on failure print one line naming `path` and return False."""
    try:
        write(path)
    except (OSError, ValueError) as err:
        reason = error_reason(err)
        print(f"error: could not write {path}: {reason}" if path not in reason else f"error: {reason}", file=sys.stderr)
        return False
    return True


def run_with_progress(comparison: Comparison, epochs: int) -> None:
    """`comparison.run(epochs)` in slices of whole chunks (which train exactly as one call does), with a progress bar."""
    step = max(1, CHUNK_PARAMETER_EPOCHS // sum(trainer.theta.size for trainer in comparison.trainers))
    step = -(-step // COMPARE_CHUNK) * COMPARE_CHUNK
    bar = progress_bar(epochs, "epoch")
    try:
        for done in range(0, epochs, step):
            comparison.run(min(step, epochs - done), chunk=COMPARE_CHUNK)
            if bar is not None:
                bar.update(min(step, epochs - done))
    finally:
        if bar is not None:
            bar.close()


def cmd_compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    base = config_from_args(args, parser)
    if not MIN_COMPARE <= len(args.run) <= MAX_COMPARE:
        parser.error(f"--run: give {MIN_COMPARE} to {MAX_COMPARE} runs, got {len(args.run)}")
    try:
        configs = [parse_run_spec(spec, base, number) for number, spec in enumerate(args.run, start=1)]
    except ValueError as err:
        parser.error(f"--run: {err}")
    duplicates = describe_duplicates(configs, base)
    if duplicates:
        parser.error(f"--run: {duplicates}")
    if not args.target_loss > 0:
        parser.error(f"--target-loss: {args.target_loss:g} is not allowed; give a loss > 0")
    require_writable(parser, args, "csv", "png")
    per_epoch = COMPARE_CSV_BYTES_PER_EPOCH if args.csv else COMPARE_BYTES_PER_EPOCH
    refuse_beyond_memory(parser, args.epochs * len(configs) * per_epoch, f"--epochs {args.epochs:,} for {len(configs)} runs",
                         "give fewer --epochs" + (" or leave out --csv" if args.csv else ""))  # fmt: skip
    comparison = Comparison(base, configs)
    run_with_progress(comparison, args.epochs)
    summaries = comparison.summaries(args.target_loss)
    print(compare_table(summaries, args.target_loss))
    print()
    print(verdict(summaries, args.target_loss))
    writes = (
        (args.csv, lambda path: write_atomically(path, compare_csv(comparison).encode())),
        (args.png, lambda path: headless().save_comparison_png(comparison, args.x_axis.replace("-", " "), path)),
    )
    for path, write in writes:
        if path and not written(path, write):
            return EXIT_USAGE
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    base = config_from_args(args, parser, swept=True)
    require_writable(parser, args, "csv")
    try:
        spec = SweepSpec(
            base=base, seeds=tuple(range(args.seed_start, args.seed_start + args.seeds)), learning_rates=args.learning_rate,
            hidden=args.hidden, optimizers=args.optimizer, epochs=args.epochs,
        )  # fmt: skip
    except ConfigError as err:
        parser.error(option_error(err))
    except ValueError as err:
        parser.error(str(err))
    bar = progress_bar(spec.n_runs, "run")

    def progress(done: int, _total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    try:
        with interrupt_between_chunks() as stop:  # Ctrl+C: stop after the runs in flight, keep those done
            result = run_sweep(spec, progress=progress, cancelled=lambda: stop.requested)
    finally:
        if bar is not None:
            bar.close()
    if not result.complete:
        kept = f"; saving them to {args.csv}" if args.csv and len(result) else ""
        print(f"interrupted after {len(result):,} of {spec.n_runs:,} runs{kept}", file=sys.stderr)
    if len(result):
        done = f"{len(result):,} runs" if result.complete else f"{len(result):,} of {spec.n_runs:,} runs"
        print(f"{done} of {spec.epochs:,} epochs in {result.seconds:.1f} s{'' if result.complete else ', interrupted'} "
              f"(seeds {spec.seeds[0]}..{spec.seeds[-1]}; solved = every output within 0.4 of its target)")  # fmt: skip
        print(sweep_table(summarize_groups(result)))
        if args.csv and not written(args.csv, lambda path: write_atomically(path, sweep_csv(result).encode())):
            return EXIT_USAGE
    return EXIT_OK if result.complete else EXIT_INTERRUPTED


def display_problem() -> str | None:
    """Why the window cannot open here, or None. On Linux: no display server is set and Qt was told no other
    platform (offscreen, wayland...), or the X display in DISPLAY does not answer. Checked before Qt starts,
    because Qt's xcb plugin aborts the process (exit 134) when it cannot connect."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: Qt's own plugins, which do not abort this way
    display = os.environ.get("DISPLAY", "")
    if not display:
        return None if os.environ.get("WAYLAND_DISPLAY") and not platform else "DISPLAY and WAYLAND_DISPLAY are unset"
    if not x_display_answers(display):
        return f"the X display {display!r} in DISPLAY does not answer"
    return None


def x_display_answers(display: str) -> bool:
    """Whether the X server `display` accepts a connection, asked as Qt's xcb plugin asks: libxcb's xcb_connect.
    True when libxcb cannot be loaded (Qt then says what is missing)."""
    import ctypes

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)  # never NULL: a failed connection is an error object
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def cmd_gui(args: argparse.Namespace | None, parser: argparse.ArgumentParser) -> int:
    config = config_from_args(args, parser) if args is not None else None
    problem = display_problem()
    if problem:
        print(
            f"error: no display ({problem}). Run the window under 'xvfb-run python main.py', "
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
        check_figure_path(args.output, "png")
    except ValueError as err:
        parser.error(str(err))
    refuse_unwritable(args.output)

    def shot(path: str) -> None:
        headless().save_screenshot(config, args.epochs, path, (width, height), tab=args.tab)

    return EXIT_OK if written(args.output, shot) else EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser, subparsers = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse would blame the main parser: name the command whose options they are not
        (subparsers.get(args.command) or parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.command is None:
            return cmd_gui(None, parser)
        command = {"train": cmd_train, "compare": cmd_compare, "sweep": cmd_sweep, "export": cmd_export, "gui": cmd_gui,
                   "screenshot": cmd_screenshot}[args.command]  # fmt: skip
        return command(args, subparsers[args.command])
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`| head -1`): stop quietly, as the Python docs advise (see "Note on
        # SIGPIPE" in the signal module's docs): point stdout at devnull so that Python's own flush at exit does not
        # fail again, and exit with the status a shell gives a program that SIGPIPE ended.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OUTPUT_CLOSED


if __name__ == "__main__":
    sys.exit(main())
