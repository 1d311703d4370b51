"""The views: what the records say, read through conformance.harness.records.

summary (the end-of-run summary), accounting (per expected-divergence entry), matrix (the cross-framework alignment
matrix), errors_view (the error catalogue side by side), and their `python -m conformance` verbs (*_cli).
Imports the core and the harness; nothing from conformance.explain (tests/test_layout.py).
"""
