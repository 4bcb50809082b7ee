r"""Public hypothesis strategies for property tests of implicit-bias claims.

Use them in your own suite (the ``ibcheck`` pytest plugin picks the quick/deep profile)::

    from hypothesis import given
    from numerics import strategies as ibst

    @given(data=ibst.least_squares(n=3), alpha=ibst.scales())   # keywords: fixtures may follow
    def test_my_law(data, alpha, ibcheck_dps):
        X, y = data
        ...

Everything drawn is exact (SymPy Rationals), so no double-precision value enters a check.
"""
from __future__ import annotations

import sympy as sp
from hypothesis import assume
from hypothesis import strategies as st

from theory.catalog import CATALOG, FLOWS


def rationals(lo: int = -4, hi: int = 4, max_denominator: int = 4) -> st.SearchStrategy:
    """Small exact rationals p/q with p in [lo*q, hi*q]."""
    return st.integers(1, max_denominator).flatmap(
        lambda q: st.integers(lo * q, hi * q).map(lambda p: sp.Rational(p, q)))


def matrices(m: int, n: int, **kw) -> st.SearchStrategy:
    """m x n tuples of exact rationals."""
    return st.lists(st.lists(rationals(**kw), min_size=n, max_size=n), min_size=m, max_size=m).map(
        lambda rows: tuple(tuple(r) for r in rows))


@st.composite
def least_squares(draw, n: int | st.SearchStrategy = 3, m: int | st.SearchStrategy | None = None,
                  sparse_target: bool = True):
    r"""``(X, y)`` with ``X`` of full row rank and ``m < n`` (an underdetermined problem).

    With ``sparse_target`` the data are :math:`y = Xw^\star` for a 1-sparse :math:`w^\star`, so the
    min-:math:`\ell_1` interpolant differs from the min-:math:`\ell_2` one.
    """
    n = draw(n) if isinstance(n, st.SearchStrategy) else n
    if m is None:
        m = draw(st.integers(1, max(1, n - 1)))
    elif isinstance(m, st.SearchStrategy):
        m = draw(m)
    X = draw(matrices(m, n))
    assume(sp.Matrix(X).rank() == m)
    if sparse_target:
        k = draw(st.integers(0, n - 1))
        val = draw(rationals(1, 3).filter(lambda v: v != 0))
        y = tuple(row[k] * val for row in X)
    else:
        y = tuple(draw(rationals()) for _ in range(m))
    assume(any(v != 0 for v in y))
    return X, y


def scales(lo=sp.Rational(1, 10), hi=sp.Integer(2)) -> st.SearchStrategy:
    """Initialization scales alpha in [lo, hi] as exact rationals."""
    lo, hi = sp.Rational(lo), sp.Rational(hi)
    return st.integers(1, 20).map(lambda k: lo + (hi - lo) * sp.Rational(k, 20))


def shapes() -> st.SearchStrategy:
    """Azulay et al.'s init shape s in (-1, 1), exact, away from the endpoints."""
    return st.integers(-8, 8).map(lambda k: sp.Rational(k, 10))


def catalog_names(*, mirror: bool | None = None) -> st.SearchStrategy:
    """Names of catalog entries (only those with/without a mirror potential if ``mirror`` is set)."""
    names = [n for n, e in FLOWS.items() if mirror is None or e.mirror == mirror]
    return st.sampled_from(names)


@st.composite
def catalog_values(draw, name: str):
    """Values for the constants of catalog entry ``name`` (alpha from :func:`scales`, s from :func:`shapes`)."""
    p = CATALOG[name].parameterization()
    out = {}
    for c in p.constants:
        out[c.name] = draw(scales()) if c.name == "alpha" else draw(shapes().filter(lambda s: s != 0))
    return out
