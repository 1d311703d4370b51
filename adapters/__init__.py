"""Framework adapters: one module per framework, each with a `load() -> conformance.harness.surface.Adapter`.

`load()` raises `FrameworkUnavailable` with a one-line reason when the framework is not installed, so a
missing framework is a skip, never a traceback. Adding a framework = one new module + its table in
adapters/frameworks.toml (the registry, conformance.harness.registry), and its env there and in tox.ini.
"""

from __future__ import annotations

import importlib
import os

from conformance.harness import registry
from conformance.harness.surface import Adapter, FrameworkUnavailable

# name -> module, from the registry (adapters/frameworks.toml); the order is the report order
FRAMEWORKS = {name: fw.adapter for name, fw in registry.load().frameworks.items()}

# CONFORMANCE_ADAPTERS="name=module,..." adds adapters without editing this file (the self-tests use it to run
# the whole plugin against framework-free NumPy fakes).
for _entry in filter(None, os.environ.get("CONFORMANCE_ADAPTERS", "").split(",")):
    _name, _, _module = _entry.partition("=")
    FRAMEWORKS[_name.strip()] = _module.strip()

# GPU memory: TensorFlow and JAX each take (nearly) all of a GPU's memory when they first touch it, so a second
# framework in the same process, or a worker child, would find none. Allocate on demand instead; set here, before
# any framework is imported, so child processes (conformance.harness.isolate) inherit it. PyTorch's caching allocator
# already grows on demand. An explicit setting in the environment wins.
#   TF_FORCE_GPU_ALLOW_GROWTH: https://www.tensorflow.org/guide/gpu#limiting_gpu_memory_growth
#   XLA_PYTHON_CLIENT_PREALLOCATE: https://docs.jax.dev/en/latest/gpu_memory_allocation.html
GPU_MEMORY_ENV = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
for _key, _value in GPU_MEMORY_ENV.items():
    os.environ.setdefault(_key, _value)

_loaded: dict[str, Adapter | FrameworkUnavailable] = {}


def load(name: str) -> Adapter:
    """The adapter for `name`, loaded once; FrameworkUnavailable if it cannot be imported."""
    if name not in FRAMEWORKS:
        raise KeyError(f"unknown framework {name!r}; known: {', '.join(FRAMEWORKS)}")
    if name not in _loaded:
        try:
            _loaded[name] = importlib.import_module(FRAMEWORKS[name]).load()
        except FrameworkUnavailable as exc:
            _loaded[name] = exc
    got = _loaded[name]
    if isinstance(got, FrameworkUnavailable):
        raise got
    return got
