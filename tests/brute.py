"""A deliberately naive transposed convolution: one Python loop iteration per (output element, input element,
kernel tap), straight from the definition in ../shared/DESIGN.md. Slow and obviously right; only for tests."""

from __future__ import annotations

import itertools

import numpy as np

from conformance.core.spec import Problem


def conv_transpose_loops(x, w, b, problem: Problem) -> np.ndarray:
    conv, window = problem.conv, problem.window
    cin_g, m_g = conv.c_in // conv.groups, conv.c_out // conv.groups
    y = np.zeros((conv.batch, conv.c_out, *window.length))
    for n, co in itertools.product(range(conv.batch), range(conv.c_out)):
        g, m = divmod(co, m_g)
        for o in itertools.product(*(range(L) for L in window.length)):
            total = float(b[co]) if conv.bias else 0.0
            position = [oo + c for oo, c in zip(o, window.crop)]   # index into the full result
            for ci in range(g * cin_g, (g + 1) * cin_g):
                for i in itertools.product(*(range(s) for s in conv.in_size)):
                    # the tap j with i*s + j*d == position, per dimension, if there is one
                    j = []
                    for ii, s, d, k, p in zip(i, conv.stride, conv.dilation, conv.kernel, position):
                        offset = p - ii * s
                        if offset % d == 0 and 0 <= offset // d < k:
                            j.append(offset // d)
                    if len(j) == conv.rank:
                        total += float(x[(n, ci, *i)]) * float(w[(ci, m, *j)])
            y[(n, co, *o)] = total
    return y
