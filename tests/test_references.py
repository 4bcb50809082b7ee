"""Reference solutions: exact min-l2 / min-l1 interpolants and the high-precision Bregman projection.

Each identity has a negative control: a wrong point or a wrong potential that the same check rejects.
"""
import mpmath
import pytest
import sympy as sp
from sympy.solvers.simplex import lpmin

from numerics.errors import ProblemError
from numerics.problems import random_problem
from numerics.references import (BregmanFailure, bregman_projection, coordinate_function,
                                 min_l1_interpolant, min_l2_interpolant)

mu = sp.Symbol("mu", real=True)
DPS = 30
SEEDS = (1, 2, 3)


def _l1(w):
    return sum(abs(v) for v in w)


def _matvec(X, w):
    return tuple(sum(a * b for a, b in zip(row, w)) for row in X)


# ---- min-l2 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_min_l2_equals_pseudo_inverse(seed):
    p = random_problem(6, 3, seed=seed)
    X, y = sp.Matrix(p.X), sp.Matrix(p.y)
    w = min_l2_interpolant(p.X, p.y)
    assert sp.Matrix(w) == X.T * (X * X.T).inv() * y          # exact, no tolerance
    w0 = tuple(sp.Rational(i - 2, 3) for i in range(6))
    w_shift = min_l2_interpolant(p.X, p.y, w0)
    assert sp.Matrix(w_shift) == sp.Matrix(w0) + X.pinv() * (y - X * sp.Matrix(w0))
    # negative controls: a wrong formula (no Gram inverse) and another interpolant both differ,
    # and the other interpolant is strictly longer
    assert sp.Matrix(w) != X.T * y
    assert sum(v**2 for v in p.planted) > sum(v**2 for v in w)


def test_min_l2_redundant_rows_and_infeasible():
    X = ((1, 2, 3), (2, 4, 6), (0, 1, 1))
    w = min_l2_interpolant(X, (1, 2, 5))
    assert sp.Matrix(w) == sp.Matrix(X).pinv() * sp.Matrix((1, 2, 5))
    with pytest.raises(ProblemError, match="infeasible: equation 1"):
        min_l2_interpolant(X, (1, 3, 5))
    with pytest.raises(ProblemError, match="w0 has 2 entries"):
        min_l2_interpolant(X, (1, 2, 5), (0, 0))


# ---- min-l1 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("X, y, w, value", [
    (((1, 2, 3),), (6,), (0, 0, 2), 2),
    (((1, 1, 0), (0, 1, 1)), (1, 1), (0, 1, 0), 1),
    (((1, -1, 0, 0), (0, 1, -1, 0), (0, 0, 1, -1)), (1, 1, 1), None, None),
])
def test_min_l1_hand_made(X, y, w, value):
    s = min_l1_interpolant(X, y)
    assert _matvec(X, s.w) == tuple(sp.Integer(v) for v in y)
    assert s.value == _l1(s.w)
    if w is not None:
        assert s.w == tuple(map(sp.Integer, w)) and s.value == value and s.unique
        assert s.box == tuple((sp.Integer(v), sp.Integer(v)) for v in w)


def test_min_l1_negative_control_feasible_not_optimal():
    X, y = ((1, 1, 0), (0, 1, 1)), (1, 1)
    other = (1, 0, 1)                      # feasible: X other = y
    assert _matvec(X, other) == y
    s = min_l1_interpolant(X, y)
    assert s.w != other and _l1(other) > s.value


def test_min_l1_non_unique_reported():
    s = min_l1_interpolant(((1, 1, 1),), (1,))
    assert s.value == 1 and s.unique is False
    assert s.box == ((0, 1), (0, 1), (0, 1))
    assert s.alternative is not None and s.alternative != s.w
    assert _l1(s.alternative) == 1 and sum(s.alternative) == 1
    # the 3-chain above: w = (w4 + 3, w4 + 2, w4 + 1, w4) has |.|_1 minimal exactly on w4 in [-2, -1]
    t = min_l1_interpolant(((1, -1, 0, 0), (0, 1, -1, 0), (0, 0, 1, -1)), (1, 1, 1))
    assert t.value == 4 and t.unique is False and t.box[3] == (-2, -1)


@pytest.mark.parametrize("seed", range(4))
def test_min_l1_against_sympy_lp(seed):
    p = random_problem(5, 2 + seed % 2, seed=100 + seed, y_random=True)
    s = min_l1_interpolant(p.X, p.y, check_unique=False)
    P = sp.symbols(f"p1:{p.n + 1}")
    Q = sp.symbols(f"q1:{p.n + 1}")
    cons = [sp.Eq(sum(a * (pi - qi) for a, pi, qi in zip(row, P, Q)), b) for row, b in zip(p.X, p.y)]
    ref, _ = lpmin(sum(P) + sum(Q), cons + [v >= 0 for v in P + Q])
    assert s.value == ref
    assert _matvec(p.X, s.w) == p.y and _l1(s.w) == s.value
    # negative control: the min-l2 interpolant is feasible but (generically) not l1-optimal
    assert _l1(min_l2_interpolant(p.X, p.y)) > ref


def test_min_l1_bad_input():
    with pytest.raises(ProblemError, match="infeasible"):
        min_l1_interpolant(((1, 1), (2, 2)), (1, 3))
    with pytest.raises(ProblemError, match="unequal lengths"):
        min_l1_interpolant(((1, 1), (2,)), (1, 3))


# ---- Bregman projection ------------------------------------------------------------------------------
def _close(a, b, digits):
    return max(abs(mpmath.mpf(x) - mpmath.mpf(y)) for x, y in zip(a, b)) <= mpmath.mpf(10) ** -digits


def _mpvec(w):
    return [mpmath.mpf(int(v.p)) / int(v.q) for v in w]


@pytest.mark.parametrize("seed", SEEDS)
def test_bregman_quadratic_is_min_l2(seed):
    p = random_problem(6, 3, seed=seed)
    r = bregman_projection(X=p.X, y=p.y, w0=(0,) * 6, dual_grad=mu, dps=DPS)
    w, lam, residuals = r
    with mpmath.workdps(r.dps):
        assert _close(w, _mpvec(min_l2_interpolant(p.X, p.y)), DPS)
        assert residuals[-1] <= mpmath.mpf(10) ** -DPS and r.error_estimate <= mpmath.mpf(10) ** -DPS
        # negative control: a weighted l2 potential (grad Q_i = d_i mu) lands elsewhere
        bad = bregman_projection(X=p.X, y=p.y, dual_grad=[(i + 1) * mu for i in range(6)], dps=DPS)
        assert not _close(bad.w, _mpvec(min_l2_interpolant(p.X, p.y)), 3)


def test_bregman_shifted_quadratic_and_primal_input():
    p = random_problem(5, 2, seed=11)
    w0 = tuple(sp.Rational(k, 4) for k in (1, -2, 3, 0, 5))
    ref = min_l2_interpolant(p.X, p.y, w0)
    dual = bregman_projection(X=p.X, y=p.y, w0=w0, dual_grad=[v + mu for v in w0], dps=DPS)
    primal = bregman_projection(grad_R=[mu - v for v in w0], X=p.X, y=p.y, w0=w0, dps=DPS)
    with mpmath.workdps(dual.dps):
        assert _close(dual.w, _mpvec(ref), DPS) and _close(primal.w, _mpvec(ref), DPS)
        # negative control: dropping w0 (projecting from 0) is the wrong point
        assert not _close(_mpvec(min_l2_interpolant(p.X, p.y)), _mpvec(ref), 3)


def _hyperbolic(a):
    """Woodworth et al. 2020 (u*u - v*v): grad Q(mu) = 2 a^2 sinh(4 mu), grad R(w) = asinh(w/(2a^2))/4."""
    return 2 * a**2 * sp.sinh(4 * mu), sp.asinh(mu / (2 * a**2)) / 4


def _phi(w):
    return sum(abs(v) * (mpmath.log(abs(v)) - 1) for v in w if v != 0)


@pytest.mark.parametrize("exponent", [10, 30])
def test_hyperbolic_small_alpha_is_near_min_l1(exponent):
    r"""Bound (derived from q(z) in [z ln z - z, z ln z - z + 3] and Q(w_hat) <= Q(w*)):
    0 <= |w_hat|_1 - v* <= (Phi(w*) + n + 3 n a^2) / ln(1/a^2), Phi(w) = sum |w_i|(ln|w_i| - 1)."""
    p = random_problem(6, 3, seed=4)
    a = sp.Rational(1, 10**exponent)
    gQ, gR = _hyperbolic(a)
    r = bregman_projection(gR, p.X, p.y, (0,) * 6, dual_grad=gQ, dps=DPS)
    s = min_l1_interpolant(p.X, p.y)
    with mpmath.workdps(r.dps):
        am = mpmath.mpf(10) ** -exponent
        L = mpmath.log(1 / am**2)
        bound = (_phi(_mpvec(s.w)) + 6 + 18 * am**2) / L
        gap = _l1(r.w) - _mpvec([s.value])[0]
        assert -mpmath.mpf(10) ** -(DPS - 2) <= gap <= bound
        assert r.residual <= mpmath.mpf(10) ** -DPS and r.kkt_residual <= mpmath.mpf(10) ** -DPS
        assert r.error_estimate <= mpmath.mpf(10) ** -(DPS - 2)
        # negative control: the min-l2 interpolant is feasible but violates the bound
        assert _l1(_mpvec(min_l2_interpolant(p.X, p.y))) - s.value > bound


@pytest.mark.parametrize("alpha", [10, 100])
def test_hyperbolic_large_alpha_is_near_min_l2(alpha):
    r"""Bound (from q(z) in [z^2/4 - z^4/192, z^2/4] and Pythagoras on {Xw = y}):
    |w_hat - w_2|^2 <= sum w_hat_i^4 / (48 a^4)."""
    p = random_problem(6, 3, seed=5)
    gQ, gR = _hyperbolic(sp.Integer(alpha))
    r = bregman_projection(gR, p.X, p.y, (0,) * 6, dual_grad=gQ, dps=DPS)
    w2 = _mpvec(min_l2_interpolant(p.X, p.y))
    with mpmath.workdps(r.dps):
        bound = sum(v**4 for v in r.w) / (48 * mpmath.mpf(alpha) ** 4)
        assert sum((a - b) ** 2 for a, b in zip(r.w, w2)) <= bound
        assert r.residual <= mpmath.mpf(10) ** -DPS
        # negative control: the min-l1 point violates the same bound
        w1 = _mpvec(min_l1_interpolant(p.X, p.y).w)
        assert sum((a - b) ** 2 for a, b in zip(w1, w2)) > bound


def test_primal_only_matches_dual():
    p = random_problem(5, 2, seed=6)
    gQ, gR = _hyperbolic(sp.Rational(1, 10))
    d = bregman_projection(X=p.X, y=p.y, dual_grad=gQ, dps=DPS)
    q = bregman_projection(gR, p.X, p.y, dps=DPS)
    with mpmath.workdps(d.dps):
        assert _close(d.w, q.w, DPS)
        # negative control: alpha in place of alpha^2 inside grad R gives another point (a factor
        # in front, asinh(.)/2, would not: it rescales R and keeps the minimiser)
        wrong = bregman_projection(sp.asinh(mu / (2 * sp.Rational(1, 10))) / 4, p.X, p.y, dps=DPS)
        assert not _close(d.w, wrong.w, 3)


def test_depth3_dual_domain_tends_to_l1():
    """Depth 3 (Woodworth et al. 2020, Sec. 5): grad Q = a^3 h(kappa mu), h(z) = (1-z)^-3 - (1+z)^-3,
    kappa = 3a, defined for |mu| < 1/kappa; grad R is not elementary, so only grad Q is given."""
    p = random_problem(5, 2, seed=8)
    v = min_l1_interpolant(p.X, p.y).value
    gaps = []
    for a in (sp.Rational(1, 10), sp.Rational(1, 100), sp.Rational(1, 1000)):
        k = 3 * a
        gQ = a**3 * ((1 - k * mu) ** -3 - (1 + k * mu) ** -3)
        r = bregman_projection(X=p.X, y=p.y, dual_grad=gQ, dual_domain=(-1 / k, 1 / k), dps=DPS)
        with mpmath.workdps(r.dps):
            assert r.residual <= mpmath.mpf(10) ** -DPS
            gaps.append(_l1(r.w) - _mpvec([v])[0])
    assert all(g >= -mpmath.mpf(10) ** -(DPS - 2) for g in gaps)
    assert gaps[0] > gaps[1] > gaps[2]


def test_bregman_failures_are_named():
    p = random_problem(4, 2, seed=9)
    # a constant dual gradient is not the gradient of a strictly convex Q: refused by name
    with pytest.raises(BregmanFailure, match="hess Q.*is not positive"):
        bregman_projection(X=p.X, y=p.y, dual_grad=lambda t: mpmath.mpf(0), dps=DPS, estimate=False)
    # atan has range (-pi/2, pi/2): y = (100, 100) with X = I-like rows is out of reach
    with pytest.raises(BregmanFailure, match="did not converge"):
        bregman_projection(X=((1, 0, 0), (0, 1, 0)), y=(100, 100), dual_grad=sp.atan(mu), dps=DPS,
                           max_iter=60, estimate=False)
    with pytest.raises(ProblemError, match="full row rank"):
        bregman_projection(X=((1, 2), (2, 4)), y=(1, 2), dual_grad=mu)
    with pytest.raises(ProblemError, match=r"m=3, n=2"):
        bregman_projection(X=((1, 0), (0, 1), (1, 1)), y=(1, 1, 2), dual_grad=mu)
    with pytest.raises(ProblemError, match="normalisation"):
        bregman_projection(X=p.X, y=p.y, w0=(0,) * 4, dual_grad=mu + 1)
    with pytest.raises(ProblemError, match="needs dual_grad"):
        bregman_projection(X=p.X, y=p.y)
    with pytest.raises(ProblemError, match="floating-point"):
        bregman_projection(X=p.X, y=p.y, dual_grad=sp.Float("0.5") * mu)
    with pytest.raises(ProblemError, match="substitute the constants"):
        bregman_projection(X=p.X, y=p.y, dual_grad=sp.Symbol("alpha") * mu)
    with pytest.raises(ProblemError, match="3 per-coordinate maps for n=4"):
        bregman_projection(X=p.X, y=p.y, dual_grad=[mu, mu, mu])


def test_coordinate_function_uses_working_precision():
    f, df = coordinate_function(sp.Rational(1, 3) * mu**2)
    with mpmath.workdps(60):
        assert abs(f(mpmath.mpf(1)) - mpmath.mpf(1) / 3) < mpmath.mpf(10) ** -59
        assert abs(df(mpmath.mpf(3)) - 2) < mpmath.mpf(10) ** -59


def test_entropy_primal_domain():
    """Positive model (w = u*u, Woodworth et al. 2020 'squared'): grad R(w) = log(w / w0) / 4 needs
    w > 0 (primal_domain), its dual grad Q(mu) = w0 exp(4 mu) does not; both give the same point."""
    X, y = ((1, 2, 1), (0, 1, 3)), (2, 3)
    w0 = (sp.Rational(1, 10),) * 3
    d = bregman_projection(X=X, y=y, w0=w0, dual_grad=w0[0] * sp.exp(4 * mu), dps=DPS)
    q = bregman_projection(sp.log(mu / w0[0]) / 4, X, y, w0, primal_domain=(0, None), dps=DPS)
    with mpmath.workdps(d.dps):
        assert all(v > 0 for v in q.w) and _close(d.w, q.w, DPS)
        assert q.kkt_residual <= mpmath.mpf(10) ** -DPS
        # negative control: another reference point w0 gives another projection
        other = bregman_projection(X=X, y=y, dual_grad=[sp.Rational(k, 10) * sp.exp(4 * mu) for k in (1, 2, 3)],
                                   dps=DPS)
        assert not _close(d.w, other.w, 3)


def test_a_dual_gradient_with_poles_without_its_domain_never_returns_a_spurious_branch():
    """Depth 4: grad Q = alpha^4 h_4(kappa mu) has double poles at |kappa mu| = 1; past them grad Q
    is finite again but decreasing. Without the domain, Newton may wander there: the projection
    must then fail loudly (or find the true root), never return the spurious one."""
    import mpmath
    import sympy as sp
    from numerics.references import BregmanFailure, bregman_projection

    mu = sp.Symbol("mu")
    a = sp.Rational(1, 10)
    kappa = 8 * a**2
    gq = a**4 * ((1 - kappa * mu) ** -2 - (1 + kappa * mu) ** -2)
    X, y = [[1, sp.Rational(5, 3), 0]], [1]
    try:
        res = bregman_projection(dual_grad=gq, X=X, y=y, w0=[0, 0, 0], dps=30)
    except BregmanFailure:
        return
    with mpmath.workdps(30):
        lam = res.lam[0]
        mus = [lam * X[0][i] for i in range(3)]
        assert all(abs(kappa * m) < 1 for m in mus), "returned a point past the pole of grad Q"


def test_min_l1_over_the_nonnegative_orthant():
    import sympy as sp
    from numerics.references import min_l1_interpolant
    # w1 - 2 w2 = 1: the free optimum is (0, -1/2) (norm 1/2); over w >= 0 it is (1, 0) (norm 1)
    X, y = [[1, -2]], [1]
    free = min_l1_interpolant(X, y)
    pos = min_l1_interpolant(X, y, nonnegative=True)
    assert free.w == (0, sp.Rational(-1, 2)) and free.value == sp.Rational(1, 2)
    assert pos.w == (1, 0) and pos.value == 1 and pos.unique
    with pytest.raises(ProblemError, match="no solution with w >= 0"):
        min_l1_interpolant([[1, 1]], [-1], nonnegative=True)
