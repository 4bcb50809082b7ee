"""Finding and proving conservation laws (J_G M grad h = 0), with negative controls."""
import pytest
import sympy as sp

from theory import Coordinate, IbcheckError, separable
from theory.catalog import CATALOG, FLOWS
from theory.catalog.linear import linear_net
from theory.laws import (LAW_IDENTITY, characteristic_law, find_laws, law_summary, laws_equivalent,
                         prove_law)
from theory.laws.lie import lie_count

u, v = sp.symbols("u v", real=True)
up, vp = sp.symbols("u v", positive=True)
alpha = sp.Symbol("alpha", positive=True)


def _model(out, params=(u, v), rates=None, constants=()):
    c = Coordinate(params, out, tuple(1 for _ in params), rates=rates)
    return separable(c, 2, "t", constants=constants)


def _refuted(proof):
    return proof.refuted and proof.witness is not None and proof.witness_value != 0


def test_prove_law_quadratic_and_negative_controls():
    p = CATALOG["diagonal-quadratic"].parameterization()
    pr = prove_law(p, u * v, coordinate=True)
    assert pr.proved and pr.identity == LAW_IDENTITY
    for wrong in (u * v + u, u**2 * v, u**2 + v**2):
        assert _refuted(prove_law(p, wrong, coordinate=True)), wrong


def test_prove_law_whole_model_symbols():
    p = CATALOG["diagonal-quadratic"].parameterization(n=2)
    u1, v1, u2, v2 = p.params
    assert prove_law(p, u1 * v1 + 3 * u2 * v2).proved
    assert _refuted(prove_law(p, u1 * v2))


def test_depth3_law_and_wrong_sign():
    p = CATALOG["diagonal-depth3"].parameterization()
    assert prove_law(p, 1 / up + 1 / vp, coordinate=True).proved
    assert _refuted(prove_law(p, 1 / up - 1 / vp, coordinate=True))


def test_balancedness_entry_and_wrong_sign():
    p = linear_net((2, 2, 2))
    laws = [q.expr for q in CATALOG["linear-net-2x2x2"].literature()]
    assert all(prove_law(p, h).proved for h in laws)
    U1 = [s for s in p.params if s.name.startswith("U1")]
    U2 = [s for s in p.params if s.name.startswith("U2")]
    wrong = laws[0] + 2 * U1[0] ** 2  # flips the sign of one U1 term
    assert _refuted(prove_law(p, wrong))
    assert _refuted(prove_law(p, U2[0] ** 2 + U1[0] ** 2))


def test_regularizer_is_ignored_by_the_every_loss_check():
    c = Coordinate((u, v), u**2 - v**2, (alpha, alpha), regularizer=u**2 + v**2)
    p = separable(c, 2, "wd", constants=(alpha,), schedule=sp.Integer(1))
    assert prove_law(p, u * v, coordinate=True).proved


def test_bad_input_names_the_symbols():
    p = CATALOG["diagonal-quadratic"].parameterization()
    z = sp.Symbol("zeta")
    with pytest.raises(IbcheckError, match="zeta"):
        prove_law(p, u * z, coordinate=True)
    with pytest.raises(IbcheckError, match="not separable"):
        prove_law(linear_net((2, 2, 2)), u, coordinate=True)
    # template symbols are not the whole model's parameters
    with pytest.raises(IbcheckError, match="u, v"):
        prove_law(p, u * v)


@pytest.mark.parametrize("name", list(FLOWS))
def test_catalog_laws_found_proved_and_match_literature(name):
    e = CATALOG[name]
    p = e.parameterization()
    count = lie_count(p)
    found = find_laws(p, count=count)
    assert len(found) == count.laws, law_summary(found, count)
    assert all(q.origin == "derived" and q.method for q in found)
    assert all(prove_law(p, q.expr, coordinate=q.coordinate).proved for q in found)
    lit = [c for c in e.literature() if type(c).__name__ == "ConservedQuantity"]
    if lit:
        assert laws_equivalent(p, found, lit, coordinate=count.per_coordinate)


def test_laws_equivalent_negative_control():
    p = CATALOG["diagonal-quadratic"].parameterization()
    assert laws_equivalent(p, [u * v], [3 * (u * v) ** 2 + 1], coordinate=True)
    assert not laws_equivalent(p, [u * v], [u**2 - v**2], coordinate=True)


def test_expected_forms():
    q = find_laws(CATALOG["diagonal-quadratic"].parameterization())
    assert [x.expr for x in q] == [u * v] and q[0].method == "ansatz degree 2"
    q = find_laws(CATALOG["diagonal-product"].parameterization())
    assert sp.expand(q[0].expr**2 - (u**2 - v**2) ** 2) == 0
    q = find_laws(CATALOG["diagonal-depth3"].parameterization())
    assert sp.simplify(q[0].expr - (1 / up + 1 / vp)) == 0


@pytest.mark.parametrize("D", [3, 4, 5])
def test_depth_D_characteristics(D):
    h = characteristic_law((up, vp), up**D - vp**D)
    p = _model(up**D - vp**D, (up, vp))
    assert prove_law(p, h, coordinate=True).proved
    assert laws_equivalent(p, [h], [up ** (2 - D) + vp ** (2 - D)], coordinate=True)
    assert not laws_equivalent(p, [h], [up ** (2 - D) - vp ** (2 - D)], coordinate=True)


def test_unequal_rates_change_the_law():
    p = _model(up**3 - vp**3, (up, vp), rates=(1, 2))
    h = characteristic_law((up, vp), up**3 - vp**3, sp.diag(1, 2))
    assert prove_law(p, h, coordinate=True).proved
    assert laws_equivalent(p, [h], [2 / up + 1 / vp], coordinate=True)
    # negative control: the equal-rate law is no longer conserved
    assert _refuted(prove_law(p, 1 / up + 1 / vp, coordinate=True))
    found = find_laws(p)
    assert len(found) == 1 and laws_equivalent(p, found, [h], coordinate=True)


def test_symbolic_rates():
    eta = sp.Symbol("eta", positive=True)
    p = _model(up**3 - vp**3, (up, vp), rates=(1, eta), constants=(eta,))
    found = find_laws(p)
    assert len(found) == 1 and prove_law(p, found[0].expr, coordinate=True).proved
    assert laws_equivalent(p, found, [eta / up + 1 / vp], coordinate=True)


def test_characteristics_non_polynomial():
    p = _model(u * sp.exp(v))
    found = find_laws(p)
    # exp(v) is out of reach of the polynomial ansatz; the Darboux ansatz (exp as an independent
    # value) finds the law before the characteristics do
    assert len(found) == 1 and found[0].method in ("characteristics", "rational ansatz (Darboux)")
    assert characteristic_law((u, v), u * sp.exp(v)) is not None
    assert laws_equivalent(p, found, [v - u**2 / 2], coordinate=True)
    assert not laws_equivalent(p, found, [v + u**2 / 2], coordinate=True)


def test_squared_and_shared_hidden_unit():
    assert find_laws(CATALOG["diagonal-squared"].parameterization()) == ()
    p = CATALOG["shared-hidden-unit"].parameterization()
    a, b, c = p.params
    found = find_laws(p)
    assert len(found) == 1 and laws_equivalent(p, found, [a**2 + b**2 - c**2])


def test_law_summary():
    p = CATALOG["diagonal-product-pm"].parameterization()
    count = lie_count(p)
    found = find_laws(p, count=count)
    assert law_summary(found, count) == "found 3 of 3 laws per coordinate"
    assert law_summary(found[:1], count) == "found 1 of 3 laws per coordinate"
    whole = lie_count(linear_net((2, 2, 2)))
    assert law_summary((), whole) == "found 0 of 3 laws"


def test_max_degree_limits_the_search():
    p = CATALOG["diagonal-quadratic"].parameterization()
    found = find_laws(p, max_degree=1)  # u v has degree 2: the polynomial ansatz misses it
    # ... and the Darboux stage finds it as log u + log v (a product of powers)
    assert [q.method for q in found] == ["rational ansatz (Darboux)"]
    assert laws_equivalent(p, found, [u * v], coordinate=True)
    with pytest.raises(IbcheckError, match="max_degree"):
        find_laws(p, max_degree=0)


# ---- laws beyond polynomials (log-rational ansatz over Darboux candidates) -----------------------
def _normalized(n=2, L=2):
    """x_i = r^L (a_i^L - b_i^L) / ||s||^L, s = (a; b), rates eta_r, eta_s (weight normalization)."""
    r = sp.Symbol("r", positive=True)
    a = [sp.Symbol(f"a_{i + 1}", positive=True) for i in range(n)]
    b = [sp.Symbol(f"b_{i + 1}", positive=True) for i in range(n)]
    er, es = sp.symbols("eta_r eta_s", positive=True)
    S = sum(x**2 for x in a + b)
    outs = [r**L * (a[i]**L - b[i]**L) / S ** sp.Rational(L, 2) for i in range(n)]
    from theory import Parameterization
    p = Parameterization("normalized", [r] + a + b, outs, [2 * alpha] + [1] * (2 * n),
                         constants=(alpha, er, es), metric=sp.diag(er, *[es] * (2 * n)))
    return p, r, a, b, er, es, S


@pytest.mark.parametrize("L", [2, 3])
def test_log_and_rational_laws_are_found_and_proved(L):
    p, r, a, b, er, es, S = _normalized(2, L)
    count = lie_count(p)
    found = find_laws(p, count=count)
    assert count.laws == 3 and law_summary(found, count) == "found 3 of 3 laws"
    assert any(h.expr.has(sp.log) for h in found)
    k = sp.Rational(1, 1) if L == 2 else sp.Rational(-1, 2)  # (2 - L)/... of the log law
    if L == 2:
        law = sp.log(a[0] * b[0] / S) + es * r**2 / (er * S)
        ratio = a[0] * b[0] / (a[1] * b[1])
    else:
        law = sp.log((1 / a[0] + 1 / b[0]) * sp.sqrt(S)) - es * r**2 / (2 * er * S)
        ratio = (1 / a[0] + 1 / b[0]) / (1 / a[1] + 1 / b[1])
    assert laws_equivalent(p, found, [law, ratio, S])
    assert prove_law(p, law).proved and prove_law(p, ratio).proved
    # negative controls: rho for rho/2 (or 2 rho), the exponent's sign, a wrong ratio
    assert _refuted(prove_law(p, law + k * es * r**2 / (er * S)))
    assert _refuted(prove_law(p, law - 2 * (law - law.subs(r, 0))))
    assert _refuted(prove_law(p, a[0] * b[0] / (a[1] * b[0])))


def test_denominators_are_cleared_before_the_ansatz():
    from theory.laws.search import _ansatz
    p, r, a, b, er, es, S = _normalized(2, 2)
    laws = _ansatz(p.params, p.outputs, p.metric_matrix(), [x * y for x in a + b for y in a + b])
    assert any(sp.expand(h - S) == 0 for h in laws)
