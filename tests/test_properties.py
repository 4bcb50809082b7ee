"""Property tests: every catalog entry x every claim, on random exact problems and scales.

Each example derives the model (cached), integrates one flow at ``ibcheck_dps`` and at a higher
precision, and checks every law, the mirror identity and the KKT limit; a perturbed claim on the
same trajectories is the negative control. The quick profile (CI) draws a few examples per entry;
``--ibcheck-profile deep`` draws 200 (see README for xdist).
"""
import dataclasses

import pytest
from hypothesis import given

from numerics import strategies as ibst
from numerics.checks import check_kkt_limit, check_law, check_mirror, run
from numerics.flows import gradient_flow
from theory import derive
from theory.catalog import CATALOG
from theory.claims import ConservedQuantity

MIRROR = [n for n, e in CATALOG.items() if e.mirror]
NO_MIRROR = [n for n, e in CATALOG.items() if not e.mirror]


def _perturbed_law(h: ConservedQuantity, p):
    x0 = (p.coordinate.params if h.coordinate else p.params)[0]
    return dataclasses.replace(h, expr=h.expr + x0)


@pytest.mark.parametrize("name", MIRROR)
@given(data=ibst.least_squares(n=3), draw=ibst.st.data())
def test_derived_claims_hold_along_random_flows(name, data, draw, ibcheck_dps):
    X, y = data
    p = CATALOG[name].parameterization()
    if all(o.is_nonnegative for o in p.outputs):  # sign-constrained: data from a positive point
        y = tuple(sum(row) for row in X)
    values = draw.draw(ibst.catalog_values(name))
    d = derive(p)
    runs = run(gradient_flow(p, X, y, values=values), dps=ibcheck_dps, converge=True)
    for h, proof in d.laws:
        assert proof.proved
        v = check_law(runs, h)
        assert v.passed and v.digits >= ibcheck_dps - 5, v
        bad = check_law(runs, _perturbed_law(h, p))
        assert bad.details["status"] == "refuted", bad
    pot, proof = d.mirror
    assert proof.status in {"proved", "undecided"}
    v = check_mirror(runs, pot)
    assert v.passed, v
    v = check_kkt_limit(runs, pot)
    assert v.passed and v.digits >= ibcheck_dps - 10, v
    if pot.has_primal:
        wrong = dataclasses.replace(pot, gradient=(2 * pot.gradient[0],))
    else:
        wrong = dataclasses.replace(pot, dual_gradient=(2 * pot.dual_gradient[0],))
    assert check_mirror(runs, wrong).details["status"] == "refuted"


@pytest.mark.parametrize("name", NO_MIRROR)
@given(draw=ibst.st.data())
def test_laws_of_non_commuting_models_hold_along_random_flows(name, draw, ibcheck_dps):
    p = CATALOG[name].parameterization()
    X, y = draw.draw(ibst.least_squares(n=p.n_outputs))
    d = derive(p)
    assert not isinstance(d.mirror, tuple)
    runs = run(gradient_flow(p, X, y), dps=ibcheck_dps, t_end=2)
    for h, proof in d.laws:
        assert proof.proved and check_law(runs, h).passed
    h = d.laws[0][0]
    assert check_law(runs, _perturbed_law(h, p)).details["status"] == "refuted"
