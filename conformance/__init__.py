"""Framework-free core of the transposed-convolution conformance suite, in four packages (each imports only those
before it; tests/test_layout.py):

  core      the canonical model: spec, reference, bounds, compare, gradients, ieee, models, expr, source
  harness   the surface protocol and the run: surface, registry, check, isolate/worker, judge, expectations,
            behaviour, records, the properties' checks, characterize, reproducer
  views     what the records say: summary, accounting (entries), matrix, errors_view and their verbs
  explain   explain / solve / translate, a client of core and harness

Nothing here imports TensorFlow, Keras, PyTorch or JAX (see ../shared/DESIGN.md, "the star").
"""

__version__ = "0.1.0"
