"""What a setting is, and the rules that check it: the `Field` description type, its kinds, `check_fields` and
`bind_defaults`. The descriptions themselves sit beside their dataclasses' settings: `engine.datasets.DATA_FIELDS`
(`DataSpec`) and `engine.fields.CONFIG_FIELDS` (`TrainConfig`); `engine.fields` gathers both for the command line
and the window.

This module imports no module that describes fields (only the feature registry), so `engine.datasets` can describe
and validate `DataSpec` with it while `engine.fields` imports `engine.datasets`: no import circle.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .features import FEATURES

# kinds of field
INT, FLOAT, CHOICE, BOOL, SIZES, NAMES, PATH = "int", "float", "choice", "bool", "sizes", "names", "path"

MAX_HIDDEN_LAYERS = 8
MAX_UNITS = 1024
MAX_SEED = 2**32 - 1  # np.random.seed accepts 0 .. 2**32 - 1 (the weights' seed); the data seed keeps to the same
NO_HIDDEN_LAYER = "none"  # how "no hidden layer" is typed

NETWORK, TRAINING, DATA = "network", "training", "data"  # the window's sections


class FieldError(ValueError):
    """A value a field refuses; `rule` says what is allowed ("it must be a finite number > 0"). Callers write the
    value first, as typed or as given: "'-1' is not allowed; it must be a finite number > 0"."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(eq=False)
class Field:
    """One setting.

    name: the dataclass field. kind: `INT`, `FLOAT` (a finite number), `CHOICE` (a name from `choices()`), `BOOL`,
    `SIZES` (hidden layer sizes), `NAMES` (feature names) or `PATH`. low, high: the range of INT and FLOAT, with
    `low_open`/`high_open` excluding the end (None: no bound). label: the window's. help: one phrase for the
    tooltip, --help and `python main.py datasets`. section: the window's group (`NETWORK`, `TRAINING`, `DATA`).
    structural: changing it restarts training (it defines the network function or its starting point). flag: the
    command-line option ("--learning-rate"), aliases: more spellings ("--lr"), metavar: its value's name in --help.
    log: the window steps it 1-2-5 over decades. percent: the window shows it times 100. step, decimals: the
    window's spin box. default: the dataclass's, set by `bind_defaults`.
    """

    name: str
    kind: str
    label: str
    help: str
    section: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: Callable[[], tuple[str, ...]] | None = None
    structural: bool = False
    flag: str = ""
    aliases: tuple[str, ...] = ()
    metavar: str | None = None
    log: bool = False
    percent: bool = False
    step: float = 1.0
    decimals: int = 3
    default: Any = None

    def __post_init__(self) -> None:
        self.flag = self.flag or "--" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        """The option's attribute on argparse's namespace: the flag's words ("--data-seed" -> data_seed)."""
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def usage(self) -> str:
        """The option with its value's name, as --help writes it: "--points N"."""
        return f"{self.flag} {self.metavar}" if self.metavar else self.flag

    @property
    def rule(self) -> str:
        """What is allowed, for messages: "it must be an integer from 1 to 1048576"."""
        if self.kind == INT:
            return f"it must be an integer {'>= ' if self.high is None else 'from '}{self.range_text()}"
        if self.kind == FLOAT:
            return "it must be " + self.number_rule()
        if self.kind == CHOICE:
            return "choose one of " + ", ".join(repr(c) for c in self.choices())
        if self.kind == BOOL:
            return "it must be True or False"
        if self.kind == SIZES:
            return f"each layer size is an integer from 1 to {MAX_UNITS}"
        if self.kind == NAMES:
            return "give one or more different names of " + ", ".join(FEATURES)
        return "give a file name"

    def number_rule(self) -> str:
        """A FLOAT's range: "a finite number > 0", "a number from 0 to 10", "a number with 0 <= value < 1"."""
        low = f"{self.low:g}"
        if self.high is None:
            return f"a finite number {'>' if self.low_open else '>='} {low}"
        if not (self.low_open or self.high_open):
            return f"a number from {low} to {self.high:g}"
        return f"a number with {low} {'<' if self.low_open else '<='} value {'<' if self.high_open else '<='} {self.high:g}"

    def range_text(self) -> str:
        """The range or choices in a few words, for --help and `python main.py datasets`: "20 to 2000", "> 0"."""
        if self.kind == INT:
            return f"{self.low}" if self.high is None else f"{self.low} to {self.high}"
        if self.kind == FLOAT:
            if self.high is None:
                return f"{'>' if self.low_open else '>='} {self.low:g}"
            return f"{self.low:g} to {'below ' if self.high_open else ''}{self.high:g}"
        if self.kind in (CHOICE, NAMES):
            return ", ".join(self.choices() if self.kind == CHOICE else FEATURES)
        return ""

    def notes(self, choices: bool = True) -> str:
        """The range (or, with `choices`, the choices) and the default, as --help and `python main.py datasets` write
        them after the help: "20 to 2000; default 200"."""
        known = self.range_text() if choices or self.kind != CHOICE else ""
        default = "" if self.default in (None, "") else f"default {self.format(self.default)}"
        return "; ".join(text for text in (known, default) if text)

    def format(self, value: Any) -> str:
        """How a value is typed (`engine.parsing.parse_field` reads it back): (4, 3) -> '4,3', () -> 'none',
        ('x1', 'x2') -> 'x1,x2', 0.1 -> '0.1', 1e-08 -> '1e-08', True -> 'true'."""
        if self.kind == SIZES:
            return ",".join(str(size) for size in value) or NO_HIDDEN_LAYER
        if self.kind == NAMES:
            return ",".join(value)
        if self.kind == FLOAT:
            text = repr(float(value))
            return text[:-2] if text.endswith(".0") else text
        if self.kind == BOOL:
            return "true" if value else "false"
        return str(value)

    def check(self, value: Any) -> Any:
        """`value` normalised (an int as int, a number as float, sizes as a tuple, feature names in the registry's
        order), or `FieldError` with the rule it breaks."""
        kind = self.kind
        if kind == INT:
            if not _is_int(value) or not self._in_range(value):
                raise FieldError(self.rule)
            return int(value)
        if kind == FLOAT:
            if not _is_real(value) or not math.isfinite(value) or not self._in_range(value):
                raise FieldError(self.rule)
            return float(value)
        if kind == CHOICE:
            if not isinstance(value, str) or value not in self.choices():
                raise FieldError(self.rule)
            return value
        if kind == BOOL:
            if not isinstance(value, bool):
                raise FieldError(self.rule)
            return value
        if kind == SIZES:
            return _check_sizes(value)
        if kind == NAMES:
            return _check_features(value)
        if not isinstance(value, str):
            raise FieldError(self.rule)
        return value

    def _in_range(self, value: float) -> bool:
        low, high = self.low, self.high
        above = low is None or (value > low if self.low_open else value >= low)
        below = high is None or (value < high if self.high_open else value <= high)
        return above and below


def _check_sizes(value: Any) -> tuple[int, ...]:
    if _is_int(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise FieldError("give a sequence of layer sizes such as (2,) or (4, 3)")
    sizes = tuple(value)
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise FieldError(f"at most {MAX_HIDDEN_LAYERS} hidden layers")
    if not all(_is_int(size) and 1 <= size <= MAX_UNITS for size in sizes):
        raise FieldError(f"each layer size is an integer from 1 to {MAX_UNITS}")
    return tuple(int(size) for size in sizes)


def _check_features(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise FieldError("give a sequence of feature names such as ('x1', 'x2')")
    names = tuple(value)
    unknown = any(not isinstance(name, str) or name not in FEATURES for name in names)
    if not names or unknown or len(set(names)) != len(names):
        raise FieldError("give one or more different names of " + ", ".join(FEATURES))
    return tuple(name for name in FEATURES if name in names)


def fixed(names: tuple[str, ...]) -> Callable[[], tuple[str, ...]]:
    """`Field.choices` for a fixed set of names (a registry's are read when asked instead)."""
    return lambda: names


def bind_defaults(fields: dict[str, Field], cls: type) -> None:
    """Copy the dataclass `cls`'s defaults into `fields`; refuse a dataclass field without a description (or a
    description without a field), so a setting cannot be added in one place and forgotten in the other."""
    declared = {f.name: f for f in dataclasses.fields(cls)}
    if set(declared) != set(fields):
        missing = sorted(set(declared) - set(fields))
        extra = sorted(set(fields) - set(declared))
        raise TypeError(f"the fields of {cls.__name__} are described wrongly: no description of {missing}, no field {extra}")
    for name, f in declared.items():
        fields[name].default = f.default if f.default is not dataclasses.MISSING else f.default_factory()


def check_fields(obj: Any, fields: dict[str, Field], error: Callable[[str, str], Exception]) -> None:
    """Validate and normalise the frozen dataclass `obj` in place, field by field in `fields`' order: a refused
    value raises ``error(name, "VALUE is not allowed; RULE")``."""
    for name, f in fields.items():
        value = getattr(obj, name)
        try:
            object.__setattr__(obj, name, f.check(value))
        except FieldError as err:
            raise error(name, f"{value!r} is not allowed; {err.rule}") from None


def stored_values(cls: type, data: Any, error: Callable[[str], Exception]) -> dict[str, Any]:
    """The fields of dataclass `cls` as stored in JSON (`data`, an object) in a new dict; `error(text)` is raised
    for anything else or for a field `cls` does not have. Missing fields take their defaults when `cls` is built."""
    if not isinstance(data, dict):
        raise error(f"a {cls.__name__} is stored as a JSON object, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise error(f"unknown {cls.__name__} field(s): " + ", ".join(unknown))
    return dict(data)
