"""Time travel (issue 11): how long `Timeline.state_at` takes to show a random past epoch, and the checkpoints' memory
(not a test: the machines are shared and noisy).

  - XOR 2-2-1 trained to --xor-epochs (default 10^7) while a Timeline records it (chunks end where checkpoints are
    due): training time with and without the recording, then `state_at` of --samples random epochs (p50, p95, max),
    and a scrub drag (consecutive epochs from a random one, answered from where the last answer left off);
  - spiral (500 points, 250 for training, hidden (8, 8) tanh, per-sample SGD) trained to --spiral-epochs (default
    20,000), the same random epochs; and the slowest answer at 10^7 epochs, from the policy's interval there;
  - the checkpoints' bytes at 10^8 epochs: the policy run over 10^8 epochs of checkpoints (synthetic states, the real
    store and thinning), for XOR and for the spiral network.

Bars: p95 <= 100 ms for XOR up to 10^7 epochs, <= 250 ms for spiral (8, 8); checkpoints <= 64 MB at 10^8 epochs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import TrainConfig, Trainer  # noqa: E402
from engine.datasets import DataSpec, make_dataset  # noqa: E402
from engine.timeline import DEFAULT_BUDGET, Timeline  # noqa: E402
from engine.trainer import MAX_CHUNK_EPOCHS  # noqa: E402

CLI_CHUNK = 1_000_000


def train(config: TrainConfig, data, epochs: int, timeline: Timeline | None) -> float:
    """Seconds to train `epochs` epochs in the CLI's chunks (cut at checkpoints when recording)."""
    trainer = Trainer(config, data=data)
    trainer.run(1)
    trainer.reset()
    t0 = time.perf_counter()
    while trainer.epoch < epochs:
        n = min(CLI_CHUNK, MAX_CHUNK_EPOCHS, epochs - trainer.epoch)
        if timeline is not None:
            n = min(n, timeline.next_stop(trainer.epoch) - trainer.epoch)
        trainer.run(n)
        if timeline is not None:
            timeline.record(trainer)
    return time.perf_counter() - t0


def scrub_times(timeline: Timeline, epochs: np.ndarray) -> np.ndarray:
    times = np.empty(len(epochs))
    for i, epoch in enumerate(epochs):
        t0 = time.perf_counter()
        timeline.state_at(int(epoch))
        times[i] = time.perf_counter() - t0
    return times


def describe(name: str, times: np.ndarray, bar_ms: float) -> None:
    p50, p95, worst = (np.percentile(times, q) * 1e3 for q in (50, 95, 100))
    verdict = "meets" if p95 <= bar_ms else "MISSES"
    print(f"  {name}: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {worst:.2f} ms over {len(times)} epochs ({verdict} {bar_ms:g} ms)")


def bench(name: str, config: TrainConfig, data, epochs: int, samples: int, bar_ms: float, rng, every=None) -> Timeline:
    print(f"{name}: {epochs:,} epochs" + (f", checkpoints every {every:,} epochs" if every else ""))
    timeline = Timeline(config, data, every=every)
    plain = train(config, data, epochs, None)
    recorded = train(config, data, epochs, timeline)
    kept = f"{timeline.n_checkpoints:,} checkpoints every {timeline.every:,} epochs, {timeline.nbytes / 2**20:.2f} MB"
    print(f"  training {plain:.2f} s alone, {recorded:.2f} s recording ({recorded / plain - 1:+.1%}); {kept}")
    describe("random epochs", scrub_times(timeline, rng.integers(0, epochs + 1, samples)), bar_ms)
    start = int(rng.integers(0, epochs - 200))
    describe("a drag over 200 consecutive epochs", scrub_times(timeline, np.arange(start, start + 200)), bar_ms)
    return timeline


def epoch_seconds(config: TrainConfig, data, n: int = 200) -> float:
    trainer = Trainer(config, data=data)
    trainer.run(1)
    t0 = time.perf_counter()
    trainer.run(n)
    return (time.perf_counter() - t0) / n


def policy_bytes(config: TrainConfig, data, epochs: int) -> tuple[int, int, int]:
    """(bytes, checkpoints, interval) after `epochs` epochs of checkpoints under the default policy: synthetic states
    (the start's, renumbered) stored where the policy wants them, by the timeline's own store and thinning."""
    timeline = Timeline(config, data)
    state, epoch = timeline.state_at(0), 0
    while True:
        epoch = timeline.next_stop(epoch)
        if epoch > epochs:
            break
        timeline._store(dataclasses.replace(state, epoch=epoch))
    return timeline.nbytes, timeline.n_checkpoints, timeline.every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xor-epochs", type=int, default=10_000_000)
    parser.add_argument("--spiral-epochs", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=200, help="random epochs asked for (default 200)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    xor, xor_data = TrainConfig(), make_dataset()
    spiral = TrainConfig(hidden=(8, 8), activation="tanh", init="xavier", learning_rate=0.03)
    spiral_data = make_dataset(DataSpec("spiral", points=500))

    bench("XOR 2-2-1", xor, xor_data, args.xor_epochs, args.samples, 100, rng)
    timeline = bench("spiral 500 points, (8, 8)", spiral, spiral_data, args.spiral_epochs, args.samples, 250, rng)
    _, _, every = policy_bytes(spiral, spiral_data, 10**7)
    per_epoch = epoch_seconds(spiral, spiral_data)
    slowest = f"about {(every - 1) * per_epoch * 1e3:.0f} ms at {per_epoch * 1e6:.0f} µs per epoch"
    print(f"  at 10^7 epochs the interval is {every:,} epochs ({timeline.every:,} now): the slowest answer recomputes "
          f"{every - 1:,} epochs, {slowest}")  # fmt: skip
    bench("spiral at 10^7 epochs' interval", spiral, spiral_data, args.spiral_epochs, args.samples, 250, rng, every)
    for name, config, data in (("XOR 2-2-1", xor, xor_data), ("spiral (8, 8)", spiral, spiral_data)):
        nbytes, count, every = policy_bytes(config, data, 10**8)
        verdict = "meets" if nbytes <= DEFAULT_BUDGET else "MISSES"
        print(f"checkpoints at 10^8 epochs, {name}: {nbytes / 2**20:.1f} MB, {count:,} every {every:,} epochs "
              f"({verdict} {DEFAULT_BUDGET // 2**20} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
