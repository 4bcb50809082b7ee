r"""Dual gradients :math:`\nabla Q(\mu)` on their domains.

Dual potentials of deep diagonal nets have poles (:math:`\nabla Q = \alpha^D h_D(\kappa\mu)` blows
up at :math:`|\kappa\mu| = 1`); past an even-order pole the function comes back finite, so a
root finder that does not know the domain can land on a spurious branch. The domain is the open
interval between the nearest real poles on each side of 0, read off the denominator exactly.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from theory.errors import IbcheckError


def _poles(expr, mu) -> list:
    """Roots in ``mu`` of the denominator of ``expr``."""
    return sp.solve(sp.denom(sp.together(sp.sympify(expr))), mu)


def dual_interval(expr, mu) -> tuple:
    """(lo, hi): the nearest real poles of ``expr`` (numeric except ``mu``) around 0, exact
    SymPy numbers, ``None`` where there is none on that side."""
    roots = [r for r in _poles(expr, mu) if r.is_real]
    neg = [r for r in roots if r < 0]
    pos = [r for r in roots if r > 0]
    return (max(neg) if neg else None, min(pos) if pos else None)


def increasing_inverse(g, target, edges=(None, None)):
    """Solve g(m) = target for g increasing on the open interval ``edges`` around 0 (the dual's
    domain, bounded by poles of g), by bracketing outwards and bisecting inside the domain."""
    g0 = g(mpmath.mpf(0))
    if g0 == target:
        return mpmath.mpf(0)
    up = target > g0
    edge = edges[1] if up else edges[0]
    lo, hi = mpmath.mpf(0), None
    if edge is None:                       # unbounded domain: grow until the target is passed
        step = mpmath.mpf(1) / 64 * (1 if up else -1)
        for _ in range(400):
            if (g(lo + step) >= target) == up:
                hi = lo + step
                break
            lo, step = lo + step, step * 2
        if hi is None:
            raise IbcheckError(f"could not bracket the dual gradient's value {mpmath.nstr(target, 8)}")
    else:
        hi = edge                          # g -> +-infinity at the pole
    eps = mpmath.mpf(10) ** (-(mpmath.mp.dps - 3))
    # Illinois (regula falsi with the retained end's value halved; Dowell & Jarratt 1971,
    # BIT 11:168) inside the bracket, a bisection whenever an end is the pole (no value there) or
    # two steps have not halved the bracket: the root stays bracketed and the stopping rule is
    # the bisection's, so the answer is as accurate, in far fewer evaluations of g
    f_lo, f_hi = g(lo) - target, (None if hi == edge else g(hi) - target)
    side = 0
    width = abs(hi - lo)
    count = 0
    while abs(hi - lo) > eps * max(abs(hi), abs(lo)):
        count += 1
        if f_hi is None or count % 3 == 0 and abs(hi - lo) > width / 2:
            mid = (lo + hi) / 2
        else:
            mid = hi - f_hi * (hi - lo) / (f_hi - f_lo)
            if not (min(lo, hi) < mid < max(lo, hi)):
                mid = (lo + hi) / 2
        if count % 3 == 0:
            width = abs(hi - lo)
        f_mid = g(mid) - target
        if (f_mid >= 0) == up:             # the root lies between lo and mid
            hi, f_hi = mid, f_mid
            if side == -1 and f_lo is not None:
                f_lo /= 2
            side = -1
        else:
            lo, f_lo = mid, f_mid
            if side == 1 and f_hi is not None:
                f_hi /= 2
            side = 1
        if f_mid == 0:
            return mid
    return (lo + hi) / 2


def dual_edges(expr, mu, scale):
    """Nearest real poles of the dual gradient on each side of 0, as functions of the scale."""
    roots = [r for r in _poles(expr, mu) if r.is_real is not False]
    pos = [r for r in roots if sp.sympify(r).subs(scale, 1).is_positive]
    neg = [r for r in roots if sp.sympify(r).subs(scale, 1).is_negative]
    lo = sp.lambdify(scale, max(neg, key=lambda r: r.subs(scale, 1)), "mpmath") if neg else None
    hi = sp.lambdify(scale, min(pos, key=lambda r: r.subs(scale, 1)), "mpmath") if pos else None
    return lo, hi
