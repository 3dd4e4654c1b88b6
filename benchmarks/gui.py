"""The live window's speed, measured side by side in one run (not a test). Runs offscreen.

Prints:
  - epochs per second with the window live against the engine alone (target: >= 0.9x),
  - redraws per second while running (target: >= 30),
  - main-thread stalls: gaps between ticks of a 5 ms timer while training at full speed (target: p99 < 20 ms),
  - time from launch to the first painted window with a warm Numba cache (target: < 1 s),
  - memory (RSS) while the window trains on to --epochs epochs (default 10^8).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402

from benchmarks.common import rss_mb  # noqa: E402
from engine import Trainer  # noqa: E402
from gui.app import application  # noqa: E402

FIRST_PAINT = """
import sys, time
from PySide6.QtCore import QEvent, QObject
from gui.app import application
from gui import MainWindow
app = application()
class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(time.time(), flush=True)
            app.exit()
        return False
window = MainWindow()
watcher = Painted()
window.installEventFilter(watcher)
window.show()
app.exec()
window.shutdown()
"""


def engine_rate(seconds: float) -> float:
    """Epochs per second of `Trainer.run` alone, in chunks like the window's (~10 ms)."""
    trainer = Trainer()
    trainer.run(1000)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += len(trainer.run(25_000))
    return done / (time.perf_counter() - start)


def first_paint_seconds() -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, "-c", FIRST_PAINT], cwd=ROOT, env=env, capture_output=True, check=True)  # warm the cache
    start = time.time()
    out = subprocess.run([sys.executable, "-c", FIRST_PAINT], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0]) - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput measurement")
    parser.add_argument("--epochs", type=float, default=1e8, help="epochs for the memory measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of engine alone / window live")
    args = parser.parse_args()

    launch = first_paint_seconds()
    print(f"launch to first painted window (warm cache): {launch:.2f} s  (target < 1 s)")

    app = application()
    from gui import MainWindow

    window = MainWindow()
    window.controls.speed_slider.setValue(window.controls.speed_slider.maximum())  # full speed, no stop rule
    window.controls.stop_epoch_check.setChecked(False)
    window.show()
    while not window.controls.play_button.isEnabled():
        app.processEvents()
        window.thread.wait(2)

    # Interleaved rounds (engine alone, then the window live), best of each: this machine's speed drifts.
    renders, gaps = [0], []
    window.rendered.connect(lambda: renders.__setitem__(0, renders[0] + 1))
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(5)

    def tick() -> None:
        gaps.append(clock.restart())

    probe.timeout.connect(tick)
    alone_rates, live_rates, redraw_rates, all_gaps = [], [], [], []
    for _round in range(args.rounds):
        alone_rates.append(engine_rate(args.seconds))
        renders[0], gaps[:] = 0, []
        window.play()
        start_epoch, start = window.epoch, time.perf_counter()
        clock.start()
        probe.start()
        QTimer.singleShot(int(args.seconds * 1000), app.exit)
        app.exec()
        probe.stop()
        elapsed = time.perf_counter() - start
        live_rates.append((window.epoch - start_epoch) / elapsed)
        redraw_rates.append(renders[0] / elapsed)
        all_gaps.extend(gaps[1:])
        window.pause()
        window.reset()
        QTimer.singleShot(300, app.exit)
        app.exec()
    alone, live = max(alone_rates), max(live_rates)
    gaps_ms = np.array(all_gaps, dtype=float)
    print(f"engine alone: {alone:,.0f} epochs/s; window live: {live:,.0f} epochs/s; ratio {live / alone:.2f}  (target >= 0.9)")
    print(f"  (rounds: alone {', '.join(f'{r:,.0f}' for r in alone_rates)}; live {', '.join(f'{r:,.0f}' for r in live_rates)})")
    print(f"redraws while running: {np.median(redraw_rates):.1f} per second  (target >= 30)")
    print(
        f"main-thread stall (5 ms timer gaps): median {np.median(gaps_ms):.1f} ms, p99 {np.percentile(gaps_ms, 99):.1f} ms, "
        f"max {gaps_ms.max():.1f} ms  (target p99 < 20 ms)"
    )
    window.play()

    target = int(args.epochs)
    print(f"memory while training on to {target:,} epochs (RSS):")

    def report() -> None:
        print(f"  epoch {window.epoch:>13,}: {rss_mb():7.1f} MB, history {window.curves.history.nbytes / 2**20:6.1f} MB")
        if window.epoch >= target:
            app.exit()

    reporter = QTimer()
    reporter.timeout.connect(report)
    reporter.start(5000)
    window.controls.stop_epoch_spin.setValue(min(target, 2**31 - 1))
    window.controls.stop_epoch_check.setChecked(True)
    window.snapshotApplied.connect(lambda snap: app.exit() if snap.epoch >= target else None)
    app.exec()
    reporter.stop()
    window.pause()
    print(f"  epoch {window.epoch:>13,}: {rss_mb():7.1f} MB, history {window.curves.history.nbytes / 2**20:6.1f} MB")
    window.experiments.set_modified(False)  # a measurement, not work to keep: close without asking
    window.close()


if __name__ == "__main__":
    main()
