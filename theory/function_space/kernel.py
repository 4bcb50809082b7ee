r"""The output-layer kernel of an infinitely wide ReLU layer and interpolation with it.

:math:`\tilde\Theta(x_1,x_2) = \int [Wx_1+b]_+[Wx_2+b]_+\,d\mu(W,b)` (Jin & Montúfar 2023,
App. M). With the kink :math:`C=-B/W` and :math:`p_{W,C}(w,c) = |w|\,p_{W,B}(w,-wc)` (Prop. 14),
:math:`[W(x-C)]_+` splits by the sign of :math:`W` and [D: re-derived here]

.. math:: \tilde\Theta(x_1,x_2) = \int\zeta_+(c)\,(x_1-c)_+(x_2-c)_+\,dc
                                 + \int\zeta_-(c)\,(c-x_1)_+(c-x_2)_+\,dc,

with :math:`\zeta_\pm` from :mod:`.zeta`. Kernel interpolation with a free linear term,
:math:`[\tilde\Theta(X,X)\ T;\ T^\top 0][c; u; v] = [y; 0]`, :math:`T = [x, 1]`, gives
:math:`h = \sum_j c_j\tilde\Theta(x_j,\cdot)` with :math:`\sum_j c_j = \sum_j c_j x_j = 0`, i.e.
:math:`h\in G` where :math:`\|h\|^2_{\tilde\Theta} = \int_S h''^2/\zeta` (Thms 42-43); since then
:math:`h''(x) = \tfrac12\zeta(x)\sum_j c_j|x-x_j|`, :math:`h + ux + v` is the variational
:math:`g^*` of :mod:`.spline`. The network of Thm 1 is trained on the adjusted data
:math:`y_j - u x_j - v` and tends to :math:`h`: the theorem's :math:`(u, v)` is this saddle
point's, not the least-squares line of the data (App. K).
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from ..memo import memo
from .pieces import X, Pieces, less, sort_unique
from .spline import validate_data, require_positive_on

_U = sp.Dummy("u", real=True)


@memo(4096)
def kernel_value(zp: Pieces, zm: Pieces, x1, x2):
    r""":math:`\tilde\Theta(x_1, x_2)` at numbers (exact SymPy; memoised, pure: the Gram matrix is
    rebuilt at a second precision and the checks evaluate the same pairs at both)."""
    lo, hi = (x1, x2) if not less(x2, x1) else (x2, x1)
    return sp.simplify(zp.integral((x1 - X) * (x2 - X), -sp.oo, lo)
                       + zm.integral((X - x1) * (X - x2), hi, sp.oo))


def kernel_section(zp: Pieces, zm: Pieces, xj) -> Pieces:
    r""":math:`\tilde\Theta(x_j, x)` as a closed form in :math:`x`, piecewise between
    :math:`x_j` and the breakpoints of :math:`\zeta_\pm`."""
    breaks = sort_unique(list(zp.breaks) + list(zm.breaks) + [xj])
    exprs = []
    for lo, hi in zip(breaks[:-1], breaks[1:]):
        region = (_U, lo, hi)
        left = _U if not less(xj, hi) else xj          # min(x_j, x)
        right = xj if not less(xj, hi) else _U         # max(x_j, x)
        val = (zp.integral((xj - X) * (_U - X), -sp.oo, left, region=region)
               + zm.integral((X - xj) * (X - _U), right, sp.oo, region=region))
        exprs.append(sp.expand(val.subs(_U, X)))
    return Pieces(breaks, tuple(exprs))


@dataclass(frozen=True)
class KernelInterpolant:
    """``c`` (kernel weights), the linear term ``u x + v``, the Gram matrix ``K``; ``pieces`` the
    closed form of :math:`\\sum_j c_j\\tilde\\Theta(x_j,x) + ux + v`; ``network`` that of
    :math:`\\sum_j c_j\\tilde\\Theta(x_j,x)` alone (the infinite-width network on adjusted data)."""

    xs: tuple
    ys: tuple
    c: tuple
    u: object
    v: object
    K: object
    exact: bool
    dps: int | None
    network: Pieces
    pieces: Pieces

    def __call__(self, x0):
        val = self.pieces.at(sp.sympify(x0))
        return val if self.exact else sp.Float(sp.N(val, self.dps + 10), self.dps)


def interpolate(xs, ys, zp: Pieces, zm: Pieces, *, dps: int = 40) -> KernelInterpolant:
    r"""Solve :math:`[\tilde\Theta(X,X)\ T; T^\top\ 0][c;u;v] = [y;0]` (exactly when the Gram
    matrix is rational, else in mpmath at ``dps`` digits)."""
    xs, ys = validate_data(xs, ys)
    require_positive_on((zp + zm).merged(), xs[0], xs[-1])
    M = len(xs)
    K = sp.Matrix(M, M, lambda i, j: kernel_value(zp, zm, xs[i], xs[j]) if i <= j else 0)
    K = K + K.T - sp.diag(*[K[i, i] for i in range(M)])
    A = sp.zeros(M + 2, M + 2)
    A[:M, :M] = K
    for i, x in enumerate(xs):
        A[i, M] = A[M, i] = x
        A[i, M + 1] = A[M + 1, i] = 1
    rhs = sp.Matrix(list(ys) + [0, 0])
    exact = all(e.is_Rational for e in K)
    if exact:
        sol = list(A.LUsolve(rhs))
    else:
        with mpmath.workdps(dps + 10):
            Am = mpmath.matrix([[mpmath.mpf(sp.N(e, dps + 20)) for e in A.row(i)] for i in range(M + 2)])
            bm = mpmath.matrix([mpmath.mpf(sp.N(e, dps + 20)) for e in rhs])
            s = mpmath.lu_solve(Am, bm)
            sol = [sp.Float(str(s[i]), dps + 10) for i in range(M + 2)]
    c, u, v = tuple(sol[:M]), sol[M], sol[M + 1]
    net = Pieces((-sp.oo, sp.oo), (sp.Integer(0),))
    for cj, xj in zip(c, xs):
        net = _add(net, kernel_section(zp, zm, xj).scale(cj))
    full = Pieces(net.breaks, tuple(sp.expand(e + u * X + v) for e in net.exprs))
    return KernelInterpolant(xs, ys, c, u, v, K, exact, None if exact else dps, net, full)


def _add(a: Pieces, b: Pieces) -> Pieces:
    """Sum without simplification (coefficients may be Floats)."""
    a2 = a.refine(b.breaks[1:-1])
    b2 = b.refine(a.breaks[1:-1])
    return Pieces(a2.breaks, tuple(sp.expand(p + q) for p, q in zip(a2.exprs, b2.exprs)))


def least_squares_line(xs, ys) -> tuple:
    """The ordinary least-squares line ``(u, v)`` of the data (what the theorem's term is not)."""
    xs, ys = validate_data(xs, ys)
    T = sp.Matrix([[x, 1] for x in xs])
    sol = (T.T * T).LUsolve(T.T * sp.Matrix(ys))
    return sol[0], sol[1]


def arccos_kernel(sigma_w, sigma_b, x1, x2):
    r"""The literature's closed form for Gaussian :math:`W\sim N(0,\sigma_w^2)`,
    :math:`B\sim N(0,\sigma_b^2)`: the degree-1 arc-cosine kernel (Cho & Saul 2009),
    :math:`\frac{1}{2\pi}\|a\|\|b\|(\sin\theta + (\pi-\theta)\cos\theta)` with
    :math:`a = (\sigma_w x_1, \sigma_b)`, :math:`b = (\sigma_w x_2, \sigma_b)`, :math:`\theta` their angle."""
    na = sp.sqrt(sigma_w**2 * x1**2 + sigma_b**2)
    nb = sp.sqrt(sigma_w**2 * x2**2 + sigma_b**2)
    cos = (sigma_w**2 * x1 * x2 + sigma_b**2) / (na * nb)
    th = sp.acos(cos)
    return na * nb * (sp.sin(th) + (sp.pi - th) * cos) / (2 * sp.pi)
