"""The core: the canonical model and what is computed from it, framework-free and harness-free.

spec (the canonical problem: geometry, window, full length), reference (the float64 NumPy scatter + crop, its steps
shipped into reproducers), bounds (the per-element error bound), compare (an observed output against the reference),
gradients (reference VJPs by a gather), ieee (NaN/Inf classes), models (named wrong computations), expr (the one
restricted-expression language of the data files), source (code that is both run and shipped).
Imports nothing from conformance.harness, conformance.views or conformance.explain (tests/test_layout.py).
"""
