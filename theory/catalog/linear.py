r"""Deep linear networks :math:`W = U_L \cdots U_1` (matrix-valued parameters).

Source: Marcotte, Gribonval, Peyré, 'Abide by the Law and Follow the Flow: Conservation
Laws for Gradient Flows', NeurIPS 2023, Sec. 4 (linear networks): the laws are the entries of
:math:`U_{k+1}^\top U_{k+1} - U_k U_k^\top` (balancedness; Arora, Cohen, Hazan, ICML 2018), and
there are no others when the widths allow (a two-layer net with hidden width r at most the sum of
its neighbours' widths (and not a single input and output) has :math:`r(r+1)/2` laws; see ``known_law_count`` for the general rule).
Deep linear nets with more than one output do not commute: no mirror potential (Li, Wang,
Lee, Arora et al., NeurIPS 2022, Thm 4.10 gives the bracket test).
"""
from __future__ import annotations

import random

import sympy as sp

from ..claims import ConservedQuantity
from ..parameterization import Parameterization, from_matrices, matrix_symbols

MARCOTTE = ("Marcotte, Gribonval, Peyré, 'Abide by the Law and Follow the Flow: Conservation Laws "
            "for Gradient Flows', NeurIPS 2023, Sec. 4")


def _factors(widths):
    return [(f"U{k + 1}", matrix_symbols(f"U{k + 1}", widths[k + 1], widths[k]))
            for k in range(len(widths) - 1)]


def linear_net(widths=(2, 2, 2), seed: int = 0) -> "Parameterization":
    r""":math:`W = U_L\cdots U_1`, :math:`U_k \in \mathbb R^{d_k \times d_{k-1}}`, widths
    :math:`(d_0, \dots, d_L)`; init: small rationals drawn with ``seed`` (generic point).

    Source: Marcotte et al. 2023, Sec. 4; law count :math:`\sum_{k} d_k(d_k+1)/2` over hidden
    widths for generic architectures.
    """
    widths = tuple(int(d) for d in widths)
    if len(widths) < 3 or min(widths) < 1:
        raise ValueError(f"linear_net needs at least two layers of positive widths, got {widths}")
    facs = _factors(widths)
    out = facs[-1][1]
    for _, F in reversed(facs[:-1]):
        out = out * F
    rng = random.Random(seed)
    init = [sp.Matrix(F.rows, F.cols, lambda a, b: sp.Rational(rng.randint(-9, 9) or 1, 10))
            for _, F in facs]
    name = "linear-net-" + "x".join(map(str, widths))
    return from_matrices(name, facs, out, init, source=MARCOTTE,
                         description=f"W = U_L...U_1, widths {widths}")


def linear_net_literature(widths=(2, 2, 2)) -> tuple:
    r"""Balancedness laws: entries (upper triangle) of :math:`U_{k+1}^\top U_{k+1} - U_k U_k^\top`."""
    facs = _factors(tuple(widths))
    laws = []
    for (_, A), (_, B) in zip(facs, facs[1:]):
        C = B.T * B - A * A.T
        laws.extend(ConservedQuantity(sp.expand(C[i, j]), origin="user")
                    for i in range(C.rows) for j in range(i, C.cols))
    return tuple(laws)


def known_law_count(widths) -> int:
    r"""Number of independent conservation laws of :math:`W = U_L\cdots U_1`, widths
    :math:`(d_0, \dots, d_L)`, where it is established.

    * One output (:math:`d_0 = d_L = 1`): a single field :math:`\nabla G`, so
      :math:`\dim\mathrm{Lie} = 1` and there are :math:`D - 1` laws (e.g. [1, 5, 1]: 9, and
      [1, 3, 3, 1]: 14, more than the 12 independent balancedness entries).
    * Otherwise :math:`\sum_k \bigl[d_k(d_k+1)/2 - e_k(e_k+1)/2\bigr]`,
      :math:`e_k = \max(0, d_k - d_{k-1} - d_{k+1})`: the balancedness matrix
      :math:`U_{k+1}^\top U_{k+1} - U_k U_k^\top` has rank at most :math:`d_{k-1} + d_{k+1}`,
      and symmetric :math:`d_k\times d_k` matrices of rank :math:`\le d_k - e_k` form a set of
      codimension :math:`e_k(e_k+1)/2`. For :math:`e_k = 0` this is Marcotte et al. 2023's
      :math:`\sum_k d_k(d_k+1)/2`. [D: equal to the exact Lie count (theory.laws.lie) for all 64
      two-layer nets with widths 1..4 and the deep nets in tests/test_lie.py.] Not valid when an
      interior width-1 layer cuts off a single-output sub-chain (e.g. [1, 2, 2, 1, 2] has 8
      laws, not 7): use ``theory.laws.lie.lie_count`` there.
    """
    w = tuple(int(d) for d in widths)
    if w[0] == 1 and w[-1] == 1:
        return sum(a * b for a, b in zip(w, w[1:])) - 1
    total = 0
    for k in range(1, len(w) - 1):
        d, e = w[k], max(0, w[k] - w[k - 1] - w[k + 1])
        total += d * (d + 1) // 2 - e * (e + 1) // 2
    return total
