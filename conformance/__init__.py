"""Framework-free core of the transposed-convolution conformance suite.

Nothing in this package imports TensorFlow, Keras, PyTorch or JAX (see ../shared/DESIGN.md, "the star"):
the canonical problem (`spec`), the float64 NumPy reference (`reference`), the per-element error bound
(`bounds`), the comparison of an observed output with the reference (`compare`), the surface protocol the
adapters implement (`surface`), expected divergences (`expectations`) and result records (`records`).
"""

__version__ = "0.1.0"
