"""Limiting regularizers, numerically: flow sweeps towards min-l1 / min-l2 interpolants, and the
limit of the normalised potential itself; each with a negative control."""
import dataclasses

import pytest

from numerics.cli import default_problem
from numerics.errors import ProblemError
from numerics.confirm.regimes import bias_sign, check_potential_limit, check_regime, reference_for
from theory import derive
from theory.catalog import CATALOG


@pytest.fixture(scope="module")
def quadratic():
    e = CATALOG["diagonal-quadratic"]
    p = e.parameterization()
    return e, p, default_problem(p, e.values, seed=2024, dps=30), e.literature()


def test_flow_limits_approach_min_l1_as_alpha_to_0_and_not_min_l2(quadratic):
    e, p, prob, lit = quadratic
    l1 = lit[2]
    v = check_regime(p, l1, prob.X, prob.y, values=e.values)
    assert v.passed and v.details["distances"][-1] < 1e-6
    assert all(x > 0 for x in v.details["observed_rate"]["exponent"])  # distances shrink polynomially
    bad = check_regime(p, l1, prob.X, prob.y, values=e.values, reference="l2")
    assert not bad.passed and bad.details["distances"][-1] > 0.05


def test_flow_limits_approach_min_l2_as_alpha_to_infinity_and_not_min_l1(quadratic):
    e, p, prob, lit = quadratic
    l2 = lit[3]
    assert check_regime(p, l2, prob.X, prob.y, values=e.values).passed
    assert not check_regime(p, l2, prob.X, prob.y, values=e.values, reference="l1").passed


@pytest.mark.parametrize("name", ["diagonal-quadratic", "diagonal-depth3", "diagonal-depth4",
                                  "diagonal-product-pm", "diagonal-squared"])
def test_normalised_potential_tends_to_the_leading_term_and_a_wrong_one_is_refuted(name):
    e = CATALOG[name]
    d = derive(e.parameterization())
    assert d.limits
    for claim, proof in d.limits:
        assert check_potential_limit(claim, d.potential, values=e.values).passed, claim
        for wrong in (dataclasses.replace(claim, leading=2 * claim.leading),
                      dataclasses.replace(claim, factor=claim.factor * claim.scale)):
            assert not check_potential_limit(wrong, d.potential, values=e.values).passed, wrong


def test_reference_and_sign_of_the_bias():
    lit = CATALOG["diagonal-quadratic"].literature()
    assert reference_for(lit[2]) == "l1" and reference_for(lit[3]) == "l2"
    sq = derive(CATALOG["diagonal-squared"].parameterization())
    signs = {str(c.point): bias_sign(c) for c, _ in sq.limits}
    assert signs == {"0": 1, "oo": -1}  # alpha -> oo: factor 1/log(1/alpha) < 0, the bias maximises


def test_sweep_needs_an_underdetermined_problem(quadratic):
    e, p, _, lit = quadratic
    with pytest.raises(ProblemError, match="m < n"):
        check_regime(p, lit[2], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [1, 1, 1], values=e.values)


def test_batched_sweep_gives_the_single_runs_limits_digit_for_digit(quadratic):
    """The alpha sweep integrates its flows as one batch (integrate_batch); every limit must equal
    the one a single integrate() run gives, to the last digit (same steps, same stop test)."""
    import mpmath

    from numerics.checks import compile_exprs
    from numerics.flows import gradient_flow
    from numerics.confirm.regimes import _sweep_limits, default_scales
    from numerics.taylor.integrator import integrate

    e, p, prob, lit = quadratic
    l1 = lit[2]
    scales = default_scales(l1)
    batched = _sweep_limits(p, prob.X, prob.y, l1, scales, e.values, 30, "fast")
    thresh = mpmath.mpf(10) ** -15
    assert len({gradient_flow(p, prob.X, prob.y, values={**e.values, l1.scale.name: a},
                              duals=False).system for a in scales}) == 1  # one program: one batch
    for a, w_b in zip(scales, batched):
        flow = gradient_flow(p, prob.X, prob.y, values={**e.values, l1.scale.name: a}, duals=False)
        out, grad, D = compile_exprs(flow.outputs, flow.params), flow.gradient_function(), len(flow.params)

        def stop(t, yv):
            with mpmath.workdps(30):
                return max(abs(g) for g in grad(*out(*yv[:D]))) <= thresh

        with mpmath.workdps(30):
            traj = integrate(flow.system, flow.y0, 10**5, dps=30, stop=stop, until_converged=True)
            w = out(*traj.final[:D])
        assert [mpmath.nstr(v, 40) for v in w] == [mpmath.nstr(v, 40) for v in w_b]
        assert all(x == y for x, y in zip(w, w_b))
