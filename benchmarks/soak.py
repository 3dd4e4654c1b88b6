"""Soak: the window trains at full speed for --minutes (default 10), printing memory and speed each minute.

Target: memory flat after the first minute (the exact history fills in the first seconds; after that the
history is a fixed-size summary). Runs offscreen. Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BACKPROP_LAB_HISTORY", tempfile.mkdtemp(prefix="backprop-lab-bench-runs-"))  # not the user's run history
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QTimer

from benchmarks.common import rss_mb
from gui.app import application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between reports (default 60)")
    args = parser.parse_args()

    app = application()
    from gui import MainWindow

    window = MainWindow()
    window.controls.speed_slider.setValue(window.controls.speed_slider.maximum())  # full speed, no stop rule
    window.controls.stop_epoch_check.setChecked(False)
    window.show()
    start = time.perf_counter()
    marks = {"t": start, "epoch": 0}
    readings: list[float] = []

    def report() -> None:
        now = time.perf_counter()
        rate = (window.epoch - marks["epoch"]) / (now - marks["t"])
        marks.update(t=now, epoch=window.epoch)
        readings.append(rss_mb())
        print(f"{(now - start) / 60:5.1f} min  epoch {window.epoch:>14,}  {rate:>12,.0f} epochs/s  RSS {readings[-1]:7.1f} MB  "
              f"history {window.curves.history.nbytes / 2**20:5.1f} MB", flush=True)  # fmt: skip
        if now - start >= args.minutes * 60:
            app.exit()

    def begin(snapshot) -> None:
        if snapshot.state == "Ready" and not window.controls.play_button.isChecked():
            window.play()

    window.snapshotApplied.connect(begin)
    timer = QTimer()
    timer.timeout.connect(report)
    timer.start(int(args.every * 1000))
    app.exec()
    timer.stop()
    window.experiments.set_modified(False)
    window.close()
    if len(readings) >= 2:
        growth = readings[-1] - readings[0]
        print(f"memory from the first report to the last: {growth:+.1f} MB (target: flat)")


if __name__ == "__main__":
    main()
