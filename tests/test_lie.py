"""Counting conservation laws: K = D - dim Lie(V)(x) (Marcotte, Gribonval, Peyré 2023, Thm 3.3)."""
import random
import time

import pytest
import sympy as sp

from theory import Coordinate, IbcheckError, Parameterization, separable
from theory.catalog import CATALOG
from theory.catalog.linear import known_law_count, linear_net, linear_net_literature
from theory.lie import _PRIME, _select, bracket, flint_available, lie_count
from theory.zero import sample_point

u, v = sp.symbols("u v", real=True)
up, vp = sp.symbols("u v", positive=True)


def _template(out, params=(u, v), rates=None):
    c = Coordinate(params, out, tuple(1 for _ in params), rates=rates)
    return separable(c, 2, "t")


BACKENDS = ["auto", "sympy", "generic"] + (["flint"] if flint_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("out,params,laws", [
    (u**2 - v**2, (u, v), 1), (u * v, (u, v), 1), (up**3 - vp**3, (up, vp), 1),
    (u**2, (u,), 0)])
def test_template_counts(out, params, laws, backend):
    c = lie_count(_template(out, params), backend=backend)
    assert c.per_coordinate and c.dimension == len(params)
    assert c.laws == laws and c.lie_dimension == len(params) - laws


def test_product_pm_template_three_laws():
    c = lie_count(CATALOG["diagonal-product-pm"].parameterization())
    assert (c.dimension, c.laws, c.per_coordinate) == (4, 3, True)


def test_whole_separable_model_counts_every_coordinate():
    p = CATALOG["diagonal-quadratic"].parameterization(n=3)
    whole = lie_count(p, template=False)
    assert not whole.per_coordinate and whole.dimension == 6 and whole.laws == 3
    assert lie_count(p).laws == 1


@pytest.mark.parametrize("widths,laws", [((2, 2, 2), 3), ((3, 3, 3), 6), ((2, 3, 2, 2), 9),
                                          ((1, 5, 1), 9), ((1, 3, 3, 1), 14), ((2, 4, 1), 9),
                                          ((2, 2, 2, 2), 6)])
def test_linear_nets_known_counts(widths, laws):
    c = lie_count(linear_net(widths))
    assert c.laws == laws == known_law_count(widths)
    assert c.lie_dims == (c.lie_dimension,) * 3  # same rank at the three points


def test_known_law_count_old_formula_was_wrong_for_wide_hidden_layers():
    # negative control for the catalog: the textbook sum d(d+1)/2 gives 15 for [1,5,1]
    assert sum(d * (d + 1) // 2 for d in (5,)) == 15 != lie_count(linear_net((1, 5, 1))).laws


@pytest.mark.parametrize("widths", [(2, 2, 2), (3, 3, 3), (2, 3, 2, 2), (1, 5, 1), (3, 2, 4)])
def test_lie_count_equals_balancedness_rank(widths):
    p = linear_net(widths)
    laws = [q.expr for q in linear_net_literature(widths)]
    pt = sample_point(p.params, random.Random(3))
    G = sp.Matrix([[sp.diff(h, x).xreplace(pt) for x in p.params] for h in laws])
    assert lie_count(p).laws == G.rank()


def test_single_output_chain_has_more_than_balancedness():
    p = linear_net((1, 3, 3, 1))
    laws = [q.expr for q in linear_net_literature((1, 3, 3, 1))]
    pt = sample_point(p.params, random.Random(1))
    G = sp.Matrix([[sp.diff(h, x).xreplace(pt) for x in p.params] for h in laws])
    assert G.rank() == 12 < lie_count(p).laws == 14


def test_shared_hidden_unit_noncommuting():
    c = lie_count(CATALOG["shared-hidden-unit"].parameterization())
    assert (c.dimension, c.lie_dimension, c.laws, c.bracket_depth) == (3, 2, 1, 0)


def test_brackets_raise_the_dimension():
    # the 2x2x2 net has 4 outputs (rank 4 at a point) but Lie dimension 5: one bracket layer
    c = lie_count(linear_net((2, 2, 2)))
    assert c.bracket_depth == 1 and c.lie_dimension == 5


def test_symbolic_bracket_matches_definition():
    a, b, c = sp.symbols("a b c", real=True)
    X, Y = (c, 0, a), (0, c, b)
    # DY X - DX Y = (0, a, 0) - (b, 0, 0)
    assert bracket(X, Y, (a, b, c)) == (-b, a, 0)
    assert bracket(X, Y, (a, b, c)) != (b, -a, 0)  # negative control: the opposite convention


def test_non_polynomial_fields_weight_normalization():
    g, a, b = sp.symbols("g a b", positive=True)
    rho = sp.sqrt(a**2 + b**2)
    p = Parameterization("wn", (g, a, b), (g * a / rho, g * b / rho), (1, 1, 2))
    c = lie_count(p)
    assert (c.dimension, c.laws) == (3, 1)  # ||u||^2 is the only law
    with pytest.raises(IbcheckError, match="polynomial"):
        lie_count(p, backend="sympy")


def test_non_polynomial_exp_template():
    assert lie_count(_template(u * sp.exp(v))).laws == 1
    r, th = sp.symbols("r theta", positive=True)
    polar = Parameterization("polar", (r, th), (r * sp.cos(th), r * sp.sin(th)), (1, 1))
    assert lie_count(polar).laws == 0


def test_rates_and_constants_generic():
    eta = sp.Symbol("eta", positive=True)
    c = Coordinate((up, vp), up**3 - vp**3, (1, 1), rates=(1, eta))
    p = separable(c, 2, "rates", constants=(eta,))
    cnt = lie_count(p)
    assert cnt.laws == 1 and all(eta in pt for pt in cnt.points)


def test_select_certifies_what_the_prime_misses():
    # (0, P) vanishes modulo the selection prime; the exact certification must keep it
    assert _select([[1, 0]], [[0, _PRIME]]) == [0]
    # negative control: a genuinely dependent candidate is rejected
    assert _select([[1, 0]], [[_PRIME, 0]]) == []
    assert _select([], [[1, 2], [2, 4], [0, 1]]) == [0, 2]


def test_bad_input():
    p = linear_net((2, 2, 2))
    with pytest.raises(IbcheckError, match="at least one point"):
        lie_count(p, points=0)
    with pytest.raises(IbcheckError, match="not separable"):
        lie_count(p, template=True)
    with pytest.raises(IbcheckError, match="unknown backend"):
        lie_count(p, backend="float")


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
def test_speed_deep_linear_net():
    t0 = time.perf_counter()
    c = lie_count(linear_net((3, 3, 3, 3)))
    assert c.laws == 12
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.slow
def test_large_linear_nets():
    for w in [(4, 4, 4, 4), (5, 5, 5, 5), (2, 5, 5, 2)]:
        assert lie_count(linear_net(w)).laws == known_law_count(w)


# --- Taylor jets (python-flint engine) ------------------------------------------------------
# the benchmark nets (benchmarks/bench_lie.py) that run in about a second in total
BENCH_FAST = [(2, 2, 2), (3, 3, 3), (4, 4, 4), (2, 2, 2, 2), (3, 3, 3, 3), (2, 2, 2, 2, 2),
              (3, 3, 3, 3, 3), (2, 3, 2, 2), (1, 5, 1), (3, 5, 2), (2, 4, 3, 5), (5, 2, 4, 1),
              (1, 3, 3, 1), (1, 4, 4, 4, 1)]
BENCH_SLOW = [(5, 5, 5), (4, 4, 4, 4), (5, 5, 5, 5), (4, 4, 4, 4, 4), (5, 5, 5, 5, 5),
              (4, 3, 5, 2, 3), (2, 3, 3, 3, 1)]


@pytest.mark.parametrize("widths", BENCH_FAST)
def test_bench_nets_match_known_count(widths):
    c = lie_count(linear_net(widths))
    assert c.laws == known_law_count(widths)
    assert c.lie_dims == (c.lie_dimension,) * 3


@pytest.mark.slow
@pytest.mark.parametrize("widths", BENCH_SLOW)
def test_bench_nets_match_known_count_large(widths):
    assert lie_count(linear_net(widths)).laws == known_law_count(widths)


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
def test_deep_algebra_needs_larger_jets():
    # four bracket layers: the jets start at one layer and are redone with larger degree
    c = lie_count(linear_net((2, 3, 3, 3, 1)), backend="flint", points=2)
    assert (c.laws, c.bracket_depth) == (18, 4) and c.laws == known_law_count((2, 3, 3, 3, 1))
    # negative control: a single generator (one output) needs no bracket at all
    assert lie_count(linear_net((1, 3, 3, 3, 1)), backend="flint").bracket_depth == 0


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
@pytest.mark.parametrize("widths", [(2, 2, 2), (3, 2, 2), (2, 2, 2, 1), (1, 3, 3, 1)])
def test_flint_jets_agree_with_sympy_engine(widths):
    p = linear_net(widths)
    a, b = lie_count(p, backend="flint"), lie_count(p, backend="sympy")
    assert (a.laws, a.bracket_depth) == (b.laws, b.bracket_depth)


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
def test_jet_bracket_is_the_taylor_polynomial_of_the_bracket():
    from theory.lie import _flint_generators, _jet_bracket, _JetGrowth
    p = linear_net((2, 2, 2, 1))
    xs, D = p.params, len(p.params)
    x0 = [random.Random(5).randint(-7, 7) for _ in xs]
    gens, outs = _flint_generators(xs, list(p.outputs), None)
    st = _JetGrowth(gens, x0, 2)                       # generators known to degree 3
    # the two ways of shifting the generators (components, or the output then d/d delta) agree
    assert [g.P for g in _JetGrowth(gens, x0, 2, outs).gens] == [g.P for g in st.gens]
    jet = _jet_bracket(st.gens[0], _jet_bracket(st.gens[0], st.gens[1]))  # degree 1
    J = sp.Matrix(list(p.outputs)).jacobian(sp.Matrix(xs))
    v = [J[i, :].T for i in range(J.rows)]
    # the generators are integer-scaled by the engine; here they have integer coefficients
    exact = sp.Matrix(bracket(v[0], bracket(v[0], v[1], xs), xs))
    pt = dict(zip(xs, x0))
    val, jac = jet.low()
    assert list(val) == list(exact.xreplace(pt))
    assert jac.tolist() == exact.jacobian(sp.Matrix(xs)).xreplace(pt).tolist()
    # negative control: the opposite bracket convention gives the opposite value
    assert list(val) != list((-exact).xreplace(pt))


def test_polynomial_fallback_without_flint(monkeypatch):
    import theory.lie as lie
    monkeypatch.setattr(lie, "_flint", None)
    assert not lie.flint_available()
    for w in [(2, 2, 2), (2, 3, 2, 2), (1, 5, 1)]:
        assert lie.lie_count(linear_net(w)).laws == known_law_count(w)
    with pytest.raises(IbcheckError, match="python-flint"):
        lie.lie_count(linear_net((2, 2, 2)), backend="flint")
