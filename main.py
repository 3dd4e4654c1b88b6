"""Backprop Lab: watch a neural network learn (XOR by default, or a built-in dataset, or your own CSV).

``python main.py`` opens the window; ``python main.py train`` trains headless and prints like the
reference notebook. ``python main.py --help`` lists every command.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from engine import OPTIMIZERS, Layout, TrainConfig, Trainer, landscape, parsing
from engine.cluster import ClusterError, check_address, reach, require_dask, run_sweep_distributed
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
from engine.datasets import DATASETS, DataError, Dataset, DataSpec, describe_datasets, load_csv, make_dataset, split_by_file
from engine.diagnosis import Diagnosis, RecentRows, check_epoch, diagnose_rows, history_rows
from engine.experiment import Experiment, ExperimentError, load_experiment, save_experiment
from engine.features import FEATURES
from engine.fields import BOOL, CHOICE, CONFIG_FIELDS, DATA, DATA_FIELDS, Field
from engine.files import FIGURE_KINDS, check_figure_path, check_writable, error_reason, train_record, write_atomically, write_json
from engine.history import History, n_series_for
from engine.reports import FIGURES, compare_csv, compare_table, history_csv, params_csv, params_json, sweep_table
from engine.sweep import DEFAULT_TARGET_ACCURACY, SOLVED_MARGIN, SweepSpec, run_sweep, summarize_groups
from engine.sweep_stream import ResumeError, SweepFile
from engine.timeline import RunTree, describe_change
from engine.trainer import METRIC_COLUMNS

CLI_CHUNK_EPOCHS = 1_000_000
CHUNK_PARAMETER_EPOCHS = 10_000_000  # parameters x epochs per chunk: ~0.1 s, the delay of Ctrl+C and of the progress bar
JSON_BYTES_PER_EPOCH = 680  # train --json: measured peak (the 4 metric arrays, their lists of floats and JSON text)
COMPARE_BYTES_PER_EPOCH = 90  # compare, per run: loss, metrics and seconds, and their copies for the summary
COMPARE_CSV_BYTES_PER_EPOCH = 300  # compare --csv, per run: as above plus the CSV text
COMPARE_CHUNK = 5000  # compare: epochs each run trains in turn
PROGRESS_DELAY_S = 2.0  # a progress bar appears once a run has taken this long
EXIT_OK, EXIT_DIVERGED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_OUTPUT_CLOSED = 128 + 13  # 141: stdout was closed early (SIGPIPE's number is 13)

DESCRIPTION = """\
Backprop Lab: watch a neural network learn by backpropagation: by default the reference notebook's
2-2-1 sigmoid network on XOR; --dataset picks a built-in dataset, --data FILE.csv your own.

With no command, opens the training window (with any options given, as 'gui' does). Commands:
  train       train headless and print the loss every --log-every epochs, like the reference notebook
  compare     which converges faster? 2 to 6 variations (SGD, mini-batch, batch, optimizers) side by side
  sweep       many seeds and settings on all cores: how often is the data solved, and how fast?
  export      write a saved experiment's history, parameters and plots (CSV, JSON, PNG, SVG)
  datasets    list the datasets (--dataset, or your own --data FILE.csv), their parameters and the input features
  gui         open the window with the given settings
  screenshot  train headless, render the window offscreen and save it as a PNG
  landscape   the loss over a plane through the trained weights, with the run's path on it (PNG, CSV)
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
  python main.py landscape --directions 'params:W1[0,0],b2[0]' --grid 201 --range 2 --png surface.png

Exit status: 0 done, 1 the loss diverged (NaN or inf), 2 bad usage or input, 130 interrupted,
141 the output was closed early (as by '| head').
"""


def argument(parse, name: str = ""):
    """An argparse `type` from an `engine.parsing` parser: its ValueError message becomes the usage error."""

    def convert(text: str):
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = name or parse.__name__  # argparse names the type in some messages
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


def accuracy_fraction(text: str) -> float:
    """An accuracy to reach: a fraction above 0 and at most 1 ('0.95'), or a percentage ('95%')."""
    number = text.strip().removesuffix("%")
    try:
        value = float(number) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a fraction such as 0.95 or a percentage") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; give an accuracy above 0 and at most 1 (100%)")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; give a number >= 1")
    return value


SWEPT_FIELDS = ("learning_rate", "hidden", "seed", "optimizer")  # sweep takes these as lists, with options of its own


def field_type(field: Field):
    """An argparse `type` for `field`: the text read and checked by `engine.parsing.parse_field`, the window's rule."""
    return argument(functools.partial(parsing.parse_field, field), name=field.name)


def add_field_option(group, field: Field) -> None:
    """`field`'s option, all from its description: flag(s), value, range or choices, help and default. Absent from
    the namespace unless given (so a loaded experiment's settings stay unless an option changes them)."""
    notes = field.notes(choices=bool(field.metavar))  # argparse lists the choices of an option without a metavar
    text = (field.help + (f" ({notes})" if notes else "")).replace("%", "%%")  # argparse formats help with %
    options = dict(dest=field.dest, default=argparse.SUPPRESS, help=text)
    if field.kind == BOOL:
        group.add_argument(field.flag, *field.aliases, action=argparse.BooleanOptionalAction, **options)
    elif field.kind == CHOICE:
        group.add_argument(field.flag, *field.aliases, choices=field.choices(), metavar=field.metavar, **options)
    else:
        group.add_argument(field.flag, *field.aliases, type=field_type(field), metavar=field.metavar, **options)


def add_config_arguments(parser: argparse.ArgumentParser, swept: bool = False) -> None:
    """Every `TrainConfig` and `DataSpec` field as an option, generated from `engine.fields`; defaults are the
    notebook's. `swept`: leave out the fields a sweep takes as lists (`SWEPT_FIELDS`)."""
    training = parser.add_argument_group("training settings (defaults: the reference notebook)")
    data = parser.add_argument_group("data (default: the notebook's XOR; 'python main.py datasets' lists the datasets)")
    for field in CONFIG_FIELDS.values():
        if not (swept and field.name in SWEPT_FIELDS):
            add_field_option(data if field.section == DATA else training, field)
    for field in DATA_FIELDS.values():
        add_field_option(data, field)


def given_options(args: argparse.Namespace, swept: bool = False) -> dict:
    """The config options given on the command line (they default to absent), as TrainConfig fields."""
    return {name: getattr(args, field.dest) for name, field in CONFIG_FIELDS.items()
            if hasattr(args, field.dest) and not (swept and name in SWEPT_FIELDS)}  # fmt: skip


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
    field = CONFIG_FIELDS.get(err.field)
    return f"{field.flag if field else '--' + err.field.replace('_', '-')}: {err.reason}"


def data_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Dataset:
    """The data the options name: ``--data FILE.csv`` (split by its split column, else by --train-fraction and
    --data-seed) or the generated ``--dataset`` (default xor) with its parameters. An option the data does not use
    is a usage error naming it (XOR's four points take no parameters, a file's split column leaves nothing to
    --train-fraction and --data-seed); a file that cannot be used is one line naming it, and exit 2."""
    given = {name: getattr(args, field.dest) for name, field in DATA_FIELDS.items() if hasattr(args, field.dest)}
    path = given.pop("path", None)
    if path is not None:
        if "name" in given:
            parser.error("--dataset, --data: give one of them (a CSV file is a dataset of its own)")
        refuse_unused(parser, given, ("train_fraction", "data_seed"), "a CSV file's points are its rows")
        try:
            data = load_csv(path, **given)
        except DataError as err:
            print(f"error: {err}", file=sys.stderr)  # one line naming the file, as a failed read of --load is said
            sys.exit(EXIT_USAGE)
        if split_by_file(data):
            refuse_unused(parser, given, (), f"{path}: its split column decides the split")
        return data
    kind = DATASETS[given.get("name", DATA_FIELDS["name"].default)]
    why = f"the {kind.name} dataset does not use it; pick another with --dataset"
    refuse_unused(parser, given, ("name", *kind.parameters), why)
    try:
        return make_dataset(DataSpec(**given))
    except DataError as err:
        parser.error(f"{DATA_FIELDS[err.field].flag}: {err.reason}" if err.field in DATA_FIELDS else str(err))
        raise  # unreachable: parser.error exits


def refuse_unused(parser: argparse.ArgumentParser, given: dict, used: tuple[str, ...], why: str) -> None:
    """A usage error naming the data options in `given` that are not `used`."""
    unused = [DATA_FIELDS[name].flag for name in given if name not in used]
    if unused:
        parser.error(f"{', '.join(unused)}: {why}")


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
    past = train.add_mutually_exclusive_group()
    past.add_argument(
        "--at", type=non_negative_int, metavar="N", help="with --load: print the run's state at epoch N and train nothing"
    )
    past.add_argument(
        "--branch-at",
        type=non_negative_int,
        metavar="N",
        help="with --load: branch from epoch N with the training options given and train it --epochs epochs "
        "(--save keeps the run and its branches)",
    )
    add_quiet_argument(train)
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
    add_quiet_argument(compare)
    add_config_arguments(compare)

    sweep = sub.add_parser(
        "sweep",
        help="train many seeds (and settings) on all cores: how often is the data solved?",
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
        type=name_list(tuple(OPTIMIZERS)),
        default=("sgd",),
        metavar="NAME,...",
        help="optimizers, e.g. sgd,adam (default sgd)",
    )
    sweep.add_argument("--epochs", type=positive_int, default=10000, help="epochs per run (default 10000)")
    sweep.add_argument(
        "--target-accuracy",
        type=accuracy_fraction,
        default=argparse.SUPPRESS,  # absent unless given: data that keeps XOR's rule refuses it
        metavar="A",
        help="data other than XOR: a run is solved once its test accuracy (train accuracy without a test set) "
        f"reaches A, a fraction in (0, 1] or a percentage such as 95%% (default {DEFAULT_TARGET_ACCURACY:g})",
    )
    sweep.add_argument("--csv", type=path_text, metavar="PATH", help="write one row per run as CSV, as the runs finish")
    sweep.add_argument(
        "--resume",
        action="store_true",
        help="continue the sweep whose rows are in --csv PATH (an interrupted one): train only the runs it lacks",
    )
    where = sweep.add_mutually_exclusive_group()
    where.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run on the workers of the Dask scheduler at ADDRESS, e.g. tcp://HOST:8786 (pip install -e .[cluster])",
    )
    where.add_argument(
        "--workers", type=positive_int, metavar="N", help="run on a local Dask cluster of N processes, started for the sweep"
    )
    add_quiet_argument(sweep)
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

    land = sub.add_parser(
        "landscape",
        help="the loss over a plane through the trained weights, with the run's path on it",
        formatter_class=fmt,
        description="Train --epochs epochs, then compute the training loss over the plane θ = θ* + a·d₁ + b·d₂ through "
        "the final weights θ* (a and b from -range to range on a grid) and the run's path projected onto it. Prints a "
        "summary; --csv writes the grid (a, b, loss), --png the heat map with contours and the path.",
        epilog="example: python main.py landscape --epochs 5000 --directions 'params:W1[0,0],b2[0]' --grid 201 --range 2 "
        "--png surface.png --csv surface.csv",
    )
    land.add_argument("--epochs", type=non_negative_int, default=10000, help="epochs to train first (default 10000)")
    land.add_argument(
        "--directions",
        default="random",
        metavar="params:NAME,NAME|random|pca",
        help="the plane's directions d₁, d₂: two parameters by name (W1[0,0] is layer 1's weight from input 1 to unit 1, "
        "b2[0] layer 2's first bias; quote it in a shell), so the axes are those weights' values; two random "
        "directions, filter-normalised (Li et al. 2018); or the path's first two principal components (default random)",
    )
    land.add_argument("--seed-directions", type=non_negative_int, metavar="S",
                      help="with --directions random: the seed they are drawn with (default 0)")  # fmt: skip
    land.add_argument(
        "--grid", type=grid_size, default=landscape.DEFAULT_GRID, metavar="N",
        help=f"N × N points ({landscape.MIN_GRID} to {landscape.MAX_GRID}, default {landscape.DEFAULT_GRID})",
    )  # fmt: skip
    land.add_argument(
        "--range", type=plane_range, default=landscape.DEFAULT_RANGE, metavar="R",
        help=f"a and b from -R to R (default {landscape.DEFAULT_RANGE:g})",
    )  # fmt: skip
    land.add_argument("--csv", type=path_text, metavar="PATH", help="write the grid as CSV: a, b, loss (one row per point)")
    land.add_argument("--png", type=path_text, metavar="PATH", help="save the heat map with contours and the path as a PNG")
    land.add_argument("--linear-scale", action="store_true", help="colour the PNG by the loss, not by its log")
    add_quiet_argument(land)
    add_config_arguments(land)

    datasets = sub.add_parser(
        "datasets",
        help="list the datasets, their parameters and the input features",
        formatter_class=fmt,
        description="List the built-in datasets (--dataset NAME), their parameters, the CSV format of --data and the "
        "input features (--features).",
    )
    return parser, {"train": train, "compare": compare, "sweep": sweep, "export": export, "gui": gui, "screenshot": shot,
                    "landscape": land, "datasets": datasets}  # fmt: skip


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


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar: print only the results and errors")


def progress_bar(total: int, unit: str):
    """A progress bar on stderr (tqdm) for a run of `total` units, or None. Shown only when stderr is a terminal,
    and only once the run has lasted `PROGRESS_DELAY_S`: short runs, pipes, files and stdout stay clean. Its callers
    ask for none with --quiet."""
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


def shows_metrics(data: Dataset) -> bool:
    """Whether `train` prints accuracies: for data other than XOR's kind (a few training points whose every output is
    printed, as the notebook does), where the loss alone says little."""
    return not data.records_predictions


def epoch_line(data: Dataset):
    """A function (epoch, history row) -> the line `train` prints for that epoch: the notebook's
    'Epoch 1, Loss: 0.25...' (the loss at full precision), followed, on data other than XOR, by the test loss
    and the train and test accuracy (the test values only where there is a test set)."""
    test_loss, train_acc, test_acc = (METRIC_COLUMNS.index(name) for name in METRIC_COLUMNS[1:])
    metrics, has_test = shows_metrics(data), data.n_test > 0

    def line(epoch: int, row: np.ndarray) -> str:
        text = f"Epoch {epoch}, Loss: {float(row[0])!r}"
        if metrics and has_test:
            text += f", Test loss: {float(row[test_loss])!r}"
        if metrics:
            text += f", Train accuracy: {row[train_acc]:.1%}"
        if metrics and has_test:
            text += f", Test accuracy: {row[test_acc]:.1%}"
        return text + "\n"

    return line


def print_final(trainer: Trainer) -> None:
    """The notebook's last lines for XOR's kind of data (every training output); on other data, the losses and
    accuracies at the final weights."""
    data = trainer.data
    if not shows_metrics(data):
        print("Predicted Output after Training:\n", trainer.predict(data.train_inputs).reshape(1, -1))
        return
    final = trainer.evaluate()
    text = f"After training: train loss {final['train_loss']:.6g}, train accuracy {final['train_accuracy']:.1%}"
    if data.n_test:
        text += f"; test loss {final['test_loss']:.6g}, test accuracy {final['test_accuracy']:.1%}"
    print(f"{text} ({data.n_train:,} training and {data.n_test:,} test points)")


def run_diagnoses(trainer: Trainer, history: History, recent: RecentRows | None = None, rows=None) -> list[Diagnosis]:
    """What the run is doing at the trainer's epoch (engine/diagnosis.py), from its history's rows (past the history's
    exact part: the rows `recent` kept, or those `rows(first, last)` recomputes)."""
    epochs, found = history_rows(history, trainer.epoch, recent=recent, rows=rows)
    return diagnose_rows(trainer.config, trainer.data, trainer.theta, epochs, found)


def print_diagnoses(diagnoses: list[Diagnosis]) -> None:
    """One line each, with the epoch where it began: 'Diagnosis: plateau at epoch 1234: ...'."""
    for diagnosis in diagnoses:
        print(diagnosis.line())


def print_past(args: argparse.Namespace, parser: argparse.ArgumentParser, tree: RunTree) -> int:
    """`train --load PATH --at N`: the state at epoch N, printed as `train` prints its end (`print_final`)."""
    if given_options(args) or args.save or args.json:
        parser.error("--at prints a saved run's state and trains nothing: give training options, --save and --json "
                     "with --branch-at instead")  # fmt: skip
    try:
        trainer = tree.trainer_at(tree.current, args.at)
    except ValueError as err:  # outside the run, or a past the file does not record
        runs = len(tree.runs())
        which = f" (its current run, {tree.current_run.label or 'the first'}, of {runs} runs)" if runs > 1 else ""
        print(f"error: {args.load}{which}: {err}", file=sys.stderr)
        return EXIT_USAGE
    print_final(trainer)
    print_diagnoses(run_diagnoses(trainer, tree.current_run.history, rows=lambda a, b: tree.rows(tree.current, a, b)))
    return EXIT_OK


def branch_trainer(args: argparse.Namespace, parser: argparse.ArgumentParser, tree: RunTree) -> Trainer | None:
    """`train --load PATH --branch-at N`: a new branch of `tree`'s current run from epoch N with the training options
    given (on the settings in force there), made the current run; its trainer, or None after saying why not."""
    try:
        base = tree.trainer_at(tree.current, args.branch_at).config
        config = config_from_args(args, parser, base=base)
        branch = tree.branch(tree.current, args.branch_at, config, label=describe_change(base, config, args.branch_at))
    except ValueError as err:
        print(f"error: {args.load}: {err}", file=sys.stderr)
        return None
    tree.current = branch
    trainer = Trainer(tree.current_run.config, data=tree.data)
    trainer.restore(tree.current_run.state)
    return trainer


def cmd_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    require_writable(parser, args, "json", "save")
    if (args.at is not None or args.branch_at is not None) and not args.load:
        parser.error(f"--{'at' if args.at is not None else 'branch-at'}: needs --load PATH, the run to go back in")
    if args.json:
        refuse_beyond_memory(parser, args.epochs * JSON_BYTES_PER_EPOCH, f"--epochs {args.epochs:,} with --json",
                             "give fewer --epochs, or leave out --json (without it memory stays bounded)")  # fmt: skip
    if args.load:
        try:
            experiment = load_experiment(args.load)
        except ExperimentError as err:
            print(f"error: {args.load}: {err.reason}", file=sys.stderr)  # one line, naming the file as given
            return EXIT_USAGE
        structural = [f for f in STRUCTURAL_FIELDS if f in given_options(args)]
        data_options = [field.flag for field in DATA_FIELDS.values() if hasattr(args, field.dest)]
        if structural or data_options:
            names = ", ".join(["--" + f.replace("_", "-") for f in structural] + data_options)
            parser.error(f"{names}: a loaded experiment keeps its data, network and seed; change only training settings")
        tree = experiment.tree
        if args.at is not None:
            return print_past(args, parser, tree)
        if args.branch_at is not None:
            trainer = branch_trainer(args, parser, tree)
            if trainer is None:
                return EXIT_USAGE
        else:
            trainer = experiment.trainer()
            trainer.set_config(config_from_args(args, parser, base=experiment.config))
            if tree.current_run.timeline.known:
                tree.current_run.timeline.set_config(trainer.epoch, trainer.config)
        history = tree.current_run.history
    else:
        config = config_from_args(args, parser)
        trainer = Trainer(config, data=data_from_args(args, parser))
        history = History(n_series=n_series_for(trainer.data))
        tree = RunTree(config, trainer.data, history=history) if args.save else None
    recorded = args.save and tree is not None and tree.current_run.timeline.known
    timeline = tree.current_run.timeline if recorded else None  # the saved run's past, for --at and --branch-at
    config = trainer.config
    first, target = trainer.epoch + 1, trainer.epoch + args.epochs
    new_loss: list[np.ndarray] = []
    new_metrics: list[np.ndarray] = []
    log_line = epoch_line(trainer.data)
    out = sys.stdout
    step = chunk_epochs(trainer)
    bar = None if args.quiet else progress_bar(args.epochs, "epoch")
    recent = RecentRows((check_epoch(target),)) if target > history.exact_limit else None  # for the diagnoses
    try:
        with interrupt_between_chunks() as stop:
            while trainer.epoch < target and not trainer.diverged and not stop.requested:
                n = min(step, target - trainer.epoch)
                if timeline is not None:  # chunks end where checkpoints are due
                    n = min(n, timeline.next_stop(trainer.epoch) - trainer.epoch)
                chunk = trainer.run(n)
                if timeline is not None:
                    timeline.record(trainer)  # a checkpoint where the chunk ends
                rows = chunk.rows()
                history.extend(rows)
                if recent is not None and len(chunk):
                    recent.extend(int(chunk.epochs[0]), rows)
                if args.json:
                    new_loss.append(chunk.loss)
                    new_metrics.append(chunk.metrics)
                if args.log_every:
                    logged = np.flatnonzero((chunk.epochs - 1) % args.log_every == 0)
                    with printing_beside(bar):
                        out.writelines(log_line(int(chunk.epochs[i]), rows[i]) for i in logged)
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
    diagnoses = run_diagnoses(trainer, history, recent)
    if not stop.requested:
        print_final(trainer)
        print_diagnoses(diagnoses)

    def json_record(path: str) -> None:
        loss = np.concatenate(new_loss) if new_loss else np.empty(0)
        record = train_record(trainer, loss, np.concatenate(new_metrics) if new_metrics else np.empty((0, 3)), diagnoses)
        record["first_epoch"] = first
        write_json(path, record)

    for path, write in (
        (args.json, json_record),
        (args.save, lambda path: save_experiment(path, Experiment.capture(trainer, history, tree=tree if recorded else None))),
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
        (args.history_csv, lambda path: write_atomically(path, history_csv(experiment.history, experiment.data).encode())),
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


def run_with_progress(comparison: Comparison, epochs: int, quiet: bool = False) -> None:
    """`comparison.run(epochs)` in slices of whole chunks (which train exactly as one call does), with a progress bar
    (unless `quiet`)."""
    step = max(1, CHUNK_PARAMETER_EPOCHS // sum(trainer.theta.size for trainer in comparison.trainers))
    step = -(-step // COMPARE_CHUNK) * COMPARE_CHUNK
    bar = None if quiet else progress_bar(epochs, "epoch")
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
    data = data_from_args(args, parser)
    if not MIN_COMPARE <= len(args.run) <= MAX_COMPARE:
        parser.error(f"--run: give {MIN_COMPARE} to {MAX_COMPARE} runs, got {len(args.run)}")
    try:
        configs = [parse_run_spec(spec, base, number) for number, spec in enumerate(args.run, start=1)]
    except ValueError as err:
        parser.error(f"--run: {err}")
    duplicates = describe_duplicates(configs, base, data.n_train)
    if duplicates:
        parser.error(f"--run: {duplicates}")
    if not args.target_loss > 0:
        parser.error(f"--target-loss: {args.target_loss:g} is not allowed; give a loss > 0")
    require_writable(parser, args, "csv", "png")
    per_epoch = COMPARE_CSV_BYTES_PER_EPOCH if args.csv else COMPARE_BYTES_PER_EPOCH
    refuse_beyond_memory(parser, args.epochs * len(configs) * per_epoch, f"--epochs {args.epochs:,} for {len(configs)} runs",
                         "give fewer --epochs" + (" or leave out --csv" if args.csv else ""))  # fmt: skip
    comparison = Comparison(base, configs, data=data)
    run_with_progress(comparison, args.epochs, args.quiet)
    summaries = comparison.summaries(args.target_loss)
    print(compare_table(summaries, args.target_loss, data))
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
    data = data_from_args(args, parser)
    if hasattr(args, "target_accuracy") and data.records_predictions:
        parser.error(f"--target-accuracy: on {data.spec.name} data a run is solved when every output is within "
                     f"{SOLVED_MARGIN:g} of its target; it has no target accuracy")  # fmt: skip
    require_writable(parser, args, "csv")
    if args.resume and not args.csv:
        parser.error("--resume needs --csv PATH: the file of the sweep to continue")
    try:
        spec = SweepSpec(
            base=base, seeds=tuple(range(args.seed_start, args.seed_start + args.seeds)), learning_rates=args.learning_rate,
            hidden=args.hidden, optimizers=args.optimizer, epochs=args.epochs, data=data,
            target_accuracy=getattr(args, "target_accuracy", DEFAULT_TARGET_ACCURACY),
        )  # fmt: skip
    except ConfigError as err:
        parser.error(option_error(err))
    except ValueError as err:
        parser.error(str(err))
    run = run_sweep
    if args.cluster is not None or args.workers is not None:
        try:  # before the CSV file is touched: a typo in the address keeps the file
            require_dask()
            address = None if args.cluster is None else check_address(args.cluster)
            if address is not None:
                reach(address)
        except ClusterError as err:
            print(f"error: --{'cluster' if args.cluster is not None else 'workers'}: {err}", file=sys.stderr)
            return EXIT_USAGE
        run = functools.partial(run_sweep_distributed, address=address, n_workers=args.workers)
    try:
        stream = SweepFile.open(args.csv, spec, resume=args.resume) if args.csv else None
    except ResumeError as err:
        print(f"error: --resume: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        print(f"error: {error_reason(err)}", file=sys.stderr)
        return EXIT_USAGE
    resumed = len(stream.done) if stream is not None else 0
    bar = None if args.quiet else progress_bar(spec.n_runs - resumed, "run")

    def progress(done: int, _total: int) -> None:
        if bar is not None:
            bar.update(done - resumed - bar.n)

    streaming = {"on_block": stream.append, "skip": stream.done} if stream is not None else {}
    try:
        with interrupt_between_chunks() as stop:  # Ctrl+C: stop after the runs in flight, keep those done
            result = run(spec, progress=progress, cancelled=lambda: stop.requested, **streaming)
    except (OSError, ClusterError) as err:  # the CSV file cannot be appended to; the cluster cannot run the sweep
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.finish()
        what = f"could not write {args.csv}: {error_reason(err)}" if isinstance(err, OSError) else str(err)
        print(f"error: {what}" + (f" (the finished runs are in {args.csv})" if stream is not None and stream.lines else ""),
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    finally:
        if bar is not None:
            bar.close()
    if stream is not None and resumed:
        result = stream.result(result.seconds, result.complete)  # every row: the file's and this run's
    if not result.complete:
        kept = f"; saving them to {args.csv}" if args.csv and len(result) else ""
        print(f"interrupted after {len(result):,} of {spec.n_runs:,} runs{kept}", file=sys.stderr)
    if len(result):
        done = f"{len(result):,} runs" if result.complete else f"{len(result):,} of {spec.n_runs:,} runs"
        since = f" ({resumed:,} of them from {args.csv})" if resumed else ""
        print(f"{done}{since} of {spec.epochs:,} epochs in {result.seconds:.1f} s{'' if result.complete else ', interrupted'} "
              f"(seeds {spec.seeds[0]}..{spec.seeds[-1]}; solved = {spec.solved_rule})")  # fmt: skip
        print(sweep_table(summarize_groups(result), data))
    if stream is not None and not written(args.csv, lambda _path: stream.finish()):
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


def cmd_datasets(_args: argparse.Namespace, _parser: argparse.ArgumentParser) -> int:
    print(describe_datasets())
    features = CONFIG_FIELDS["features"]
    print(f"\nInput features ({features.usage}; default {features.format(features.default)}):")
    print(f"  {features.help}")
    width = max(len(name) for name in FEATURES)
    for feature in FEATURES.values():
        print(f"  {feature.name:<{width}}  {feature.label}")
    return EXIT_OK


def cmd_gui(args: argparse.Namespace | None, parser: argparse.ArgumentParser) -> int:
    config = config_from_args(args, parser) if args is not None else None
    data = data_from_args(args, parser) if args is not None else None
    problem = display_problem()
    if problem:
        print(
            f"error: no display ({problem}). Run the window under 'xvfb-run python main.py', "
            "or use the headless commands: 'python main.py train', 'python main.py screenshot OUT.png'.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from gui.app import run_window

    return run_window(config, data)


def cmd_screenshot(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    config = config_from_args(args, parser)
    data = data_from_args(args, parser)
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
        headless().save_screenshot(config, args.epochs, path, (width, height), tab=args.tab, data=data)

    return EXIT_OK if written(args.output, shot) else EXIT_USAGE


LANDSCAPE_PNG_WIDTH = 1000  # landscape --png: pixels wide (the height follows the plane's square)
LANDSCAPE_PATH_COLOR = "#f8f9fa"  # the path on the heat map: light on the low loss's dark colours


def grid_size(text: str) -> int:
    """`landscape --grid`: points along each side, MIN_GRID to MAX_GRID."""
    value = non_negative_int(text)
    if not landscape.MIN_GRID <= value <= landscape.MAX_GRID:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; give {landscape.MIN_GRID} to {landscape.MAX_GRID} points")
    return value


def plane_range(text: str) -> float:
    """`landscape --range`: a and b from -range to range, a finite number > 0."""
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} is not allowed; give a range > 0")
    return value


def follow_progress(bar):
    """A progress(done, total) callback that moves `bar` (None: no bar) to `done`."""
    if bar is None:
        return None

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return progress


def landscape_summary(land, path, path_ab: tuple[np.ndarray, np.ndarray], plane_loss: np.ndarray, epochs: int, seed: int) -> str:
    """What `landscape` prints: the plane, the loss at its centre and over its grid, and the path against the plane."""
    directions, grid, span = land.directions, len(land.a), float(land.a[-1])
    a, b = land.a + directions.offsets[0], land.b + directions.offsets[1]  # parameters: the weights' values
    kind = {"params": "two parameters", "random": f"two random directions, filter-normalised (seed {seed})",
            "pca": "the path's first two principal components"}[directions.kind]  # fmt: skip
    finite = np.isfinite(land.loss)
    lines = [f"Loss over the plane θ* + a·d₁ + b·d₂ through the weights after {epochs:,} epochs, along {kind}:",
             f"  d₁: {directions.labels[0]}", f"  d₂: {directions.labels[1]}",
             f"  grid {grid} × {grid}: " + (f"{directions.names[0]} from {a[0]:.6g} to {a[-1]:.6g}, {directions.names[1]} "
                                             f"from {b[0]:.6g} to {b[-1]:.6g}" if directions.kind == "params"
                                             else f"a and b from -{span:g} to {span:g}"),
             f"  loss at the centre θ*: {land.centre_loss!r} (the training loss, without the L1/L2 penalty)"]  # fmt: skip
    if finite.any():
        j, i = np.unravel_index(np.argmin(np.where(finite, land.loss, np.inf)), land.loss.shape)
        lines.append(f"  on the grid: min {land.loss[j, i]:.6g} at (a, b) = ({a[i]:.4g}, {b[j]:.4g}), "
                     f"max {land.loss[finite].max():.6g}")  # fmt: skip
    if not finite.all():
        lines.append(f"  {int((~finite).sum()):,} of {finite.size:,} grid points have no finite loss")
    gap = np.abs(plane_loss - path.losses)
    worst = float(np.nanmax(gap)) if np.isfinite(gap).any() else float("nan")
    outside = int(np.sum((np.abs(path_ab[0]) > land.a[-1]) | (np.abs(path_ab[1]) > land.b[-1])))
    lines.append(f"  path: {len(path.epochs):,} points from epoch 0 to {int(path.epochs[-1]):,}"
                 + (f" ({outside:,} of them outside the grid: a larger --range shows them)" if outside else ""))  # fmt: skip
    lines.append(f"  along the path the plane's loss (at the projected points) differs from the true loss by at most {worst:.6g}")
    lines.append(f"  computed in {land.seconds:.3f} s")
    return "\n".join(lines)


def cmd_landscape(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    config = config_from_args(args, parser)
    data = data_from_args(args, parser)
    try:
        kind, names = landscape.parse_directions(args.directions)
    except landscape.LandscapeError as err:
        parser.error(f"--directions: {str(err).removeprefix('directions ')}")
    if args.seed_directions is not None and kind != "random":
        parser.error("--seed-directions: only random directions are drawn at random; leave it out or give --directions random")
    layout = Layout.from_sizes(config.layer_sizes)
    if kind == "params":
        try:  # the names, checked before any training
            landscape.parameter_directions(layout, names, np.zeros(layout.n_params))
        except landscape.LandscapeError as err:
            parser.error(f"--directions: {str(err).removeprefix('directions ')}")
    if kind == "pca" and args.epochs < 2:
        parser.error(f"--directions pca: the path of {args.epochs} epoch(s) has too few points for two principal "
                     "components; give --epochs 2 or more")  # fmt: skip
    require_writable(parser, args, "png", "csv")
    seed = 0 if args.seed_directions is None else args.seed_directions
    bar = None if args.quiet else progress_bar(args.epochs, "epoch")
    try:
        with interrupt_between_chunks() as stop:
            path = landscape.replay_path(config, data, args.epochs, progress=follow_progress(bar),
                                         cancelled=lambda: stop.requested)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    if path is None:
        print("interrupted while training", file=sys.stderr)
        return EXIT_INTERRUPTED
    theta = path.thetas[-1]
    if path.epochs[-1] < args.epochs or not (np.isfinite(theta).all() and np.isfinite(path.losses[-1])):  # it stops there
        print(f"error: the training diverged at epoch {int(path.epochs[-1]):,}: there is no surface around its weights to "
              f"draw; try a smaller learning rate than {config.learning_rate:g}", file=sys.stderr)  # fmt: skip
        return EXIT_DIVERGED
    try:
        directions = landscape.make_directions(kind, layout, theta, names=names, path_thetas=path.thetas, seed=seed)
    except landscape.LandscapeError as err:
        parser.error(f"--directions: {str(err).removeprefix('directions ')}")
    bar = None if args.quiet else progress_bar(args.grid, "row")
    try:
        with interrupt_between_chunks() as stop:
            land = landscape.compute_landscape(config, data, theta, directions, grid=args.grid, span=args.range,
                                               progress=follow_progress(bar), cancelled=lambda: stop.requested)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    if land is None:
        print("interrupted while computing the surface", file=sys.stderr)
        return EXIT_INTERRUPTED
    a, b = landscape.project(path.thetas, theta, directions)
    plane_loss = landscape.plane_losses(config, data, theta, directions, a, b)
    print(landscape_summary(land, path, (a, b), plane_loss, args.epochs, seed))
    title = f"Loss over a plane through the weights after {args.epochs:,} epochs"
    paths = [(f"path, epochs 0 to {args.epochs:,}", LANDSCAPE_PATH_COLOR, a, b)]

    def png(out: str) -> None:
        width, height = headless().save_landscape_png(land, paths, out, title, log_scale=not args.linear_scale,
                                                      width=LANDSCAPE_PNG_WIDTH)  # fmt: skip
        print(f"saved {out} ({width}x{height})")

    writes = (
        (args.csv, lambda out: write_atomically(out, landscape.landscape_csv(land).encode())),
        (args.png, png),
    )
    for out, write in writes:
        if out and not written(out, write):
            return EXIT_USAGE
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser, subparsers = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["gui", *argv]  # options with no command are the window's: the default command's
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse would blame the main parser: name the command whose options they are not
        (subparsers.get(args.command) or parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.command is None:
            return cmd_gui(None, parser)
        command = {"train": cmd_train, "compare": cmd_compare, "sweep": cmd_sweep, "export": cmd_export, "gui": cmd_gui,
                   "screenshot": cmd_screenshot, "landscape": cmd_landscape, "datasets": cmd_datasets}[args.command]  # fmt: skip
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
