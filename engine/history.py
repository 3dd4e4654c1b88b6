"""`History`: every epoch's metrics and predictions, with bounded memory and cheap plotting queries.

Each epoch is one row of ``n_series`` values: the metrics of `engine.trainer.METRIC_COLUMNS` (loss, test loss,
train and test accuracy; the test columns are NaN without a test set), then each training point's ŷ for data
that records them (`Dataset.records_predictions`, such as XOR). `n_series_for(data)` and `history_columns(data)`
say which; ``History()``'s default of 5 series (loss and XOR's four outputs, the layout before format version 2)
stays valid for reading.

- The first `exact_limit` epochs are kept exactly ("raw").
- Later epochs are summarised as min/max per bucket; buckets double in size whenever
  `summary_capacity` of them are full, so memory stays bounded however long a run is.
- Over the raw rows a min/max pyramid (buckets of 8, 16, 32, ... epochs) is kept up to date, so that
  `view` answers "what to draw for epochs x0..x1 at about N points" in O(N), not O(epochs):
  pyqtgraph's own downsampling is O(points) per redraw, too slow for a live plot of 10⁶ epochs.

Peak summaries are drawn as min/max pairs: x repeats each bucket's first epoch, y alternates min, max.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .trainer import METRIC_COLUMNS

if TYPE_CHECKING:
    from .datasets import Dataset

_FIRST_LEVEL = 3  # the pyramid's finest buckets hold 2**3 = 8 epochs
MAX_EXACT_LIMIT = 10_000_000
MAX_CAPACITY = 1 << 20


def n_series_for(data: Dataset) -> int:
    """Values per epoch for `data`: the metrics, then one ŷ per training point when `data` records them."""
    return len(METRIC_COLUMNS) + (data.n_train if data.records_predictions else 0)


def history_columns(data: Dataset) -> list[str]:
    """The name of each of a history row's `n_series_for(data)` values, as CSV headers: the metrics, then
    ``y_hat_<point>`` per recorded training point, the point written as its coordinates when they are bits
    (XOR's ``y_hat_01`` is ŷ at (0, 1)), else as its index among the training points (``y_hat_0``, ``y_hat_1``...)."""
    if not data.records_predictions:
        return list(METRIC_COLUMNS)
    points = data.train_inputs
    names = ["y_hat_" + "".join(str(int(v)) for v in point) for point in points.tolist()]
    if not np.isin(points, (0.0, 1.0)).all() or len(set(names)) < len(names):
        names = [f"y_hat_{i}" for i in range(len(points))]
    return [*METRIC_COLUMNS, *names]


def _block_min_max(src_min, src_max, factor, out_min, out_max) -> None:
    from ._kernels import block_min_max  # Numba, imported on first use (see engine.trainer.kernels)

    block_min_max(src_min, src_max, factor, out_min, out_max)


@dataclass(frozen=True)
class CurveData:
    """What to plot: x (m,) epoch numbers and y (m, n_series) values, in increasing x."""

    x: np.ndarray
    y: np.ndarray


class _Pyramid:
    """min/max over buckets of 2**level raw rows, level = _FIRST_LEVEL, _FIRST_LEVEL + 1, ..."""

    def __init__(self, n_series: int) -> None:
        self.n_series = n_series
        self.mins: list[np.ndarray] = []
        self.maxs: list[np.ndarray] = []
        self.counts: list[int] = []

    def clear(self) -> None:
        """Forget every bucket; the arrays stay allocated for the next run."""
        self.counts[:] = [0] * len(self.counts)

    def bucket_size(self, level_index: int) -> int:
        return 1 << (_FIRST_LEVEL + level_index)

    def update(self, raw: np.ndarray, n_raw: int) -> None:
        """Bring every level up to date with the first `n_raw` rows of `raw`."""
        below_min, below_max, below_count, factor = raw, raw, n_raw, 1 << _FIRST_LEVEL
        level = 0
        while below_count // factor > 0:
            if level == len(self.counts):
                self.mins.append(np.empty((0, self.n_series)))
                self.maxs.append(np.empty((0, self.n_series)))
                self.counts.append(0)
            done, target = self.counts[level], below_count // factor
            if target > done:
                self._grow(level, target)
                lo, hi = done * factor, target * factor
                _block_min_max(
                    below_min[lo:hi], below_max[lo:hi], factor, self.mins[level][done:target], self.maxs[level][done:target]
                )
                self.counts[level] = target
            below_min, below_max, below_count, factor = self.mins[level], self.maxs[level], self.counts[level], 2
            level += 1

    def _grow(self, level: int, needed: int) -> None:
        if needed > len(self.mins[level]):
            size = max(needed, 2 * len(self.mins[level]), 64)
            for store in (self.mins, self.maxs):
                grown = np.empty((size, self.n_series))
                grown[: self.counts[level]] = store[level][: self.counts[level]]
                store[level] = grown

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.mins) + sum(a.nbytes for a in self.maxs)


class History:
    """Per-epoch rows of `n_series` values: exact up to `exact_limit` epochs, then min/max buckets."""

    def __init__(self, n_series: int = 5, exact_limit: int = 1_000_000, summary_capacity: int = 8192) -> None:
        if exact_limit < 1 or summary_capacity < 2 or summary_capacity % 2:
            raise ValueError("exact_limit must be >= 1 and summary_capacity an even number >= 2")
        self.n_series = n_series
        self.exact_limit = exact_limit
        self.summary_capacity = summary_capacity
        self._pyramid = _Pyramid(n_series)
        self._raw = np.empty((0, n_series))  # the exact rows; grown once to exact_limit rows
        self.clear()

    def clear(self) -> None:
        """Forget every epoch. The exact part's buffer is kept (its pages are already in memory: refilling
        a fresh one after each reset costs page faults on every snapshot of the next 10⁶ epochs)."""
        self._n_raw = 0
        self._pyramid.clear()
        self._bucket = 0  # summary bucket size in epochs (0: no summary yet)
        self._sum_first = np.empty(self.summary_capacity, dtype=np.int64)
        self._sum_min = np.empty((self.summary_capacity, self.n_series))
        self._sum_max = np.empty((self.summary_capacity, self.n_series))
        self._n_sum = 0  # buckets, the last one possibly partial
        self._sum_fill = 0  # epochs in the last bucket
        self._n_epochs = 0
        self._last = np.full(self.n_series, np.nan)

    # --- reading ---------------------------------------------------------------------------------
    @property
    def n_epochs(self) -> int:
        """Epochs recorded (the last one is epoch number `n_epochs`)."""
        return self._n_epochs

    @property
    def n_exact(self) -> int:
        """Epochs 1 .. n_exact are stored exactly."""
        return self._n_raw

    @property
    def last(self) -> np.ndarray:
        """The latest epoch's row, (n_series,) (NaN before the first epoch)."""
        return self._last.copy()

    def exact(self) -> np.ndarray:
        """Read-only view of the exact rows, (n_exact, n_series); row i is epoch i + 1."""
        view = self._raw[: self._n_raw]
        view.flags.writeable = False
        return view

    def summary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(first epoch (k,), last epoch (k,), min (k, n_series), max (k, n_series)) of the summary buckets."""
        k = self._n_sum
        first = self._sum_first[:k].copy()
        last = first + self._bucket - 1
        if k:
            last[-1] = first[-1] + self._sum_fill - 1
        return first, last, self._sum_min[:k].copy(), self._sum_max[:k].copy()

    @property
    def nbytes(self) -> int:
        return self._raw.nbytes + self._pyramid.nbytes + self._sum_min.nbytes * 2 + self._sum_first.nbytes

    # --- saving and restoring ---------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray | int]:
        """The history as arrays: exact (n_exact, n_series), summary_first (k,), summary_min/max (k, n_series),
        last (n_series,), and the integers n_epochs, bucket, fill, exact_limit, capacity."""
        return {
            "exact": self._raw[: self._n_raw].copy(),
            "summary_first": self._sum_first[: self._n_sum].copy(),
            "summary_min": self._sum_min[: self._n_sum].copy(),
            "summary_max": self._sum_max[: self._n_sum].copy(),
            "last": self._last.copy(),
            "n_epochs": self._n_epochs,
            "bucket": self._bucket,
            "fill": self._sum_fill,
            "exact_limit": self.exact_limit,
            "capacity": self.summary_capacity,
        }

    @classmethod
    def from_state(cls, state: dict, n_series: int = 5) -> History:
        """Inverse of `state`; raises ValueError when the pieces do not fit together."""
        exact_limit, summary_capacity = int(state["exact_limit"]), int(state["capacity"])
        if not (1 <= exact_limit <= MAX_EXACT_LIMIT and 2 <= summary_capacity <= MAX_CAPACITY and summary_capacity % 2 == 0):
            raise ValueError(f"history limits {exact_limit:,} / {summary_capacity:,} are out of range")
        hist = cls(n_series=n_series, exact_limit=exact_limit, summary_capacity=summary_capacity)
        exact = np.asarray(state["exact"])
        first, mins, maxs = (np.asarray(state[k]) for k in ("summary_first", "summary_min", "summary_max"))
        n_epochs, bucket, fill = (int(state[k]) for k in ("n_epochs", "bucket", "fill"))
        k = len(first)
        if exact.ndim != 2 or exact.shape[1] != n_series or len(exact) > exact_limit:
            raise ValueError(f"history rows must be (at most {exact_limit:,}, {n_series}), got {exact.shape}")
        if mins.shape != (k, n_series) or maxs.shape != (k, n_series) or k > summary_capacity:
            raise ValueError("history summary arrays do not match")
        if k and (len(exact) != exact_limit or bucket < 1 or not 1 <= fill <= bucket):
            raise ValueError("history summary without a full exact part, or with a bad bucket size")
        expected = len(exact) + (0 if not k else (k - 1) * bucket + fill)
        if n_epochs != expected or (k and (first[0] != exact_limit + 1 or np.any(np.diff(first) != bucket))):
            raise ValueError(f"history of {n_epochs:,} epochs does not match its rows")
        if len(exact):
            hist._append_raw(exact.astype(np.float64))
        hist._sum_first[:k] = first
        hist._sum_min[:k] = mins
        hist._sum_max[:k] = maxs
        hist._n_sum, hist._bucket, hist._sum_fill = k, bucket if k else 0, fill if k else 0
        hist._n_epochs = n_epochs
        last = np.asarray(state["last"], dtype=np.float64)
        if last.shape != (n_series,):
            raise ValueError(f"history's last row must have {n_series} values, got {last.shape}")
        if n_epochs:
            hist._last = last.copy()
        return hist

    # --- writing ---------------------------------------------------------------------------------
    def reserve(self) -> None:
        """Allocate and touch the exact part now (40 MB by default), so that training later does not pay
        for first-touch page faults while it fills it (several ms per snapshot on some machines)."""
        if len(self._raw) < self.exact_limit:
            grown = np.empty((self.exact_limit, self.n_series))
            grown[: self._n_raw] = self._raw[: self._n_raw]
            grown[self._n_raw :] = 0.0
            self._raw = grown

    def extend(self, rows: np.ndarray) -> None:
        """Append the rows of the next epochs, (k, n_series)."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.n_series:
            raise ValueError(f"rows must have shape (k, {self.n_series}), got {rows.shape}")
        if not len(rows):
            return
        n_exact_new = min(len(rows), self.exact_limit - self._n_raw)
        if n_exact_new > 0:
            self._append_raw(rows[:n_exact_new])
        if n_exact_new < len(rows):
            self._append_summary(rows[n_exact_new:], first_epoch=self._n_epochs + n_exact_new + 1)
        self._n_epochs += len(rows)
        self._last = rows[-1].copy()

    def _append_raw(self, rows: np.ndarray) -> None:
        needed = self._n_raw + len(rows)
        if needed > len(self._raw):  # once, the whole exact part: np.empty pages in memory only when written
            grown = np.empty((self.exact_limit, self.n_series))
            grown[: self._n_raw] = self._raw[: self._n_raw]
            self._raw = grown
        self._raw[self._n_raw : needed] = rows
        self._n_raw = needed
        self._pyramid.update(self._raw, self._n_raw)

    def _append_summary(self, rows: np.ndarray, first_epoch: int) -> None:
        """Fold `rows` (epochs first_epoch, first_epoch + 1, ...) into the summary buckets, vectorised."""
        if self._bucket == 0:  # first summary bucket: as coarse as the exact rows would need at capacity
            self._bucket = 1 << max(_FIRST_LEVEL, int(np.ceil(np.log2(self.exact_limit / self.summary_capacity))))
        pos, total = 0, len(rows)
        if self._n_sum and self._sum_fill < self._bucket:  # finish the open bucket
            take = min(self._bucket - self._sum_fill, total)
            last = self._n_sum - 1
            np.minimum(self._sum_min[last], rows[:take].min(axis=0), out=self._sum_min[last])
            np.maximum(self._sum_max[last], rows[:take].max(axis=0), out=self._sum_max[last])
            self._sum_fill += take
            pos = take
        while pos < total:
            if self._n_sum == self.summary_capacity:
                self._merge_pairs()
            size = self._bucket
            whole = min(self.summary_capacity - self._n_sum, (total - pos) // size)
            if whole:
                block = rows[pos : pos + whole * size]
                b = slice(self._n_sum, self._n_sum + whole)
                self._sum_first[b] = first_epoch + pos + np.arange(whole) * size
                _block_min_max(block, block, size, self._sum_min[b], self._sum_max[b])
                self._n_sum += whole
                self._sum_fill = size
                pos += whole * size
            elif self._n_sum < self.summary_capacity:  # fewer rows than a bucket: open a partial one
                part = rows[pos:]
                b = self._n_sum
                self._sum_first[b] = first_epoch + pos
                self._sum_min[b] = part.min(axis=0)
                self._sum_max[b] = part.max(axis=0)
                self._n_sum += 1
                self._sum_fill = len(part)
                pos = total

    def _merge_pairs(self) -> None:
        """Halve the number of buckets by merging neighbours; the bucket size doubles."""
        half = self._n_sum // 2
        self._sum_first[:half] = self._sum_first[: 2 * half : 2]
        self._sum_min[:half] = np.minimum(self._sum_min[: 2 * half : 2], self._sum_min[1 : 2 * half : 2])
        self._sum_max[:half] = np.maximum(self._sum_max[: 2 * half : 2], self._sum_max[1 : 2 * half : 2])
        # the last bucket was full (merging happens only then), so the merged last bucket is full too
        self._n_sum = half
        self._bucket *= 2
        self._sum_fill = self._bucket

    # --- plotting --------------------------------------------------------------------------------
    def view(self, x0: float = -np.inf, x1: float = np.inf, max_points: int = 2000) -> CurveData:
        """Rows to draw for epochs in [x0, x1] with about `max_points` x positions (at most ~2x that).

        Where the range holds more exact epochs than that, min/max pairs of pyramid buckets stand
        for them; summary buckets are always drawn as min/max pairs.
        """
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        lo = max(1, int(np.floor(x0)) if np.isfinite(x0) else 1)
        hi = min(self._n_epochs, int(np.ceil(x1)) if np.isfinite(x1) else self._n_epochs)
        span = max(hi - lo + 1, 1)
        raw_hi = min(hi, self._n_raw)
        if lo <= raw_hi:
            self._view_raw(lo, raw_hi, span, max_points, xs, ys)
        if self._n_sum and hi > self._n_raw:
            first, _last, mins, maxs = self.summary()
            keep = np.flatnonzero((first + self._bucket - 1 >= lo) & (first <= hi))
            group = -(-len(keep) // max(max_points, 1))  # merge neighbours to about max_points buckets
            if len(keep) and group > 1:
                whole = len(keep) // group * group
                starts = keep[:whole:group]
                gmin, gmax = np.empty((len(starts), self.n_series)), np.empty((len(starts), self.n_series))
                _block_min_max(mins[keep[0] : keep[0] + whole], maxs[keep[0] : keep[0] + whole], group, gmin, gmax)
                rest = keep[whole:]
                keep_first = np.concatenate([first[starts], first[rest]])
                keep_min, keep_max = np.concatenate([gmin, mins[rest]]), np.concatenate([gmax, maxs[rest]])
            else:
                keep_first, keep_min, keep_max = first[keep], mins[keep], maxs[keep]
            if len(keep_first):
                xs.append(np.repeat(keep_first, 2).astype(np.float64))
                pair = np.empty((2 * len(keep_first), self.n_series))
                pair[0::2], pair[1::2] = keep_min, keep_max
                ys.append(pair)
        if not xs:
            return CurveData(np.empty(0), np.empty((0, self.n_series)))
        return CurveData(np.concatenate(xs), np.concatenate(ys))

    def _view_raw(self, lo: int, hi: int, span: int, max_points: int, xs: list, ys: list) -> None:
        """Exact epochs lo..hi: raw when few, else min/max pairs of pyramid buckets about span / max_points
        epochs wide; the part after the last whole bucket steps down to finer levels (never more than one
        bucket's worth of points per level)."""
        count = hi - lo + 1
        wanted = max(1.0, span / max(max_points, 1))
        pyramid = self._pyramid
        level = -1
        while level + 1 < len(pyramid.counts) and pyramid.bucket_size(level + 1) <= wanted:
            level += 1
        if level < 0 or count <= 2 * max_points:
            xs.append(np.arange(lo, hi + 1, dtype=np.float64))
            ys.append(self._raw[lo - 1 : hi])
            return
        start = lo
        for current in range(level, -1, -1):
            size = pyramid.bucket_size(current)
            b0 = (start - 1) // size  # the bucket holding `start` (it may begin a little before lo)
            b1 = min(hi // size, pyramid.counts[current])  # whole buckets b0 .. b1 - 1
            if b1 > b0:
                xs.append(np.repeat(np.arange(b0, b1) * size + 1, 2).astype(np.float64))
                pair = np.empty((2 * (b1 - b0), self.n_series))
                pair[0::2], pair[1::2] = pyramid.mins[current][b0:b1], pyramid.maxs[current][b0:b1]
                ys.append(pair)
                start = b1 * size + 1
            if start > hi:
                return
        xs.append(np.arange(start, hi + 1, dtype=np.float64))  # fewer than the finest bucket (8 epochs)
        ys.append(self._raw[start - 1 : hi])
