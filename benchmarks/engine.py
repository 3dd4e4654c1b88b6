"""Engine throughput, side by side in one run (not a test: the machines are shared and noisy).

Prints sample-updates per second of
  - the reference notebook's own NumPy loop,
  - the engine (`Trainer.run`, recording every epoch's loss and predictions or metrics),
  - a hand-written scalar C loop with the same arithmetic and recording (benchmarks/scalar_c.c, built here
    with the system C compiler twice, -O2 and -O3 -march=native, the faster counting; skipped when there is none),
on XOR for 10,000 and 1,000,000 epochs, for hidden sizes 16/64/256 on a 1024-point noisy XOR, and on `spiral`
(500 points, 250 for training, hidden (8, 8) tanh, per-sample SGD, test loss and train/test accuracy every
epoch), plus Numba's compile time and the cached start-up time. Each timing is the best of --repeats runs,
interleaved so that the engine and C see the same machine load. A sample-update is one training sample's
forward pass, backward pass and update; the time also holds the epoch's recording (for spiral, the forward
passes over the test and training points at the epoch's final weights).

Bars (issue 10): XOR at least 0.9x the scalar C loop and 430x the notebook's loop; spiral at least 0.8x
the scalar C loop.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import TrainConfig, Trainer  # noqa: E402
from engine.datasets import XOR_INPUTS, XOR_TARGETS, DataSpec, make_dataset  # noqa: E402

NOTEBOOK_TARGET = 430.0


def notebook_loop(n_epochs: int) -> float:
    """The notebook's training loop, verbatim; returns seconds."""

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_derivative(x):
        return x * (1 - x)

    def forward_pass(x, W1, b1, W2, b2):
        z1 = np.dot(W1, x) + b1
        v1 = sigmoid(z1)
        z2 = np.dot(W2, v1) + b2
        return v1, sigmoid(z2)

    def compute_loss(y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2)

    def backpropagation(x, v1, y_hat, y, W1, b1, W2, b2, learning_rate):
        d_output = (y_hat - y) * sigmoid_derivative(y_hat)
        d_hidden = np.dot(W2.T, d_output) * sigmoid_derivative(v1)
        W2 -= learning_rate * np.dot(d_output, v1.T)
        b2 -= learning_rate * d_output
        W1 -= learning_rate * np.dot(d_hidden, x.T)
        b1 -= learning_rate * d_hidden
        return W1, b1, W2, b2

    rs = np.random.RandomState(42)
    W1, b1, W2, b2 = rs.rand(2, 2), rs.rand(2, 1), rs.rand(1, 2), rs.rand(1, 1)
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    outputs = np.array([[0], [1], [1], [0]])
    start = time.perf_counter()
    for _epoch in range(n_epochs):
        total_loss = 0
        for i in range(len(inputs)):
            x = inputs[i].reshape(-1, 1)
            y = outputs[i].reshape(-1, 1)
            v1, y_hat = forward_pass(x, W1, b1, W2, b2)
            W1, b1, W2, b2 = backpropagation(x, v1, y_hat, y, W1, b1, W2, b2, 0.1)
            total_loss += compute_loss(y, y_hat)
    return time.perf_counter() - start


C_BUILDS = {"-O2": ("-O2",), "-O3 native": ("-O3", "-march=native", "-ffp-contract=off")}
"""Compiler flags of the two builds of the C loop. -ffp-contract=off keeps the arithmetic the engine's (Numba does not
fuse a·b + c into one rounding either); without it -march=native fuses multiply-adds and the numbers drift apart."""


def _ptr(a: np.ndarray):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


class ScalarC:
    """benchmarks/scalar_c.c compiled with `flags` and loaded with ctypes."""

    def __init__(self, folder: Path, name: str, flags: tuple[str, ...]) -> None:
        compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if compiler is None:
            raise RuntimeError("no C compiler")
        self.name = name
        lib = folder / f"scalar_c{len(list(folder.glob('*.so')))}.so"
        source = ROOT / "benchmarks" / "scalar_c.c"
        subprocess.run([compiler, *flags, "-shared", "-fPIC", "-o", str(lib), str(source), "-lm"], check=True)
        dll = ctypes.CDLL(str(lib))
        ptr, long = ctypes.POINTER(ctypes.c_double), ctypes.c_long
        self._one_hidden = dll.train_sgd_sigmoid_mse
        self._one_hidden.restype = long
        self._one_hidden.argtypes = [ptr, long, long, ptr, ptr, long, long, ctypes.c_double, ptr, ptr, ptr]
        self._two_hidden = dll.train_sgd_tanh2_mse
        self._two_hidden.restype = long
        self._two_hidden.argtypes = [ptr, long, long, long, ptr, ptr, long, ptr, ptr, long, long, ctypes.c_double, ptr]

    def run(self, theta: np.ndarray, h: int, X: np.ndarray, Y: np.ndarray, n_epochs: int, predictions: bool, metrics: bool):
        """Train a copy of theta (one sigmoid hidden layer of h units) recording each epoch's loss, every sample's
        prediction (if `predictions`) and the train accuracy (if `metrics`). Returns (seconds, records): the losses
        (n_epochs,) without metrics, else rows (n_epochs, 4 + n_pred) as `Chunk.rows()`: loss, test_loss (NaN: no test
        set), train_accuracy, test_accuracy (NaN), the predictions."""
        theta = theta.copy()
        loss = np.empty(n_epochs)
        preds = np.empty((n_epochs, len(Y) if predictions else 0))
        accuracy = np.empty(n_epochs)
        start = time.perf_counter()
        self._one_hidden(_ptr(theta), h, X.shape[1], _ptr(X), _ptr(Y), len(Y), n_epochs, 0.1, _ptr(loss),
                         _ptr(preds) if predictions else None, _ptr(accuracy) if metrics else None)  # fmt: skip
        seconds = time.perf_counter() - start
        if not metrics:
            return seconds, loss
        nan = np.full(n_epochs, np.nan)
        return seconds, np.column_stack([loss, nan, accuracy, nan, preds])

    def run_two_hidden(self, theta: np.ndarray, hidden: tuple[int, int], data, n_epochs: int) -> tuple[float, np.ndarray]:
        """Train a copy of theta (two tanh hidden layers) on data's training points with the metrics every epoch;
        returns (seconds, rows (n_epochs, 4): loss, test_loss, train_accuracy, test_accuracy)."""
        theta = theta.copy()
        X, Y, Xt, Yt = (np.ascontiguousarray(a, dtype=np.float64) for a in
                        (data.train_inputs, data.train_targets, data.test_inputs, data.test_targets))  # fmt: skip
        rows = np.empty((n_epochs, 4))
        start = time.perf_counter()
        self._two_hidden(_ptr(theta), X.shape[1], hidden[0], hidden[1], _ptr(X), _ptr(Y), len(Y), _ptr(Xt), _ptr(Yt), len(Yt),
                         n_epochs, 0.1, _ptr(rows))  # fmt: skip
        return time.perf_counter() - start, rows


@dataclass(frozen=True)
class Case:
    """One row of the table. trainer_args: keyword arguments of `Trainer` besides the config (none: XOR);
    inputs, targets: the training points, for the C loop; data: the Dataset, for the C loop's test points;
    c_bar, notebook_bar: the issue's bars for engine/C and engine/notebook, or None."""

    name: str
    config: TrainConfig
    trainer_args: dict
    inputs: np.ndarray
    targets: np.ndarray
    epochs: int
    data: Any = None
    c_bar: float | None = None
    notebook_bar: float | None = None

    def trainer(self) -> Trainer:
        return Trainer(self.config, **self.trainer_args)


def engine_run(case: Case, n_epochs: int) -> tuple[float, np.ndarray]:
    """Train a fresh trainer; returns (seconds, records): the chunk's rows (`Chunk.rows()`: loss, metrics, predictions),
    or its losses alone from an engine without metrics."""
    trainer = case.trainer()
    start = time.perf_counter()
    chunk = trainer.run(n_epochs)
    seconds = time.perf_counter() - start
    return seconds, chunk.rows() if hasattr(chunk, "rows") else chunk.loss


def c_run(c_loop: ScalarC, case: Case, theta: np.ndarray, n_epochs: int, like: np.ndarray) -> tuple[float, np.ndarray]:
    """The C loop on `case`, recording what the engine's records `like` (of one epoch) hold; returns (seconds, records)."""
    if len(case.config.hidden) == 2:
        return c_loop.run_two_hidden(theta, case.config.hidden, case.data, n_epochs)
    metrics = like.ndim == 2
    predictions = like.shape[1] > 4 if metrics else True
    return c_loop.run(theta, case.config.hidden[0], case.inputs, case.targets, n_epochs, predictions, metrics)


def agree(engine_records: np.ndarray, c_records: np.ndarray) -> str | None:
    """None when the engine's and C's records are the same numbers (NaN equal to NaN), else what differs."""
    if engine_records.shape != c_records.shape:
        return f"shapes {engine_records.shape} and {c_records.shape}"
    if np.array_equal(engine_records, c_records, equal_nan=True):
        return None
    with np.errstate(invalid="ignore"):
        return f"max difference {np.nanmax(np.abs(engine_records - c_records)):.2e}"


def noisy_xor(n: int = 1024, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2)).astype(float)
    targets = (corners[:, 0] != corners[:, 1]).astype(float)
    return corners + rng.normal(0.0, 0.1, size=corners.shape), targets


def startup_times() -> tuple[float, float]:
    """(first compile, warm cache load): seconds for a fresh process to import and train one epoch."""
    code = "import time; t = time.perf_counter(); import engine; engine.Trainer().run(1); print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        # NUMBA_CACHE_DIR only applies when the source folder's __pycache__ is not used; force it by copying
        src = Path(cache) / "src"
        shutil.copytree(ROOT / "engine", src / "engine", ignore=shutil.ignore_patterns("__pycache__"))
        times = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", code], cwd=src, env=env, capture_output=True, text=True, check=True)
            times.append(float(out.stdout))
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timings per measurement; the best is kept (default 5)")
    parser.add_argument("--notebook-epochs", type=int, default=3000, help="epochs of the notebook's loop to time")
    parser.add_argument("--spiral-epochs", type=int, default=3000, help="epochs of the spiral case (default 3000)")
    parser.add_argument("--no-startup", action="store_true", help="skip the compile and start-up timings")
    args = parser.parse_args()

    if not args.no_startup:
        compile_s, cached_s = startup_times()
        print(f"Numba first compile (import + 1 epoch, empty cache): {compile_s:.2f} s; warm cache start-up: {cached_s:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        c_loops: list[ScalarC] = []
        for name, flags in C_BUILDS.items():
            try:
                c_loops.append(ScalarC(Path(tmp), name, flags))
            except (RuntimeError, OSError, subprocess.CalledProcessError) as err:
                print(f"(scalar C build {name} skipped: {err})")

        cases = [
            Case(f"XOR 2-2-1, {epochs:,} epochs", TrainConfig(), {}, XOR_INPUTS, XOR_TARGETS, epochs, None, 0.9, NOTEBOOK_TARGET)
            for epochs in (10_000, 1_000_000)
        ]
        Xn, Yn = noisy_xor()
        for h, epochs in ((16, 200), (64, 50), (256, 12)):
            cfg = TrainConfig(hidden=(h,), init="xavier", seed=1)
            cases.append(Case(f"noisy XOR n=1024, hidden {h}", cfg, {"inputs": Xn, "targets": Yn}, Xn, Yn, epochs))
        spiral_cfg = TrainConfig(hidden=(8, 8), activation="tanh", init="xavier", seed=1)
        try:
            spiral = make_dataset(DataSpec(name="spiral", points=500, train_fraction=0.5))
            Trainer(spiral_cfg, data=spiral)
        except (TypeError, ValueError) as err:  # before the datasets issue's engine (DataError is a ValueError)
            print(f"(spiral case skipped: {err})")
        else:
            name = f"spiral {spiral.n_train}+{spiral.n_test} pts, 8-8 tanh, {args.spiral_epochs:,} ep"
            X, Y = spiral.train_inputs, spiral.train_targets
            cases.append(Case(name, spiral_cfg, {"data": spiral}, X, Y, args.spiral_epochs, spiral, 0.8))

        print(f"notebook NumPy loop: timed ({args.notebook_epochs} epochs) in the repeats of each case that has a bar against it")
        print()
        header = f"{'case':<40}{'engine M/s':>12}{'C M/s':>10}{'C build':>12}{'engine/C':>10}{'engine/notebook':>17}  bar"
        print(header)
        print("-" * len(header))
        misses = [case.name for case in cases if not measure(case, c_loops, args.notebook_epochs, args.repeats)]
    print()
    print(f"bars: XOR >= 0.9x the scalar C loop and >= {NOTEBOOK_TARGET:.0f}x the notebook's loop; spiral >= 0.8x the C loop")
    builds = ", ".join(f"{name} ({' '.join(flags)})" for name, flags in C_BUILDS.items())
    print(f"C M/s: the faster of the builds {builds}")
    if misses:
        print(f"missed: {'; '.join(misses)}")


SHORT_RUN_SECONDS = 0.05  # runs shorter than this are repeated within each repeat


def measure(case: Case, c_loops: list[ScalarC], notebook_epochs: int, repeats: int) -> bool:
    """Time the engine, every C build and (for a case with a bar against it) the notebook's loop on `case`,
    interleaved, best of `repeats`; print the row. Returns False when a bar of the case is missed."""
    theta = case.trainer().theta
    _, like = engine_run(case, 1)  # compile outside the timing, and see what the engine records
    best_engine, best_c, problems = float("inf"), {c.name: float("inf") for c in c_loops}, {}
    best_notebook = float("inf")
    # a run of a few ms is timed several times in each repeat (each side alike), so that its best is not one
    # unlucky sample of the scheduler's
    inner = max(1, round(SHORT_RUN_SECONDS / engine_run(case, case.epochs)[0]))
    for _ in range(repeats):
        if case.notebook_bar is not None:
            best_notebook = min(best_notebook, notebook_loop(notebook_epochs))
        for _ in range(inner):
            seconds, engine_records = engine_run(case, case.epochs)
            best_engine = min(best_engine, seconds)
        for c_loop in c_loops:
            for _ in range(inner):
                seconds, c_records = c_run(c_loop, case, theta, case.epochs, like)
                best_c[c_loop.name] = min(best_c[c_loop.name], seconds)
            if (problem := agree(engine_records, c_records)) is not None:
                problems[c_loop.name] = problem
    for c_name, problem in problems.items():
        print(f"  note: {case.name}: the engine's and C's ({c_name}) records differ: {problem}")
    samples = len(case.targets) * case.epochs
    engine_rate = samples / best_engine
    text = f"{case.name:<40}{engine_rate / 1e6:>12.2f}"
    met = []
    if c_loops:
        c_name = min(best_c, key=best_c.__getitem__)
        c_rate = samples / best_c[c_name]
        text += f"{c_rate / 1e6:>10.2f}{c_name:>12}{engine_rate / c_rate:>10.2f}"
        if case.c_bar is not None:
            met.append(engine_rate / c_rate >= case.c_bar)
    else:
        text += f"{'-':>10}{'-':>12}{'-':>10}"
    if case.notebook_bar is not None:
        notebook_rate = 4 * notebook_epochs / best_notebook
        text += f"{engine_rate / notebook_rate:>16.0f}x"
        met.append(engine_rate / notebook_rate >= case.notebook_bar)
    else:
        text += f"{'':>17}"
    if case.c_bar is not None or case.notebook_bar is not None:
        text += "  " + ("met" if all(met) else "MISSED")
    print(text)
    return all(met)


if __name__ == "__main__":
    main()
