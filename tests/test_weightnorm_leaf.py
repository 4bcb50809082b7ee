"""Claims on the leaf: time-changed mirror identity and the effective scale read from the final
state (weight normalization), symbolically and at 30 digits, with negative controls."""
from dataclasses import replace

import pytest
import sympy as sp

from numerics.checks import run
from numerics.cli import _default_values, _resolve, default_problem
from numerics.flows import gradient_flow
from numerics.confirm.leaf import check_effective_scale, check_time_changed_mirror
from theory.catalog import weightnorm as W
from theory.laws.leaf_potential import TimeChangedMirror, claims_for, prove


def _claims(L):
    p = W.signed(L, 2)
    tcm, eff = claims_for(p)
    return p, tcm, eff


def _wrong_scales(p, eff):
    r = p.params[0]
    S = sum(x**2 for x in p.params[1:])
    r0 = p.init[0]
    base = W.alpha * (r / r0)
    ex = W.eta_s * (r**2 - r0**2) / (2 * W.eta_r * S)
    return {"sign": base * sp.exp(ex), "rho for rho/2": base * sp.exp(-2 * ex),
            "no r/r0": W.alpha * sp.exp(-ex)}


@pytest.mark.parametrize("L", [2, 3])
def test_leaf_claims_are_proved_and_wrong_forms_refuted(L):
    p, tcm, eff = _claims(L)
    assert prove(p, tcm).proved and prove(p, eff).proved
    for why, wrong in _wrong_scales(p, eff).items():
        pr = prove(p, replace(eff, scale=wrong))
        assert pr.refuted, why
    # the plain potential's coordinate at a fixed scale is not a time-changed mirror coordinate
    bad = TimeChangedMirror(phi=tuple(sp.log(x) for x in p.params[1:3]))
    assert not prove(p, bad).proved


@pytest.fixture(scope="module")
def runs_L2():
    p, _, vals = _resolve("weightnorm-L2")
    vals = _default_values(p, vals)
    prob = default_problem(p, vals, seed=2024, dps=30)
    flow = gradient_flow(p, prob.X, prob.y, values=prob.values)
    return p, run(flow, dps=30, t_end=5), run(flow, dps=30, converge=True)


def test_effective_scale_confirmed_to_20_digits_and_controls_refuted(runs_L2):
    p, short, conv = runs_L2
    tcm, eff = claims_for(p)
    v = check_effective_scale(conv, eff)
    assert v.passed and v.digits >= 20, v
    for why, wrong in _wrong_scales(p, eff).items():
        bad = check_effective_scale(conv, replace(eff, scale=wrong))
        assert bad.details["status"] == "refuted", why
    # the plain flow's scale alpha itself (no effective scale) is refuted too
    bad = check_effective_scale(conv, replace(eff, scale=W.alpha))
    assert bad.details["status"] == "refuted"


def test_time_changed_mirror_confirmed_and_plain_mirror_refuted(runs_L2):
    p, short, conv = runs_L2
    tcm, eff = claims_for(p)
    assert check_time_changed_mirror(short, tcm).passed
    # plain hyperbolic-entropy coordinate at the fixed initial scale: not in range(X^T)
    n = p.n_outputs
    r, a, b = p.params[0], p.params[1:n + 1], p.params[n + 1:]
    S = sum(x**2 for x in a + b)
    x = [r**2 * (ai**2 - bi**2) / S for ai, bi in zip(a, b)]
    plain = TimeChangedMirror(phi=tuple(sp.asinh(xi / (2 * W.alpha**2)) / 4 for xi in x))
    assert check_time_changed_mirror(short, plain).details["status"] == "refuted"
