"""`RenderPacer` alone, with views that only record when they are drawn: not running, everything is drawn at once;
running, the curves at most every RENDER_SECONDS and the slow views one per event-loop turn, spaced."""

import time

import numpy as np
from PySide6.QtCore import QTimer

from gui.pacer import RENDER_SECONDS, SLOW_RENDER_SECONDS, STAGGER_SECONDS, RenderPacer

SLOW = ("weights", "map")


def recording_pacer(qtbot):
    draws: list[tuple[float, str]] = []
    pacer = RenderPacer(lambda: draws.append((time.perf_counter(), "curves")),
                        lambda view: draws.append((time.perf_counter(), view)), SLOW)  # fmt: skip
    rendered: list[float] = []
    pacer.rendered.connect(lambda: rendered.append(time.perf_counter()))
    return pacer, draws, rendered


def test_not_running_every_view_is_drawn_at_once(qtbot):
    pacer, draws, rendered = recording_pacer(qtbot)
    pacer.changed(running=False)
    assert [view for _, view in draws] == ["curves", *SLOW] and len(rendered) == 1 and not pacer.pending()
    pacer.changed(running=False)  # every snapshot while paused or stepping is drawn in full
    assert [view for _, view in draws] == ["curves", *SLOW] * 2 and len(rendered) == 2


def test_running_draws_are_paced_and_each_in_its_own_turn(qtbot):
    pacer, draws, rendered = recording_pacer(qtbot)
    turns: list[int] = []  # how many draws each call of `changed` made (a snapshot's own turn)
    feed = QTimer()
    feed.setInterval(2)  # snapshots far more often than anything may be drawn

    def snapshot() -> None:
        before = len(draws)
        pacer.changed(running=True)
        turns.append(len(draws) - before)

    feed.timeout.connect(snapshot)
    feed.start()
    qtbot.waitUntil(lambda: sum(view == SLOW[-1] for _, view in draws) >= 4, timeout=10_000)
    feed.stop()
    assert max(turns) <= 1 and len(turns) > len(draws) / 2  # most snapshots drew nothing: they waited their turn
    times = np.array([t for t, _ in draws])
    assert np.diff(times).min() >= STAGGER_SECONDS - 0.002  # never two draws in one turn
    curves = [t for t, view in draws if view == "curves"]
    assert np.diff(curves).min() >= RENDER_SECONDS - 0.002 and len(rendered) == len(curves)
    slow = [view for _, view in draws if view != "curves"]
    assert slow[: len(SLOW) * 4] == list(SLOW) * 4  # the slow views in order, one at a time
    firsts = [t for t, view in draws if view == SLOW[0]]
    assert np.diff(firsts).min() >= SLOW_RENDER_SECONDS - 0.002  # a round of slow views at most 15 times a second
    pacer.changed(running=False)  # paused: whatever is pending is drawn at once
    assert not pacer.pending() and [view for _, view in draws[-3:]] == ["curves", *SLOW]


def test_a_slow_view_with_its_own_interval_skips_rounds_until_it_is_due(qtbot):
    """The window draws the weights' numbers at most 10 times a second and the decision map in every round."""
    draws: list[tuple[float, str]] = []
    interval = 3 * SLOW_RENDER_SECONDS
    pacer = RenderPacer(lambda: None, lambda view: draws.append((time.perf_counter(), view)), SLOW,
                        intervals={"weights": interval})  # fmt: skip
    feed = QTimer()
    feed.setInterval(2)
    feed.timeout.connect(lambda: pacer.changed(running=True))
    feed.start()
    qtbot.waitUntil(lambda: sum(view == "map" for _, view in draws) >= 9, timeout=10_000)
    feed.stop()
    weights = [t for t, view in draws if view == "weights"]
    maps = [t for t, view in draws if view == "map"]
    assert np.diff(weights).min() >= interval - 0.002
    assert len(maps) >= 2 * len(weights) - 1  # the map kept its pace
