"""Self-contained reproducer scripts: the inputs from a seed, the framework call, and (in the long form) the
check against an inline NumPy reference, so a framework maintainer needs nothing of this suite to run it.

  short form (failure messages, ten lines): imports, x/w/b from the seed, the call, print(y.shape)
  checked form (records): the same, then an inline float64 scatter + crop reference at the documented window,
    the per-element bound of conformance.bounds, and a verdict line; it ends with `assert ok, verdict`
    (so the script raises AssertionError exactly when the call diverges from its documentation).

The inline reference is the canonical model written out again (tap j of input i lands at i*s + j*d; the window
is full[c : c+L], zero outside); tests check it against conformance.reference.
"""

from __future__ import annotations

from .bounds import SMALLEST_NORMAL, UNIT_ROUNDOFF
from .surface import Surface

INLINE_REFERENCE = '''
def reference(x, w, b, stride, dilation, groups, crop, length):
    """float64 transposed conv: full scatter (tap j of input i lands at i*s + j*d), then the window [c, c+L)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, c_in, *i_size = x.shape
    k = w.shape[2:]
    cg, mg = c_in // groups, w.shape[1]
    full_size = [(i - 1) * s + d * (kk - 1) + 1 for i, s, d, kk in zip(i_size, stride, dilation, k)]
    full = np.zeros((n, mg * groups, *full_size))
    for tap in np.ndindex(*k):
        at = tuple(slice(j * d, j * d + (i - 1) * s + 1, s) for j, d, i, s in zip(tap, dilation, i_size, stride))
        for g in range(groups):
            wg = w[(slice(g * cg, (g + 1) * cg), slice(None), *tap)]
            part = np.einsum("nc...,cm->nm...", x[:, g * cg:(g + 1) * cg], wg)
            full[(slice(None), slice(g * mg, (g + 1) * mg), *at)] += part
    pads = [(0, 0), (0, 0)] + [(max(-c, 0), max(c + n_ - f, 0)) for c, n_, f in zip(crop, length, full.shape[2:])]
    full = np.pad(full, pads)
    y = full[(slice(None), slice(None), *[slice(max(c, 0), max(c, 0) + n_) for c, n_ in zip(crop, length)])]
    return y if b is None else y + np.asarray(b, np.float64).reshape(-1, *[1] * len(k))
'''.strip("\n")


def reproducer(surface: Surface, case, version: str = "", check: bool = False, documented=None) -> str:
    """The script for `case` on `surface`; `check` appends the inline reference check (see module doc).
    `documented` replaces the surface's semantics (the error catalogue's configurations are outside them)."""
    conv = case.conv
    documented = documented or surface.semantics(case.params, conv)
    if documented.refused:
        expect = f"refused ({documented.refusal.reason})"
    elif documented.window is None:
        expect = f"either outcome ({documented.rule})"
    else:
        expect = f"shape {(conv.batch, conv.c_out, *documented.window.length)}, crop {documented.window.crop}"
    mode = getattr(case, "mode", "eager")
    lines = [
        f"# {surface.id} {version} on {case.device}, {case.dtype}"
        + ("" if mode == "eager" else f", mode {mode}") + f"; documented: {expect}",
        # NumPy has no bfloat16: ml_dtypes (installed with jax and tensorflow) adds it, as conformance.check does
        "import numpy as np" + (", ml_dtypes" if case.dtype == "bfloat16" else ""),
        f"rng = np.random.default_rng({case.seed})",
        f"x = rng.standard_normal({conv.input_shape}).astype({_np_dtype(case.dtype)})  # (N, C_in, *spatial)",
        f"w = rng.standard_normal({conv.kernel_shape}).astype({_np_dtype(case.dtype)})  "
        "# (C_in, C_out/groups, *k), no flip",
        f"b = rng.standard_normal({conv.c_out}).astype({_np_dtype(case.dtype)})" if conv.bias else "b = None",
        *[f"{name}.flat[{index}] = {_ieee(value)}" for name, index, value in case.poison],
        surface.source(case.params, conv, case.dtype, case.device, mode),
        "print(y.shape)",
    ]
    if check and (documented.refused or documented.window is not None):
        accumulate = surface.accumulation(case.dtype, case.device, mode, case.params)
        lines += ["", f"# check against an inline NumPy reference; the documentation: {documented}",
                  *_check_lines(documented, conv, case.dtype, accumulate)]
    return "\n".join(lines)


def _np_dtype(dtype: str) -> str:
    return "ml_dtypes.bfloat16" if dtype == "bfloat16" else repr(dtype)


def _ieee(value: float) -> str:
    if value != value:
        return "np.nan"
    if abs(value) == float("inf"):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _check_lines(documented, conv, dtype: str, accumulate: str | None = None) -> list[str]:
    if documented.refused:
        return ["verdict = 'the docs refuse this call, yet it returned shape ' + str(y.shape)",
                "print(verdict)", "assert False, verdict"]
    win = documented.window
    geometry = (f"stride={conv.stride}, dilation={conv.dilation}, groups={conv.groups}, "
                f"crop={win.crop}, length={win.length}")
    terms = conv.terms_per_output + (1 if conv.bias else 0)
    if accumulate is None or accumulate == dtype:
        bound = (f"bound = 2 * ({terms} + 2) * {UNIT_ROUNDOFF[dtype]!r} * mag + {terms} * {SMALLEST_NORMAL[dtype]!r}"
                 "  # conformance/bounds.py")
    else:
        tiny = max(SMALLEST_NORMAL[dtype], SMALLEST_NORMAL[accumulate])
        bound = (f"bound = (2 * ({terms} + 2) * {UNIT_ROUNDOFF[accumulate]!r} + {UNIT_ROUNDOFF[dtype]!r}) * mag "
                 f"+ {terms} * {tiny!r}  # conformance/bounds.py: sums in {accumulate}, rounded to {dtype}")
    return [
        INLINE_REFERENCE,
        f"ref = reference(x, w, b, {geometry})",
        f"mag = reference(abs(x), abs(w), None if b is None else abs(b), {geometry})",
        bound,
        "y = np.asarray(y)",
        "if y.shape != ref.shape:",
        "    ok, verdict = False, f'shape {y.shape}, documented {ref.shape}'",
        "else:",
        "    with np.errstate(invalid='ignore'):  # NaN/Inf in the inputs: equal non-finite classes count as equal",
        "        same = (np.isnan(y) & np.isnan(ref)) | (y.astype(np.float64) == ref)",
        "        err = np.where(same, 0.0, np.abs(y.astype(np.float64) - ref) / bound) if y.size else np.zeros(1)",
        "    ok = bool(np.all(err <= 1.0))",
        "    verdict = f'max err/bound {np.nanmax(err) if err.size else 0:.3g} at the documented window'",
        "print('as documented' if ok else 'DIVERGES:', verdict)",
        "assert ok, verdict",
    ]
