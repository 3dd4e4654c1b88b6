"""One rule for typed settings, the same on the command line and in the window (engine.parsing)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import TrainConfig
from engine.config import MAX_HIDDEN_LAYERS, MAX_UNITS
from engine.features import FEATURES
from engine.fields import BOOL, CHOICE, CONFIG_FIELDS, DATA_FIELDS, PATH
from engine.parsing import (
    format_field,
    format_hidden,
    parse_features,
    parse_field,
    parse_hidden,
    parse_layer_sizes,
    parse_learning_rates,
    parse_list,
    parse_names,
    parse_path,
)
from gui.controls import ControlPanel


@pytest.mark.parametrize(
    ("text", "sizes"),
    [("2", (2,)), ("4,3", (4, 3)), (" 4 , 3 ", (4, 3)), ("none", ()), (" None ", ()), (str(MAX_UNITS), (MAX_UNITS,))],
)
def test_hidden_sizes(text, sizes):
    assert parse_hidden(text) == sizes
    assert parse_hidden(format_hidden(sizes)) == sizes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "nothing given"),
        ("  ", "nothing given"),
        ("0", "0 is not a layer size"),
        ("2,0", "0 is not a layer size"),
        (str(MAX_UNITS + 1), f"each is from 1 to {MAX_UNITS}"),
        ("2,,3", "'2,,3' has an empty item"),
        ("2,", "'2,' ends with a comma"),
        ("2,x", "'x' is not a whole number"),
        (",".join(["2"] * (MAX_HIDDEN_LAYERS + 1)), f"more than {MAX_HIDDEN_LAYERS}"),
    ],
)
def test_hidden_refusals_say_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_hidden(text)


def test_lists_refuse_empty_items_never_skip_them():
    assert parse_learning_rates("0.1, 0.5,2") == (0.1, 0.5, 2.0)
    assert parse_layer_sizes("2, 3") == (2, 3)
    assert parse_names(("sgd", "adam"))("sgd,adam") == ("sgd", "adam")
    lists = ((parse_learning_rates, "0.1,,2"), (parse_learning_rates, ""), (parse_layer_sizes, "2,,3"), (parse_layer_sizes, ","))
    for parse, text in lists:
        with pytest.raises(ValueError, match=r"empty item|nothing given"):
            parse(text)
    with pytest.raises(ValueError, match="not a finite number"):
        parse_learning_rates("0.1,inf")
    with pytest.raises(ValueError, match="0 is not a layer size"):
        parse_layer_sizes("2,0")
    with pytest.raises(ValueError, match="'rmsprop' is not one of sgd, adam"):
        parse_names(("sgd", "adam"))("sgd,rmsprop")


def test_paths_are_refused_only_when_empty():
    assert parse_path("run.bplab") == "run.bplab"
    for text in ("", " "):
        with pytest.raises(ValueError, match="empty path"):
            parse_path(text)


def apply_hidden(qtbot, panel: ControlPanel, text: str) -> None:
    panel.hidden_edit.setText(text)
    panel.hidden_edit.editingFinished.emit()


def test_the_window_reads_hidden_layers_by_the_same_rule(qtbot):
    panel = ControlPanel(TrainConfig(hidden=()))
    qtbot.addWidget(panel)
    assert panel.hidden_edit.text() == "none"  # no hidden layer is shown as the command line spells it
    with qtbot.waitSignal(panel.configChanged) as changed:
        apply_hidden(qtbot, panel, "4,3")
    assert changed.args[0].hidden == (4, 3) and panel.hidden_edit.text() == "4, 3"
    with qtbot.waitSignal(panel.configChanged) as changed:
        apply_hidden(qtbot, panel, "NONE")
    assert changed.args[0].hidden == () and panel.hidden_edit.text() == "none"
    for text, message in (("", "nothing given"), ("0", "0 is not a layer size"), ("2,,3", "has an empty item")):
        with qtbot.assertNotEmitted(panel.configChanged):
            apply_hidden(qtbot, panel, text)
        assert panel.hidden_error.isVisibleTo(panel) and panel.hidden_error.text().startswith("Hidden layers: ")
        assert message in panel.hidden_error.text()
    validate = panel.hidden_edit.validator().validate
    assert validate("none", 0)[0].name == "Acceptable" and validate("no", 0)[0].name == "Intermediate"
    assert validate("nonsense", 0)[0].name == "Invalid"


@pytest.mark.parametrize(
    ("text", "message"),
    [("0.1, 0", "'0' is not allowed; it must be a finite number > 0"), ("-1", "'-1' is not allowed; it must be a finite number"),
     ("1e-400", "'1e-400' is not allowed"), ("nan", "'nan' is not a finite number"), ("0.1,inf", "'inf' is not a finite number"),
     ("0.1,x", "'x' is not a number"), ("0.1,,2", "'0.1,,2' has an empty item"), ("", "nothing given")],
)  # fmt: skip
def test_learning_rates_are_positive_finite_numbers(text, message):
    """The sweep's rule on the command line and in the window, and the same rule as TrainConfig's."""
    with pytest.raises(ValueError) as info:
        parse_learning_rates(text)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert parse_learning_rates(" 0.1, 2,1e-3") == (0.1, 2.0, 0.001)
    for value in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            TrainConfig(learning_rate=value)
    assert TrainConfig(learning_rate=5e-324).learning_rate == parse_learning_rates("5e-324")[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [("0.1,", "'0.1,' ends with a comma (an empty item)"), ("0.1, 2 , ", "'0.1, 2 ,' ends with a comma"),
     (",0.1", "',0.1' starts with a comma (an empty item)"), ("0.1,,2", "'0.1,,2' has an empty item between commas"),
     (",", "',' is only commas: nothing given"), (" , ,", "', ,' is only commas"), ("", "nothing given")],
)  # fmt: skip
def test_an_empty_item_is_named_where_it_is(text, message):
    """'0.1,' said "has an empty item between commas"; a comma at the start or the end is named as such."""
    with pytest.raises(ValueError) as info:
        parse_list(text, float, "numbers such as 0.1, 2")
    assert str(info.value).startswith(message) and str(info.value).endswith("; give numbers such as 0.1, 2")


@pytest.mark.parametrize("field", [*CONFIG_FIELDS.values(), *DATA_FIELDS.values()], ids=lambda f: f.name)
def test_every_field_reads_back_what_it_writes(field):
    """`format_field` writes a value as it is typed; `parse_field` reads it back, by the field's own rule."""
    value = field.default if field.kind not in (PATH,) else "data.csv"
    assert parse_field(field, format_field(field, value)) == value
    if field.kind == CHOICE:
        with pytest.raises(ValueError, match="is not allowed; choose one of"):
            parse_field(field, "nonsense")
    elif field.kind != BOOL and field.high is not None:
        with pytest.raises(ValueError, match=f"is not allowed; {field.rule}"):
            parse_field(field, str(field.high * 2 + 1))


def test_features_are_names_given_once_in_the_registry_order():
    assert parse_features(" x1x2, x1 ") == ("x1", "x1x2")
    for text, message in (("x1,foo", "'foo' is not a feature; choose from x1, x2"), ("x2,x2", "names x2 more than once"),
                          ("x1sq, x1²", "names x1sq more than once"), ("", "nothing given"),
                          ("x1,", "ends with a comma")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            parse_features(text)
    assert parse_field(CONFIG_FIELDS["features"], "sinx2,x1sq") == ("x1sq", "sinx2")


def test_features_are_read_by_feature_name_the_one_rule():
    """The command line's (and any typed) features accept what `feature_name` accepts (before: only the registry's
    names, so x1², X1 and sin(x1) were refused)."""
    field = CONFIG_FIELDS["features"]
    assert parse_features("X1, x1², sin(x1)") == ("x1", "x1sq", "sinx1")
    assert parse_field(field, "x₁·x₂, X2^2, sin x2") == ("x2sq", "x1x2", "sinx2")
    for name, feature in FEATURES.items():
        assert parse_field(field, feature.label) == (name,)


NUMBER_TEXT = st.one_of(st.integers(-10, 3000).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                        st.text(alphabet="0123456789.,-+e xnoai", max_size=8))  # fmt: skip


@given(name=st.sampled_from([n for n in CONFIG_FIELDS if n not in ("shuffle",)]), text=NUMBER_TEXT)
def test_what_the_text_rule_accepts_the_config_accepts(name, text):
    """The command line and the window read a field's text by `parse_field`: a value it returns is one TrainConfig
    takes unchanged, and a text it refuses gets a one-line reason."""
    field = CONFIG_FIELDS[name]
    try:
        value = parse_field(field, text)
    except ValueError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert getattr(TrainConfig(**{name: value}), name) == value
