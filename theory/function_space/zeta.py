r"""The curvature weight :math:`\zeta` of an initialization law, in closed form.

Jin & Montúfar 2023, Thm 1 and Prop. 14 (eq. 94):
:math:`\zeta(x) = \int_{\mathbb R} |W|^3\,p_{W,B}(W, -Wx)\,dW = p_C(x)\,\mathbb E[W^2\mid C=x]`,
:math:`C = -B/W` the kink; the penalty of the selected function is :math:`\int_S g''^2/\zeta`.
We keep the two signs of :math:`W` apart, :math:`\zeta = \zeta_+ + \zeta_-` with
:math:`\zeta_\pm(x) = \int_{\pm W > 0} |W|^3 p_{W,B}(W,-Wx)\,dW`, because the kernel needs them
separately (:mod:`.kernel`).

* :class:`~.init_laws.Product` with :math:`W` continuous on :math:`[w_l, w_h]`, :math:`B` on
  :math:`[b_l, b_h]`: for each sign of :math:`W` and each interval of :math:`x` between the
  breakpoints :math:`\{0\}\cup\{-b/w\}` (finite ends), the constraint :math:`-Wx\in[b_l,b_h]`
  is an interval of :math:`W` whose ends are decided exactly at an interior point, and the
  integral is taken in closed form (piecewise in :math:`x`).
* :math:`W` discrete: :math:`\zeta(x) = \sum_k q_k|w_k|^3 p_B(-w_k x)`.
* :class:`~.init_laws.KinkLaw` (:math:`W\perp C`): :math:`p_{W,B}(w,b) = p_W(w)\,p_C(-b/w)/|w|`, so
  :math:`\zeta_\pm(x) = p_C(x)\,\mathbb E[W^2 1_{\pm W>0}]` (Prop. 14; Prop. 15 runs it backwards,
  :func:`kink_law_for_penalty`).
* :class:`~.init_laws.Mixture`: the weighted sum.
"""
from __future__ import annotations

import sympy as sp

from ..errors import UndecidedError
from ..memo import memo
from .init_laws import Atoms, Density, KinkLaw, Mixture, Product, T, require_normalised, uniform
from .errors import InvalidLaw
from .pieces import X, Pieces, less, sort_unique

_ZERO = Pieces((-sp.oo, sp.oo), (sp.Integer(0),))


@memo(256)
def zeta_parts(law, *, check: bool = True) -> tuple:
    r"""``(zeta_plus, zeta_minus)`` as :class:`Pieces` in :data:`~.pieces.X`. Memoised (pure): the
    derivation, the stated curvature weights and the realisations ask for the same law's."""
    if check:
        require_normalised(law)
    if isinstance(law, Mixture):
        zp, zm = _ZERO, _ZERO
        for weight, part in law.parts:
            a, b = zeta_parts(part, check=False)
            zp, zm = zp + a.scale(weight), zm + b.scale(weight)
        return zp, zm
    if isinstance(law, KinkLaw):
        pc = _density_pieces(law.c)
        return pc.scale(_second_moment(law.w, +1)), pc.scale(_second_moment(law.w, -1))
    if isinstance(law, Product):
        if isinstance(law.w, Atoms):
            out = []
            for sign in (+1, -1):
                z = _ZERO
                for w, q in law.w.atoms:
                    if sp.sign(w) == sign:
                        z = z + _atom_zeta(w, q, law.b)
                out.append(z)
            return tuple(out)
        return _continuous_zeta(law.w, law.b, +1), _continuous_zeta(law.w, law.b, -1)
    raise InvalidLaw(f"not an initialization law: {type(law).__name__}")


def zeta(law, *, check: bool = True) -> Pieces:
    r""":math:`\zeta = \zeta_+ + \zeta_-` (piecewise, neighbouring equal pieces merged)."""
    zp, zm = zeta_parts(law, check=check)
    return (zp + zm).merged()


def _density_pieces(d: Density) -> Pieces:
    breaks = sort_unique([b for b in (d.lo, d.hi) if b.is_finite is not False] + [-sp.oo, sp.oo])
    exprs = []
    for a, b in zip(breaks[:-1], breaks[1:]):
        inside = not less(a, d.lo) and not less(d.hi, b)
        exprs.append(sp.sympify(d.expr).subs(T, X) if inside else sp.Integer(0))
    return Pieces(breaks, tuple(exprs)).merged()


def _second_moment(w, sign):
    if isinstance(w, Atoms):
        return sum((q * v**2 for v, q in w.atoms if sp.sign(v) == sign), sp.Integer(0))
    lo, hi = (sp.Max(w.lo, 0), w.hi) if sign > 0 else (w.lo, sp.Min(w.hi, 0))
    lo, hi = sp.simplify(lo), sp.simplify(hi)
    if not less(lo, hi):
        return sp.Integer(0)
    return sp.simplify(sp.integrate(T**2 * w.expr, (T, lo, hi), conds="none"))


def _atom_zeta(w, q, b: Density) -> Pieces:
    r""":math:`q|w|^3 p_B(-wx)` on :math:`\{-wx\in[b_l,b_h]\}`."""
    ends = [e for e in (-b.lo / w, -b.hi / w) if sp.sympify(e).is_finite is not False]
    breaks = sort_unique(ends + [-sp.oo, sp.oo])
    exprs = []
    for a, c in zip(breaks[:-1], breaks[1:]):
        xm = _interior(a, c)
        inside = not less(-w * xm, b.lo) and not less(b.hi, -w * xm)
        exprs.append(sp.simplify(q * abs(w)**3 * b.at(-w * X)) if inside else sp.Integer(0))
    return Pieces(breaks, tuple(exprs)).merged()


def _interior(a, b):
    """An exact point strictly inside ``(a, b)``."""
    if a == -sp.oo and b == sp.oo:
        return sp.Integer(0)
    if a == -sp.oo:
        return b - 1 if not less(0, b) and b != 0 else (2 * b if less(b, 0) else b - 1)
    if b == sp.oo:
        return 2 * a if less(0, a) else a + 1
    return (a + b) / 2


def _continuous_zeta(w: Density, b: Density, sign: int) -> Pieces:
    r""":math:`\zeta_\pm(x) = \int_{\pm W>0} |W|^3 p_W(W) p_B(-Wx)\,dW` piecewise in :math:`x`."""
    wl, wh = (sp.Max(w.lo, 0), w.hi) if sign > 0 else (w.lo, sp.Min(w.hi, 0))
    wl, wh = sp.simplify(wl), sp.simplify(wh)
    if not less(wl, wh):
        return _ZERO
    ends = [sp.Integer(0)]
    for bb in (b.lo, b.hi):
        for ww in (wl, wh):
            if bb.is_finite is not False and ww.is_finite is not False and sp.simplify(ww) != 0:
                ends.append(sp.simplify(-bb / ww))
    breaks = sort_unique(ends + [-sp.oo, sp.oo])
    W = sp.Dummy("W", positive=True) if sign > 0 else sp.Dummy("W", negative=True)
    exprs = []
    for a, c in zip(breaks[:-1], breaks[1:]):
        xm = _interior(a, c)
        xs = sp.Dummy("x", positive=True) if less(0, xm) else sp.Dummy("x", negative=True)
        # -W x in [b_l, b_h]  <=>  W in [-b_h/x, -b_l/x] (x > 0) or [-b_l/x, -b_h/x] (x < 0)
        lows, highs = [wl], [wh]
        lo_b, hi_b = (b.hi, b.lo) if less(0, xm) else (b.lo, b.hi)
        if lo_b.is_finite is not False:
            lows.append(-lo_b / xs)
        if hi_b.is_finite is not False:
            highs.append(-hi_b / xs)
        at = lambda e: sp.sympify(e).subs(xs, xm)
        lo = max(lows, key=lambda e: _Key(at(e)))
        hi = min(highs, key=lambda e: _Key(at(e)))
        if not less(at(lo), at(hi)):
            exprs.append(sp.Integer(0))
            continue
        integrand = (sign * W)**3 * w.at(W) * b.at(-W * xs)
        val = sp.integrate(integrand, (W, lo, hi), conds="none")
        if val.has(sp.Integral):
            raise UndecidedError(f"zeta: no closed form for the integral of {integrand} over W in [{lo}, {hi}]")
        exprs.append(sp.factor(sp.simplify(val)).subs(xs, X))
    return Pieces(breaks, tuple(exprs)).merged()


class _Key:
    """Exact ordering key (so ``max``/``min`` compare with :func:`less`)."""

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return less(self.v, other.v)


def kink_law_for_penalty(rho, lo, hi, *, w=None) -> KinkLaw:
    r"""Proposition 15 of Jin & Montúfar 2023: a law whose penalty :math:`1/\zeta` is proportional to
    the requested :math:`\varrho > 0` on :math:`[lo, hi]`: :math:`p_C = \varrho^{-1}/Z`,
    :math:`Z = \int_{lo}^{hi}\varrho^{-1}`, :math:`W\sim` ``w`` (default :math:`N(0,1)`) independent
    of :math:`C`, :math:`B = -WC`; then :math:`\zeta = p_C\,\mathbb E W^2`."""
    from .init_laws import gaussian

    rho = sp.sympify(rho).subs(X, T)
    Z = sp.integrate(1 / rho, (T, lo, hi), conds="none")
    if Z.has(sp.Integral) or not (Z.is_positive or sp.N(Z) > 0) or not Z.is_finite:
        raise InvalidLaw(f"Proposition 15 needs 0 < integral of 1/rho < oo on [{lo}, {hi}], got {Z}")
    return KinkLaw(w if w is not None else gaussian(1), Density(sp.simplify(1 / (Z * rho)), sp.sympify(lo), sp.sympify(hi)))


__all__ = ["zeta", "zeta_parts", "kink_law_for_penalty", "uniform"]
