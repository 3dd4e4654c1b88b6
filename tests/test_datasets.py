"""The datasets: generators (determinism, balance, the square), the stratified split, DataSpec's validation, the CSV
loader (a fuzzer and the messages for bad files), bounds, and the input features."""

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.datasets import (
    DATA_FIELDS,
    DATASETS,
    MAX_CSV_ROWS,
    MAX_DATA_SEED,
    MAX_POINTS,
    MIN_POINTS,
    XOR_INPUTS,
    XOR_TARGETS,
    DataError,
    Dataset,
    DataSpec,
    describe_datasets,
    load_csv,
    make_dataset,
    register_dataset,
    resplit,
    same_arrays,
    split_by_file,
    stratified_split,
)
from engine.features import FEATURES, feature_matrix, feature_name
from engine.field_rules import FieldError

GENERATED = [name for name, kind in DATASETS.items() if not kind.fixed]


def test_the_registry_has_the_issues_datasets():
    assert list(DATASETS) == ["xor", "circle", "gauss", "quadrants", "spiral", "moons"]
    assert DATASETS["xor"].fixed and DATASETS["xor"].parameters == ()


def test_xor_is_the_notebooks_four_points_all_for_training():
    data = make_dataset()
    assert data.spec == DataSpec() and data.spec.name == "xor"
    assert np.array_equal(data.inputs, XOR_INPUTS) and np.array_equal(data.targets, XOR_TARGETS)
    assert data.train.all() and data.n_train == 4 and data.n_test == 0 and data.records_predictions
    assert np.array_equal(data.train_inputs, XOR_INPUTS) and data.test_inputs.shape == (0, 2)
    # it ignores points, noise, fraction and seed
    other = make_dataset(DataSpec("xor", points=1000, noise=0.5, train_fraction=0.1, data_seed=7))
    assert same_arrays(data, other)
    assert other.spec.canonical() == DataSpec()


@pytest.mark.parametrize("name", GENERATED)
def test_equal_parameters_give_identical_arrays_and_another_seed_others(name):
    spec = DataSpec(name, points=301, noise=0.2, train_fraction=0.3, data_seed=12345)
    a, b = make_dataset(spec), make_dataset(DataSpec.from_dict(spec.to_dict()))
    assert same_arrays(a, b)
    c = make_dataset(spec.replace(data_seed=12346))
    assert not np.array_equal(a.inputs, c.inputs)
    assert not np.array_equal(a.train, c.train)
    for arr in (a.inputs, a.targets, a.train):
        assert not arr.flags.writeable
    assert a.inputs.dtype == np.float64 and a.inputs.flags.c_contiguous and a.targets.dtype == np.float64


@pytest.mark.parametrize("name", GENERATED)
def test_the_train_fraction_changes_the_split_never_the_points(name):
    a = make_dataset(DataSpec(name, points=100, train_fraction=0.5, data_seed=3))
    b = make_dataset(DataSpec(name, points=100, train_fraction=0.8, data_seed=3))
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.targets, b.targets)
    assert a.n_train == 50 and b.n_train == 80


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("points", [MIN_POINTS, 21, 199, MAX_POINTS])
def test_classes_are_balanced_and_labels_are_0_or_1(name, points):
    data = make_dataset(DataSpec(name, points=points, data_seed=points))
    assert data.n == points and data.inputs.shape == (points, 2)
    assert set(np.unique(data.targets)) == {0.0, 1.0}
    ones = int(data.targets.sum())
    assert abs((points - ones) - ones) <= 1
    assert np.isfinite(data.inputs).all()


@pytest.mark.parametrize("name", GENERATED)
def test_points_lie_in_the_square_without_noise_and_noise_moves_them(name):
    clean = make_dataset(DataSpec(name, points=MAX_POINTS, noise=0.0, data_seed=9))
    assert np.abs(clean.inputs).max() <= 3.0
    # the classes interleave: the points are shuffled, not in class blocks
    assert np.count_nonzero(np.diff(clean.targets)) > MAX_POINTS // 4
    noisy = make_dataset(DataSpec(name, points=MAX_POINTS, noise=0.5, data_seed=9))
    # the same draws, plus a jitter of standard deviation 0.5 per coordinate
    assert np.array_equal(clean.targets, noisy.targets) and np.array_equal(clean.train, noisy.train)
    moved = noisy.inputs - clean.inputs
    assert 0.47 < np.std(moved) < 0.53 and abs(np.mean(moved)) < 0.03


def test_the_shapes_are_what_the_readme_says():
    spiral = make_dataset(DataSpec("spiral", points=MIN_POINTS, noise=0.0))
    radius = np.hypot(*spiral.inputs.T)
    assert np.allclose(np.sort(radius[spiral.targets == 1]), 3 * np.arange(1, 11) / 10)
    assert np.allclose(np.sort(radius[spiral.targets == 0]), 3 * np.arange(1, 11) / 10)
    circle = make_dataset(DataSpec("circle", points=400, noise=0.0))
    r = np.hypot(*circle.inputs.T)
    assert (r[circle.targets == 1] <= 1.5).all() and ((r[circle.targets == 0] >= 2.1) & (r[circle.targets == 0] <= 3)).all()
    quadrants = make_dataset(DataSpec("quadrants", points=400, noise=0.0))
    signs_differ = quadrants.inputs[:, 0] * quadrants.inputs[:, 1] < 0
    assert np.mean(signs_differ == (quadrants.targets == 1)) > 0.99
    gauss = make_dataset(DataSpec("gauss", points=400, noise=0.0))
    assert np.allclose(gauss.inputs[gauss.targets == 1].mean(axis=0), [1, 1], atol=0.1)
    assert np.allclose(gauss.inputs[gauss.targets == 0].mean(axis=0), [-1, -1], atol=0.1)
    moons = make_dataset(DataSpec("moons", points=MIN_POINTS, noise=0.0))
    top = moons.inputs[moons.targets == 0]
    assert np.allclose(np.hypot(top[:, 0] + 1, top[:, 1] + 0.5), 2)
    assert moons.inputs[:, 0].min() == -3 and moons.inputs[:, 0].max() == 3


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("points", [MIN_POINTS, 33, 500])
def test_the_split_is_stratified_and_keeps_dataset_order(fraction, points):
    data = make_dataset(DataSpec("moons", points=points, train_fraction=fraction, data_seed=5))
    for c in (0.0, 1.0):
        m = int((data.targets == c).sum())
        k = int((data.train & (data.targets == c)).sum())
        assert k == min(max(math.floor(fraction * m + 0.5), 1), m - 1)
    order = np.arange(data.n)
    assert np.array_equal(data.train_inputs, data.inputs[order[data.train]])
    assert np.array_equal(data.test_targets, data.targets[order[~data.train]])
    assert data.n_train + data.n_test == points and not data.records_predictions


def test_a_class_of_one_or_two_points_keeps_one_in_each_split_when_it_can():
    targets = np.array([0.0, 1.0, 1.0])
    for fraction in (0.1, 0.9):
        train = stratified_split(targets, fraction, 0)
        assert train[0]  # a single point trains
        assert train[1:].sum() == 1  # two points: one each side


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "spirals"}, "name", "'spirals' is not allowed; choose one of 'xor', 'circle'"),
        ({"points": 19}, "points", "19 is not allowed; it must be an integer from 20 to 2000"),
        ({"points": 2001}, "points", "2001 is not allowed"),
        ({"points": 20.0}, "points", "20.0 is not allowed"),
        ({"points": True}, "points", "True is not allowed"),
        ({"noise": -0.01}, "noise", "-0.01 is not allowed; it must be a number from 0 to 0.5"),
        ({"noise": math.nan}, "noise", "nan is not allowed"),
        ({"train_fraction": 0.95}, "train_fraction", "0.95 is not allowed; it must be a number from 0.1 to 0.9"),
        ({"data_seed": -1}, "data_seed", f"-1 is not allowed; it must be an integer from 0 to {MAX_DATA_SEED}"),
        ({"data_seed": MAX_DATA_SEED + 1}, "data_seed", "is not allowed"),
        ({"name": "csv", "points": 1}, "points", "1 is not allowed; it must be an integer from 2 to 100000"),
        ({"name": "csv", "points": 100_001}, "points", "100001 is not allowed"),
        ({"name": "custom", "points": 0}, "points", "0 is not allowed; it must be an integer >= 1"),
        ({"name": ["xor"]}, "name", "['xor'] is not allowed; choose one of 'xor', 'circle'"),
        ({"path": 3}, "path", "3 is not allowed"),
    ],
)
def test_dataspec_refuses_bad_values_naming_field_value_and_range(changes, field, words):
    with pytest.raises(DataError) as info:
        DataSpec(**changes)
    assert str(info.value).startswith(f"DataSpec.{field}: ")
    assert words in str(info.value)
    assert info.value.field == field and words in info.value.reason


def test_dataspec_accepts_its_range_and_round_trips():
    for spec in (
        DataSpec("spiral", points=MIN_POINTS, noise=0, train_fraction=0.1, data_seed=0),
        DataSpec("circle", points=MAX_POINTS, noise=0.5, train_fraction=0.9, data_seed=MAX_DATA_SEED),
        DataSpec("csv", points=MAX_CSV_ROWS, path="a.csv"),
    ):
        assert DataSpec.from_dict(spec.to_dict()) == spec
        assert isinstance(spec.noise, float) and isinstance(spec.train_fraction, float)
    with pytest.raises(DataError, match="unknown DataSpec field"):
        DataSpec.from_dict({"name": "xor", "colour": 1})


def test_a_dataset_registered_at_run_time_is_one_function():
    def line(points, noise, rng):
        x = rng.uniform(-3, 3, points)
        return np.column_stack([x, x + noise * rng.standard_normal(points)]), (np.arange(points) % 2).astype(float)

    register_dataset("toyline", "points on a line", line)
    try:
        data = make_dataset(DataSpec("toyline", points=40))
        assert data.n == 40 and data.n_train == 20 and "toyline" in describe_datasets()
    finally:
        del DATASETS["toyline"]


def test_bounds_are_a_square_around_the_data_and_xors_is_the_notebook_windows():
    assert make_dataset().bounds() == (-0.25, 1.25, -0.25, 1.25)
    data = make_dataset(DataSpec("moons", noise=0.0))
    x1_low, x1_high, x2_low, x2_high = data.bounds()
    assert x1_high - x1_low == pytest.approx(x2_high - x2_low)
    assert x1_low < -3 and x1_high > 3 and x2_low < -1.5 and x2_high > 1.5
    assert x1_high - x1_low == pytest.approx(6 + 2 * 0.08 * 6)


def test_from_arrays_copies_and_checks():
    inputs = np.array([[0.0, 1.0], [2.0, 3.0]])
    data = Dataset.from_arrays(inputs, [0, 1])
    inputs[0, 0] = 9
    assert data.inputs[0, 0] == 0 and data.spec.name == "custom" and data.spec.points == 2 and data.train.all()
    data = Dataset.from_arrays(inputs, [0, 1], train=[True, False])
    assert data.n_train == 1 and np.array_equal(data.test_inputs, [[2.0, 3.0]])
    for bad in ((np.zeros((2, 3)), [0, 1]), (inputs, [0, 1, 1]), ([[np.nan, 0]], [0]), (inputs, [0, 2])):
        with pytest.raises(DataError):
            Dataset.from_arrays(*bad)
    with pytest.raises(DataError, match="no training point"):
        Dataset.from_arrays(inputs, [0, 1], train=[False, False])
    with pytest.raises(DataError, match="not generated"):
        make_dataset(data.spec)


def test_describe_lists_every_dataset_and_parameter_range():
    text = describe_datasets()
    for name in DATASETS:
        assert f"  {name} " in text
    for words in ("--points N", "(20 to 2000; default 200)", "(0 to 0.5; default 0.1)", "(0.1 to 0.9; default 0.5)",
                  f"(0 to {MAX_DATA_SEED}; default 0)", "--data FILE.csv", "2 to 100,000 rows"):  # fmt: skip
        assert words in text


def test_dataspec_validates_by_the_one_field_description():
    """DataSpec's rules are DATA_FIELDS' (the command line's and the window's): the same words as TrainConfig's,
    and a range changed in the description is the range DataSpec keeps (nothing written a second time)."""
    points = DATA_FIELDS["points"]
    with pytest.raises(FieldError) as rule:
        points.check(MAX_POINTS + 1)
    with pytest.raises(DataError) as info:
        DataSpec("spiral", points=MAX_POINTS + 1)
    assert info.value.reason == f"{MAX_POINTS + 1} is not allowed; {rule.value.rule}"
    assert DataSpec("spiral").points == points.default and DataSpec().name == DATA_FIELDS["name"].default
    assert "csv" not in DATA_FIELDS["name"].choices()  # --dataset and the combo offer generated data only...
    assert DataSpec("csv", points=2, path="a.csv").points == 2  # ...while a file's and a program's data are specs too
    assert DataSpec("custom", points=1).points == 1 and DataSpec("custom", points=10**6).points == 10**6


# ---- CSV --------------------------------------------------------------------------------------------------------


def write(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_csv_loads_with_any_column_order_case_and_extra_columns(tmp_path):
    path = write(tmp_path, "id, Label ,X2,x1,note\n1,0,0.5,-1,a\n2,1,1.5,2e0,b\n\n3,1,-0,3,c\n4,0.0,7,4,\n,,,,\n")
    data = load_csv(path, train_fraction=0.5, data_seed=1)
    assert np.array_equal(data.inputs, [[-1, 0.5], [2, 1.5], [3, 0], [4, 7]])
    assert np.array_equal(data.targets, [0, 1, 1, 0])
    assert data.spec == DataSpec("csv", points=4, train_fraction=0.5, data_seed=1, path=str(path))
    assert data.n_train == 2 and set(data.train_targets) == {0.0, 1.0}
    assert same_arrays(make_dataset(data.spec), data)  # a csv spec reads its file again
    assert same_arrays(load_csv(path, 0.5, 1), data)


def test_a_split_column_decides_the_split(tmp_path):
    path = write(tmp_path, "\ufeffx1,x2,label,split\n0,0,0,train\n0,1,1, Test\n1,0,1,TRAIN\n1,1,0,test\n")
    data = load_csv(path, train_fraction=0.9, data_seed=3)
    assert data.train.tolist() == [True, False, True, False]


def test_a_csv_splits_like_the_generators(tmp_path):
    spiral = make_dataset(DataSpec("spiral", points=60, train_fraction=0.3, data_seed=8))
    lines = ["x1,x2,label"] + [f"{float(x1)!r},{float(x2)!r},{int(y)}" for (x1, x2), y in zip(spiral.inputs, spiral.targets)]
    data = load_csv(write(tmp_path, "\n".join(lines)), train_fraction=0.3, data_seed=8)
    assert np.array_equal(data.inputs, spiral.inputs) and np.array_equal(data.train, spiral.train)


def spiral_csv(tmp_path, split: bool = False):
    spiral = make_dataset(DataSpec("spiral", points=60, train_fraction=0.3, data_seed=8))
    rows = [f"{float(x1)!r},{float(x2)!r},{int(y)}" + (f",{'train' if i % 3 else 'test'}" if split else "")
            for i, ((x1, x2), y) in enumerate(zip(spiral.inputs, spiral.targets))]  # fmt: skip
    return write(tmp_path, "\n".join(["x1,x2,label" + (",split" if split else ""), *rows]))


@pytest.mark.parametrize(("fraction", "seed"), [(0.3, 8), (0.5, 8), (0.9, 0), (0.1, 12345), (0.3, MAX_DATA_SEED)])
def test_resplit_gives_exactly_what_load_csv_gives(tmp_path, fraction, seed):
    path = spiral_csv(tmp_path)
    data = load_csv(path, 0.3, 8)
    again, read = resplit(data, fraction, seed), load_csv(path, fraction, seed)
    assert again.spec == read.spec and same_arrays(again, read)
    assert not split_by_file(data) and not split_by_file(again)
    assert same_arrays(resplit(again, 0.3, 8), data)  # and back


def test_resplit_refuses_a_file_whose_split_column_decides(tmp_path):
    data = load_csv(spiral_csv(tmp_path, split=True), 0.3, 8)
    assert split_by_file(data)
    with pytest.raises(DataError, match="its split column decides the split"):
        resplit(data, 0.5, 8)
    with pytest.raises(DataError, match="only a CSV file's data"):
        resplit(make_dataset(DataSpec("spiral")), 0.5, 8)
    assert not split_by_file(make_dataset(DataSpec("spiral")))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "data.csv: the file is empty; it needs a header x1,x2,label"),
        ("\n\n", "data.csv: the file is empty"),
        ("x1,x2\n1,2\n", "data.csv: row 1 (the header) has no column label; it needs x1, x2 and label"),
        ("x1;x2;label\n1;2;0\n", "(columns must be separated by commas)"),
        ("x1,x2,label,x1\n", "row 1 (the header): column x1 appears 2 times (columns 1 and 4)"),
        ("x1,x2,label\n0,0,0\n1,abc,1\n", "data.csv: row 3, column x2: 'abc' is not a number"),
        ("x1,x2,label\n0,0,0\n1,,1\n", "data.csv: row 3, column x2: the value is empty; give a number"),
        ("x1,x2,label\n0,0,0\n1,1\n", "data.csv: row 3, column label: the value is missing (the row has 2 values)"),
        ("x1,x2,label\n0,0,0\nnan,1,1\n", "data.csv: row 3, column x1: 'nan' is not a finite number"),
        ("x1,x2,label\n0,0,0\n1,-inf,1\n", "data.csv: row 3, column x2: '-inf' is not a finite number"),
        ("x1,x2,label\n0,0,0\n\n1,1,2\n", "data.csv: row 4, column label: '2' is not 0 or 1"),
        ("x1,x2,label\n0,0,0\n1,1,0.5\n", "data.csv: row 3, column label: '0.5' is not 0 or 1"),
        ("x1,x2,label\n", "data.csv: has 0 data rows; at least 2 are needed"),
        ("x1,x2,label\n1,1,1\n", "data.csv: has 1 data row; at least 2 are needed"),
        ("x1,x2,label\n1,1,1\n0,0,1\n", "data.csv: every label is 1; both classes (0 and 1) are needed"),
        ("x1,x2,label,split\n1,1,1,test\n0,0,0,test\n", "data.csv: column split says test on every row"),
        ("x1,x2,label,split\n1,1,1,train\n0,0,0,valid\n", "data.csv: row 3, column split: 'valid' is not train or test"),
        (b"x1,x2,label\n0,0,0\n1,1,\xff\n", "data.csv: line 3 is not UTF-8 text (byte 0xff)"),
        ('x1,x2,label\n0,0,0\n1,"1\n', "data.csv: row 3: not readable as CSV (unexpected end of data)"),
    ],
)
def test_bad_files_get_one_sentence_naming_row_and_column(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_csv("data.csv")
    assert str(info.value).startswith("data.csv: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_too_many_rows_and_unreadable_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"{i},{i},{i % 2}\n" for i in range(MAX_CSV_ROWS + 1))
    write(tmp_path, "x1,x2,label\n" + rows, "big.csv")
    with pytest.raises(DataError, match=r"^big.csv: has more than 100,000 data rows$"):
        load_csv("big.csv")
    write(tmp_path, "x1,x2,label\n" + rows[: rows.index(f"\n{MAX_CSV_ROWS},") + 1], "ok.csv")
    assert load_csv("ok.csv").n == MAX_CSV_ROWS
    with pytest.raises(DataError, match=r"^missing.csv: cannot read it: No such file or directory$"):
        load_csv("missing.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match=r"^folder.csv: is a folder"):
        load_csv("folder.csv")
    os.mkfifo(tmp_path / "pipe.csv")  # reading it would wait for a writer
    with pytest.raises(DataError, match=r"^pipe.csv: is not a regular file$"):
        load_csv("pipe.csv")
    with pytest.raises(DataError, match=r"^DataSpec.train_fraction: 1.5 is not allowed"):
        load_csv("ok.csv", train_fraction=1.5)


bad_cells = st.one_of(
    st.sampled_from(["2", "0.5", "nan", "inf", "-1e999", "", " ", "abc", "valid", '"', '"1,2"', "1\x00"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
good_cells = {
    "x1": st.floats(-1e6, 1e6).map(repr),
    "x2": st.integers(-5, 5).map(str),
    "label": st.sampled_from(["0", "1", "1.0", " 0 ", "-0", "1e0"]),
    "split": st.sampled_from(["train", "test", " Train", "TEST"]),
}


@st.composite
def csv_files(draw) -> bytes:
    """Mostly well-formed files with a few bad cells, rows or bytes, and now and then any header at all."""
    if draw(st.integers(0, 9)) == 0:
        header = draw(st.lists(st.sampled_from(["x1", "X2", " label", "x2", "split", "id", "", "label"]), max_size=6))
    else:
        extra = draw(st.sampled_from([[], ["split"], ["id"], ["split", "note"]]))
        header = draw(st.permutations(["x1", "x2", "label", *extra]))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = [
            draw(bad_cells if draw(st.integers(0, 30)) == 0 else good_cells.get(name.strip().lower(), bad_cells))
            for name in header
        ]
        if draw(st.integers(0, 30)) == 0:
            row = row[: draw(st.integers(0, len(row)))]
        rows.append(row)
    lines = [",".join(header)] + [",".join(row) for row in rows]
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    data = text.encode("utf-8", "replace")
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + data + draw(st.binary(max_size=8))
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_files(), fraction=st.sampled_from([0.1, 0.5, 0.9]), seed=st.integers(0, MAX_DATA_SEED))
def test_fuzz_every_csv_loads_or_gives_one_data_error(tmp_path, data, fraction, seed):
    path = write(tmp_path, data, "fuzz.csv")
    try:
        loaded = load_csv(path, fraction, seed)
    except DataError as error:
        message = str(error)
        assert message.startswith(f"{path}: ") and "\n" not in message
        return
    assert 2 <= loaded.n <= MAX_CSV_ROWS and loaded.n_train >= 1
    assert np.isfinite(loaded.inputs).all() and set(np.unique(loaded.targets)) == {0.0, 1.0}
    assert same_arrays(load_csv(path, fraction, seed), loaded)


# ---- features ---------------------------------------------------------------------------------------------------


def test_feature_matrix_values():
    points = np.array([[0.5, -2.0], [3.0, 0.0]])
    matrix = feature_matrix(points, tuple(FEATURES))
    x1, x2 = points.T
    expected = np.column_stack([x1, x2, x1 * x1, x2 * x2, x1 * x2, np.sin(x1), np.sin(x2)])
    assert matrix.shape == (2, 7) and matrix.flags.c_contiguous and np.array_equal(matrix, expected)
    assert np.array_equal(feature_matrix(points, ("x1x2", "sinx2")), expected[:, [4, 6]])
    assert feature_matrix(XOR_INPUTS, ("x1", "x2")) is not None
    assert np.array_equal(feature_matrix(XOR_INPUTS, ("x1", "x2")), XOR_INPUTS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x1x2", "x1x2"),
        (" X1*x2 ", "x1x2"),
        ("x2 * x1", "x1x2"),
        ("x₁·x₂", "x1x2"),
        ("x1^2", "x1sq"),
        ("x2²", "x2sq"),
        ("X1**2", "x1sq"),
        ("sin(x1)", "sinx1"),
        ("SIN X2", "sinx2"),
        ("x2sq", "x2sq"),
    ],
)
def test_feature_name_reads_the_usual_spellings(text, expected):
    assert feature_name(text) == expected


@pytest.mark.parametrize("text", ["x3", "", "cos(x1)", "x1,x2", "x1x1x1"])
def test_feature_name_refuses_naming_the_text_and_the_valid_names(text):
    with pytest.raises(ValueError) as info:
        feature_name(text)
    assert str(info.value) == f"{text.strip()!r} is not a feature; choose from x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2"


def test_every_feature_label_reads_back_as_its_name():
    for name, feature in FEATURES.items():
        assert feature_name(name) == name
        assert feature_name(feature.label) == name
