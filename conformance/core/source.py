"""Code that is both run and shipped: a surface's call is a plain module-level function whose source is also the code
the worker process executes and the reproducers print, so an isolated case, an in-process case and a reproducer run
the same lines.

    @shipped(uses=(helper,))
    def torch_conv_transpose(x, w, b, gy=None, *, rank, stride, ...): ...

A shipped function may read only builtins, what it imports inside its own body, and the shipped functions it names in
`uses` (their source goes first). `free_globals` finds every other global it reads, and the self-tests require none
(tests/test_source.py): so the source alone, pasted into an empty file, runs.
"""

from __future__ import annotations

import ast
import builtins
import dis
import functools
import inspect
import textwrap
import types
from typing import Callable


def shipped(fn: Callable | None = None, *, uses: tuple = ()):
    """Mark `fn` as shipped code that may call the shipped functions `uses` (module doc)."""
    def mark(f: Callable) -> Callable:
        f.__shipped_uses__ = tuple(uses)
        return f
    return mark(fn) if fn is not None else mark


def dependencies(fn: Callable) -> list[Callable]:
    """`fn`'s shipped helpers, depth first, each once, `fn` last."""
    out: list[Callable] = []

    def visit(f: Callable) -> None:
        for dep in getattr(f, "__shipped_uses__", ()):
            visit(dep)
        if f not in out:
            out.append(f)
    visit(fn)
    return out


@functools.lru_cache(maxsize=None)
def source_of(fn: Callable, docstrings: bool = False) -> str:
    """The source of `fn` and of its shipped helpers (helpers first), decorators dropped, and the docstrings too
    unless `docstrings` (they are the code's documentation, not its behaviour: reproducers stay short). Cached per
    function: every record's reproducer prints its surface's call, and reading and parsing the source each time was
    a third of a torch run's wall (8.5 ms per record, measured with cProfile; bench/README.md)."""
    parts = []
    for f in dependencies(fn):
        text = textwrap.dedent(inspect.getsource(f))
        if not docstrings:
            text = _without_docstrings(text)
        lines = text.splitlines()
        while lines and lines[0].lstrip().startswith("@"):
            lines.pop(0)
        parts.append("\n".join(lines))
    return "\n\n\n".join(parts)


def _without_docstrings(text: str) -> str:
    """`text` with the docstring of every function in it removed (line-exact: nothing else moves)."""
    tree = ast.parse(text)
    drop: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str) and len(node.body) > 1:
                drop.update(range(first.lineno, first.end_lineno + 1))
    return "\n".join(line for n, line in enumerate(text.splitlines(), 1) if n not in drop)


def call_line(fn: Callable, target: str, positional: str, kwargs: dict) -> str:
    """`target = fn(positional, k=v, ...)`, every value spelled as its repr (values must round-trip through repr)."""
    args = ", ".join([positional, *(f"{k}={v!r}" for k, v in kwargs.items())])
    line = f"{target} = {fn.__name__}({args})"
    if len(line) <= 118:
        return line
    keywords = "".join(f"    {k}={v!r},\n" for k, v in kwargs.items())
    return f"{target} = {fn.__name__}(\n    {positional},\n" + keywords + ")"


def script(fn: Callable, target: str, positional: str, kwargs: dict) -> str:
    """The function's source (its docstrings left out) and the line that calls it."""
    return source_of(fn) + "\n" + call_line(fn, target, positional, kwargs)


def free_globals(fn: Callable) -> set[str]:
    """The global names `fn` (and every function nested in it) reads that are neither builtins nor the names of its
    shipped helpers: a shipped function must have none (module doc)."""
    allowed = set(dir(builtins)) | {d.__name__ for d in dependencies(fn) if d is not fn}
    names: set[str] = set()

    def visit(code: types.CodeType) -> None:
        for ins in dis.get_instructions(code):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL"):
                names.add(ins.argval)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                visit(const)
    visit(fn.__code__)
    return names - allowed
