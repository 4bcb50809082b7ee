r"""Reference solutions, computed without any flow, that flow limits are compared against.

* :func:`min_l2_interpolant`: :math:`\arg\min\|w - w_0\|_2` s.t. :math:`Xw = y`, exact over
  :math:`\mathbb Q`: :math:`w = w_0 + X_B^\top (X_B X_B^\top)^{-1}(y - Xw_0)` on a maximal set
  :math:`B` of independent rows (redundant consistent rows are dropped, inconsistent ones refused).
* :func:`min_l1_interpolant`: :math:`\arg\min\|w\|_1` s.t. :math:`Xw = y` as the exact LP
  :math:`\min \mathbf 1^\top(p + q)` s.t. :math:`X(p - q) = y`, :math:`p, q \ge 0`, solved by a
  two-phase tableau simplex over :class:`~fractions.Fraction` with Bland's rule (terminates, no
  rounding). Uniqueness is decided exactly: the optimal face is a single point iff
  :math:`\min w_i = \max w_i` over it for every i (2n further LPs).
* :func:`bregman_projection`: the KKT point of :math:`\arg\min D_R(w, w_0)` s.t. :math:`Xw = y`
  at high precision: with :math:`\nabla R(w_0) = 0` the conditions are
  :math:`\nabla R(w) = X^\top\lambda`, :math:`Xw = y`, i.e. :math:`w = \nabla Q(X^\top\lambda)`
  (:math:`Q = R^*`) and :math:`F(\lambda) = X\nabla Q(X^\top\lambda) - y = 0`, solved by damped
  Newton on the m unknowns :math:`\lambda` with Jacobian :math:`X\,\nabla^2Q(X^\top\lambda)\,X^\top`
  (Gunasekar, Lee, Soudry, Srebro, "Characterizing Implicit Bias in Terms of Optimization
  Geometry", ICML 2018, Thm 1: mirror descent with potential R on an underdetermined least-squares
  problem converges to this point).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import mpmath
import sympy as sp

from .errors import NotConverged, ProblemError
from .taylor.jets import exact_to_mpf
from .problems import _data, exact_number, exact_rank

__all__ = ["min_l2_interpolant", "min_l1_interpolant", "L1Solution", "bregman_projection",
           "BregmanProjection", "BregmanFailure", "coordinate_function"]


class BregmanFailure(NotConverged):
    """Newton on the dual of the Bregman projection failed (singular Jacobian, no convergence,
    a map leaving its domain); the message names which."""


# ---- exact linear algebra over Fractions ----------------------------------------------------------
def _fractions(X, y):
    Xe, ye = _data(X, y)
    F = lambda r: Fraction(int(r.p), int(r.q))
    return [[F(a) for a in row] for row in Xe], [F(b) for b in ye]


def _independent_rows(A, b) -> list[int]:
    """Indices of a maximal set of independent rows of A; raises ProblemError when a dependent
    row contradicts the others (the system Aw = b is infeasible)."""
    basis: list[tuple[list, Fraction, int]] = []   # reduced rows (row, rhs, pivot column)
    keep = []
    for idx, (row, rhs) in enumerate(zip(A, b)):
        r, c = list(row), rhs
        for prow, prhs, pcol in basis:
            if r[pcol] != 0:
                f = r[pcol] / prow[pcol]
                r = [x - f * z for x, z in zip(r, prow)]
                c -= f * prhs
        pcol = next((j for j, x in enumerate(r) if x != 0), None)
        if pcol is None:
            if c != 0:
                raise ProblemError(f"infeasible: equation {idx} of X w = y contradicts the previous ones "
                                   f"(its row is a combination of theirs, its right-hand side is off by {c})")
            continue
        basis.append((r, c, pcol))
        keep.append(idx)
    return keep


def _solve(A, b) -> list[Fraction]:
    """Solve the nonsingular square system A z = b exactly (Gauss-Jordan with pivot search)."""
    k = len(A)
    M = [list(row) + [rhs] for row, rhs in zip(A, b)]
    for col in range(k):
        piv = next(i for i in range(col, k) if M[i][col] != 0)
        M[col], M[piv] = M[piv], M[col]
        p = M[col][col]
        M[col] = [x / p for x in M[col]]
        for i in range(k):
            if i != col and M[i][col] != 0:
                f = M[i][col]
                M[i] = [x - f * z for x, z in zip(M[i], M[col])]
    return [M[i][k] for i in range(k)]


def _rat(f: Fraction) -> sp.Rational:
    return sp.Rational(f.numerator, f.denominator)


def min_l2_interpolant(X, y, w0=None) -> tuple:
    r""":math:`\arg\min_w \|w - w_0\|_2` s.t. :math:`Xw = y`, exactly (tuple of SymPy Rationals).

    :math:`w = w_0 + X_B^\top z`, :math:`X_B X_B^\top z = y_B - X_B w_0` with :math:`B` a maximal set
    of independent rows; the Gram matrix is nonsingular, the solution exact. Infeasible systems
    raise :class:`ProblemError`.
    """
    A, b = _fractions(X, y)
    n = len(A[0])
    if w0 is None:
        w0f = [Fraction(0)] * n
    else:
        w0e = [exact_number(v, f"w0[{i}]", rational=True) for i, v in enumerate(w0)]
        if len(w0e) != n:
            raise ProblemError(f"w0 has {len(w0e)} entries but X has n={n} columns")
        w0f = [Fraction(int(v.p), int(v.q)) for v in w0e]
    r = [bi - sum(a * w for a, w in zip(row, w0f)) for row, bi in zip(A, b)]
    keep = _independent_rows(A, r)
    AB, rB = [A[i] for i in keep], [r[i] for i in keep]
    gram = [[sum(a * c for a, c in zip(ri, rj)) for rj in AB] for ri in AB]
    z = _solve(gram, rB)
    return tuple(_rat(w0f[i] + sum(AB[j][i] * z[j] for j in range(len(AB)))) for i in range(n))


# ---- exact simplex --------------------------------------------------------------------------------
class _Infeasible(Exception):
    pass


class _Unbounded(Exception):
    pass


def _pivot(T, basis, r, c):
    p = T[r][c]
    T[r] = [x / p for x in T[r]]
    for i in range(len(T)):
        if i != r and T[i][c] != 0:
            f = T[i][c]
            T[i] = [x - f * z for x, z in zip(T[i], T[r])]
    basis[r] = c


def _optimise(T, basis, cost, allowed):
    """Primal simplex on tableau T (last column = rhs) for min cost^T z; Bland's rule (smallest
    entering index with negative reduced cost, smallest leaving basis index among ties)."""
    while True:
        cb = [cost[j] for j in basis]
        enter = None
        for j in allowed:
            rc = cost[j] - sum(cb[i] * T[i][j] for i in range(len(T)) if T[i][j] != 0)
            if rc < 0:
                enter = j
                break
        if enter is None:
            return
        best = None
        for i, row in enumerate(T):
            if row[enter] > 0:
                ratio = row[-1] / row[enter]
                if best is None or ratio < best[0] or (ratio == best[0] and basis[i] < basis[best[1]]):
                    best = (ratio, i)
        if best is None:
            raise _Unbounded
        _pivot(T, basis, best[1], enter)


def _simplex(c, A, b):
    """min c^T z s.t. A z = b, z >= 0, exactly; returns (value, z). Two phases with artificials."""
    m, N = len(A), len(c)
    T = []
    for row, rhs in zip(A, b):
        s = -1 if rhs < 0 else 1
        T.append([s * x for x in row] + [Fraction(0)] * m + [s * rhs])
    for i in range(m):
        T[i][N + i] = Fraction(1)
    basis = [N + i for i in range(m)]
    cost1 = [Fraction(0)] * N + [Fraction(1)] * m
    _optimise(T, basis, cost1, range(N))
    if sum(T[i][-1] for i in range(m) if basis[i] >= N) != 0:
        raise _Infeasible
    # drive artificials (at level 0) out of the basis; rows where that is impossible are redundant
    i = 0
    while i < len(T):
        if basis[i] >= N:
            j = next((j for j in range(N) if T[i][j] != 0), None)
            if j is None:
                del T[i], basis[i]
                continue
            _pivot(T, basis, i, j)
        i += 1
    T = [row[:N] + [row[-1]] for row in T]
    _optimise(T, basis, list(c), range(N))
    z = [Fraction(0)] * N
    for i, j in enumerate(basis):
        z[j] = T[i][-1]
    return sum(cj * zj for cj, zj in zip(c, z)), z


@dataclass(frozen=True)
class L1Solution:
    r"""An exact minimiser of :math:`\|w\|_1` s.t. :math:`Xw = y`.

    ``unique`` is ``True``/``False`` when decided (``None`` if not checked); ``box`` gives, per
    coordinate, the exact range :math:`[\min w_i, \max w_i]` over all minimisers, and
    ``alternative`` a second minimiser when the minimiser is not unique.
    """

    w: tuple
    value: sp.Rational
    unique: bool | None = None
    box: tuple | None = None
    alternative: tuple | None = None


def min_l1_interpolant(X, y, *, check_unique: bool = True, nonnegative: bool = False) -> L1Solution:
    r""":math:`\arg\min \|w\|_1` s.t. :math:`Xw = y`, exactly, as the LP
    :math:`\min \mathbf 1^\top(p+q)`, :math:`X(p-q) = y`, :math:`p, q\ge0` (exact simplex, Bland's rule).

    With ``check_unique`` the optimal face :math:`\{Xw = y, \|w\|_1 = v^*\}` is probed by 2n LPs
    (:math:`\min/\max w_i`); it is a point iff every range is degenerate. At a minimiser
    :math:`p_i q_i = 0` (else lowering both lowers the objective), so ranges in (p, q) are ranges in w.
    With ``nonnegative`` the feasible set is :math:`\{Xw = y, w \ge 0\}` (sign-constrained models
    such as :math:`w = u\odot u`), the LP :math:`\min \mathbf 1^\top w`.
    """
    A, b = _fractions(X, y)
    n = len(A[0])
    if nonnegative:            # variables w >= 0 directly
        Aeq, to_w = A, (lambda z: list(z))
    else:                      # w = p - q with p, q >= 0
        Aeq, to_w = [row + [-x for x in row] for row in A], (lambda z: [z[i] - z[n + i] for i in range(n)])
    N = len(Aeq[0])
    ones = [Fraction(1)] * N
    try:
        value, z = _simplex(ones, Aeq, b)
    except _Infeasible:
        _independent_rows(A, b)   # names the contradicting equation
        sign = " with w >= 0" if nonnegative else ""
        raise ProblemError(f"infeasible: X w = y has no solution{sign}") from None
    w = to_w(z)
    if not check_unique:
        return L1Solution(tuple(map(_rat, w)), _rat(value))
    Aface, bface = Aeq + [ones], b + [value]
    box, alternative = [], None
    for i in range(n):
        e = [Fraction(0)] * N      # the linear form w_i in the LP's variables
        e[i] = Fraction(1)
        if not nonnegative:
            e[n + i] = Fraction(-1)
        lo, zlo = _simplex(e, Aface, bface)
        mhi, zhi = _simplex([-x for x in e], Aface, bface)
        box.append((_rat(lo), _rat(-mhi)))
        if alternative is None and lo != -mhi:
            alternative = next((tuple(map(_rat, c)) for c in (to_w(zlo), to_w(zhi)) if c != w), None)
    unique = all(lo == hi for lo, hi in box)
    return L1Solution(tuple(map(_rat, w)), _rat(value), unique, tuple(box), alternative)


# ---- coordinate maps at working precision ---------------------------------------------------------
@dataclass(frozen=True)
class _Map:
    """Per-coordinate scalar maps f_i with optional derivatives df_i (mpmath callables)."""

    f: tuple
    df: tuple   # entries may be None (then mpmath.diff)

    def value(self, i, x):
        return self.f[i](x)

    def deriv(self, i, x):
        d = self.df[i]
        return d(x) if d is not None else mpmath.diff(self.f[i], x)


def coordinate_function(expr, var=None) -> tuple[Callable, Callable]:
    r"""An exact SymPy expression of one variable as the pair (f, f') of mpmath callables.

    Rationals and exact constants are evaluated at the caller's working precision
    (``lambdify(..., "mpmath")`` prints them as ``mpf(p)/mpf(q)``); floats are refused.
    """
    e = sp.sympify(expr)
    if e.has(sp.Float):
        raise ProblemError(f"{e} contains floating-point constants; use exact Rationals")
    free = e.free_symbols
    if var is None:
        if len(free) != 1:
            raise ProblemError(f"{e} must depend on exactly one variable (substitute the constants "
                               f"first); free symbols: {sorted(map(str, free)) or 'none'}")
        var = next(iter(free))
    elif free - {var}:
        raise ProblemError(f"{e} depends on {sorted(map(str, free - {var}))} besides {var}; "
                           f"substitute the constants first")
    f = sp.lambdify([var], e, modules="mpmath")
    df = sp.lambdify([var], sp.diff(e, var), modules="mpmath")
    return f, df


def _coordinate_maps(spec, deriv, n: int, what: str) -> _Map | None:
    if spec is None:
        return None
    items = list(spec) if isinstance(spec, (list, tuple)) else [spec] * n
    if len(items) != n:
        raise ProblemError(f"{what}: {len(items)} per-coordinate maps for n={n} coordinates")
    ds = list(deriv) if isinstance(deriv, (list, tuple)) else [deriv] * n
    if len(ds) != n:
        raise ProblemError(f"{what}: {len(ds)} per-coordinate derivatives for n={n} coordinates")
    fs, dfs = [], []
    for i, (it, d) in enumerate(zip(items, ds)):
        if isinstance(it, sp.Basic):
            f, df = coordinate_function(it)
            fs.append(f)
            dfs.append(d if d is not None else df)
        elif callable(it):
            fs.append(it)
            dfs.append(d)
        else:
            raise ProblemError(f"{what}[{i}]: expected a callable or a SymPy expression, got {it!r}")
    return _Map(tuple(fs), tuple(dfs))


# ---- Bregman projection ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BregmanProjection:
    r"""The KKT point :math:`(w, \lambda)` of :math:`\min D_R(w, w_0)` s.t. :math:`Xw = y`.

    ``residuals`` is the history of :math:`\|Xw - y\|_\infty` over the Newton iterates (first at the
    start), ``residual`` its final value, ``kkt_residual`` :math:`\|\nabla R(w) - X^\top\lambda\|_\infty`
    when :math:`\nabla R` was given, ``error_estimate`` :math:`\|w - w_{hi}\|_\infty` against a solve
    with 20 more digits. Values are mpf at ``dps + guard`` digits. Unpacks as ``w, lam, residuals``.
    """

    w: tuple
    lam: tuple
    residuals: tuple
    residual: object
    kkt_residual: object
    iterations: int
    dps: int
    error_estimate: object = None

    def __iter__(self):
        return iter((self.w, self.lam, self.residuals))


def _to_mpf(r):
    """An exact SymPy number at the current working precision (never through a float)."""
    return exact_to_mpf(r, mpmath.mp.prec)


def _real(v, what):
    if isinstance(v, mpmath.mpc):
        if v.imag != 0:
            raise _OutOfDomain(f"{what} is complex ({v})")
        v = v.real
    v = mpmath.mpf(v)
    if not mpmath.isfinite(v):
        raise _OutOfDomain(f"{what} is not finite ({v})")
    return v


class _OutOfDomain(Exception):
    pass


def _inside(x, dom):
    return dom is None or ((dom[0] is None or x > dom[0]) and (dom[1] is None or x < dom[1]))


def _invert(g: Callable, dg: Callable, mu, start, dom, what):
    r"""Solve :math:`g(w) = \mu` for increasing g: mpmath.findroot from ``start``, else on a bracket."""
    tol = mpmath.mpf(10) ** (-(mpmath.mp.dps - 5)) * max(1, abs(mu))

    def ok(w):
        try:
            w = _real(w, what)
            return _inside(w, dom) and abs(_real(g(w), what) - mu) <= tol
        except (_OutOfDomain, ValueError, ZeroDivisionError):
            return False

    try:
        w = mpmath.findroot(lambda t: g(t) - mu, start, solver="newton", df=dg, verify=False)
        if ok(w):
            return _real(w, what)
    except (ValueError, ZeroDivisionError, TypeError):
        pass
    lo_dom = dom[0] if dom is not None else None
    hi_dom = dom[1] if dom is not None else None
    a = b = mpmath.mpf(start)
    going_up = _real(g(a), what) < mu
    step = mpmath.mpf(1)
    for _ in range(4 * mpmath.mp.prec):
        lim = hi_dom if going_up else lo_dom
        if lim is None:
            c = b + step if going_up else b - step
            step *= 2
        else:
            c = (b + lim) / 2
        gc = _real(g(c), what)
        if (gc >= mu) if going_up else (gc <= mu):
            a, b = (b, c) if going_up else (c, b)
            break
        b = c
    else:
        raise _OutOfDomain(f"{what}: no bracket for the value {mu}")
    # safeguarded Newton on the bracket [a, b] (g(a) <= mu <= g(b)): a bisection whenever the
    # Newton step leaves the bracket, so it always terminates, even for log-like g near 0
    for _ in range(8 * mpmath.mp.prec):
        c = (a + b) / 2
        try:
            gc = _real(g(c), what)
            dc = _real(dg(c), what)
            nc = c - (gc - mu) / dc if dc > 0 else c
            if a < nc < b:
                c, gc = nc, _real(g(nc), what)
        except (ValueError, ZeroDivisionError):
            gc = _real(g(c), what)
        if abs(gc - mu) <= tol / 16 or b - a <= 4 * mpmath.eps * max(abs(a), abs(b)):
            break
        if gc < mu:
            a = c
        else:
            b = c
    if not ok(c):
        raise _OutOfDomain(f"{what}: could not solve for the value {mu}")
    return _real(c, what)


def _gauss(A, b, eps):
    """Solve A x = b by Gaussian elimination with partial pivoting (A small, square, at the current
    precision); ZeroDivisionError when a pivot is below m * eps times the largest entry."""
    m = len(A)
    M = [list(row) + [v] for row, v in zip(A, b)]
    big = max(abs(x) for row in A for x in row)
    for c in range(m):
        r = max(range(c, m), key=lambda i: abs(M[i][c]))
        if big == 0 or abs(M[r][c]) <= m * eps * big:
            raise ZeroDivisionError
        M[c], M[r] = M[r], M[c]
        for i in range(c + 1, m):
            f = M[i][c] / M[c][c]
            if f:
                M[i] = [x - f * z for x, z in zip(M[i], M[c])]
    x = [mpmath.mpf(0)] * m
    for i in reversed(range(m)):
        x[i] = (M[i][m] - mpmath.fsum(M[i][k] * x[k] for k in range(i + 1, m))) / M[i][i]
    return x


class _NeedPrecision(Exception):
    def __init__(self, dps, lam):
        super().__init__(dps)
        self.dps, self.lam = dps, lam


def _project(Xm, ym, qmap, rmap, w_start, lam0, *, domain_mu, domain_w, tol, max_iter, label, max_dps):
    """Damped Newton on F(lam) = X w(X^T lam) - y at the current precision."""
    m, n = len(Xm), len(Xm[0])
    eps = mpmath.mpf(2) ** (-mpmath.mp.prec)
    warm = list(w_start)

    def evaluate(lam):
        mu = [mpmath.fsum(Xm[j][i] * lam[j] for j in range(m)) for i in range(n)]
        w, h = [], []
        for i in range(n):
            if not _inside(mu[i], domain_mu):
                raise _OutOfDomain(f"mu_{i + 1} = {mpmath.nstr(mu[i], 8)} left the dual domain {domain_mu}")
            if qmap is not None:
                wi = _real(qmap.value(i, mu[i]), f"grad Q(mu_{i + 1})")
                hi = _real(qmap.deriv(i, mu[i]), f"hess Q(mu_{i + 1})")
                if hi <= 0:  # Q is convex on its domain: a non-positive Hessian means a spurious branch
                    raise _OutOfDomain(f"hess Q(mu_{i + 1} = {mpmath.nstr(mu[i], 8)}) = {mpmath.nstr(hi, 8)} "
                                       "is not positive (past a pole of grad Q?)")
            else:
                wi = _invert(lambda t, i=i: rmap.value(i, t), lambda t, i=i: rmap.deriv(i, t), mu[i], warm[i],
                             domain_w, f"grad R_{i + 1}")
                d2 = _real(rmap.deriv(i, wi), f"hess R(w_{i + 1})")
                if d2 <= 0:
                    raise _OutOfDomain(f"hess R(w_{i + 1}) = {mpmath.nstr(d2, 8)} is not positive")
                hi = 1 / d2
            w.append(wi)
            h.append(hi)
        F = [mpmath.fsum(Xm[j][i] * w[i] for i in range(n)) - ym[j] for j in range(m)]
        size = max([mpmath.mpf(1)] + [abs(v) for v in ym] +
                   [mpmath.fsum(abs(Xm[j][i] * w[i]) for i in range(n)) for j in range(m)])
        return mu, w, h, F, size

    lam = list(lam0)
    try:
        mu, w, h, F, size = evaluate(lam)
    except _OutOfDomain as exc:
        raise BregmanFailure(f"{label}: the starting multipliers are outside the maps' domain: {exc}") from None
    norm = lambda v: max(abs(x) for x in v)
    hist = [norm(F)]
    radius = mpmath.mpf(1)      # trust radius on the dual step max|d mu_i|, adapted below
    it = 0
    stalled = False
    for it in range(1, max_iter + 1):
        if norm(F) <= 64 * n * eps * size:
            break
        J = [[mpmath.fsum(Xm[a][i] * h[i] * Xm[c][i] for i in range(n)) for c in range(m)] for a in range(m)]
        try:
            delta = _gauss(J, [-f for f in F], eps)
        except ZeroDivisionError:
            # X diag(h) X^T loses the small h_i against the large ones when max h / min h exceeds
            # the precision (sparse limits: h_i ~ alpha^2 off the support). The Jacobian is then
            # not singular, only unresolved: ask for enough digits, else it truly is singular.
            if all(x > 0 for x in h):
                need = int(mpmath.mp.dps + mpmath.log10(max(h) / min(h))) + 10
                if mpmath.mp.dps < need <= max_dps:
                    raise _NeedPrecision(need, lam) from None
            raise BregmanFailure(f"{label}: singular Jacobian X diag(hess Q) X^T at Newton iteration {it} "
                                 f"(hess Q = {[mpmath.nstr(x, 5) for x in h]}); is X of full row rank and "
                                 f"Q strictly convex there?") from None
        if not all(mpmath.isfinite(d) for d in delta):
            raise BregmanFailure(f"{label}: Newton step not finite at iteration {it} (ill-conditioned Jacobian)")
        dmu = max(abs(mpmath.fsum(Xm[j][i] * delta[j] for j in range(m))) for i in range(n))
        t = min(mpmath.mpf(1), radius / dmu) if dmu > 0 else mpmath.mpf(1)
        capped = t < 1
        phi = mpmath.fsum(f * f for f in F)
        accepted = False
        for _ in range(80):
            trial = [l + t * d for l, d in zip(lam, delta)]
            try:
                res = evaluate(trial)
            except _OutOfDomain:
                t /= 2
                continue
            if mpmath.fsum(f * f for f in res[3]) <= (1 - t / 10000) * phi:
                accepted = True
                break
            t /= 2
        if not accepted:
            stalled = True
            break
        lam, (mu, w, h, F, size) = trial, res
        warm = list(w)
        hist.append(norm(F))
        radius = radius * 4 if capped and t * dmu >= radius / 2 else max(radius, t * dmu)
    else:
        stalled = None
    if norm(F) > tol * size:
        why = ("the damped step could not lower the residual" if stalled else
               f"max_iter={max_iter} iterations were not enough" if stalled is None else "")
        raise BregmanFailure(f"{label}: Newton did not converge: ||Xw - y|| = {mpmath.nstr(norm(F), 5)} "
                             f"> tol {mpmath.nstr(tol * size, 5)} after {it} iterations ({why})")
    return w, lam, mu, hist, it


def bregman_projection(grad_R=None, X=None, y=None, w0=None, *, dps: int = 30, dual_grad=None,
                       dual_hess=None, hess_R=None, tol=None, dual_domain=None, primal_domain=None,
                       lam0=None, max_iter: int = 500, guard: int = 10, max_dps: int | None = None,
                       estimate: bool = True) -> BregmanProjection:
    r"""The KKT point of :math:`\arg\min D_R(w, w_0)` s.t. :math:`Xw = y`, separable R.

    Give the dual gradient :math:`\nabla Q = (\nabla R)^{-1}` per coordinate (``dual_grad``: one
    callable/SymPy expression for all coordinates or a sequence of n) -- explicit for every catalog
    entry, even where :math:`\nabla R` is not elementary -- or only ``grad_R`` (inverted coordinatewise
    with mpmath.findroot). Normalisation :math:`\nabla R(w_0) = 0`, i.e. :math:`\nabla Q(0) = w_0`, is
    checked when ``w0`` is given. Newton on :math:`X\nabla Q(X^\top\lambda) = y` with Jacobian
    :math:`X\,\mathrm{diag}(\nabla^2 Q)\,X^\top` (``dual_hess``/``hess_R`` if supplied, exact for SymPy
    input, else mpmath.diff), a trust radius on :math:`\max_i|\Delta\mu_i|` plus Armijo backtracking,
    at ``dps + guard`` digits until the residual reaches the rounding floor; it must end below
    ``tol`` (default :math:`10^{-\mathrm{dps}}` times the data's size). ``dual_domain`` /
    ``primal_domain`` are open intervals ``(lo, hi)`` (``None`` = unbounded) the maps need.
    ``estimate`` re-solves with 20 more digits and reports :math:`\|w - w_{hi}\|_\infty`.
    When :math:`\max_i \nabla^2Q_i / \min_i \nabla^2Q_i` outruns the precision (near-sparse limits,
    :math:`\alpha \to 0`), Newton restarts with enough more digits (up to ``max_dps``, default
    ``10 (dps + guard)``); ``BregmanProjection.dps`` reports the precision finally used.
    """
    Xe, ye = _data(X, y)
    m, n = len(Xe), len(Xe[0])
    if m > n or exact_rank(Xe) < m:
        raise ProblemError(f"bregman_projection needs X of full row rank (m <= n, independent rows); "
                           f"got m={m}, n={n}, rank {exact_rank(Xe)}")
    if grad_R is None and dual_grad is None:
        raise ProblemError("bregman_projection needs dual_grad (grad Q) or grad_R")
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 5:
        raise ProblemError(f"dps must be an integer >= 5, got {dps!r}")
    qmap = _coordinate_maps(dual_grad, dual_hess, n, "dual_grad")
    rmap = _coordinate_maps(grad_R, hess_R, n, "grad_R")
    w0e = None
    if w0 is not None:
        w0e = [exact_number(v, f"w0[{i}]") for i, v in enumerate(w0)]
        if len(w0e) != n:
            raise ProblemError(f"w0 has {len(w0e)} entries but X has n={n} columns")
    if qmap is None and w0e is None:
        w0e = [sp.Integer(0)] * n
    if lam0 is not None and len(lam0) != m:
        raise ProblemError(f"lam0 has {len(lam0)} entries but X has m={m} rows")
    tol_e = None if tol is None else exact_number(tol, "tol")
    max_dps = 10 * (dps + guard) if max_dps is None else max_dps

    def solve(wdps, start):
        with mpmath.workdps(wdps):
            Xm = [[_to_mpf(a) for a in row] for row in Xe]
            ym = [_to_mpf(b) for b in ye]
            w0m = None if w0e is None else [_to_mpf(v) for v in w0e]
            dom_mu = _domain(dual_domain)
            dom_w = _domain(primal_domain)
            check = mpmath.mpf(10) ** (-(dps - 5))
            if w0m is not None:   # normalisation grad R(w0) = 0  <=>  grad Q(0) = w0
                for i in range(n):
                    try:
                        if qmap is not None:
                            bad = abs(_real(qmap.value(i, mpmath.mpf(0)), "grad Q(0)") - w0m[i])
                            name = f"dual_grad(0) differs from w0[{i}] by"
                        else:
                            bad = abs(_real(rmap.value(i, w0m[i]), "grad R(w0)"))
                            name = f"grad_R(w0[{i}]) ="
                    except (_OutOfDomain, ValueError, ZeroDivisionError) as exc:
                        raise ProblemError(f"cannot evaluate the map at the normalisation point: {exc}") from None
                    if bad > check * max(1, abs(w0m[i])):
                        raise ProblemError(f"normalisation grad R(w0) = 0 fails: {name} {mpmath.nstr(bad, 5)}; "
                                           f"shift R so that grad R(w0) = 0 (grad Q(0) = w0)")
            tolm = mpmath.mpf(10) ** (-dps) if tol_e is None else _to_mpf(tol_e)
            lam_start = [mpmath.mpf(0)] * m if start is None else [mpmath.mpf(v) for v in start]
            w_start = w0m if w0m is not None else [mpmath.mpf(0)] * n
            w, lam, mu, hist, it = _project(Xm, ym, qmap, rmap, w_start, lam_start, domain_mu=dom_mu,
                                            domain_w=dom_w, tol=tolm, max_iter=max_iter, max_dps=max_dps,
                                            label=f"Bregman projection ({m}x{n}, {wdps} digits)")
            kkt = None
            if rmap is not None and qmap is not None:
                kkt = max(abs(_real(rmap.value(i, w[i]), "grad R") - mu[i]) for i in range(n))
            elif rmap is not None:
                kkt = max(abs(rmap.value(i, w[i]) - mu[i]) for i in range(n))
            return w, lam, hist, it, kkt

    start = None if lam0 is None else [exact_number(v, "lam0") if not isinstance(v, mpmath.mpf) else v
                                       for v in lam0]
    if start is not None:
        with mpmath.workdps(dps + guard):
            start = [v if isinstance(v, mpmath.mpf) else _to_mpf(v) for v in start]
    def solve_escalating(wdps, start):
        while True:
            try:
                return wdps, solve(wdps, start)
            except _NeedPrecision as more:
                wdps, start = more.dps, more.lam

    wdps, (w, lam, hist, it, kkt) = solve_escalating(dps + guard, start)
    err = None
    if estimate:
        hdps, (w_hi, *_) = solve_escalating(wdps + 20, lam)
        with mpmath.workdps(hdps):
            err = max(abs(a - b) for a, b in zip(w, w_hi))
    return BregmanProjection(tuple(w), tuple(lam), tuple(hist), hist[-1], kkt, it, wdps, err)


def _domain(d):
    if d is None:
        return None
    if len(d) != 2:
        raise ProblemError(f"a domain is an open interval (lo, hi), got {d!r}")
    return tuple(None if v is None else _to_mpf(exact_number(v, "domain bound")) for v in d)
