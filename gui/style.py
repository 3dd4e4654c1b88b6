"""Colours, names and number formats shared by the views."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engine.features import FEATURES, is_identity

# The four XOR inputs: cool colours for target 0, warm colours for target 1 (as on the decision map).
SAMPLE_COLORS = ("#1f4e9c", "#e8590c", "#c2255c", "#0b7285")
# Data that records every training point's prediction has up to 8 (engine.datasets.MAX_PREDICTION_SAMPLES) points
POINT_COLORS = (*SAMPLE_COLORS, "#5f3dc4", "#2b8a3e", "#e67700", "#495057")
TARGET_COLORS = {0: "#1f4e9c", 1: "#d9480f"}
DIVERGING_MAP = "CET-D1"  # blue - white - red, for weights (symmetric around 0) and outputs (around 0.5)


def sample_label(inputs: np.ndarray, target: float) -> str:
    """'(0,1) → 1' for XOR-like inputs; values shown with up to 2 decimals otherwise."""
    coords = ",".join(f"{v:g}" if float(v).is_integer() else f"{v:.2f}" for v in inputs)
    return f"({coords}) → {target:g}"


def unit_names(sizes: tuple[int, ...], features: tuple[str, ...] | None = None) -> list[list[str]]:
    """Names of every layer's units, input first: x1, x2 | h1, h2 | ŷ (h2.3 = layer 2, unit 3 when deep). The inputs
    are named by their features' labels ("x₁²", "sin x₂") when `features` are given and not the default (x1, x2)."""
    hidden_layers = len(sizes) - 2
    if features is not None and not is_identity(features) and len(features) == sizes[0]:
        names = [[FEATURES[name].label for name in features]]
    else:
        names = [[f"x{i + 1}" for i in range(sizes[0])]]
    for layer in range(1, len(sizes) - 1):
        prefix = "h" if hidden_layers == 1 else f"h{layer}."
        names.append([f"{prefix}{j + 1}" for j in range(sizes[layer])])
    names.append(["ŷ"])
    return names


def format_percent(fraction: float) -> str:
    """An accuracy (a fraction in [0, 1]) as "97.5 %", "–" when not known (NaN: no test set, no epoch yet)."""
    return f"{100 * fraction:.1f} %" if np.isfinite(fraction) else "–"


def format_loss(value: float) -> str:
    if not np.isfinite(value):
        return str(value)
    return f"{value:.6g}" if value >= 1e-4 else f"{value:.3e}"


def colormap() -> pg.ColorMap:
    return pg.colormap.get(DIVERGING_MAP)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... (times a power of ten) that is >= value > 0."""
    exponent = np.floor(np.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        candidate = step * 10**exponent
        if candidate >= value * (1 - 1e-12):
            return float(candidate)
    return float(10 ** (exponent + 1))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def symmetric_ticks(level: float) -> tuple[list[tuple[float, str]], str]:
    """Ticks at -level, -level/2, 0, level/2, level for a colour bar, with labels of at most 4 characters,
    and the factor they are in ("" or e.g. " ×10⁻³"): a colour bar's axis has room for no more."""
    exponent = int(np.floor(np.log10(level))) if level > 0 and np.isfinite(level) else 0
    scale, factor = (1.0, "") if 0 <= exponent <= 2 else (10.0**exponent, f" ×10{str(exponent).translate(_SUPERSCRIPT)}")
    ticks = [(v, f"{v / scale:.3g}") for v in (-level, -level / 2, 0.0, level / 2, level)]
    return ticks, factor
