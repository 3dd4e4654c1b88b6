"""Loss-landscape grid speed (not a test: the machines are shared and noisy).

`engine.landscape.compute_landscape` on a 201 x 201 grid (random filter-normalised directions, range 1) through the
weights after a short training run:
  - XOR, the notebook's 2-2-1 network: bar < 50 ms;
  - spiral, 500 points with train fraction 0.5 (250 training points), hidden (8, 8): bar < 2 s.
Each time is the best of --repeats after a warm-up call (which compiles or loads the kernels), on all cores and, for
reference, on one core (numba.set_num_threads(1)); the grid's centre is checked bit for bit against
`Trainer.evaluate()["train_loss"]`. The load average is printed: on a shared machine the all-cores time is only as
good as the cores that are free, and the machine's own parallel speed-up (benchmarks/sweep.py's loop) is printed beside.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.sweep import ideal_speedup
from engine import TrainConfig, Trainer
from engine.codes import ACTIVATION_CODES, LOSS_CODES
from engine.datasets import DataSpec, make_dataset
from engine.features import feature_matrix
from engine.landscape import compute_landscape, random_directions
from engine.trainer import kernels

GRID = 201
CASES = {
    # name: (config, data spec, bar in seconds)
    "XOR 2-2-1": (TrainConfig(), DataSpec(name="xor"), 0.050),
    "spiral 250 train, (8, 8)": (TrainConfig(hidden=(8, 8)), DataSpec(name="spiral", points=500, train_fraction=0.5), 2.0),
}


def best_seconds(config: TrainConfig, spec: DataSpec, repeats: int, threads: int) -> tuple[float, int]:
    """(best wall time of `repeats` grids, training points), with `threads` Numba threads."""
    data = make_dataset(spec)
    trainer = Trainer(config, data=data)
    trainer.run(50)
    theta = trainer.theta
    directions = random_directions(trainer.layout, theta, seed=0)
    numba.set_num_threads(threads)
    try:
        land = compute_landscape(config, data, theta, directions, GRID, 1.0)  # warm-up: compile or load the kernels
        middle = GRID // 2
        assert land.loss[middle, middle] == land.centre_loss == trainer.evaluate()["train_loss"], "centre not bit-exact"
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            compute_landscape(config, data, theta, directions, GRID, 1.0)
            times.append(time.perf_counter() - start)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return min(times), data.n_train


def evaluate_rate(config: TrainConfig, spec: DataSpec, calls: int = 300) -> float:
    """Sample-forwards per second of `Trainer.evaluate`'s kernel (`_kernels.evaluate`) over the training points on one
    core, best of 3: the machine's speed right now, to judge the grid's one-core rate against."""
    data = make_dataset(spec)
    trainer = Trainer(config, data=data)
    args = (trainer.theta, *trainer.layout.kernel_args, feature_matrix(data.train_inputs, config.features),
            np.ascontiguousarray(data.train_targets), ACTIVATION_CODES[config.activation], LOSS_CODES[config.loss])  # fmt: skip
    evaluate = kernels().evaluate
    evaluate(*args)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            evaluate(*args)
        best = min(best, time.perf_counter() - start)
    return calls * data.n_train / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timings per case (the best is kept)")
    args = parser.parse_args(argv)
    cores = numba.config.NUMBA_NUM_THREADS
    print(f"{GRID} x {GRID} grid, best of {args.repeats}; {cores} Numba threads; load average {os.getloadavg()[0]:.2f}")
    failed = False
    for name, (config, spec, bar) in CASES.items():
        seconds, n_train = best_seconds(config, spec, args.repeats, cores)
        one_core, _ = best_seconds(config, spec, max(1, args.repeats // 2), 1)
        rate = GRID * GRID * n_train / one_core
        ok = seconds < bar
        failed |= not ok
        print(f"  {name:<26} {seconds * 1e3:9.1f} ms  (bar < {bar * 1e3:,.0f} ms: {'met' if ok else 'NOT met'})")
        print(f"  {'':<26} one core {one_core * 1e3:9.1f} ms: {rate / 1e6:5.2f} M sample-forwards/s; "
              f"Trainer.evaluate's kernel {evaluate_rate(config, spec) / 1e6:5.2f} M/s")  # fmt: skip
    print(f"this machine's own speed-up on {cores} threads (an embarrassingly parallel loop), now: {ideal_speedup(cores):.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
