"""RODAS3 for the weight-normalization flows: analytic Jacobian, order, agreement, a stiff case."""
import numpy as np
import pytest

from numerics.errors import IbcheckError
from numerics.reproduce import _stiff as S
from numerics.reproduce._wn_flows import weightnorm_flow
from numerics.reproduce.weightnorm import problem, spot_check


def _fd(f, Y, eps=1e-6):
    return np.array([(f(Y + eps * e) - f(Y - eps * e)) / (2 * eps) for e in np.eye(len(Y))]).T


def _systems():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(3, 6)) / np.sqrt(3)
    y = rng.normal(size=3)
    for L in (2, 3, 4):
        yield S.wn_system(A, y, L=L, eta_z=1.3, eta_r=0.4), rng.normal(size=13) * 0.3
        yield S.plain_system(A, y, L=L), rng.normal(size=12) * 0.3


# central differences: truncation eps^2 |f'''| ~ 1e-12 * O(10), rounding 1e-16 |f| / eps ~ 1e-10:
# a relative tolerance of 1e-7 is far above both and far below any wrong term (O(1) relative)
_TOL = 1e-7


def test_analytic_jacobian_matches_central_differences():
    for (f, jac, _, _), Y in _systems():
        J = jac(Y)
        assert np.max(np.abs(J - _fd(f, Y))) <= _TOL * np.max(np.abs(J))


def test_negative_control_a_wrong_jacobian_is_rejected():
    for (f, jac, _, _), Y in _systems():
        J = jac(Y)
        wrong_sign = J.copy()
        wrong_sign[:, 0] *= -1                       # d/d(first variable) with the wrong sign
        wrong_factor = J.copy()
        wrong_factor[np.diag_indices_from(J)] *= 2   # diagonal (the (L-2)c g terms) doubled
        for W in (wrong_sign, wrong_factor):
            assert np.max(np.abs(W - _fd(f, Y))) > 1e3 * _TOL * np.max(np.abs(J))


def _local_errors(jac_scale=1.0, C43=-8.0 / 3.0):
    """One RODAS3 step on y' = -y^3, y(0) = 1 (exact 1/sqrt(1 + 2t)) for h = 0.1, 0.05, 0.025."""
    f = lambda y: -y**3
    C = dict(S._C)
    C[3, 2] = C43
    out = []
    for h in (0.1, 0.05, 0.025):
        y = np.array([1.0])
        Mat = np.eye(1) / (h * S._GAMMA) - jac_scale * np.array([[-3.0]])
        K = []
        for i in range(4):
            yi = y + sum(S._A[i, j] * K[j] for j in range(i)) if i else y
            K.append(np.linalg.solve(Mat, f(yi) + sum(C[i, j] / h * K[j] for j in range(i))))
        y1 = y + sum(m * k for m, k in zip(S._M, K))
        out.append(abs(y1[0] - 1 / np.sqrt(1 + 2 * h)))
    return out


def test_rodas3_has_order_three_and_controls_break_it():
    # local error O(h^4): halving h divides it by ~16 (>= 10 allows the pre-asymptotic range)
    e = _local_errors()
    assert e[0] / e[1] > 10 and e[1] / e[2] > 12
    for bad in (_local_errors(jac_scale=-1.0), _local_errors(C43=8.0 / 3.0)):
        assert bad[1] / bad[2] < 9   # order <= 2: the wrong Jacobian sign / coefficient is seen


def test_unknown_method_is_an_error():
    A, y, _ = problem(10, 5, 2)
    with pytest.raises(IbcheckError, match="unknown integration method"):
        weightnorm_flow(A, y, L=2, alpha=0.1, rho=1.0, method="euler")


def test_auto_reaches_the_dormand_prince_limit_on_a_nonstiff_problem():
    A, y, _ = problem(10, 5, 2)
    ref = weightnorm_flow(A, y, L=2, alpha=0.1, rho=1.0, method="dopri", max_steps=20000)
    res = weightnorm_flow(A, y, L=2, alpha=0.1, rho=1.0, method="auto", max_steps=20000)
    assert ref.converged and res.converged and res.stiff_steps > 0
    assert np.linalg.norm(res.x - ref.x) <= 1e-9 * np.linalg.norm(ref.x)
    assert abs(res.log_alpha_eff2 - ref.log_alpha_eff2) <= 1e-9 * abs(ref.log_alpha_eff2)


@pytest.mark.slow
def test_depth3_case_where_dormand_prince_runs_out_converges_to_the_kkt_point():
    A, y, _ = problem(30, 15, 3)
    kw = dict(L=3, alpha=0.05, rho=1.0, max_steps=20000)
    assert not weightnorm_flow(A, y, method="dopri", **kw).converged
    res = weightnorm_flow(A, y, method="auto", **kw)
    assert res.converged and res.stiff_steps > 0
    # the reproduction's spot-check criterion (30-digit KKT point of Q_{alpha_eff})
    assert spot_check(A, y, res, 3) < 1e-6


def test_dopri_never_accepts_a_non_finite_step():
    """y' = 1 + y from 0 with a field that is NaN past y = 1 (a flow leaving the floats): the trial
    steps across y = 1 have a non-finite error, which is never accepted, not even at the
    smallest step; the run ends not converged at a finite state below 1 (before the fix, a step
    under 1e-14 was accepted whatever its error, and the state became NaN)."""
    from numerics.reproduce._wn_flows import _dopri
    f = lambda y: np.array([np.nan]) if y[0] > 1 else 1 + y  # noqa: E731
    y, steps, converged, stiff = _dopri(f, np.array([0.0]), lambda y: False, max_steps=10 ** 4)
    assert np.isfinite(y).all() and 0.9 < y[0] <= 1 and not converged and not stiff
    assert steps < 10 ** 4
