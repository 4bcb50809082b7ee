r"""Direct mpmath quadrature of the defining integrals, independent of the closed-form engine.

* :func:`zeta_quadrature`: :math:`\zeta(x) = \int |w|^3 p_{W,B}(w,-wx)\,dw`, integrated over
  :math:`w` between the points where an indicator switches (support ends of :math:`W`, 0, and
  :math:`w = -b/x` for the ends :math:`b` of :math:`B`'s support);
* :func:`kernel_quadrature`: :math:`\tilde\Theta(x_1,x_2) = \mathbb E[(Wx_1+B)_+(Wx_2+B)_+]`,
  an inner integral over :math:`b > \max(-wx_1,-wx_2)` and an outer one over :math:`w`;
* :func:`mass`: :math:`\int p`.

All at ``dps`` digits inside ``mpmath.workdps``; laws must have numeric constants. Each piece
between break points is integrated by Gauss–Legendre with a two-degree error estimate, falling
back to tanh–sinh (``mpmath.quad``) on infinite pieces or where it does not converge
(:mod:`numerics.gauss`).
"""
from __future__ import annotations

import mpmath
import sympy as sp

from theory.function_space.init_laws import T, Atoms, Density, KinkLaw, Mixture, Product
from theory.memo import memo

from ..gauss import quad as _quad  # sorts and dedups the break points; 0 on fewer than two


def _f(d: Density):
    return sp.lambdify(T, d.expr, "mpmath")


def _ends(d: Density):
    conv = lambda e: mpmath.inf if e == sp.oo else (-mpmath.inf if e == -sp.oo else mpmath.mpf(sp.N(e, mpmath.mp.dps + 10)))
    return conv(d.lo), conv(d.hi)


def _inside(t, lo, hi):
    return lo <= t <= hi


def mass(d: Density, dps: int):
    with mpmath.workdps(dps):
        lo, hi = _ends(d)
        return +_quad(_f(d), [lo, hi])


@memo(512)
def zeta_quadrature(law, x, dps: int):
    """:math:`\\zeta(x)` at ``dps`` digits. Memoised (a pure function of its arguments): the stated
    curvature weights and the penalty realisations of one entry ask for the same values."""
    with mpmath.workdps(dps):
        return +_zeta(law, mpmath.mpf(x) if not isinstance(x, sp.Basic) else mpmath.mpf(sp.N(x, dps + 10)))


def _zeta(law, x):
    if isinstance(law, Mixture):
        return mpmath.fsum(mpmath.mpf(sp.N(p, mpmath.mp.dps + 10)) * _zeta(m, x) for p, m in law.parts)
    if isinstance(law, KinkLaw):
        cl, ch = _ends(law.c)
        if not _inside(x, cl, ch):
            return mpmath.mpf(0)
        pc = _f(law.c)(x)
        if isinstance(law.w, Atoms):
            return pc * mpmath.fsum(mpmath.mpf(sp.N(q, 40)) * mpmath.mpf(sp.N(v, 40))**2 for v, q in law.w.atoms)
        pw = _f(law.w)
        wl, wh = _ends(law.w)
        # the joint density p_W(w) p_C(-b/w)/|w| at b = -wx, times |w|^3
        return _quad(lambda w: abs(w)**3 * pw(w) * pc / abs(w) if w != 0 else mpmath.mpf(0),
                     [wl, wh] + ([0] if wl < 0 < wh else []))
    if isinstance(law, Product):
        pb = _f(law.b)
        bl, bh = _ends(law.b)
        if isinstance(law.w, Atoms):
            tot = mpmath.mpf(0)
            for v, q in law.w.atoms:
                v = mpmath.mpf(sp.N(v, mpmath.mp.dps + 10))
                if _inside(-v * x, bl, bh):
                    tot += mpmath.mpf(sp.N(q, mpmath.mp.dps + 10)) * abs(v)**3 * pb(-v * x)
            return tot
        pw = _f(law.w)
        wl, wh = _ends(law.w)

        def integrand(w):
            b = -w * x
            return abs(w)**3 * pw(w) * pb(b) if _inside(b, bl, bh) else mpmath.mpf(0)

        pts = [wl, wh, mpmath.mpf(0)]
        if x != 0:
            pts += [-e / x for e in (bl, bh) if mpmath.isfinite(e)]
        pts = [p for p in pts if wl <= p <= wh]
        return _quad(integrand, pts)
    raise TypeError(f"not an initialization law: {type(law).__name__}")


def kernel_quadrature(law, x1, x2, dps: int):
    with mpmath.workdps(dps):
        x1 = mpmath.mpf(sp.N(x1, dps + 10))
        x2 = mpmath.mpf(sp.N(x2, dps + 10))
        return +_kernel(law, x1, x2)


def _kernel(law, x1, x2):
    if isinstance(law, Mixture):
        return mpmath.fsum(mpmath.mpf(sp.N(p, mpmath.mp.dps + 10)) * _kernel(m, x1, x2) for p, m in law.parts)
    if not isinstance(law, Product):
        raise TypeError("kernel_quadrature handles products and mixtures of products")
    pb = _f(law.b)
    bl, bh = _ends(law.b)

    def inner(w):
        lo = max(bl, -w * x1, -w * x2)
        if lo >= bh:
            return mpmath.mpf(0)
        return _quad(lambda b: (w * x1 + b) * (w * x2 + b) * pb(b), [lo, bh])

    if isinstance(law.w, Atoms):
        return mpmath.fsum(mpmath.mpf(sp.N(q, mpmath.mp.dps + 10)) * inner(mpmath.mpf(sp.N(v, mpmath.mp.dps + 10)))
                           for v, q in law.w.atoms)
    pw = _f(law.w)
    wl, wh = _ends(law.w)
    pts = [wl, wh, mpmath.mpf(0)]
    for xx in (x1, x2):
        if xx != 0:
            pts += [-e / xx for e in (bl, bh) if mpmath.isfinite(e)]
    pts = [p for p in pts if wl <= p <= wh]
    return _quad(lambda w: pw(w) * inner(w), pts)
