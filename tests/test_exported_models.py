"""A failing case of a conversion surface leaves the model its conversion made next to the records (issue: ONNX
conversion paths, "exported files"): written only on failure, by re-running the call with export_to=, named in the
record and in the failure message; the record's reproducer stays self-contained (it makes the model again)."""

from __future__ import annotations

import inspect
import json

import pytest

from conformance.core.source import shipped
from conformance.core.spec import Conv
from conformance.harness.check import Case, run_case
from conformance.harness.judge import DivergenceError, Judge
from conformance.harness.records import RecordWriter, read
from conformance.harness.surface import Converted
from tests.fake_adapter import FakeSurface, fake_call


@shipped(uses=(fake_call,))
def fake_converted_call(x, w, b, gy=None, *, stride, padding, output_padding, dilation, groups, dtype, mutation,
                        export_to=None):
    """The fake's call 'converted': it writes its 'model' (the call's arguments as JSON) to export_to first."""
    if export_to:
        with open(export_to, "w") as fh:
            fh.write(json.dumps({"stride": stride, "padding": padding, "mutation": mutation}))
    return fake_call(x, w, b, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation,
                     groups=groups, dtype=dtype, mutation=mutation)


class FakeConverted(Converted, FakeSurface):
    """The fake surface as a conversion surface (the Converted mixin brings `export`)."""


def _surface(converted: bool, mutation: str):
    cls, call = (FakeConverted, fake_converted_call) if converted else (FakeSurface, fake_call)
    return cls(framework="fake", name="fake.conv_transpose -> fakeconv" if converted else "fake.conv_transpose",
               doc="tests/fake_adapter.py", groups=True, bias=True, call=call,
               param_keys=("padding", "output_padding"), extra={"mutation": mutation})


CASE = Case(Conv(in_size=(4,), kernel=(3,), stride=(2,), dilation=(1,), batch=1, c_in=1, c_out=1, groups=1,
                 bias=False), {"padding": [1], "output_padding": [1]}, seed=7)


def _judge(tmp_path):
    return Judge([], RecordWriter(tmp_path / "env.jsonl"), "run", "ci")


def test_a_failing_conversion_case_writes_its_model_and_names_it(tmp_path):
    surface = _surface(True, "wrong-values")
    judge = _judge(tmp_path)
    with pytest.raises(DivergenceError) as failure:
        judge.judge("values", surface, "0", CASE, run_case(surface, CASE))
    judge.writer.close()
    record, = read(tmp_path / "env.jsonl")
    path = tmp_path / "env.exported" / "fake-fake.conv_transpose-fakeconv-values-float32-7.onnx"
    assert record["status"] == "divergence" and record["exported"] == str(path)
    assert json.loads(path.read_text()) == {"stride": [2], "padding": [1], "mutation": "wrong-values"}
    assert f"exported:  {path}" in str(failure.value)
    call_lines = [line for line in record["reproducer"].splitlines() if line.startswith("y = ")]
    assert call_lines and not any("export_to" in line for line in call_lines)   # the reproducer makes it again


@pytest.mark.parametrize("converted, mutation, final", [
    (True, "none", True),             # passing: nothing written
    (True, "wrong-values", False),    # a shrinking step, not the final example
    (False, "wrong-values", True),    # not a conversion surface
])
def test_no_model_is_written_unless_a_final_conversion_case_fails(tmp_path, converted, mutation, final):
    surface = _surface(converted, mutation)
    judge = _judge(tmp_path)
    try:
        judge.judge("values", surface, "0", CASE, run_case(surface, CASE), final=final)
    except DivergenceError:
        pass
    judge.writer.close()
    record, = read(tmp_path / "env.jsonl")
    assert record["exported"] is None
    assert not (tmp_path / "env.exported").exists() or not any((tmp_path / "env.exported").iterdir())


def test_every_conversion_call_can_write_its_model():
    """Converted.export calls the surface's call with export_to=: every shipped conversion call takes it."""
    from adapters import jax_onnx, onnx_tf, onnx_torch, tf_onnx, torch_onnx
    for surface in (*torch_onnx.surfaces(), *tf_onnx.surfaces(), *jax_onnx.surfaces(), *onnx_torch.surfaces(),
                    *onnx_tf.surfaces()):
        assert isinstance(surface, Converted), surface.id
        parameter = inspect.signature(surface.call).parameters.get("export_to")
        assert parameter is not None and parameter.default is None, surface.id
