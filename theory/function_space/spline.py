r"""The function selected by a wide ReLU network: the :math:`\zeta`-weighted natural spline.

Jin & Montúfar 2023, Thm 1, eq. (5) with anti-symmetric initialization (:math:`f_0\equiv0`):
:math:`g^* = \arg\min \int_S g''(x)^2/\zeta(x)\,dx` s.t. :math:`g(x_j) = y_j`. Between knots the
Euler–Lagrange equation is :math:`(g''/\zeta)'' = 0`, with :math:`g\in C^2`, :math:`g''/\zeta`
continuous and :math:`g''(x_1) = g''(x_M) = 0` (natural ends; App. O, Thm 45). Writing
:math:`g'' = \zeta m` with :math:`m` linear between knots, :math:`m_1 = m_M = 0`, and the moments
(:math:`h_i = x_{i+1}-x_i`)

.. math:: A_i = h_i^{-2}\!\int\zeta(x_{i+1}-t)^2,\quad B_i = h_i^{-2}\!\int\zeta(x_{i+1}-t)(t-x_i),
          \quad D_i = h_i^{-2}\!\int\zeta(t-x_i)^2

over :math:`[x_i, x_{i+1}]`, continuity of :math:`g'` at the interior knots is the symmetric
tridiagonal system
:math:`B_{i-1}m_{i-1} + (D_{i-1}+A_i)m_i + B_i m_{i+1} = \Delta_i-\Delta_{i-1}`,
:math:`\Delta_i = (y_{i+1}-y_i)/h_i` (for :math:`\zeta\equiv1`: the natural cubic spline's
:math:`h/6,\ h/3`), and the energy is
:math:`\int_S g''^2/\zeta = \sum_i A_i m_i^2 + 2B_i m_i m_{i+1} + D_i m_{i+1}^2 = \sum_j m_j(\Delta_j-\Delta_{j-1})`.
[D: re-derived here; the closed form of the system is ours, App. O gives it for constant ζ.]
The moments are exact (SymPy); the system is solved exactly when they are rational, else in
mpmath at ``dps`` digits.
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from .errors import DegeneratePenalty, InvalidData
from ..memo import memo
from .pieces import X, Pieces, less

_U = sp.Dummy("u", real=True)


def validate_data(xs, ys):
    """Sorted exact data; :class:`InvalidData` for repeated x, mismatched lengths, fewer than 2
    points or non-numeric values."""
    if len(xs) != len(ys):
        raise InvalidData(f"{len(xs)} x values but {len(ys)} y values")
    if len(xs) < 2:
        raise InvalidData("the selected function needs at least 2 data points")
    try:
        xs = [sp.Rational(sp.nsimplify(x)) if not isinstance(x, sp.Basic) else sp.sympify(x) for x in xs]
        ys = [sp.nsimplify(y) if not isinstance(y, sp.Basic) else sp.sympify(y) for y in ys]
    except (TypeError, ValueError, sp.SympifyError) as e:
        raise InvalidData(f"data must be numbers: {e}") from None
    for v in xs + ys:
        if not v.is_real or v.free_symbols:
            raise InvalidData(f"data must be real numbers, got {v}")
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    xs, ys = [xs[i] for i in order], [ys[i] for i in order]
    for a, b in zip(xs, xs[1:]):
        if a == b:
            raise InvalidData(f"repeated x = {a}: an interpolant cannot take two values there")
    return tuple(xs), tuple(ys)


def require_positive_on(zeta: Pieces, lo, hi) -> None:
    """:class:`DegeneratePenalty` when zeta vanishes on a sub-interval of the data range."""
    if zeta.exprs and any(e.free_symbols - {X} for e in zeta.exprs):
        raise InvalidData("zeta has free constants; give them values before building the spline")
    gaps = zeta.support_gaps(lo, hi)
    if gaps:
        a, b = gaps[0]
        raise DegeneratePenalty(f"zeta vanishes on ({max(a, lo, key=float)}, {min(b, hi, key=float)}) inside the "
                                f"data range [{lo}, {hi}]: the penalty 1/zeta is infinite there")
    for a, b, e in zeta.refine([lo, hi]).intervals():
        if not less(a, lo) and not less(hi, b):
            mid = (a + b) / 2
            if not sp.N(e.subs(X, mid), 30) > 0:
                raise DegeneratePenalty(f"zeta({mid}) = {e.subs(X, mid)} <= 0 inside the data range")


@dataclass(frozen=True)
class SelectedFunction:
    r""":math:`g^*` on the knots ``xs``: ``m[j]`` = :math:`g''/\zeta` at :math:`x_j`, ``slopes[j]`` =
    :math:`g'(x_j)`, ``energy`` = :math:`\int_S g''^2/\zeta`, ``pieces`` its closed form (linear
    outside :math:`S`), ``exact`` whether all numbers are exact rationals/SymPy expressions
    (otherwise SymPy Floats at ``dps`` digits)."""

    xs: tuple
    ys: tuple
    zeta: Pieces
    m: tuple
    slopes: tuple
    energy: object
    pieces: Pieces
    exact: bool
    dps: int | None
    moments: tuple   # (A_i, B_i, D_i) per interval, exact

    def __call__(self, x0):
        v = self.pieces.at(sp.sympify(x0))
        return v if self.exact else sp.Float(sp.N(v, self.dps + 10), self.dps)

    def second_over_zeta(self):
        """:math:`g''/\\zeta` per interval, linear (a list of expressions in X)."""
        out = []
        for i in range(len(self.xs) - 1):
            a, b = self.xs[i], self.xs[i + 1]
            out.append(self.m[i] * (b - X) / (b - a) + self.m[i + 1] * (X - a) / (b - a))
        return out


@memo(256)
def moments(zeta: Pieces, xs) -> tuple:
    """Exact moments of ``zeta`` on each data interval (memoised, pure: the check rebuilds the
    spline at a second precision from the same zeta)."""
    out = []
    for a, b in zip(xs, xs[1:]):
        h2 = (b - a)**2
        out.append(tuple(sp.simplify(zeta.integral(q, a, b) / h2)
                         for q in ((b - X)**2, (b - X) * (X - a), (X - a)**2)))
    return tuple(out)


def selected_function(xs, ys, zeta: Pieces, *, dps: int = 40) -> SelectedFunction:
    """Build :math:`g^*` (see module doc); exact when the moments are rational."""
    xs, ys = validate_data(xs, ys)
    require_positive_on(zeta, xs[0], xs[-1])
    mom = moments(zeta, xs)
    M = len(xs)
    delta = [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(M - 1)]
    exact = all(v.is_Rational for row in mom for v in row)
    n = M - 2
    if n == 0:
        m = [sp.Integer(0), sp.Integer(0)]
    elif exact:
        A = sp.zeros(n, n)
        r = sp.zeros(n, 1)
        for k in range(n):
            i = k + 1
            A[k, k] = mom[i - 1][2] + mom[i][0]
            if k > 0:
                A[k, k - 1] = mom[i - 1][1]
            if k < n - 1:
                A[k, k + 1] = mom[i][1]
            r[k] = delta[i] - delta[i - 1]
        m = [sp.Integer(0)] + list(A.LUsolve(r)) + [sp.Integer(0)]
    else:
        with mpmath.workdps(dps + 10):
            A = mpmath.matrix(n, n)
            r = mpmath.matrix(n, 1)
            num = lambda e: mpmath.mpf(sp.N(e, dps + 20))
            for k in range(n):
                i = k + 1
                A[k, k] = num(mom[i - 1][2] + mom[i][0])
                if k > 0:
                    A[k, k - 1] = num(mom[i - 1][1])
                if k < n - 1:
                    A[k, k + 1] = num(mom[i][1])
                r[k] = num(delta[i] - delta[i - 1])
            sol = mpmath.lu_solve(A, r)
            m = [sp.Integer(0)] + [sp.Float(str(sol[k]), dps + 10) for k in range(n)] + [sp.Integer(0)]
    slopes = []
    for i in range(M - 1):
        A_i, B_i, D_i = mom[i]
        slopes.append(delta[i] - (A_i * m[i] + B_i * m[i + 1]))
    A_l, B_l, D_l = mom[-1]
    slopes.append(delta[-1] + (B_l * m[-2] + D_l * m[-1]))
    energy = sum((A_i * m[i]**2 + 2 * B_i * m[i] * m[i + 1] + D_i * m[i + 1]**2)
                 for i, (A_i, B_i, D_i) in enumerate(mom))
    pieces = _pieces(zeta, xs, ys, m, slopes)
    energy = sp.nsimplify(sp.simplify(energy)) if exact else sp.Float(sp.N(energy, dps + 10), dps + 10)
    return SelectedFunction(xs, ys, zeta, tuple(m), tuple(slopes), energy, pieces, exact,
                            None if exact else dps, mom)


def _pieces(zeta, xs, ys, m, slopes) -> Pieces:
    r"""Closed form per interval between the knots and zeta's breakpoints:
    :math:`g(x) = y_i + g'(x_i)(x-x_i) + \int_{x_i}^x (x-t)\zeta(t)m(t)\,dt`."""
    inner = [b for b in zeta.breaks[1:-1] if less(xs[0], b) and less(b, xs[-1])]
    z = zeta.refine(list(xs) + inner)
    breaks, exprs = [-sp.oo], [ys[0] + slopes[0] * (X - xs[0])]
    for lo, hi, _ in z.intervals():
        if less(lo, xs[0]) or less(xs[-1], hi):
            continue
        i = max(k for k in range(len(xs) - 1) if not less(lo, xs[k]))
        a, b = xs[i], xs[i + 1]
        h = b - a
        poly = (_U - X) * (m[i] * (b - X) + m[i + 1] * (X - a)) / h
        integral = zeta.integral(poly, a, _U, region=(_U, lo, hi))
        g = ys[i] + slopes[i] * (_U - a) + integral
        breaks.append(lo)
        exprs.append(sp.expand(g.subs(_U, X)))
    breaks += [xs[-1], sp.oo]
    exprs.append(ys[-1] + slopes[-1] * (X - xs[-1]))
    return Pieces(tuple(breaks), tuple(exprs))


def energy_integral(sf: SelectedFunction):
    r""":math:`\int_S (g'')^2/\zeta` computed from the closed-form pieces (an independent route to
    ``sf.energy``)."""
    total = sp.Integer(0)
    z = sf.zeta
    for lo, hi, g in sf.pieces.intervals():
        if less(lo, sf.xs[0]) or less(sf.xs[-1], hi):
            continue
        zk = z.piece_at_interval(lo, hi)
        total += sp.integrate(sp.cancel(sp.diff(g, X, 2)**2 / zk), (X, lo, hi))
    return total
