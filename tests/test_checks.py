"""Numeric checks along high-precision flows, each with a negative control rejected by many orders."""
import dataclasses

import mpmath
import pytest
import sympy as sp

from numerics.checks import check_kkt_limit, check_law, check_mirror, run
from numerics.cli import default_problem
from numerics.errors import PrecisionTooLow, ProblemError
from numerics.flows import gradient_flow
from theory.catalog import CATALOG
from theory.claims import ConservedQuantity

u, v = sp.symbols("u v", real=True)
up, vp = sp.symbols("u v", positive=True)
alpha = sp.Symbol("alpha", positive=True)


def _converged_runs(name):
    e = CATALOG[name]
    p = e.parameterization()
    prob = default_problem(p, e.values, seed=7, dps=30)
    return run(gradient_flow(p, prob.X, prob.y, values=e.values), dps=30, converge=True), e.literature()


@pytest.fixture(scope="module")
def quadratic_runs():
    return _converged_runs("diagonal-quadratic")


@pytest.fixture(scope="module")
def depth3_runs():
    return _converged_runs("diagonal-depth3")


def test_law_holds_to_25_digits_and_a_wrong_law_is_refuted(quadratic_runs):
    runs, lit = quadratic_runs
    good = check_law(runs, lit[0])
    assert good.passed and good.digits >= 25 and good.error_estimate <= good.tolerance
    for wrong in (u * v + u, u**2 * v, u**2 + v**2):
        bad = check_law(runs, ConservedQuantity(wrong, coordinate=True))
        assert not bad.passed and bad.details["status"] == "refuted"
        assert bad.residual > 1e10 * bad.tolerance


def test_mirror_identity_and_controls_off_by_a_constant_or_an_exponent(quadratic_runs):
    runs, lit = quadratic_runs
    pot = lit[1]
    good = check_mirror(runs, pot)
    assert good.passed and good.digits >= 25
    w = pot.variables[0]
    for wrong in (2 * pot.gradient[0],                              # 1/2 instead of 1/4
                  -pot.gradient[0],                                 # sign
                  sp.asinh(w / (2 * alpha)) / 4):                   # alpha instead of alpha^2
        bad = check_mirror(runs, dataclasses.replace(pot, gradient=(wrong,)))
        assert bad.details["status"] == "refuted" and bad.residual > 1e10 * bad.tolerance


def test_kkt_limit_agrees_to_20_digits_and_a_wrong_potential_lands_elsewhere(quadratic_runs):
    runs, lit = quadratic_runs
    pot = lit[1]
    good = check_kkt_limit(runs, pot)
    assert good.passed and good.digits >= 20
    w = pot.variables[0]
    bad = check_kkt_limit(runs, dataclasses.replace(pot, gradient=(sp.asinh(w / (2 * alpha)) / 4,)))
    assert bad.details["status"] == "refuted" and bad.residual > 1e10 * bad.tolerance


def test_dual_only_potential_depth3_and_a_wrong_exponent(depth3_runs):
    runs, lit = depth3_runs
    pot = lit[1]
    assert check_law(runs, lit[0]).passed
    assert check_mirror(runs, pot).passed and check_kkt_limit(runs, pot).passed
    assert not check_law(runs, ConservedQuantity(1 / up - 1 / vp, coordinate=True)).passed
    mu = pot.dual_variables[0]
    kappa = 3 * alpha
    wrong = alpha**3 * ((1 - kappa * mu) ** -2 - (1 + kappa * mu) ** -2)  # exponent -2 instead of -3
    bad = check_mirror(runs, dataclasses.replace(pot, dual_gradient=(wrong,)))
    assert bad.details["status"] == "refuted"


def test_precision_too_low_is_refused():
    e = CATALOG["diagonal-quadratic"]
    p = e.parameterization()
    prob = default_problem(p, e.values, seed=7, dps=30)
    with pytest.raises(PrecisionTooLow, match="too low"):
        run(gradient_flow(p, prob.X, prob.y, values=e.values), dps=10, t_end=1)


def test_limit_check_needs_an_underdetermined_problem(quadratic_runs):
    runs, lit = quadratic_runs
    e = CATALOG["diagonal-quadratic"]
    p = e.parameterization()
    X = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    r = run(gradient_flow(p, X, [1, 2, 3], values=e.values), dps=20, converge=True)
    with pytest.raises(ProblemError, match="m < n"):
        check_kkt_limit(r, lit[1])


def test_no_mirror_witness_is_confirmed_and_a_vanishing_bracket_is_not():
    from numerics.checks import check_no_mirror
    from theory import derive
    from theory.claims import NoMirror

    nm = derive(CATALOG["shared-hidden-unit"].parameterization()).mirror
    assert isinstance(nm, NoMirror) and check_no_mirror("shu", nm, dps=30).passed
    a, b = sp.symbols("a b", real=True)
    fake = NoMirror("fake", pair=(0, 1), bracket=(a * b - b * a, sp.Integer(0)), point={a: 1, b: 2})
    v = check_no_mirror("fake", fake, dps=30)
    assert not v.passed and v.details["status"] == "refuted"


def test_a_flow_that_blows_up_is_refused_by_name():
    from numerics.errors import FlowBlowUp
    from theory import Parameterization

    u, w = sp.Symbol("u", real=True), sp.Symbol("w", real=True)
    p = Parameterization("cubic", (u,), (u,), (sp.Rational(1, 3),))
    flow = gradient_flow(p, loss=-w**3, w_symbols=(w,))   # u' = 3u^2: blows up at t = 1
    with pytest.raises(FlowBlowUp, match="blow|norm|step"):
        run(flow, dps=20, t_end=5)


def test_potential_values_along_one_line_match_the_segments_and_the_antiderivative():
    """The per-coordinate integrals share their pieces (numerics.confirm.potential_values): each
    value equals the segment integral from z0, and the closed form, within the reported error;
    end points on both sides of z0 and a repeated one included. Control: an antiderivative off by
    1e-25 is seen."""
    from numerics.confirm.potential_values import _along_line, _along_segment

    with mpmath.workdps(30):
        a = mpmath.mpf(1) / 3
        g = lambda z: [mpmath.asinh(z / (2 * a**2)) / 4]  # noqa: E731
        R = lambda z: z * mpmath.asinh(z / (2 * a**2)) / 4 - mpmath.sqrt(4 * a**4 + z**2) / 4  # noqa: E731
        z0 = mpmath.mpf("0.1")
        zs = [z0, mpmath.mpf("1.7"), mpmath.mpf("-0.4"), mpmath.mpf("1.7"), mpmath.mpf("0.35")]
        got = _along_line(g, z0, zs)
        tol = mpmath.mpf(10) ** -27
        for z, (v, e) in zip(zs, got):
            seg, es = _along_segment(g, [z0], [z])
            exact = R(z) - R(z0)
            assert e <= tol and abs(v - seg) <= e + es + tol and abs(v - exact) <= e + tol
            assert abs(v - (exact + mpmath.mpf(10) ** -25)) > e + tol  # the control
        assert got[0] == (0, 0)
