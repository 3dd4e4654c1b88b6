"""Sweep throughput, measured side by side in one run (not a test: the machines are shared and noisy).

Per core (numba.set_num_threads(1)), XOR 1,000 seeds x 10,000 epochs of the notebook's 2-2-1 network, in
sample-updates per second (one training sample's forward pass, backward pass and update; the time also holds the
sweep's recording every epoch):
  - the sweep (`run_block` in blocks of BATCH_RUNS runs, lockstep: engine/_lockstep.py) against today's kernel of one
    run per thread (`_kernels.sweep`, run_block(lockstep=False)): bar >= 2x;
  - against the hand-written scalar C loop of one run (benchmarks/scalar_c.c, recording every epoch's loss, outputs and
    train accuracy as the engine does; the faster of its -O2 and -O3 -march=native builds) run over the sweep's seeds
    one after another: bar >= 1.5x.
All cores against one core (the lockstep sweep): bar >= 0.9 x the core count; the machine's own speed-up on an
embarrassingly parallel loop is printed as the ceiling.
spiral (500 points, 250 for training, test loss and train/test accuracy every epoch), 200 seeds x 2,000 epochs of a
network of one hidden layer of 8 tanh units (a sweep's networks have one hidden layer): lockstep against the one-run
kernel on all cores, no bar.
Each timing is the best of --repeats, the kernels interleaved so that they see the same machine load; the lockstep
runs are checked bit-identical to the one-run kernel's.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.engine import C_BUILDS, ScalarC
from engine import TrainConfig, warm_up
from engine.datasets import DataSpec, make_dataset
from engine.features import feature_matrix
from engine.network import Layout, initial_theta
from engine.sweep import SweepBlock, SweepSpec, run_block, sweep_blocks

PER_CORE_BARS = {"one-run kernel": 2.0, "scalar C": 1.5}
ALL_CORES_BAR = 0.9


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


def timed_sweep(spec: SweepSpec, lockstep: bool) -> tuple[float, list[SweepBlock]]:
    """Every block of `spec` (as `run_sweep` trains them), with the lockstep kernel or the one-run kernel: (seconds, blocks)."""
    start = time.perf_counter()
    blocks = [run_block(spec, index, seeds, lockstep=lockstep) for index, seeds in sweep_blocks(spec)]
    return time.perf_counter() - start, blocks


def same_runs(a: list[SweepBlock], b: list[SweepBlock]) -> bool:
    names = ("solved_epoch", "final_loss", "final_predictions", "check_loss", "final_train_accuracy", "final_test_accuracy")
    return all(np.array_equal(getattr(x, n), getattr(y, n), equal_nan=True) for x, y in zip(a, b, strict=True) for n in names)


def sample_updates(spec: SweepSpec) -> int:
    return spec.n_runs * spec.epochs * spec.data.n_train


def c_loop_seconds(c_loop: ScalarC, spec: SweepSpec, runs: int) -> tuple[float, np.ndarray]:
    """The C loop over the first `runs` seeds of `spec` (one config), one run after another: (seconds, final losses)."""
    config = spec.configs()[0]
    layout = Layout.from_sizes(config.layer_sizes)
    X = np.ascontiguousarray(feature_matrix(spec.data.train_inputs, config.features))
    Y = np.ascontiguousarray(spec.data.train_targets, dtype=np.float64)
    total, losses = 0.0, []
    for seed in spec.seeds[:runs]:
        theta = initial_theta(config.replace(seed=seed), layout)
        seconds, rows = c_loop.run(theta, config.hidden[0], X, Y, spec.epochs, spec.data.records_predictions, True)
        total += seconds
        losses.append(rows[-1, 0])
    return total, np.array(losses)


def per_core(spec: SweepSpec, repeats: int, c_runs: int) -> bool:
    """The per-core bars, one thread: lockstep against the one-run kernel and the scalar C loop. Returns whether met."""
    numba.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        c_loops = []
        for name, flags in C_BUILDS.items():
            try:
                c_loops.append(ScalarC(Path(tmp), name, flags))
            except (RuntimeError, OSError, subprocess.CalledProcessError) as err:  # no compiler: no C lines
                print(f"(scalar C build {name} skipped: {err})")
        best = {"lockstep": math.inf, "one-run kernel": math.inf} | {c.name: math.inf for c in c_loops}
        identical, c_agrees = True, True
        for _ in range(repeats):
            seconds, old = timed_sweep(spec, lockstep=False)
            best["one-run kernel"] = min(best["one-run kernel"], seconds)
            seconds, new = timed_sweep(spec, lockstep=True)
            best["lockstep"] = min(best["lockstep"], seconds)
            identical &= same_runs(old, new)
            for c_loop in c_loops:
                seconds, losses = c_loop_seconds(c_loop, spec, c_runs)
                best[c_loop.name] = min(best[c_loop.name], seconds * spec.n_runs / c_runs)  # per the sweep's runs
                c_agrees &= np.array_equal(losses, np.concatenate([b.final_loss for b in new])[:c_runs])
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    samples = sample_updates(spec)
    rate = {name: samples / seconds for name, seconds in best.items()}
    print(f"XOR 2-2-1, {spec.n_runs:,} seeds x {spec.epochs:,} epochs, ONE thread, best of {repeats} "
          f"(C: {c_runs} of the seeds, scaled to all){'' if identical else '  LOCKSTEP RUNS DIFFER'}")  # fmt: skip
    for name, value in rate.items():
        print(f"  {name:<16}{value / 1e6:>8.1f} M sample-updates/s")
    met = True
    for name, bar in PER_CORE_BARS.items():
        if name == "scalar C":
            if not c_loops:
                continue
            name = max((c.name for c in c_loops), key=rate.__getitem__)
        ratio = rate["lockstep"] / rate[name]
        met &= ratio >= bar
        print(f"  lockstep / {name}: {ratio:.2f}x  (bar >= {bar}x) {'met' if ratio >= bar else 'MISSED'}")
    if c_loops and not c_agrees:
        print("  note: the C loop's final losses differ from the sweep's")
    return met and identical


def all_cores(spec: SweepSpec, repeats: int) -> bool:
    """The lockstep sweep on one core against all cores (interleaved, best of `repeats`). Returns whether the bar is met."""
    cores = numba.config.NUMBA_NUM_THREADS
    best = {1: math.inf, cores: math.inf}
    for _ in range(repeats):
        for threads in best:
            numba.set_num_threads(threads)
            best[threads] = min(best[threads], timed_sweep(spec, lockstep=True)[0])
    numba.set_num_threads(cores)
    speedup = best[1] / best[cores]
    ideal = ideal_speedup(cores)
    met = speedup >= ALL_CORES_BAR * cores
    print(f"XOR, the same sweep on all {cores} cores: {best[cores]:.2f} s, one core {best[1]:.2f} s: speed-up {speedup:.2f}x "
          f"= {speedup / cores:.2f} x the core count  (bar >= {ALL_CORES_BAR}) {'met' if met else 'MISSED'}")  # fmt: skip
    print(f"  this machine's own speed-up on an embarrassingly parallel loop: {ideal:.2f}x (the ceiling here; the sweep "
          f"reaches {speedup / ideal:.2f} of it)")  # fmt: skip
    return met


def spiral(seeds: int, epochs: int, repeats: int) -> None:
    """spiral, one hidden layer of 8 tanh units: lockstep against the one-run kernel on all cores (no bar)."""
    data = make_dataset(DataSpec(name="spiral", points=500, train_fraction=0.5))
    base = TrainConfig(activation="tanh", init="xavier")
    spec = SweepSpec(base, seeds=tuple(range(seeds)), learning_rates=(0.1,), hidden=(8,), optimizers=("sgd",), epochs=epochs,
                     data=data)  # fmt: skip
    best = {"lockstep": math.inf, "one-run kernel": math.inf}
    identical = True
    for _ in range(repeats):
        seconds, old = timed_sweep(spec, lockstep=False)
        best["one-run kernel"] = min(best["one-run kernel"], seconds)
        seconds, new = timed_sweep(spec, lockstep=True)
        best["lockstep"] = min(best["lockstep"], seconds)
        identical &= same_runs(old, new)
    samples = sample_updates(spec)
    print(f"spiral {data.n_train}+{data.n_test} points, 2-8-1 tanh, {seeds:,} seeds x {epochs:,} epochs, all cores, "
          f"best of {repeats}{'' if identical else '  LOCKSTEP RUNS DIFFER'}")  # fmt: skip
    for name, seconds in best.items():
        print(f"  {name:<16}{samples / seconds / 1e6:>8.1f} M sample-updates/s  ({seconds:.2f} s)")
    print(f"  lockstep / one-run kernel: {best['one-run kernel'] / best['lockstep']:.2f}x  (no bar)")


def cluster_overhead(workers: int = 2, repeats: int = 3) -> bool:
    """The same sweeps in-process (all cores) and on a local Dask cluster of `workers` processes of one thread, started
    once and warmed up (as a running scheduler serves `sweep --cluster`): the cluster's overhead, best of `repeats`
    interleaved timings each; bar <= 10% for sweeps of 10 s or more (XOR 1,000 x 10,000 takes about a second, so XOR
    also runs with the epochs that take 10 s in-process). Then what `--workers N` takes for XOR, starting its cluster
    (the workers load the kernels from Numba's cache). True when every sweep of 10 s or more meets the bar."""
    import logging
    from dataclasses import replace

    from distributed import LocalCluster

    from engine.cluster import run_sweep_distributed
    from engine.sweep import run_sweep

    xor = SweepSpec(TrainConfig(), tuple(range(1000)), (0.1,), (2,), ("sgd",), epochs=10_000)
    spiral_data = make_dataset(DataSpec(name="spiral", points=500, train_fraction=0.5))
    sweeps = {
        "XOR 1,000 seeds": xor,
        "XOR 1,000 seeds, 10 s or more": xor,  # its epochs are set below
        "spiral 200 seeds, hidden 8 tanh": SweepSpec(TrainConfig(activation="tanh", init="xavier"), tuple(range(200)), (0.1,),
                                                     (8,), ("sgd",), epochs=2000, data=spiral_data),
    }  # fmt: skip
    met = True
    start = time.perf_counter()
    with LocalCluster(
        n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR
    ) as cluster:
        started = time.perf_counter() - start
        for spec in sweeps.values():  # the workers load the kernels, as a running cluster has
            run_sweep_distributed(replace(spec, epochs=10), cluster.scheduler_address)
        warm = time.perf_counter() - start
        per_epoch = run_sweep(xor).seconds / xor.epochs
        sweeps["XOR 1,000 seeds, 10 s or more"] = replace(xor, epochs=math.ceil(15 / per_epoch / 10_000) * 10_000)  # 15: a margin
        print(f"in-process (all cores) against a local Dask cluster of {workers} processes x 1 thread (started in "
              f"{started:.1f} s, warm in {warm:.1f} s), best of {repeats}:")  # fmt: skip
        for name, spec in sweeps.items():
            here, there = math.inf, math.inf
            for _ in range(repeats):
                here = min(here, run_sweep(spec).seconds)
                there = min(there, run_sweep_distributed(spec, cluster.scheduler_address).seconds)
            overhead = there / here - 1
            bar = here >= 10
            met &= not bar or overhead <= 0.10
            print(f"  {name} x {spec.epochs:,} epochs: in-process {here:.2f} s, cluster {there:.2f} s, overhead "
                  f"{overhead:+.1%}  ({'bar <= 10%' if bar else 'under 10 s: no bar'})")  # fmt: skip
    start = time.perf_counter()
    run_sweep_distributed(xor, n_workers=workers)
    print(f"  XOR 1,000 seeds x 10,000 epochs with --workers {workers} (its cluster started and closed for it): "
          f"{time.perf_counter() - start:.2f} s")  # fmt: skip
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3, help="timings per measurement; the best is kept (default 3)")
    parser.add_argument("--c-runs", type=int, default=100, help="seeds the C loop trains, scaled to the sweep (default 100)")
    parser.add_argument("--spiral-seeds", type=int, default=200, help="0 skips the spiral sweep")
    parser.add_argument("--spiral-epochs", type=int, default=2000)
    parser.add_argument("--spiral-repeats", type=int, default=1, help="timings of the spiral sweep (default 1: ~1 min)")
    args = parser.parse_args()
    spec = SweepSpec(TrainConfig(), seeds=tuple(range(args.seeds)), learning_rates=(0.1,), hidden=(2,), optimizers=("sgd",),
                     epochs=args.epochs)  # fmt: skip
    warm_up()
    small = SweepSpec(TrainConfig(), seeds=(0, 1), learning_rates=(0.1,), hidden=(2,), optimizers=("sgd",), epochs=10)
    for lockstep in (False, True):  # compile (or load) both kernels outside the timings
        timed_sweep(small, lockstep)
    misses = []
    if not per_core(spec, args.repeats, min(args.c_runs, args.seeds)):
        misses.append("per core")
    if not all_cores(spec, args.repeats):
        misses.append("all cores")
    if args.spiral_seeds and args.spiral_epochs:
        spiral(args.spiral_seeds, args.spiral_epochs, args.spiral_repeats)
    if not cluster_overhead(repeats=args.repeats):
        misses.append("cluster overhead")
    if misses:
        print(f"missed: {', '.join(misses)}")


if __name__ == "__main__":
    main()
