"""`python -m conformance explain|solve|translate`: transposed-convolution shape questions answered from the
documented semantic models the suite verifies.

  explain    a call on one surface -> per dimension F, crop c, length L, the formula with the numbers, the doc
  solve      a surface, an input and a wanted output -> every parameter set (within small bounds) that gives it
  translate  a call on one surface -> the same computation on every other surface, as runnable code

The surfaces and how their users spell them come from the adapters (`spellings()` in each adapter module,
conformance.explain.spelling), found at run time the way the pytest plugin finds them; nothing here imports a framework.
`--verify` runs the framework in a child process (conformance.explain.verify).

A client of the core and the harness: nothing in them imports this package (tests/test_layout.py).
"""
