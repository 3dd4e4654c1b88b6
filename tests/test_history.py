"""History: exact rows, min/max summaries, bounded memory, and plotting views."""

import numpy as np
import pytest

from engine.history import History


def brute_envelope(rows: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    chunk = rows[first - 1 : last]
    return chunk.min(axis=0), chunk.max(axis=0)


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(50_000, 5)).cumsum(axis=0)


def test_exact_rows_are_kept(data):
    hist = History(exact_limit=100_000)
    for part in np.array_split(data, 37):
        hist.extend(part)
    assert hist.n_epochs == hist.n_exact == len(data)
    np.testing.assert_array_equal(hist.exact(), data)
    np.testing.assert_array_equal(hist.last, data[-1])
    full = hist.view(max_points=10**6)
    np.testing.assert_array_equal(full.x, np.arange(1, len(data) + 1))
    np.testing.assert_array_equal(full.y, data)


def test_summary_buckets_are_exact_min_max(data):
    hist = History(exact_limit=1000, summary_capacity=16)
    for part in np.array_split(data, 13):
        hist.extend(part)
    assert hist.n_epochs == len(data) and hist.n_exact == 1000
    first, last, mins, maxs = hist.summary()
    assert first[0] == 1001 and last[-1] == len(data)
    assert len(first) <= 16
    np.testing.assert_array_equal(first[1:], last[:-1] + 1)  # buckets tile the epochs
    for f, l_, mn, mx in zip(first, last, mins, maxs):
        want_min, want_max = brute_envelope(data, f, l_)
        np.testing.assert_array_equal(mn, want_min)
        np.testing.assert_array_equal(mx, want_max)


def test_chunking_does_not_change_the_history(data):
    a, b = History(exact_limit=999, summary_capacity=8), History(exact_limit=999, summary_capacity=8)
    a.extend(data)
    for i in range(0, len(data), 7):
        b.extend(data[i : i + 7])
    for x, y in zip(a.summary(), b.summary()):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.view(0, 1e9, 300).y, b.view(0, 1e9, 300).y)


def test_view_is_small_and_envelopes_the_data(data):
    hist = History(exact_limit=len(data))
    hist.extend(data)
    for x0, x1, points in [(1, 50_000, 500), (1000, 40_000, 100), (123, 20_000, 50)]:
        view = hist.view(x0, x1, points)
        assert len(view.x) <= 4 * points + 64
        assert np.all(np.diff(view.x) >= 0)
        inside = data[int(x0) - 1 : int(x1)]
        # every drawn value is a real value from the range's neighbourhood, and the extremes are kept
        assert view.y.min() <= inside.min() + 1e-12 or view.x[0] < x0
        lo = max(int(view.x[0]), 1)
        hi = min(int(view.x[-1]) + 1024, len(data))
        assert view.y.min() >= data[lo - 1 : hi].min() and view.y.max() <= data[lo - 1 : hi].max()
    small = hist.view(100, 120, 500)
    np.testing.assert_array_equal(small.x, np.arange(100, 121))
    np.testing.assert_array_equal(small.y, data[99:120])


def test_view_of_whole_run_keeps_global_extremes(data):
    hist = History(exact_limit=len(data))
    hist.extend(data)
    view = hist.view(max_points=200)
    np.testing.assert_array_equal(view.y.min(axis=0), data.min(axis=0))
    np.testing.assert_array_equal(view.y.max(axis=0), data.max(axis=0))


def test_memory_is_bounded():
    hist = History(exact_limit=10_000, summary_capacity=64)
    block = np.zeros((100_000, 5))
    sizes = []
    for i in range(40):  # 4 million epochs
        block[:, 0] = i
        hist.extend(block)
        sizes.append(hist.nbytes)
    assert hist.n_epochs == 4_000_000
    assert sizes[-1] == sizes[1]  # flat after the exact part filled
    first, last, _mins, maxs = hist.summary()
    assert len(first) <= 64 and last[-1] == 4_000_000
    assert maxs[-1, 0] == 39


def test_clear_and_bad_rows():
    hist = History()
    hist.extend(np.ones((3, 5)))
    hist.clear()
    assert hist.n_epochs == 0 and np.isnan(hist.last).all() and len(hist.view().x) == 0
    with pytest.raises(ValueError, match="shape"):
        hist.extend(np.ones((3, 4)))


def test_a_cleared_history_refills_like_a_new_one(data):
    """clear() keeps its buffers for the next run; what it then holds and shows is a new history's."""
    used = History(exact_limit=20_000, summary_capacity=16)
    used.extend(data[::-1] * 3.0)  # a longer, different run first: every level and bucket is stale
    used.clear()
    fresh = History(exact_limit=20_000, summary_capacity=16)
    for hist in (used, fresh):
        for part in np.array_split(data[:30_000], 11):
            hist.extend(part)
    np.testing.assert_array_equal(used.exact(), fresh.exact())
    for x, y in zip(used.summary(), fresh.summary()):
        np.testing.assert_array_equal(x, y)
    for x0, x1, points in [(0, 1e9, 300), (1, 15_000, 100), (500, 25_000, 40), (1, 9, 10)]:
        a, b = used.view(x0, x1, points), fresh.view(x0, x1, points)
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)


def test_nan_rows_are_recorded():
    hist = History(exact_limit=4, summary_capacity=2)
    rows = np.arange(30.0).reshape(6, 5)
    rows[-1, 0] = np.nan
    hist.extend(rows)
    assert np.isnan(hist.last[0])


def test_reserve_keeps_the_rows(data):
    hist = History(exact_limit=100_000)
    hist.extend(data[:10])
    hist.reserve()
    hist.extend(data[10:])
    np.testing.assert_array_equal(hist.exact(), data)


def test_view_stays_small_when_the_exact_part_ends_mid_bucket():
    """The exact epochs after the last whole coarse bucket go through finer levels, not raw."""
    hist = History(exact_limit=1_000_000, summary_capacity=64)
    hist.extend(np.random.default_rng(0).random((1_000_000, 5)))
    hist.extend(np.zeros((119_000_000 // 1000, 5)).repeat(1, axis=0))
    for points in (200, 800, 2000):
        view = hist.view(max_points=points)
        assert len(view.x) <= 4 * points + 200, (points, len(view.x))
        assert np.all(np.diff(view.x) >= 0)
    zoomed = hist.view(900_000, 1_000_000, 500)
    assert len(zoomed.x) <= 4 * 500 + 200
    np.testing.assert_array_equal(zoomed.y.max(axis=0), hist.exact()[899_999:].max(axis=0))


def test_rows_per_epoch_follow_the_data():
    from engine.datasets import DataSpec, make_dataset
    from engine.history import history_columns, n_series_for
    from engine.trainer import METRIC_COLUMNS, Trainer

    xor = make_dataset()
    assert n_series_for(xor) == 8
    assert history_columns(xor) == [*METRIC_COLUMNS, "y_hat_00", "y_hat_01", "y_hat_10", "y_hat_11"]
    spiral = make_dataset(DataSpec("spiral", points=100))
    assert n_series_for(spiral) == 4 and history_columns(spiral) == list(METRIC_COLUMNS)
    small = Trainer(inputs=[[0.5, 0], [2, 1], [0, 3]], targets=[0, 1, 1]).data
    assert history_columns(small)[4:] == ["y_hat_0", "y_hat_1", "y_hat_2"]
    twice = Trainer(inputs=[[0, 1], [0, 1]], targets=[0, 1]).data  # the same point twice: named by index
    assert history_columns(twice)[4:] == ["y_hat_0", "y_hat_1"]
    for data in (xor, spiral, small):
        assert Trainer(data=data).run(3).rows().shape == (3, n_series_for(data))


def test_nan_test_columns_do_not_disturb_the_other_columns(data):
    """Without a test set a row's test loss and test accuracy are NaN: their min/max stay NaN, and every other
    column's summaries and views are those of the same rows without them."""
    rows = np.abs(data[:20_000, :4])
    rows[:, [1, 3]] = np.nan
    hist, plain = (
        History(n_series=4, exact_limit=1000, summary_capacity=16),
        History(n_series=2, exact_limit=1000, summary_capacity=16),
    )
    for part in np.array_split(rows, 9):
        hist.extend(part)
        plain.extend(part[:, [0, 2]])
    _, _, mins, maxs = hist.summary()
    _, _, plain_min, plain_max = plain.summary()
    assert np.isnan(mins[:, [1, 3]]).all() and np.isnan(maxs[:, [1, 3]]).all()
    np.testing.assert_array_equal(mins[:, [0, 2]], plain_min)
    np.testing.assert_array_equal(maxs[:, [0, 2]], plain_max)
    for x0, x1 in ((1, 20_000), (10, 900), (500, 15_000)):
        view, plain_view = hist.view(x0, x1, 100), plain.view(x0, x1, 100)
        np.testing.assert_array_equal(view.x, plain_view.x)
        np.testing.assert_array_equal(view.y[:, [0, 2]], plain_view.y)
        assert np.isnan(view.y[:, [1, 3]]).all()


def test_history_csv_names_the_columns_of_the_data_and_writes_the_buckets():
    from engine.datasets import DataSpec, make_dataset
    from engine.history import n_series_for
    from engine.reports import history_csv
    from engine.trainer import Trainer

    data = make_dataset(DataSpec("gauss", points=40))
    trainer = Trainer(data=data)
    hist = History(n_series=n_series_for(data), exact_limit=50, summary_capacity=4)
    hist.extend(trainer.run(120).rows())
    lines = history_csv(hist, data).splitlines()
    assert lines[0] == "epoch,kind,loss,test_loss,train_accuracy,test_accuracy"
    assert lines[1] == "1,exact," + ",".join(map(repr, hist.exact()[0].tolist()))
    first, last, mins, maxs = hist.summary()
    assert lines[51:53] == [f"{first[0]}-{last[0]},min," + ",".join(map(repr, mins[0].tolist())),
                            f"{first[0]}-{last[0]},max," + ",".join(map(repr, maxs[0].tolist()))]  # fmt: skip
    with pytest.raises(ValueError, match="the history has 4 values per epoch, but this data has 8"):
        history_csv(hist)  # XOR's columns
