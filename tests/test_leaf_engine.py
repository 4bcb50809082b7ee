"""The potential-on-the-leaf engine (theory.laws.leaf_reduce through theory.mirror.leaf_flow):
deep products with identical factors, the leaf label, and the off-leaf controls."""
import dataclasses

import pytest
import sympy as sp

from numerics.checks import check_mirror, run
from numerics.cli import default_problem
from numerics.flows import gradient_flow
from theory import derive, separable
from theory.catalog import CATALOG, deepproduct
from theory.errors import InvalidParameterization, LeafNotSolvable
from theory.laws.leaf_reduce import dual_jet_check, reduce_on_leaf
from theory.mirror import derive_potential, leaf_flow, prove_potential

alpha = deepproduct.alpha
mu = deepproduct.mu


def _off(p, init):
    """``p`` with the template started at ``init`` (off the leaf of identical factors)."""
    c = dataclasses.replace(p.coordinate, init=tuple(init))
    return separable(c, len(p.outputs), p.name + "-off", constants=p.constants)


@pytest.mark.parametrize("name", ["deepproduct-nonneg-L3", "deepproduct-nonneg-L4"])
def test_derived_on_the_leaf_proved_and_labelled(name):
    e = CATALOG[name]
    d = derive(e.parameterization())
    pot, proof = d.mirror
    assert proof.proved
    assert pot.leaf.startswith("on the leaf through x0") and "leaf through x0" in proof.identity
    lit = [c for c in e.literature() if hasattr(c, "dual_gradient")][0]
    assert prove_potential(d.parameterization, lit).proved
    assert len(d.laws) == d.law_count.laws


def test_two_branches_reduce_by_symmetry_to_woodworths_depth3_form():
    p = deepproduct.product(3, 1, signed=True)
    lf = leaf_flow(p)
    u1, u2, u3, v1, v2, v3 = p.coordinate.params
    assert lf.leaf.mapping == {u2: u1, u3: u1, v2: v1, v3: v1}
    pot, proof = derive_potential(p)
    assert proof.proved
    lit = deepproduct.literature(3, signed=True)[-1]
    assert prove_potential(p, lit).proved
    # control: kappa = L (L - 2) alpha^(L-2) of the u^L model instead of (L - 2) alpha^(L-2)
    wrong = alpha**3 * ((1 - 3 * alpha * mu) ** -3 - (1 + 3 * alpha * mu) ** -3)
    assert prove_potential(p, dataclasses.replace(lit, dual_gradient=(wrong,))).refuted


def test_off_the_leaf_the_potential_is_refuted_with_a_point():
    p = CATALOG["deepproduct-nonneg-L3"].parameterization()
    pot, _ = derive_potential(p)
    on = dual_jet_check(p, pot)
    assert on.status == "undecided" and "agrees" in on.method  # a jet never proves the claim
    # same w0 = alpha^3, another point of the orbit space: the potential does not hold from there
    off = dual_jet_check(p, pot, init=(2 * alpha, alpha / 2, alpha))
    assert off.refuted and off.witness is not None
    # the general flow from that start has no closed form: the engine derives nothing there
    q = _off(p, (2 * alpha, alpha / 2, alpha))
    with pytest.raises(LeafNotSolvable):
        derive_potential(q)


def test_off_the_leaf_the_mirror_identity_fails_numerically():
    e = CATALOG["deepproduct-nonneg-L3"]
    p = e.parameterization(n=3)
    pot, _ = derive_potential(p)
    prob = default_problem(p, e.values, seed=7, dps=30)
    runs = run(gradient_flow(p, prob.X, prob.y, values=e.values), dps=30, t_end=2)
    assert check_mirror(runs, pot).passed
    q = _off(p, (2 * alpha, alpha / 2, alpha))
    bad = check_mirror(run(gradient_flow(q, prob.X, prob.y, values=e.values), dps=30, t_end=2), pot)
    assert not bad.passed and bad.residual > 1e10 * bad.tolerance


def test_laws_solved_for_a_dependent_parameter_through_x0():
    u, v = sp.symbols("u v", positive=True)
    # w = u^2 v from (alpha, alpha): the law u^2 - 2 v^2 fixes v on the leaf, branch through x0
    red = reduce_on_leaf((u, v), (2 * u * v, u**2), (alpha, alpha), laws=(u**2 - 2 * v**2,))
    assert red.free == (u,)
    vv = red.mapping[v]
    assert sp.simplify(vv.subs(u, alpha) - alpha) == 0 and sp.simplify(vv**2 - (u**2 + alpha**2) / 2) == 0


def test_symmetry_needs_the_field_tangent_not_only_equal_starts():
    u, v = sp.symbols("u v", positive=True)
    # u^2 v from (alpha, alpha): equal starts, but V = (2uv, u^2) is not tangent to u = v
    with pytest.raises(LeafNotSolvable):
        reduce_on_leaf((u, v), (2 * u * v, u**2), (alpha, alpha))


def test_bad_depth():
    with pytest.raises(InvalidParameterization):
        deepproduct.product(2, 3)


def test_latex_says_leaf_only_for_a_leaf_potential():
    from theory import latex_claim
    d = derive(CATALOG["deepproduct-nonneg-L3"].parameterization())
    assert "on the leaf through" in latex_claim(d.mirror[0], d.parameterization)
    q = derive(CATALOG["diagonal-depth3"].parameterization())  # general flow: no leaf label
    assert q.mirror[0].leaf == "" and "leaf" not in latex_claim(q.mirror[0], q.parameterization)
