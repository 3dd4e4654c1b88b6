"""The texts people type for settings, read by one rule for the command line and the window.

- A list is items separated by commas; spaces around items do not matter. An empty text or an empty
  item (``"0.1,,2"``, ``"0.1,"``) is refused, never skipped; the message says where (between commas, or a
  comma at the start or end).
- Learning rates: finite numbers greater than 0.
- Hidden layers: ``"2"`` or ``"4, 3"``; ``"none"`` (any case) is no hidden layer. Every size is from 1 to
  `MAX_UNITS`: ``0`` is refused, not read as "no hidden layer".
- Feature names: ``"x1, x2, x1x2"``, each as `engine.features.feature_name` reads it (``x1²``, ``X1``, ``sin(x1)``
  too), each once; kept in the registry's order.
- A path is refused when it is empty.
- Any setting described in `engine.fields`: `parse_field` reads the text by the field's kind and checks it by the
  field's rule (the one `TrainConfig` applies), so the command line's options and the window agree.

Every parser raises `ValueError` with a message for the user that quotes what was typed; callers add
where it was typed (``--hidden``, "Hidden layers").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from .features import FEATURES, feature_name
from .fields import (
    BOOL,
    CHOICE,
    CONFIG_FIELDS,
    FLOAT,
    INT,
    MAX_HIDDEN_LAYERS,
    MAX_UNITS,
    NAMES,
    NO_HIDDEN_LAYER,
    PATH,
    SIZES,
    Field,
    FieldError,
)

T = TypeVar("T")

HIDDEN_EXAMPLE = f"layer sizes from 1 to {MAX_UNITS} such as 2 or 4, 3, or {NO_HIDDEN_LAYER} for no hidden layer"


def parse_list(text: str, convert: Callable[[str], T], what: str) -> tuple[T, ...]:
    """'0.1, 0.5,2' -> (convert('0.1'), convert('0.5'), convert('2')). `what` names the items for messages,
    e.g. "numbers such as 0.1, 0.5, 2". `convert` raises `ValueError` (its message is kept) for a bad item."""
    if not text.strip():
        raise ValueError(f"nothing given; give {what}")
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise ValueError(f"{text.strip()!r} is only commas: nothing given; give {what}")
    if not parts[0]:
        raise ValueError(f"{text.strip()!r} starts with a comma (an empty item); give {what}")
    if not parts[-1]:
        raise ValueError(f"{text.strip()!r} ends with a comma (an empty item); give {what}")
    if not all(parts):
        raise ValueError(f"{text.strip()!r} has an empty item between commas; give {what}")
    return tuple(convert(part) for part in parts)


def parse_number(text: str) -> float:
    """A finite number: '0.5', '1e-3'."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()!r} is not a finite number")
    return value


def parse_whole(text: str) -> int:
    """A whole number: '3'."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a whole number") from None


def parse_layer_size(text: str) -> int:
    """One hidden layer's size, 1 to `MAX_UNITS`."""
    size = parse_whole(text)
    if not 1 <= size <= MAX_UNITS:
        raise ValueError(f"{size} is not a layer size: each is from 1 to {MAX_UNITS}")
    return size


def parse_learning_rate(text: str) -> float:
    """A learning rate, by `TrainConfig.learning_rate`'s rule: a finite number > 0."""
    return parse_field(CONFIG_FIELDS["learning_rate"], text)


def parse_learning_rates(text: str) -> tuple[float, ...]:
    """Learning rates (a sweep's): '0.1, 0.5, 2' -> (0.1, 0.5, 2.0), each a finite number > 0."""
    return parse_list(text, parse_learning_rate, "learning rates greater than 0 such as 0.1, 0.5, 2")


def parse_layer_sizes(text: str) -> tuple[int, ...]:
    """Widths of one hidden layer each (a sweep's): '2, 3, 4' -> (2, 3, 4)."""
    if text.strip().lower() == NO_HIDDEN_LAYER:
        raise ValueError(
            f"{text.strip()!r} is not allowed here: each width is one hidden layer, a whole number from 1 to {MAX_UNITS}"
        )
    return parse_list(text, parse_layer_size, f"widths from 1 to {MAX_UNITS} such as 2, 3, 4")


def parse_hidden(text: str) -> tuple[int, ...]:
    """The hidden layers of one network: '2' -> (2,), '4, 3' -> (4, 3), 'none' -> () (no hidden layer)."""
    if text.strip().lower() == NO_HIDDEN_LAYER:
        return ()
    sizes = parse_list(text, parse_layer_size, HIDDEN_EXAMPLE)
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"{len(sizes)} hidden layers is more than {MAX_HIDDEN_LAYERS}")
    return sizes


def format_hidden(hidden: tuple[int, ...]) -> str:
    """The inverse of `parse_hidden`: (4, 3) -> '4, 3', () -> 'none'."""
    return ", ".join(str(size) for size in hidden) or NO_HIDDEN_LAYER


def parse_names(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """A parser of a list of names from `allowed`: 'sgd,adam' -> ('sgd', 'adam')."""

    def name(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    return lambda text: parse_list(text, name, "names from " + ", ".join(allowed))


def parse_path(text: str) -> str:
    """A file path as given; refused when empty (an empty path names no file)."""
    if not text.strip():
        raise ValueError("empty path; give a file name")
    return text


def parse_features(text: str) -> tuple[str, ...]:
    """Feature names: 'x1, x2, x1x2' -> ('x1', 'x2', 'x1x2'), each read by `engine.features.feature_name` (so 'X1',
    'x1²', 'sin(x1)' are x1, x1sq, sinx1), each given once, returned in the registry's order."""
    names = parse_list(text, feature_name, "feature names from " + ", ".join(FEATURES))
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{text.strip()!r} names {', '.join(twice)} more than once; give each feature once")
    return tuple(name for name in FEATURES if name in names)


def parse_bool(text: str) -> bool:
    """'true'/'yes'/'1'/'on' or 'false'/'no'/'0'/'off', any case."""
    word = text.strip().lower()
    if word in ("true", "yes", "1", "on"):
        return True
    if word in ("false", "no", "0", "off"):
        return False
    raise ValueError(f"{text.strip()!r} is not true or false")


_READ = {INT: parse_whole, FLOAT: parse_number, SIZES: parse_hidden, NAMES: parse_features, BOOL: parse_bool,
         PATH: parse_path, CHOICE: str.strip}  # fmt: skip


def parse_field(field: Field, text: str):
    """The value typed for `field`, read by its kind and checked by its rule: `parse_field(points, "5")` raises
    "'5' is not allowed; it must be an integer from 20 to 2000"."""
    value = _READ[field.kind](text)
    try:
        return field.check(value)
    except FieldError as err:
        raise ValueError(f"{text.strip()!r} is not allowed; {err.rule}") from None


def format_field(field: Field, value) -> str:
    """How a value of `field` is typed: the inverse of `parse_field` ((4, 3) -> '4,3', ('x1', 'x2') -> 'x1,x2',
    0.1 -> '0.1', 1e-08 -> '1e-08'); `Field.format` writes it."""
    return field.format(value)
