"""Conversion surfaces: a PyTorch call exported by torch.onnx.export and run by onnxruntime.

A conversion surface is the source surface's call, exported by a converter, run by a runtime (../shared/DESIGN.md,
"Conversion paths are surfaces"). Its documented semantics are the source call's -- torch.nn.functional.conv_transpose
and nn.ConvTranspose(output_size=), adapters/torch.py, the same RULES, draws and spellings -- because a converter must
keep the window and the values: a divergence here names the exporter (or the runtime), never PyTorch's docs.

Exporters (https://pytorch.org/docs/stable/onnx.html):
  * "dynamo": torch.onnx.export(..., dynamo=True), the torch.export-based exporter (onnxscript), the default since
    torch 2.9 (https://pytorch.org/docs/stable/onnx_export.html);
  * "torchscript": torch.onnx.export(..., dynamo=False), the TorchScript-based exporter, deprecated but still shipped
    (https://pytorch.org/docs/stable/onnx_torchscript.html).
Both at their default opset, default options, static shapes, the weights as initializers (what a user exporting a
layer gets). The exported file runs on onnxruntime's CPU execution provider (the model as the exporter wrote it: no
checker, no re-typing). A call PyTorch itself refuses fails at export (tracing runs the call): refused, as documented.
Which exporters a run checks: CONFORMANCE_TORCH_ONNX_EXPORTERS (comma-separated, default both). The main job's
torch-onnx env runs the TorchScript exporter only: a dynamo export takes 0.64 s per call here (torch.export, the
onnxscript translation and its optimizer, measured on 25 calls), about 13 CPU-minutes per surface in the ci profile;
`tox -e torch-onnx-dynamo` runs the dynamo exporter's surfaces.
float32 only: onnxruntime's CPU provider has no float64 ConvTranspose (adapters/onnxruntime.py, entry
onnxruntime-cpu-no-float64-bfloat16-kernel), a gap of the runtime the onnxruntime surface reports, not of the export.
"""

from __future__ import annotations

from adapters import torch as torch_adapter
from conformance.core.source import shipped
from conformance.harness.surface import EAGER, Adapter, Converted, Device, FrameworkUnavailable, Surface, cpu_model

DOC_EXPORT = "https://pytorch.org/docs/stable/onnx.html"
EXPORTERS = {"dynamo": "torch.onnx.export(dynamo=True)", "torchscript": "torch.onnx.export(dynamo=False)"}


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def torch_onnx_conv_transpose(x, w, b, gy=None, *, exporter, api, rank, stride, padding, dilation, groups, device,
                              mode="eager", output_padding=None, output_size=None, export_to=None):
    """PyTorch's transposed convolution (as in torch_conv_transpose: api 'functional' or 'module' with output_size=),
    wrapped in an nn.Module whose weights are parameters, exported with torch.onnx.export (`exporter` 'dynamo':
    dynamo=True; 'torchscript': dynamo=False) at the exporter's defaults, and run by onnxruntime on the CPU execution
    provider. Canonical NumPy arrays in (x (N, C_in, *i), w (C_in, C_out/groups, *k), b (C_out,) or None), the
    runtime's output out. export_to: a file name the exported model is also written to (the suite's failure files)."""
    import io
    import logging
    import warnings

    import numpy as np
    import onnxruntime as ort
    import torch

    if gy is not None:
        raise NotImplementedError("an exported model runs inference only: no gradients")
    tx = torch.from_numpy(np.ascontiguousarray(x))
    tw = torch.from_numpy(np.ascontiguousarray(w))
    tb = None if b is None else torch.from_numpy(np.ascontiguousarray(b))

    class Call(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if api == "module":
                self.conv = getattr(torch.nn, f"ConvTranspose{rank}d")(
                    tw.shape[0], tw.shape[1] * groups, tuple(tw.shape[2:]), stride=stride, padding=padding,
                    groups=groups, bias=tb is not None, dilation=dilation, dtype=tw.dtype)
                with torch.no_grad():
                    self.conv.weight.copy_(tw)
                    if tb is not None:
                        self.conv.bias.copy_(tb)
            else:
                self.weight = torch.nn.Parameter(tw.clone(), requires_grad=False)
                self.bias = None if tb is None else torch.nn.Parameter(tb.clone(), requires_grad=False)

        def forward(self, x):
            if api == "module":
                return self.conv(x, output_size=list(output_size))
            return getattr(torch.nn.functional, f"conv_transpose{rank}d")(
                x, self.weight, self.bias, stride=stride, padding=padding, output_padding=output_padding,
                groups=groups, dilation=dilation)

    buffer = io.BytesIO()
    quiet = logging.getLogger("torch.onnx")
    level, quiet.level = quiet.level, logging.ERROR          # "torchvision is not installed. Skipping ..."
    try:
        with warnings.catch_warnings():                       # the TorchScript exporter's deprecation warning
            warnings.simplefilter("ignore")
            if exporter == "dynamo":
                torch.onnx.export(Call().eval(), (tx,), buffer, dynamo=True, verbose=False)
            else:
                torch.onnx.export(Call().eval(), (tx,), buffer, dynamo=False)
    finally:
        quiet.level = level
    if export_to:
        with open(export_to, "wb") as fh:
            fh.write(buffer.getvalue())
    options = ort.SessionOptions()
    options.log_severity_level = 4          # errors come back as exceptions (3 still logs each refused run)
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(x)})[0]


class _Exported(Converted):
    """A torch surface exported by `exporter` (mixed into torch's Functional / Module: their RULES, draws and
    spellings)."""

    exporter = ""

    def arguments(self, params, conv, dtype, device, mode="eager"):
        return {"exporter": self.exporter, **super().arguments(params, conv, dtype, device, mode)}


def _surface(api: str, exporter: str) -> Surface:
    base = {"functional": torch_adapter.Functional, "module": torch_adapter.Module}[api]
    cls = type(f"{base.__name__}Exported{exporter.title()}", (_Exported, base),
               {"exporter": exporter, "__module__": __name__})
    source = {s.api: s for s in torch_adapter.surfaces()}[api]
    return cls(framework="torch-onnx", name=f"{source.name} -> {EXPORTERS[exporter]} -> onnxruntime",
               doc=source.doc, groups=True, bias=True, dtypes=("float32",), modes=(EAGER,),
               call=torch_onnx_conv_transpose, gradient=False, param_keys=source.param_keys,
               api_arguments=source.api_arguments, extra={"converts": source.id},
               notes=f"exported by {EXPORTERS[exporter]} ({DOC_EXPORT}), run by onnxruntime (CPU)")


def surfaces(exporters: tuple[str, ...] = tuple(EXPORTERS)) -> list[Surface]:
    """This adapter's surfaces for `exporters`, built without importing torch or onnxruntime."""
    return [_surface(api, exporter) for exporter in exporters for api in ("functional", "module")]


def chosen_exporters() -> tuple[str, ...]:
    """CONFORMANCE_TORCH_ONNX_EXPORTERS (module doc); an unknown name is an error naming the known ones."""
    import os
    names = tuple(n.strip() for n in os.environ.get("CONFORMANCE_TORCH_ONNX_EXPORTERS", ",".join(EXPORTERS)).split(",")
                  if n.strip())
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown:
        raise ValueError(f"CONFORMANCE_TORCH_ONNX_EXPORTERS: unknown exporter(s) {unknown}; "
                         f"known: {', '.join(EXPORTERS)}")
    return names


def load() -> Adapter:
    try:
        import onnxruntime
        import onnxscript  # noqa: F401 - torch.onnx.export(dynamo=True) needs it
        import torch
    except ImportError as exc:
        raise FrameworkUnavailable(f"torch, onnxscript or onnxruntime is not installed ({exc})") from None
    return Adapter(name="torch-onnx", version=torch.__version__, devices=[Device("cpu", "cpu", cpu_model())],
                   surfaces=surfaces(chosen_exporters()),
                   notes=f"onnxscript {onnxscript.__version__}, onnxruntime {onnxruntime.__version__}")
