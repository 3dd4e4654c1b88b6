"""Parameter layout and initialisation of a fully connected network.

All parameters live in one flat float64 vector ``theta``: layer by layer, ``W`` (out, in) in row-major
order, then ``b`` (out,). The notebook's shapes, ``W`` (out, in) and ``b`` (out, 1), are views into it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .config import TrainConfig

Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Layout:
    """Where each layer's parameters sit in ``theta``.

    sizes: units per layer, input first, shape (n_layers + 1,).
    w_offsets, b_offsets: start of each layer's W and b in ``theta``, shape (n_layers,).
    """

    sizes: np.ndarray
    w_offsets: np.ndarray
    b_offsets: np.ndarray
    n_params: int

    @property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sizes, w_offsets, b_offsets) as uint64, the kernels' index type."""
        return tuple(a.astype(np.uint64) for a in (self.sizes, self.w_offsets, self.b_offsets))  # type: ignore[return-value]

    @classmethod
    def from_sizes(cls, sizes: tuple[int, ...]) -> Layout:
        sizes_arr = np.asarray(sizes, dtype=np.int64)
        w_offsets = np.empty(len(sizes) - 1, dtype=np.int64)
        b_offsets = np.empty(len(sizes) - 1, dtype=np.int64)
        offset = 0
        for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            w_offsets[layer] = offset
            offset += n_out * n_in
            b_offsets[layer] = offset
            offset += n_out
        for arr in (sizes_arr, w_offsets, b_offsets):
            arr.flags.writeable = False
        return cls(sizes_arr, w_offsets, b_offsets, offset)

    @property
    def n_layers(self) -> int:
        """Weight layers (hidden layers + 1)."""
        return len(self.sizes) - 1

    @property
    def n_units(self) -> int:
        """Units in all layers after the input."""
        return int(self.sizes[1:].sum())

    def views(self, theta: np.ndarray) -> Params:
        """``[(W, b), ...]`` views into `theta`; W (out, in), b (out, 1)."""
        params = []
        for layer in range(self.n_layers):
            n_in, n_out = int(self.sizes[layer]), int(self.sizes[layer + 1])
            w0, b0 = int(self.w_offsets[layer]), int(self.b_offsets[layer])
            params.append((theta[w0 : w0 + n_out * n_in].reshape(n_out, n_in), theta[b0 : b0 + n_out].reshape(n_out, 1)))
        return params

    def copies(self, theta: np.ndarray) -> Params:
        """Like `views`, but independent arrays."""
        return [(w.copy(), b.copy()) for w, b in self.views(theta)]

    def flatten(self, params: Params) -> np.ndarray:
        """Inverse of `views`: a new ``theta`` from ``[(W, b), ...]``; raises ValueError on a shape mismatch."""
        if len(params) != self.n_layers:
            raise ValueError(f"expected {self.n_layers} layers of (W, b), got {len(params)}")
        theta = np.empty(self.n_params)
        for layer, ((w, b), (w_view, b_view)) in enumerate(zip(params, self.views(theta))):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if w.shape != w_view.shape or b.reshape(-1, 1).shape != b_view.shape:
                raise ValueError(
                    f"layer {layer + 1}: expected W {w_view.shape} and b {b_view.shape}, got W {w.shape} and b {b.shape}"
                )
            w_view[...] = w
            b_view[...] = b.reshape(-1, 1)
        return theta


def initial_theta(config: TrainConfig, layout: Layout) -> np.ndarray:
    """Initial flat parameters, shape (layout.n_params,).

    notebook: ``np.random.seed(seed)`` then ``np.random.rand(out, in)`` for W and ``rand(out, 1)`` for b,
    layer by layer, W before b; this is one draw of ``n_params`` numbers from ``RandomState(seed)``
    (the same stream, without touching NumPy's global state).
    xavier: W ~ U(-a, a) with a = sqrt(6 / (in + out)) (Glorot), b = 0, from ``default_rng(seed)``.
    he: W ~ N(0, 2 / in) (Kaiming), b = 0, from ``default_rng(seed)``.
    """
    if config.init == "notebook":
        return np.random.RandomState(config.seed).rand(layout.n_params)
    rng = np.random.default_rng(config.seed)
    theta = np.zeros(layout.n_params)
    for w, _ in layout.views(theta):
        n_out, n_in = w.shape
        if config.init == "xavier":
            limit = np.sqrt(6.0 / (n_in + n_out))
            w[...] = rng.uniform(-limit, limit, size=w.shape)
        else:
            w[...] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=w.shape)
    return theta
