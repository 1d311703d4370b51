"""The fake adapter (tests/fake_adapter.py) with a fake GPU, an execution mode and half precision, so the self-tests
can run the device, mode and dtype properties (suites/test_devices.py, test_modes.py, test_dtypes.py) without a
framework or a GPU.

Devices: cpu and gpu:0 ("Fake GPU 9000"); FAKE_GPUS=0 leaves the GPU out. Modes: eager and "jit". Dtypes: float16,
float32, float64 (bfloat16 only with FAKE_BFLOAT16=1). The fake framework computes in NumPy on every device and in
every mode (a correct implementation); FAKE_DEVICE_MUTATION selects one deliberate device- or mode-specific bug:

  none                   correct everywhere
  gpu-refuses-stride-3   the GPU raises on stride 3 (a documented configuration) where the CPU computes it
  gpu-nondeterministic   the GPU adds one or two units in the last place to one element, alternating from call to
                         call (far below the error bound)
  jit-wrong-values       the jit mode adds 1e-3 to one output element
  jit-refuses-stride-3   the jit mode raises on stride 3

FAKE_ND_DOC=1 makes the surface document nondeterminism on the GPU (Surface.nondeterminism), so the noise of
gpu-nondeterministic is recorded, not failed.
"""

from __future__ import annotations

import os

import numpy as np

from conformance.core.source import shipped
from conformance.harness.surface import EAGER, Adapter, Device, Mode
from tests.fake_adapter import DOC, FakeSurface, fake_conv_transpose

DEVICE_MUTATIONS = ("none", "gpu-refuses-stride-3", "gpu-nondeterministic", "jit-wrong-values", "jit-refuses-stride-3")
_calls = [0]
ND_DOC = "fake docs: 'GPU results may differ between calls' (tests/fake_device_adapter.py)"


def fake_device_framework(x, w, b, stride, padding, output_padding, dilation, groups, dtype, device, mode, mutation):
    """The fake framework's call on a device and in a mode, with the device/mode mutation (module doc)."""
    if mutation not in DEVICE_MUTATIONS:
        raise ValueError(f"fake: unknown device mutation {mutation!r}; known: {', '.join(DEVICE_MUTATIONS)}")
    gpu = device != "cpu"
    if 3 in stride and ((gpu and mutation == "gpu-refuses-stride-3") or
                        (mode == "jit" and mutation == "jit-refuses-stride-3")):
        raise ValueError(f"fake: stride 3 is not implemented {'on the GPU' if gpu else 'under jit'}")
    y = np.asarray(fake_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups),
                   np.float32 if dtype == "bfloat16" else dtype)
    if gpu and mutation == "gpu-nondeterministic" and y.size:
        _calls[0] += 1
        y.flat[0] += np.spacing(y.flat[0]) * (1 + _calls[0] % 2)
    if mode == "jit" and mutation == "jit-wrong-values" and y.size:
        y.flat[y.size // 2] += 1e-3
    return y


@shipped
def fake_device_call(x, w, b, gy=None, *, stride, padding, output_padding, dilation, groups, dtype, device, mode,
                     mutation):
    """The fake framework on a device and in a mode (fake_device_framework)."""
    from tests.fake_device_adapter import fake_device_framework
    return fake_device_framework(x, w, b, stride, padding, output_padding, dilation, groups, dtype, device, mode,
                                 mutation)


class FakeDeviceSurface(FakeSurface):
    def arguments(self, params, conv, dtype, device, mode="eager"):
        return {"stride": conv.stride, "padding": list(params["padding"]),
                "output_padding": list(params["output_padding"]), "dilation": conv.dilation, "groups": conv.groups,
                "dtype": dtype, "device": device, "mode": mode,
                "mutation": os.environ.get("FAKE_DEVICE_MUTATION", "none")}

    def nondeterminism(self, device, mode="eager"):
        return ND_DOC if device != "cpu" and os.environ.get("FAKE_ND_DOC") == "1" else None


def load() -> Adapter:
    dtypes = ("float16", "float32", "float64") + (("bfloat16",) if os.environ.get("FAKE_BFLOAT16") == "1" else ())
    surface = FakeDeviceSurface(framework="fake", name="fake.conv_transpose", doc=DOC, groups=True, bias=True,
                                dtypes=dtypes, modes=(EAGER, Mode("jit")), call=fake_device_call,
                                param_keys=("padding", "output_padding"))
    devices = [Device("cpu", "cpu", "NumPy")]
    if os.environ.get("FAKE_GPUS", "1") != "0":
        devices.append(Device("gpu:0", "gpu", "Fake GPU 9000"))
    return Adapter(name="fake", version="0.0-" + os.environ.get("FAKE_DEVICE_MUTATION", "none"), devices=devices,
                   surfaces=[surface])
