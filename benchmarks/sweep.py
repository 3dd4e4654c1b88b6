"""Sweep throughput, measured side by side in one run (not a test).

1000 seeds x 10,000 epochs of the notebook's network:
  - all cores against a single core (numba.set_num_threads(1)): target speed-up >= 0.9 x the core count;
  - per-run throughput against a single `Trainer` run: target >= 0.9x.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import TrainConfig, Trainer, warm_up
from engine.sweep import SweepSpec, run_sweep


@njit(parallel=True, nogil=True)
def _ideal(n_tasks, iters, out):
    """An embarrassingly parallel loop: what this machine's cores give at best."""
    for t in prange(n_tasks):
        s = 0.0
        for i in range(iters):
            s += 1.0 / (1.0 + math.exp(-(t + i) * 1e-7))
        out[t] = s


def ideal_speedup(cores: int) -> float:
    out = np.empty(64)
    _ideal(64, 10, out)
    times = {}
    for threads in (1, cores):
        numba.set_num_threads(threads)
        start = time.perf_counter()
        _ideal(64, 1_000_000, out)
        times[threads] = time.perf_counter() - start
    numba.set_num_threads(cores)
    return times[1] / times[cores]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10000)
    args = parser.parse_args()
    spec = SweepSpec(TrainConfig(), seeds=tuple(range(args.seeds)), learning_rates=(0.1,), hidden=(2,), optimizers=("sgd",),
                     epochs=args.epochs)  # fmt: skip
    warm_up()
    run_sweep(SweepSpec(TrainConfig(), seeds=(0, 1), learning_rates=(0.1,), hidden=(2,), optimizers=("sgd",), epochs=10))

    cores = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    single = run_sweep(spec).seconds
    numba.set_num_threads(cores)
    parallel = run_sweep(spec).seconds

    start = time.perf_counter()
    Trainer(TrainConfig(seed=0)).run(args.epochs)
    one_run = time.perf_counter() - start
    per_run_single_core = single / args.seeds

    speedup = single / parallel
    ideal = ideal_speedup(cores)
    print(f"{args.seeds:,} seeds x {args.epochs:,} epochs, {cores} cores")
    print(f"  this machine's own speed-up on an embarrassingly parallel loop: {ideal:.2f}x (the ceiling here)")
    print(f"  one core: {single:.2f} s; all cores: {parallel:.2f} s; speed-up {speedup:.2f}x "
          f"= {speedup / cores:.2f} x the core count  (target >= 0.9)")  # fmt: skip
    print(f"  per run on one core: {per_run_single_core * 1e3:.2f} ms; a single Trainer run: {one_run * 1e3:.2f} ms; "
          f"throughput ratio {one_run / per_run_single_core:.2f}  (target >= 0.9)")  # fmt: skip


if __name__ == "__main__":
    main()
