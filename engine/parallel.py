"""One lock for every parallel (``prange``) kernel call in this process.

Numba's workqueue threading layer, its fallback where neither OpenMP (libgomp) nor TBB is found, aborts the process
when two threads enter parallel code at once, and the window may run a sweep, the Landscape tab's plane and the
Compare tab's plane on three threads together. Callers hold `PARALLEL_LOCK` around each kernel call (a block of
work, not a whole job), so every caller still looks at its cancel flag between blocks.
"""

from __future__ import annotations

import threading

PARALLEL_LOCK = threading.RLock()  # re-entrant: a cluster task holds it around `run_block`, which takes it too
