r"""Piecewise functions of one real variable and their polynomial moments.

A :class:`Pieces` is :math:`f(x) = f_k(x)` on :math:`(b_k, b_{k+1})`, with
:math:`b_0 = -\infty < b_1 < \dots < b_K = +\infty`. Integrals
:math:`\int_a^b f(c)\,q(c)\,dc` (:math:`q` a polynomial) are assembled from one antiderivative
:math:`P_{k,j} = \int f_k(c)\,c^j\,dc` per piece and power, so the same moments serve the spline,
its energy and the kernel. A limit of integration may be the free variable itself, provided the
caller says in which interval between breakpoints it lies (``region``): then every comparison
against a breakpoint is decided exactly and the result is a closed form in that variable.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from ..errors import UndecidedError
from ..memo import memo

X = sp.Symbol("x", real=True)

#: ``sp.simplify`` memoised (pure): the same pieces are simplified again for each moment, sum and scale
_simplify = memo(4096)(sp.simplify)


@memo(8192)
def less(a, b) -> bool:
    """Exact ``a < b`` for real SymPy numbers or expressions in positive constants; raises
    :class:`UndecidedError` when SymPy cannot decide it."""
    a, b = sp.sympify(a), sp.sympify(b)
    if a == b:
        return False
    if a == -sp.oo or b == sp.oo:
        return True
    if a == sp.oo or b == -sp.oo:
        return False
    d = _simplify(b - a)
    if d.is_positive:
        return True
    if d.is_nonpositive:
        return False
    raise UndecidedError(f"cannot decide whether {a} < {b}; give the constants numeric values")


def sort_unique(values) -> tuple:
    """``values`` sorted exactly, duplicates (``not a < b and not b < a``) removed."""
    out = []
    for v in map(sp.sympify, values):
        if not any(not less(v, u) and not less(u, v) for u in out):
            out.append(v)
    key = functools.cmp_to_key(lambda p, q: -1 if less(p, q) else (1 if less(q, p) else 0))
    return tuple(sorted(out, key=key))


@dataclass(frozen=True)
class Pieces:
    """``exprs[k]`` (in :data:`X`) holds on ``(breaks[k], breaks[k+1])``; breaks start at -oo and end at oo."""

    breaks: tuple
    exprs: tuple

    def __post_init__(self):
        if len(self.breaks) != len(self.exprs) + 1 or self.breaks[0] != -sp.oo or self.breaks[-1] != sp.oo:
            raise ValueError("Pieces: breaks must run from -oo to oo with one expression per interval")

    # ---- structure -----------------------------------------------------------------------------
    def intervals(self):
        return [(self.breaks[k], self.breaks[k + 1], e) for k, e in enumerate(self.exprs)]

    def refine(self, points) -> "Pieces":
        """The same function with extra breakpoints (finite ``points``)."""
        breaks = sort_unique(list(self.breaks) + [sp.sympify(p) for p in points])
        exprs = [self.piece_at_interval(breaks[k], breaks[k + 1]) for k in range(len(breaks) - 1)]
        return Pieces(breaks, tuple(exprs))

    def piece_at_interval(self, lo, hi):
        for a, b, e in self.intervals():
            if not less(lo, a) and not less(b, hi):
                return e
        raise ValueError(f"({lo}, {hi}) is not inside one piece")

    def merged(self) -> "Pieces":
        """Neighbouring pieces with identical expressions joined."""
        breaks, exprs = [self.breaks[0]], []
        for k, e in enumerate(self.exprs):
            if exprs and _simplify(exprs[-1] - e) == 0:
                breaks[-1] = self.breaks[k + 1]
                continue
            exprs.append(e)
            breaks.append(self.breaks[k + 1])
        return Pieces(tuple(breaks), tuple(exprs))

    def __add__(self, other: "Pieces") -> "Pieces":
        a = self.refine(other.breaks[1:-1])
        b = other.refine(self.breaks[1:-1])
        return Pieces(a.breaks, tuple(_simplify(p + q) for p, q in zip(a.exprs, b.exprs))).merged()

    def scale(self, c) -> "Pieces":
        """``c`` times every piece: simplified when ``c`` is exact; only expanded when it holds a
        Float (an inexact coefficient makes every piece inexact, and ``simplify`` of Float
        expressions costs seconds to gain nothing)."""
        if sp.sympify(c).has(sp.Float):
            return Pieces(self.breaks, tuple(sp.expand(c * e) for e in self.exprs))
        return Pieces(self.breaks, tuple(_simplify(c * e) for e in self.exprs))

    def subs(self, values: dict) -> "Pieces":
        br = [sp.sympify(b).subs(values) for b in self.breaks]
        return Pieces(tuple(br), tuple(sp.sympify(e).subs(values) for e in self.exprs)).merged()

    def at(self, x0):
        """Value at a point (the left piece at a breakpoint; pieces are continuous in use)."""
        for a, b, e in self.intervals():
            if less(a, x0) and not less(b, x0):
                return e.subs(X, x0)
        raise ValueError(f"no piece contains {x0}")

    def as_piecewise(self) -> sp.Expr:
        args = [(e, X <= b) for a, b, e in self.intervals()[:-1]] + [(self.exprs[-1], True)]
        return sp.Piecewise(*args)

    def support_gaps(self, lo, hi) -> list:
        """Sub-intervals of ``[lo, hi]`` where the function is identically 0."""
        gaps = []
        for a, b, e in self.refine([lo, hi]).intervals():
            if not less(a, lo) and not less(hi, b) and _simplify(e) == 0:
                gaps.append((a, b))
        return gaps

    # ---- moments -------------------------------------------------------------------------------
    def antiderivative(self, k: int, j: int):
        return _antiderivative(self.exprs[k], j)

    def integral(self, poly, a, b, region=None):
        r""":math:`\int_a^b f(c)\,q(c)\,dc` with ``poly`` a polynomial in :data:`X` (the integration
        variable). ``a``, ``b`` are numbers, +-oo, or an expression whose position between the
        breakpoints is fixed by ``region = (var, lo, hi)`` (``var`` lies in ``(lo, hi)``, an interval
        between consecutive breakpoints of this function)."""
        q = sp.Poly(sp.expand(poly), X)
        coeffs = {m[0]: c for m, c in q.terms()}
        total = sp.Integer(0)
        for k, (lo, hi, e) in enumerate(self.intervals()):
            if e == 0:
                continue
            left = _max(lo, a, region)
            right = _min(hi, b, region)
            if left is None or right is None or not _lt(left, right, region):
                continue
            for j, c in coeffs.items():
                P = self.antiderivative(k, j)
                total += c * (_value(P, right) - _value(P, left))
        return total


@functools.lru_cache(maxsize=4096)
def _antiderivative(expr, j):
    P = sp.integrate(sp.expand(expr * X**j), X)
    if P.has(sp.Integral):
        raise UndecidedError(f"no elementary antiderivative of {expr * X**j}")
    return P


@functools.lru_cache(maxsize=4096)
def _limit(P, side):
    val = sp.limit(P, X, side)
    if not val.is_finite:
        raise UndecidedError(f"the moment diverges at {side}")
    return val


def _value(P, t):
    if t in (sp.oo, -sp.oo):
        return _limit(P, t)
    return P.subs(X, t)


def _is_var(t, region):
    return region is not None and sp.sympify(t).has(region[0])


def _lt(p, q, region):
    """``p < q`` where either may be the region's variable ``s`` in the open interval
    ``(lo, hi)``, decided from that interval (a breakpoint is never inside a region)."""
    pv, qv = _is_var(p, region), _is_var(q, region)
    if pv and qv:
        return False
    if not pv and not qv:
        return less(p, q)
    _, lo, hi = region
    if pv:  # s < q
        if not less(q, hi):
            return True
        if not less(lo, q):
            return False
    else:   # p < s
        if not less(lo, p):
            return True
        if not less(p, hi):
            return False
    raise UndecidedError(f"cannot order {p} and {q} with {region[0]} in ({lo}, {hi})")


def _max(u, v, region):
    return v if _lt(u, v, region) else u


def _min(u, v, region):
    return u if _lt(u, v, region) else v
