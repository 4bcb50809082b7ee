"""The flow in log coordinates (theory.change_of_variables, numerics.confirm.log_variables): the same
trajectory, and law rows that conclude at rho = 100 where the (r, s) flow leaves them inconclusive."""
import mpmath
import pytest
import sympy as sp

from numerics.checks import check_law, run
from numerics.cli import default_problem
from numerics.flows import gradient_flow
from theory.catalog import CATALOG
from theory.catalog import weightnorm as W
from theory.change_of_variables import log_parameters
from theory.claims import ConservedQuantity
from theory.errors import InvalidParameterization
from theory.proving.zero import check_identity


def _jmj(outputs, params, M):
    J = sp.Matrix(list(outputs)).jacobian(sp.Matrix(list(params)))
    return J * M * J.T


def test_pulled_back_metric_gives_the_same_output_dynamics_and_a_wrong_one_does_not():
    p = W.signed(2, 1)
    ch = log_parameters(p)
    q = ch.model
    sub = dict(ch.to_log)
    K = _jmj(p.outputs, p.params, p.metric_matrix()).xreplace(sub)
    Kl = _jmj(q.outputs, q.params, q.metric_matrix())
    assert check_identity(list(Kl - K), "J_l M_l J_l^T = J M J^T").proved
    # control: the metric left as it was (no D^{-1} M D^{-1}) is refuted with a point
    Kwrong = _jmj(q.outputs, q.params, p.metric_matrix())
    bad = check_identity(list(Kwrong - K), "J_l M J_l^T = J M J^T")
    assert bad.refuted and bad.witness is not None
    assert all(sp.simplify(sp.exp(l0) - x0) == 0 for l0, x0 in zip(q.init, p.init))


def test_refuses_parameters_that_may_not_be_positive():
    x = sp.Symbol("x", real=True)
    from theory import Parameterization
    with pytest.raises(InvalidParameterization, match="positive"):
        log_parameters(Parameterization(name="t", params=(x,), outputs=(x**2,), init=(sp.Integer(1),)))


def test_same_trajectory_to_25_digits():
    e = CATALOG["weightnorm-L2"]
    p = e.parameterization()
    prob = default_problem(p, e.values, seed=2024, dps=30)
    ch = log_parameters(p)
    a = run(gradient_flow(p, prob.X, prob.y, values=e.values), dps=30, t_end=1)
    b = run(gradient_flow(ch.model, prob.X, prob.y, values=e.values), dps=30, t_end=1)
    with mpmath.workdps(30):
        xa, lb = a.lo.at(1), b.lo.at(1)
        D = len(p.params)
        assert max(abs(xa[k] - mpmath.exp(lb[k])) for k in range(D)) < mpmath.mpf(10) ** -25


def test_rho_100_law_rows_conclude_in_log_coordinates_and_a_wrong_law_is_refuted():
    e = CATALOG["weightnorm-L2"]
    values = {**e.values, "eta_s": "400", "alpha": "1/10"}
    p = e.parameterization()
    prob = default_problem(p, values, seed=2024, dps=30)
    ch = log_parameters(p)
    runs = run(gradient_flow(ch.model, prob.X, prob.y, values=values), dps=30, t_end=5)
    a, b = W._syms("a", 2), W._syms("b", 2)
    S = sum(x**2 for x in a + b)
    law = sp.log(a[0] * b[0]) + W.eta_s * W.r**2 / (W.eta_r * S)
    good = check_law(runs, ConservedQuantity(ch.in_log(law)))
    assert good.passed and good.digits >= 25
    for wrong in (sp.log(a[0] * b[0]) + W.eta_s * W.r**2 / (2 * W.eta_r * S),   # rho/2 for rho
                  sp.log(a[0] * b[0]) - W.eta_s * W.r**2 / (W.eta_r * S)):      # sign
        bad = check_law(runs, ConservedQuantity(ch.in_log(wrong)))
        assert bad.status == "refuted" and bad.residual > 1e10 * bad.tolerance
