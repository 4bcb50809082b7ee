"""Function-space claims of wide ReLU nets: laws, zeta, the selected spline, the kernel route."""
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from theory.catalog import CATALOG
from theory.catalog import widenets as wn
from theory.errors import IbcheckError
from theory.function_space.claims import CurvatureWeight
from theory.function_space.derive import derive_function_space, verify_curvature, verify_realization
from theory.function_space.errors import DegeneratePenalty, InvalidData, InvalidLaw
from theory.function_space.init_laws import (Atoms, Density, Mixture, Product, T, gaussian,
                                             normalisation, rademacher, uniform)
from theory.function_space.kernel import interpolate, kernel_section, kernel_value, least_squares_line
from theory.function_space.pieces import X
from theory.function_space.spline import energy_integral, selected_function
from theory.function_space.zeta import kink_law_for_penalty, zeta, zeta_parts

R = sp.Rational
PAPER_Y = [R(3, 2), R(1, 2), R(3, 2), R(1, 2), R(3, 2)]


@pytest.mark.parametrize("name", ["relu-spline-uniform", "relu-spline-gaussian", "relu-spline-rademacher"])
def test_literature_zeta_proved_and_negative_controls_refuted(name):
    e = CATALOG[name]
    d = derive_function_space(e.parameterization(), data=False)
    for claim in e.literature():
        pr = verify_curvature(d.zeta, claim) if isinstance(claim, CurvatureWeight) else verify_realization(claim)
        assert pr.status == ("proved" if claim.expect == "holds" else "refuted"), (claim.label, pr)
        if pr.status == "refuted":
            assert pr.witness is not None


def test_zeta_closed_forms_come_out_of_the_engine():
    z = zeta(Product(gaussian(wn.s_w), gaussian(wn.s_b)))
    assert sp.simplify(z.exprs[0] - 2 * wn.s_w**3 * wn.s_b**3 / (sp.pi * (wn.s_b**2 + X**2 * wn.s_w**2)**2)) == 0
    z = zeta(Product(uniform(-wn.a_w, wn.a_w), uniform(-wn.a_b, wn.a_b)))
    assert z.breaks == (-sp.oo, -wn.a_b / wn.a_w, wn.a_b / wn.a_w, sp.oo)
    assert z.exprs[1] == wn.a_w**3 / (8 * wn.a_b)
    z = zeta(Product(rademacher(), uniform(-wn.a_b, wn.a_b)))
    assert z.exprs == (0, 1 / (2 * wn.a_b), 0)


def test_mixture_is_the_weighted_sum_and_asymmetric_law_splits_signs():
    mix = Mixture(((R(1, 3), Product(uniform(-1, 1), uniform(-2, 2))), (R(2, 3), Product(rademacher(), uniform(-2, 2)))))
    z = zeta(mix)
    assert z.at(R(1, 2)) == R(1, 3) * R(1, 16) + R(2, 3) * R(1, 4)
    assert z.at(3) == R(1, 3) * R(1, 81)
    # W = +1 only: all kinks come with W > 0, so zeta_minus = 0
    zp, zm = zeta_parts(Product(Atoms(((sp.Integer(1), sp.Integer(1)),)), uniform(-1, 1)))
    assert zm.exprs == (0,) and zp.at(0) == R(1, 2)


def test_proposition_15_inverse_direction():
    rho = 2 + X**2
    law = kink_law_for_penalty(rho, -1, 1)
    z = zeta(law)
    ratios = {sp.simplify(z.at(t) * rho.subs(X, t)) for t in (R(-1, 2), 0, R(1, 3))}
    assert len(ratios) == 1
    with pytest.raises(InvalidLaw):
        kink_law_for_penalty(X**2, -1, 1)   # 1/rho not integrable


def test_bad_laws_are_clear_errors():
    with pytest.raises(InvalidLaw, match="not normalised"):
        zeta(Product(Density(sp.Integer(1), sp.Integer(-1), sp.Integer(1)), uniform(-1, 1)))
    with pytest.raises(InvalidLaw, match="B must have a density"):
        zeta(Product(uniform(-1, 1), rademacher()))
    pr = normalisation(Product(uniform(-1, 1), Density(T + R(1, 2), sp.Integer(-1), sp.Integer(1))))
    assert pr.status == "refuted"           # integrates to 1 but is negative near -1
    assert issubclass(InvalidLaw, IbcheckError) and issubclass(DegeneratePenalty, IbcheckError)


def test_bad_data_are_clear_errors():
    z = zeta(Product(uniform(-1, 1), uniform(-2, 2)))
    with pytest.raises(InvalidData, match="repeated x"):
        selected_function([0, 1, 1], [0, 1, 2], z)
    with pytest.raises(InvalidData):
        selected_function([0], [1], z)
    zr = zeta(Product(rademacher(), uniform(-1, 1)))
    with pytest.raises(DegeneratePenalty, match="vanishes"):
        selected_function([-2, 0, 2], [1, 0, 1], zr)


def test_uniform_spline_is_the_natural_cubic_spline_of_the_paper():
    z = zeta(Product(uniform(-1, 1), uniform(-2, 2)))
    sf = selected_function(wn.PAPER_X, PAPER_Y, z)
    assert sf.exact
    assert [sf(R(1, 2)), sf(R(3, 2))] == [R(59, 56), R(41, 56)]
    # g'' at the knots (0, 30/7, -36/7, 30/7, 0): zeta = 1/16
    assert [m / 16 for m in sf.m] == [0, R(30, 7), R(-36, 7), R(30, 7), 0]
    assert sf.energy == 16 * R(1344, 49) == energy_integral(sf)
    d = derive_function_space(wn.uniform_uniform())
    assert d.spline_proof.status == "proved" and d.agreement_proof.status == "proved"


def test_theorems_linear_term_is_not_least_squares():
    z = Product(uniform(-1, 1), uniform(-2, 2))
    zp, zm = zeta_parts(z)
    ki = interpolate(wn.PAPER_X, PAPER_Y, zp, zm)
    assert (ki.u, ki.v) == (0, R(-27, 14))
    assert least_squares_line(wn.PAPER_X, PAPER_Y) == (0, R(11, 10))
    assert sum(ki.c) == 0 and sum(c * x for c, x in zip(ki.c, ki.xs)) == 0


def test_kernel_route_rejects_a_wrong_zeta_exactly():
    """Negative control, exact: the spline of a non-constant zeta (W, B ~ U(-1, 1): 1/8 inside
    [-1, 1], 1/(8x^4) outside) against the kernel of the constant one (B ~ U(-2, 2))."""
    xs, ys = [-2, -1, 0, R(1, 2), 2], [1, 0, 2, R(1, 3), -1]
    zp, zm = zeta_parts(Product(uniform(-1, 1), uniform(-2, 2)))
    ki = interpolate(xs, ys, zp, zm)
    wrong = selected_function(xs, ys, zeta(Product(uniform(-1, 1), uniform(-1, 1))))
    right = selected_function(xs, ys, (zp + zm).merged())
    pts = [R(-3, 2), R(1, 4), 1, R(3, 2)]
    assert all(ki(p) == right(p) for p in pts)
    assert any(ki(p) != wrong(p) for p in pts)


@pytest.mark.slow
def test_kernel_route_rejects_a_wrong_zeta():
    """Negative control: the spline for one zeta against the kernel of another disagrees."""
    good = Product(gaussian(1), gaussian(R(1, 2)))
    bad = Product(gaussian(R(1, 2)), gaussian(1))          # sigma_w <-> sigma_b
    xs, ys = [-1, 0, R(1, 2), 2], [1, 0, 2, R(1, 3)]
    zp, zm = zeta_parts(good)
    ki = interpolate(xs, ys, zp, zm, dps=30)
    sf_bad = selected_function(xs, ys, zeta(bad), dps=30)
    sf_good = selected_function(xs, ys, zeta(good), dps=30)
    pts = [R(-1, 2), R(1, 4), 1]
    assert max(abs(sp.N(ki(p) - sf_good(p), 30)) for p in pts) < 1e-25
    assert max(abs(sp.N(ki(p) - sf_bad(p), 30)) for p in pts) > 1e-3



distinct_x = st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=8), min_size=3, max_size=5,
                      unique=True).filter(lambda v: max(v) - min(v) >= R(1, 2))
values = st.lists(st.fractions(min_value=-3, max_value=3, max_denominator=6), min_size=5, max_size=5)


@settings(deadline=None, max_examples=4)
@given(xs=distinct_x, ys=values, law=st.sampled_from(["uniform", "rademacher"]))
def test_kernel_route_equals_variational_route_exactly(xs, ys, law):
    """Rational zeta: kernel interpolant + (u x + v) and g* agree exactly at every test point."""
    xs = [R(x) for x in xs]
    ys = [R(y) for y in ys[:len(xs)]]
    L = Product(uniform(-1, 1), uniform(-2, 2)) if law == "uniform" else Product(rademacher(), uniform(-2, 2))
    zp, zm = zeta_parts(L)
    ki = interpolate(xs, ys, zp, zm)
    sf = selected_function(xs, ys, (zp + zm).merged())
    lo, hi = min(xs), max(xs)
    for t in (lo, hi, (lo + hi) / 2, lo + (hi - lo) / 7, lo + (hi - lo) * R(5, 6)):
        assert ki(t) == sf(t)


@settings(deadline=None, max_examples=2)
@given(xs=distinct_x, ys=values)
def test_kernel_route_equals_variational_route_gaussian_20_digits(xs, ys):
    xs = [R(x) for x in xs]
    ys = [R(y) for y in ys[:len(xs)]]
    zp, zm = zeta_parts(Product(gaussian(1), gaussian(1)))
    ki = interpolate(xs, ys, zp, zm, dps=30)
    sf = selected_function(xs, ys, (zp + zm).merged(), dps=30)
    lo, hi = min(xs), max(xs)
    for t in (lo, (lo + hi) / 2, lo + (hi - lo) * R(5, 6)):
        assert abs(sp.N(ki.pieces.at(t) - sf.pieces.at(t), 40)) < sp.Float("1e-20")


def test_kernel_section_agrees_with_kernel_value():
    zp, zm = zeta_parts(Product(uniform(-1, 1), uniform(-2, 2)))
    sec = kernel_section(zp, zm, R(1, 3))
    for t in (R(-5, 2), R(-1, 2), R(1, 3), 1, 3):
        assert sec.at(t) == kernel_value(zp, zm, R(1, 3), t)
