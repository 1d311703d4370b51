"""The canonical transposed-convolution problem.

Per spatial dimension, with input length i, kernel k, stride s, dilation d and k' = d(k-1)+1, the *full*
result has length F = (i-1)s + k'; input element i and kernel tap j add x[i]*w[j] at position i*s + j*d.
Every API's output is a window of it: y[o] = full[o + c] for o in 0..L-1, zero outside [0, F).

`Conv` holds what is fixed before an API chooses its window (channels, kernel, stride, ...); `Window` the
crop c and length L per dimension; `Problem` the two together. All are frozen, hashable and JSON-serialisable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

DTYPES = ("float16", "bfloat16", "float32", "float64")


def effective_kernel(k: int, d: int) -> int:
    """k' = d(k-1)+1: the span of a kernel of k taps dilated by d."""
    return d * (k - 1) + 1


def full_length(i: int, k: int, s: int, d: int) -> int:
    """F = (i-1)s + k': the length of the uncropped scatter (0 for an empty input)."""
    if i == 0:
        return 0
    return (i - 1) * s + effective_kernel(k, d)


def _tuple(v: Any) -> tuple[int, ...]:
    return tuple(int(e) for e in v)


@dataclass(frozen=True)
class Conv:
    """Everything about one transposed convolution except the output window.

    Kernel layout (canonical): w has shape (c_in, c_out // groups, *kernel); input channel ci of group
    g = ci // (c_in // groups) scatters through w[ci, m] into output channel g * (c_out // groups) + m.
    Input layout: (batch, c_in, *in_size). No flip: tap j lands at i*s + j*d.
    """

    in_size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    batch: int = 1
    c_in: int = 1
    c_out: int = 1
    groups: int = 1
    bias: bool = False

    def __post_init__(self) -> None:
        for name in ("in_size", "kernel", "stride", "dilation"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        rank = len(self.in_size)
        if not 1 <= rank <= 3:
            raise ValueError(f"rank must be 1, 2 or 3, got {rank}")
        for name in ("kernel", "stride", "dilation"):
            if len(getattr(self, name)) != rank:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for rank {rank}")
        if min(self.kernel) < 1 or min(self.stride) < 1 or min(self.dilation) < 1 or min(self.in_size) < 0:
            raise ValueError(f"kernel, stride, dilation must be >= 1 and in_size >= 0: {self}")
        if self.groups < 1 or self.c_in % self.groups or self.c_out % self.groups:
            raise ValueError(f"groups={self.groups} must divide c_in={self.c_in} and c_out={self.c_out}")

    @property
    def rank(self) -> int:
        return len(self.in_size)

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        return tuple(effective_kernel(k, d) for k, d in zip(self.kernel, self.dilation))

    @property
    def full_size(self) -> tuple[int, ...]:
        return tuple(full_length(i, k, s, d)
                     for i, k, s, d in zip(self.in_size, self.kernel, self.stride, self.dilation))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.batch, self.c_in, *self.in_size)

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        return (self.c_in, self.c_out // self.groups, *self.kernel)

    @property
    def terms_per_output(self) -> int:
        """Upper bound on the number of products summed into one output element."""
        n = self.c_in // self.groups
        for k in self.kernel:
            n *= k
        return n

    def __str__(self) -> str:
        x = lambda t: "x".join(map(str, t))  # noqa: E731
        return (f"N={self.batch} C={self.c_in}->{self.c_out} g={self.groups} i={x(self.in_size)} "
                f"k={x(self.kernel)} s={x(self.stride)} d={x(self.dilation)} F={x(self.full_size)} "
                f"bias={'yes' if self.bias else 'no'}")

    def dims(self) -> list["Dim"]:
        return [Dim(i, k, s, d) for i, k, s, d in zip(self.in_size, self.kernel, self.stride, self.dilation)]


@dataclass(frozen=True)
class Dim:
    """One spatial dimension's geometry, the argument of every per-dimension semantic rule."""

    i: int
    k: int
    s: int
    d: int

    @property
    def kd(self) -> int:
        return effective_kernel(self.k, self.d)

    @property
    def full(self) -> int:
        return full_length(self.i, self.k, self.s, self.d)


@dataclass(frozen=True)
class Window:
    """Crop c and length L per dimension: y[o] = full[o + c], o in 0..L-1 (zero outside the full result)."""

    crop: tuple[int, ...]
    length: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "crop", _tuple(self.crop))
        object.__setattr__(self, "length", _tuple(self.length))
        if len(self.crop) != len(self.length):
            raise ValueError("crop and length must have one entry per dimension")

    def __str__(self) -> str:
        return "crop=" + "x".join(map(str, self.crop)) + " L=" + "x".join(map(str, self.length))


@dataclass(frozen=True)
class Problem:
    conv: Conv
    window: Window
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype {self.dtype!r} not in {DTYPES}")
        if len(self.window.crop) != self.conv.rank:
            raise ValueError("window rank differs from conv rank")

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.conv.batch, self.conv.c_out, *self.window.length)

    def __str__(self) -> str:
        return f"{self.conv} {self.window} {self.dtype}"

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Problem":
        return cls(conv=Conv(**data["conv"]), window=Window(**data["window"]), dtype=data.get("dtype", "float32"))
