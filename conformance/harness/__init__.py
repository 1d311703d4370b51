"""The harness: how a surface is called, judged and recorded.

surface (the adapter protocol), registry (the frameworks), check (one case: inputs, call, classification), isolate and
worker (the crash-isolating child process), judge (new vs expected divergences, the revisit budget), expectations and
behaviour (the expected-divergence entries and what they state), records (the JSON-lines records API: writer and
reader), catalogue and errorcheck (the error catalogue), gradcheck, nonfinite, agreement (the properties' checks),
characterize (a divergence's neighbourhood), reproducer (self-contained scripts), portable (the portable intents).
Imports the core; nothing from conformance.views or conformance.explain (tests/test_layout.py).
"""
