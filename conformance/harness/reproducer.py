"""Self-contained reproducer scripts: the inputs from a seed, the framework call, and (in the long form) the
check against an inline NumPy reference, so a framework maintainer needs nothing of this suite to run it.

  short form (failure messages, ten lines): imports, x/w/b from the seed, the call, print(y.shape)
  checked form (records): the same, then an inline float64 scatter + crop reference at the documented window,
    the per-element bound of conformance.core.bounds, and a verdict line; it ends with `assert ok, verdict`
    (so the script raises AssertionError exactly when the call diverges from its documentation).

The inline reference is conformance.core.reference's own shipped steps (scatter, cropped, add_bias, reference), their
source printed into the script (tap j of input i lands at i*s + j*d; the window is full[c : c+L], zero outside).
"""

from __future__ import annotations

from conformance.core import reference, source
from conformance.core.bounds import SMALLEST_NORMAL, UNIT_ROUNDOFF
from conformance.harness.surface import Surface

INLINE_REFERENCE = source.source_of(reference.reference)


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
        # NumPy has no bfloat16: ml_dtypes (it comes with jax and tensorflow) adds it, as harness.check does
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
                 "  # conformance/core/bounds.py")
    else:
        tiny = max(SMALLEST_NORMAL[dtype], SMALLEST_NORMAL[accumulate])
        bound = (f"bound = (2 * ({terms} + 2) * {UNIT_ROUNDOFF[accumulate]!r} + {UNIT_ROUNDOFF[dtype]!r}) * mag "
                 f"+ {terms} * {tiny!r}  # conformance/core/bounds.py: sums in {accumulate}, rounded to {dtype}")
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
