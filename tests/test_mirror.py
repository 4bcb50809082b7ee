"""Mirror potentials: bracket test, derivations (flow and leaf routes), proofs of the catalog's
literature claims, and negative controls (each wrong formula is refuted with a witness)."""
import pytest
import sympy as sp

from theory import Coordinate, Parameterization, separable
from theory.catalog import diagonal as d
from theory.catalog import linear, noncommuting
from theory.claims import MirrorPotential
from theory.errors import LeafNotSolvable, NoMirrorPotential
from theory.mirror import (MU, W, brackets_vanish, derive_potential, domain_constraints, flow,
                           leaf_potential, prove_potential, reparametrize)

alpha, s, w, mu = d.alpha, d.shape, d.w, d.mu
u, v = d.u, d.v


def _lit_potential(claims):
    return next(c for c in claims if isinstance(c, MirrorPotential))


# ---- brackets ---------------------------------------------------------------------------------
def test_brackets_vanish_for_separable_and_refuse_shared_hidden_unit():
    assert brackets_vanish(d.quadratic(3)) is None
    nm = brackets_vanish(noncommuting.shared_hidden_unit())
    assert nm is not None and nm.pair == (0, 1)
    a, b, c = noncommuting.shared_hidden_unit().params
    assert sp.simplify(sp.Matrix(nm.bracket) - sp.Matrix([-b, a, 0])) == sp.zeros(3, 1)
    assert any(sp.sympify(x).xreplace(nm.point) != 0 for x in nm.bracket)


@pytest.mark.parametrize("widths", [(2, 2, 2), (2, 3, 2, 2)])
def test_linear_nets_with_two_outputs_have_no_mirror(widths):
    with pytest.raises(NoMirrorPotential) as ei:
        derive_potential(linear.linear_net(widths))
    e = ei.value
    assert e.pair is not None and e.point
    assert any(sp.sympify(x).xreplace(e.point) != 0 for x in e.bracket)
    assert "do not commute" in str(e) and str(e.point)[:5] in str(e)


def test_shared_hidden_unit_refused_with_witness():
    with pytest.raises(NoMirrorPotential, match="nonzero at"):
        derive_potential(noncommuting.shared_hidden_unit())


def test_metric_coupling_coordinates_is_checked_on_the_full_model():
    # separable template, but a metric that couples coordinate 1 and 2: brackets computed in full
    p0 = d.quadratic(2)
    M = sp.Matrix([[1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 1]])
    p = Parameterization(name="coupled", params=p0.params, outputs=p0.outputs, init=p0.init,
                         constants=p0.constants, metric=M, coordinate=p0.coordinate)
    nm = brackets_vanish(p)
    assert nm is not None and nm.pair == (0, 1)


# ---- flows --------------------------------------------------------------------------------------
def test_flow_of_monomial_and_linear_fields():
    x = sp.Symbol("x", positive=True)
    y = sp.Symbol("y", positive=True)
    (sol,) = flow([3 * x**2], (x,), (y,), MU)
    assert sp.simplify(sp.diff(sol, MU) - 3 * sol**2) == 0 and sol.subs(MU, 0) == y
    a, b = sp.symbols("a b", real=True)
    sa, sb = flow([b, a], (a, b), (1, 2), MU)
    assert sp.simplify(sp.diff(sa, MU) - sb) == 0 and sp.simplify(sa.subs(MU, 0) - 1) == 0


# ---- derivations -------------------------------------------------------------------------------
def test_quadratic_derives_quarter_woodworth():
    pot, pr = derive_potential(d.quadratic(3))
    assert pr.proved, pr
    assert sp.simplify(pot.gradient[0] - sp.asinh(W / (2 * alpha**2)) / 4) == 0
    assert pot.coordinate and pot.potential is not None
    # R = Q_alpha / 4 exactly (Woodworth et al. 2020), normalised R(w0 = 0) = 0
    Q = alpha**2 * (2 - sp.sqrt(4 + (W / alpha**2) ** 2) + W / alpha**2 * sp.asinh(W / (2 * alpha**2)))
    assert sp.simplify(pot.potential - Q / 4) == 0


def test_squared_derives_entropy():
    pot, pr = derive_potential(d.squared(2))
    assert pr.proved
    wp = pot.variables[0]
    assert wp.is_positive
    assert sp.simplify(pot.gradient[0] - sp.log(wp / alpha**2) / 4) == 0


@pytest.mark.parametrize("D", [3, 4])
def test_depth_D_is_dual_only_and_matches_woodworth(D):
    pot, pr = derive_potential(d.depth(D, 2))
    assert pr.proved
    assert pot.gradient is None and pot.potential is None and pot.dual_gradient is not None
    kappa = D * (D - 2) * alpha ** (D - 2)
    e = sp.Rational(-D, D - 2)
    h = alpha**D * ((1 - kappa * MU) ** e - (1 + kappa * MU) ** e)
    assert sp.simplify(sp.powdenest(pot.dual_gradient[0] - h, force=True)) == 0


def test_product_pm_derives_azulay():
    pot, pr = derive_potential(d.product_pm(2))
    assert pr.proved, pr
    assert pot.gradient is not None


def test_leaf_route_agrees_with_flow_route_quadratic():
    flow_pot, _ = derive_potential(d.quadratic(1))
    leaf = leaf_potential(d.quadratic(1))
    assert sp.simplify(leaf.gradient[0] - flow_pot.gradient[0]) == 0
    assert prove_potential(d.quadratic(1), leaf).proved


def test_leaf_route_agrees_with_flow_route_product_numeric_init():
    c = Coordinate(params=(u, v), output=u * v, init=(1, 2))
    p = separable(c, 1, "uv-12")
    flow_pot, pr = derive_potential(p)
    assert pr.proved
    leaf = leaf_potential(p)
    assert prove_potential(p, leaf).proved
    for wv in (sp.Rational(-3, 2), sp.Rational(1, 3), 5):
        diff = (leaf.gradient[0] - flow_pot.gradient[0]).subs(W, wv)
        assert abs(sp.N(diff, 40)) < sp.Float("1e-35")


def test_leaf_route_with_rates():
    c = Coordinate(params=(u, v), output=u**2 - v**2, init=(1, 1), rates=(2, 2))
    p = separable(c, 1, "rates")
    flow_pot, pr = derive_potential(p)
    assert pr.proved
    assert sp.simplify(flow_pot.gradient[0] - sp.asinh(W / 2) / 8) == 0   # eta = 2 halves grad R
    leaf = leaf_potential(p, law=u * v)
    assert sp.simplify(leaf.gradient[0] - flow_pot.gradient[0]) == 0
    assert prove_potential(p, leaf).proved


def test_leaf_route_refuses_three_parameter_templates():
    with pytest.raises(LeafNotSolvable, match="2-parameter"):
        leaf_potential(d.product_pm(1))


def test_commuting_non_separable_hand_made():
    x1, x2 = sp.symbols("x1 x2", real=True)
    p = Parameterization(name="rotated-diagonal", params=(x1, x2),
                         outputs=(x1 * x2, (x1**2 + x2**2) / 2), init=(2, 1))
    assert brackets_vanish(p) is None
    pot, pr = derive_potential(p)
    assert pr.proved, pr
    assert len(pot.dual_gradient) == 2
    # negative control: swap the dual components
    bad = MirrorPotential(variables=pot.variables, dual_variables=pot.dual_variables,
                          dual_gradient=tuple(reversed(pot.dual_gradient)))
    assert prove_potential(p, bad).refuted


def test_diagonal_built_as_non_separable_matches_separable():
    p0 = d.quadratic(2)
    p = Parameterization(name="quad-flat", params=p0.params, outputs=p0.outputs, init=p0.init,
                         constants=p0.constants)
    pot, pr = derive_potential(p)
    assert pr.proved
    sep, _ = derive_potential(p0)
    m1 = pot.dual_variables[0]
    assert sp.simplify((pot.dual_gradient[0] - sep.dual_gradient[0].subs(MU, m1)).rewrite(sp.exp)) == 0


# ---- literature claims ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,build,lit", [
    ("quadratic", lambda: d.quadratic(2), d.quadratic_literature),
    ("depth3", lambda: d.depth(3, 2), lambda: d.depth_literature(3)),
    ("depth4", lambda: d.depth(4, 2), lambda: d.depth_literature(4)),
    ("product", lambda: d.product(2), d.product_literature),
    ("product_pm", lambda: d.product_pm(2), d.product_pm_literature),
    ("squared", lambda: d.squared(2), d.squared_literature),
])
def test_literature_potentials_are_proved(name, build, lit):
    pr = prove_potential(build(), _lit_potential(lit()))
    assert pr.proved, (name, pr)


# ---- negative controls --------------------------------------------------------------------------
def _primal(grad, var=w):
    return MirrorPotential(variables=(var,), gradient=(grad,), coordinate=True)


@pytest.mark.parametrize("grad", [
    sp.asinh(w / (2 * alpha**2)) / 2,          # 1/4 -> 1/2
    -sp.asinh(w / (2 * alpha**2)) / 4,         # sign
    sp.asinh(w / (2 * alpha)) / 4,             # alpha^2 -> alpha
    sp.asinh(w / (2 * alpha**2)) / 4 + 1,      # normalisation grad R(w0) != 0
])
def test_quadratic_wrong_potentials_refuted(grad):
    pr = prove_potential(d.quadratic(1), _primal(grad))
    assert pr.refuted and pr.witness is not None and pr.witness_value != 0


def test_depth_wrong_exponent_refuted():
    D = 3
    kappa = D * (D - 2) * alpha ** (D - 2)
    e = sp.Rational(-D, D - 2) + 1     # wrong h_D exponent
    bad = alpha**D * ((1 - kappa * mu) ** e - (1 + kappa * mu) ** e)
    pr = prove_potential(d.depth(3, 1), MirrorPotential(variables=(w,), dual_variables=(mu,),
                                                         dual_gradient=(bad,), coordinate=True))
    assert pr.refuted and pr.witness


def test_depth_wrong_kappa_refuted():
    kappa = 3 * alpha**2                # alpha^{D-2} -> alpha^{D-1}
    bad = alpha**3 * ((1 - kappa * mu) ** -3 - (1 + kappa * mu) ** -3)
    pr = prove_potential(d.depth(3, 1), MirrorPotential(variables=(w,), dual_variables=(mu,),
                                                         dual_gradient=(bad,), coordinate=True))
    assert pr.refuted


def test_product_pm_wrong_k_refuted():
    k = 2 * alpha * (1 + s**2) / (1 - s**2)   # half of Azulay's k
    pr = prove_potential(d.product_pm(1), _primal(sp.asinh(2 * w / k) / 2))
    assert pr.refuted and pr.witness


def test_squared_wrong_constant_refuted():
    wp = sp.Symbol("w", positive=True)
    pr = prove_potential(d.squared(1), _primal(sp.log(wp / alpha**2) / 2, wp))
    assert pr.refuted


def test_domain_constraints_and_reparametrization():
    cons = domain_constraints(d.product(1))
    assert cons and all(c.xreplace({s: sp.Rational(1, 2), alpha: 1}) for c in cons)
    assert not all(c.xreplace({s: 2, alpha: 1}) for c in cons)
    sub, rest = reparametrize(cons)
    assert s in sub and rest == ()
