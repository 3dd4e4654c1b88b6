"""Optimizers: the registry of update rules (name -> `Optimizer`).

A new optimizer is an entry here (its coefficients and formula), its step in `engine._kernels.apply_update`
(the branch for its `code`) and its twin in `tests/reference.py`. An optimizer may reuse an existing kernel
step with its own coefficients (see `register_optimizer`): RMSprop, for instance, is adam's step with β1 = 0.

Every rule below is applied with the update's gradient g: the mean over its samples of the per-sample
gradient, plus the regularisers' λ2·w + λ1·sign(w) on the weights (see `REGULARISED_GRADIENT`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .codes import OPT_ADAM, OPT_MOMENTUM, OPT_SGD

KERNEL_STEPS = {OPT_SGD: "sgd", OPT_MOMENTUM: "momentum", OPT_ADAM: "adam"}  # code -> the kernel step it runs
REGULARISED_GRADIENT = "g = mean per-sample gradient + λ2·w + λ1·sign(w) (weights only, sign(0) = 0)"


@dataclass(frozen=True)
class Optimizer:
    """name: as typed ("adam"). code: the kernel step it runs (a key of `KERNEL_STEPS`). coefficients: config ->
    (momentum, beta1, beta2, eps), the kernel's ``coef``. uses: the config fields it reads (the others take their
    defaults in `TrainConfig.canonical`). formula: one line for help texts and the README. description: a phrase."""

    name: str
    code: int
    coefficients: Callable[[Any], tuple[float, float, float, float]]
    uses: tuple[str, ...]
    formula: str
    description: str


def _all(config: Any) -> tuple[float, float, float, float]:
    return (config.momentum, config.beta1, config.beta2, config.eps)


OPTIMIZERS: dict[str, Optimizer] = {}


def register_optimizer(optimizer: Optimizer) -> Optimizer:
    """Add `optimizer` to the registry (replacing one of the same name). Its code must name a kernel step."""
    if optimizer.code not in KERNEL_STEPS:
        raise ValueError(f"optimizer {optimizer.name!r}: code {optimizer.code!r} is no kernel step ({sorted(KERNEL_STEPS)})")
    if not callable(optimizer.coefficients):
        raise ValueError(f"optimizer {optimizer.name!r}: coefficients must be a function of the config")
    OPTIMIZERS[optimizer.name] = optimizer
    return optimizer


for _opt in (
    Optimizer("sgd", OPT_SGD, _all, (), "p -= lr·g", "the notebook's rule"),
    Optimizer("momentum", OPT_MOMENTUM, _all, ("momentum",), "v = μ·v + g;  p -= lr·v", "heavy-ball momentum"),
    Optimizer(
        "adam",
        OPT_ADAM,
        _all,
        ("beta1", "beta2", "eps"),
        "m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  p -= lr·(m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)",
        "Adam (Kingma and Ba 2015)",
    ),
):
    register_optimizer(_opt)
