"""`RenderPacer`: when the Train tab's views are drawn, so that the window keeps answering while training runs.

Snapshots arrive up to 40 times a second. Not running, every view is drawn at once. Running, the curves are
drawn at most every RENDER_SECONDS and the slow views (the weights, the decision map: slower to paint) at most
every SLOW_RENDER_SECONDS, one per event-loop turn, each at least STAGGER_SECONDS after the previous draw, so
that no turn (draw plus paint) grows long. The pacer knows nothing of the views: it is given two callables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

RENDER_SECONDS = 1 / 40  # while running, the curves are redrawn at most 40 times a second (about 30 in practice),
SLOW_RENDER_SECONDS = 1 / 15  # the slow views at most 15 times (each at most as often as its own interval allows),
STAGGER_SECONDS = 0.008  # each in its own event-loop turn, this far apart, so that no turn (draw plus paint) grows long


class RenderPacer(QObject):
    """Calls `draw_curves()` and `draw_slow(name)` for each of `slow_views` (in that order, one per turn while
    running) when `changed` says there is something new. Both are public attributes (a test may wrap them)."""

    rendered = Signal()  # after the curves were drawn (and, when not running, every view)

    def __init__(self, draw_curves: Callable[[], object], draw_slow: Callable[[str], object], slow_views: Sequence[str],
                 parent=None, intervals: dict[str, float] | None = None) -> None:  # fmt: skip
        """intervals: while running, a slow view is drawn at most every `intervals[name]` seconds (its turn in a
        round is skipped until then): a view that costs more to draw than it tells (the weights' numbers) may go
        slower than one a user watches move (the decision map)."""
        super().__init__(parent)
        self.intervals = dict(intervals or {})
        self._last_view_draw: dict[str, float] = {}
        self.draw_curves = draw_curves
        self.draw_slow = draw_slow
        self.slow_views = tuple(slow_views)
        self.running = False
        self._dirty = self._slow_dirty = False
        self._last_render = -1.0  # when the curves were last drawn
        self._last_slow_render = -1.0  # when the first slow view of the last round was drawn
        self._last_draw = -1.0  # when anything was last drawn
        self._slow_stage = 0  # the next of slow_views to draw
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.render)

    def changed(self, running: bool) -> None:
        """There is something new to show: draw it now (not running, or the curves are due), or schedule it."""
        self.running = running
        self._dirty = self._slow_dirty = True
        now = time.perf_counter()
        if not running or self._curves_wait(now) <= 0:
            self.render()
        else:
            self._schedule(now)

    def pending(self) -> bool:
        """Whether something is waiting to be drawn."""
        return self._dirty or self._slow_dirty

    def _curves_wait(self, now: float) -> float:
        """Seconds until the curves may be drawn again while running."""
        return max(RENDER_SECONDS - (now - self._last_render), STAGGER_SECONDS - (now - self._last_draw))

    def _slow_wait(self, now: float) -> float:
        """Seconds until the next slow view may be drawn while running."""
        after_last = STAGGER_SECONDS - (now - self._last_draw)
        if self._slow_stage:
            return after_last
        return max(SLOW_RENDER_SECONDS - (now - self._last_slow_render), after_last)

    def _schedule(self, now: float) -> None:
        """Start the timer for the earliest pending draw, unless it is already due to fire sooner."""
        pending = ((self._curves_wait, self._dirty), (self._slow_wait, self._slow_dirty))
        waits = [wait(now) for wait, dirty in pending if dirty]
        if not waits:
            return
        ms = max(1, int(min(waits) * 1000 + 0.5))
        if not self._timer.isActive() or self._timer.remainingTime() > ms:
            self._timer.start(ms)

    def render(self) -> None:
        """Draw what is due: not running, everything; running, the curves and/or the next slow view."""
        self._timer.stop()
        now = time.perf_counter()
        running = self.running
        drew_curves = self._dirty and (not running or self._curves_wait(now) <= 0)
        if drew_curves:
            self._dirty = False
            self.draw_curves()
            self._last_render = self._last_draw = now
        if self._slow_dirty and not running:
            for view in self.slow_views:
                self.draw_slow(view)
            self._slow_dirty, self._slow_stage = False, 0
        elif self._slow_dirty and self._slow_wait(now) <= 0:
            if self._slow_stage == 0:
                self._last_slow_render = now
            view = self.slow_views[self._slow_stage]
            if now - self._last_view_draw.get(view, -1.0) >= self.intervals.get(view, 0.0):
                self.draw_slow(view)
                self._last_draw = self._last_view_draw[view] = now
            self._slow_stage = (self._slow_stage + 1) % len(self.slow_views)
            self._slow_dirty = self._slow_stage != 0
        if running:
            self._schedule(now)
        if drew_curves or not running:
            self.rendered.emit()
