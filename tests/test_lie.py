"""Counting conservation laws: K = D - dim Lie(V)(x) (Marcotte, Gribonval, Peyré 2023, Thm 3.3)."""
import random

import pytest
import sympy as sp

from theory import Coordinate, IbcheckError, Parameterization, separable
from theory.catalog import CATALOG
from theory.catalog.linear import known_law_count, linear_net, linear_net_literature
from theory.laws.lie import _PRIME, _select, bracket, flint_available, lie_count
from theory.proving.zero import sample_point

u, v = sp.symbols("u v", real=True)
up, vp = sp.symbols("u v", positive=True)


def _template(out, params=(u, v), rates=None):
    c = Coordinate(params, out, tuple(1 for _ in params), rates=rates)
    return separable(c, 2, "t")


BACKENDS = ["auto", "sympy", "generic"] + (["flint", "modular"] if flint_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("out,params,laws", [
    (u**2 - v**2, (u, v), 1), (u * v, (u, v), 1), (up**3 - vp**3, (up, vp), 1),
    (u**2, (u,), 0)])
def test_template_counts(out, params, laws, backend):
    c = lie_count(_template(out, params), backend=backend)
    assert c.per_coordinate and c.dimension == len(params)
    assert c.laws == laws and c.lie_dimension == len(params) - laws


@pytest.mark.parametrize("backend", ["flint", "sympy"] if flint_available() else ["sympy"])
def test_rational_coefficients_take_the_rational_conversion(backend):
    # 1/3 u^2 - 1/2 v^2 cannot be built over ZZ: the fmpq route scales it; same count as u^2 - v^2
    c = lie_count(_template(sp.Rational(1, 3) * u**2 - v**2 / 2), backend=backend)
    assert (c.laws, c.lie_dimension) == (1, 1)
    # negative control: a rational coefficient on a one-parameter template leaves no law
    assert lie_count(_template(sp.Rational(2, 7) * u**2, (u,)), backend=backend).laws == 0


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
def test_deep_linear_net_count():
    # (speed: benchmarks/bench_lie.py, not a timed test)
    c = lie_count(linear_net((3, 3, 3, 3)))
    assert c.laws == 12


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
def test_deep_algebra_extends_the_jets():
    # four bracket layers: the lazy jets of the lower layers are extended as each layer is kept
    c = lie_count(linear_net((2, 3, 3, 3, 1)), backend="flint", points=2)
    assert (c.laws, c.bracket_depth) == (18, 4) and c.laws == known_law_count((2, 3, 3, 3, 1))
    # negative control: a single generator (one output) needs no bracket at all
    assert lie_count(linear_net((1, 3, 3, 3, 1)), backend="flint").bracket_depth == 0


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
def test_five_bracket_layers_without_restart():
    # depth 5 used to restart the jets with T = 8 (minutes); the lazy jets need no guess
    for backend in ("flint", "modular"):
        c = lie_count(linear_net((2, 5, 5, 1)), backend=backend)
        assert (c.laws, c.bracket_depth) == (known_law_count((2, 5, 5, 1)), 5)


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
@pytest.mark.parametrize("widths", [(2, 2, 2), (3, 2, 2), (2, 2, 2, 1), (1, 3, 3, 1), (2, 3, 3, 1)])
def test_flint_jets_agree_with_sympy_engine(widths):
    p = linear_net(widths)
    a, b = lie_count(p, backend="flint"), lie_count(p, backend="sympy")
    assert (a.laws, a.bracket_depth) == (b.laws, b.bracket_depth)


def _taylor_parts(field, xs, x0, upto):
    """Exact homogeneous Taylor parts (dict monomial -> coefficient per component) at x0."""
    d = sp.symbols(f"d0:{len(xs)}")
    shifted = [sp.Poly(sp.expand(e.xreplace({x: x0[i] + d[i] for i, x in enumerate(xs)})), *d)
               for e in field]
    return [[{m: int(c) for m, c in P.terms() if sum(m) == p and c != 0} for P in shifted]
            for p in range(upto + 1)]


def _jet_parts(jet, D, upto):
    out = []
    for p in range(upto + 1):
        comps = [{} for _ in range(D)]
        for m, c in zip(jet.part(p).monoms(), jet.part(p).coeffs()):
            comps[m[D + 1]][tuple(m[:D])] = int(c)
        out.append(comps)
    return out


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
def test_lazy_jet_parts_are_the_taylor_parts_of_the_bracket():
    from theory.laws._lie_jets import generator_jets, jet_bracket
    from theory.laws.lie import _flint_generators
    p = linear_net((2, 2, 2, 1))
    xs, D = p.params, len(p.params)
    x0 = [random.Random(5).randint(-7, 7) for _ in xs]
    gens, outs = _flint_generators(xs, list(p.outputs), None)
    jets = generator_jets(gens, x0)
    # the two ways of shifting the generators (components, or the output then d/d delta) agree
    assert [[g.part(q) for q in range(4)] for g in generator_jets(gens, x0, outs)] == \
        [[g.part(q) for q in range(4)] for g in jets]
    inner = jet_bracket(jets[0], jets[1])
    jet = jet_bracket(jets[0], inner)
    J = sp.Matrix(list(p.outputs)).jacobian(sp.Matrix(xs))
    v = [J[i, :].T for i in range(J.rows)]
    exact = bracket(v[0], bracket(v[0], v[1], xs), xs)
    pt = dict(zip(xs, x0))
    val, jac = jet.low()                    # matrix route (parts 0, 1)
    assert list(val) == list(sp.Matrix(exact).xreplace(pt))
    assert jac.tolist() == sp.Matrix(exact).jacobian(sp.Matrix(xs)).xreplace(pt).tolist()
    # polynomial route: parts 0..2 of the outer bracket (part 2 asks the inner one for part 3)
    assert _jet_parts(jet, D, 2) == _taylor_parts(exact, xs, x0, 2)
    assert _jet_parts(inner, D, 3) == _taylor_parts(bracket(v[0], v[1], xs), xs, x0, 3)
    # negative controls: the opposite convention, and the inner bracket's parts, differ
    assert list(val) != list((-sp.Matrix(exact)).xreplace(pt))
    assert _jet_parts(jet, D, 2) != _taylor_parts(bracket(v[0], v[1], xs), xs, x0, 2)


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
@pytest.mark.parametrize("density", [0.05, 0.9])
def test_dense_reads_every_entry(density):
    # both the sparse (one-variable map) and the dense (offset fill) readers, including an entry
    # equal to -offset, which makes the fill lose a term: the term count must catch it
    import flint
    from theory.laws._lie_jets import _OFFSET, _context, _dense, _mono
    D = 6
    rng = random.Random(2)
    J = [[rng.randint(-50, 50) if rng.random() < density else 0 for _ in range(D)]
         for _ in range(D)]
    J[1][2] = -_OFFSET
    P = _context(D).from_dict({_mono(D, j, i): J[i][j] for i in range(D) for j in range(D)
                               if J[i][j]})
    assert _dense(P, D, True) == flint.fmpz_mat(J)
    assert _dense(P, D, True) != flint.fmpz_mat(J).transpose()  # negative control: (i, j) order
    v = [rng.randint(-9, 9) for _ in range(D)]
    P0 = _context(D).from_dict({_mono(D, None, i): x for i, x in enumerate(v) if x})
    assert _dense(P0, D, False).entries() == v
    if density > 0.5:  # negative control: a non-homogeneous polynomial is refused, not misread
        with pytest.raises(ValueError, match="homogeneous"):
            _dense(P + P0, D, True)


def test_select_certifies_a_hidden_pivot_against_a_basis():
    # rank-2 basis in QQ^4; the first candidate is in its span, the second differs from the span
    # only by P e_4 (zero mod the prime), the third is genuinely new
    b1, b2 = [1, 2, 0, 3], [0, 1, 1, 1]
    inside = [2 * x - 5 * y for x, y in zip(b1, b2)]
    hidden = [x + y for x, y in zip(b1, b2)]
    hidden[3] += _PRIME
    assert _select([b1, b2], [inside, hidden, [0, 0, 1, 0]]) == [1, 2]
    # negative control: without the multiple of the prime the candidate is rejected
    assert _select([b1, b2], [inside, [x + y for x, y in zip(b1, b2)]]) == []


def test_polynomial_fallback_without_flint(monkeypatch):
    import theory.laws.lie as lie
    monkeypatch.setattr(lie, "_flint", None)
    assert not lie.flint_available()
    for w in [(2, 2, 2), (2, 3, 2, 2), (1, 5, 1)]:
        assert lie.lie_count(linear_net(w)).laws == known_law_count(w)
    with pytest.raises(IbcheckError, match="python-flint"):
        lie.lie_count(linear_net((2, 2, 2)), backend="flint")


# --- directional jets: d_c Y without Y's high parts ------------------------------------------
def _fresh_bracket_jets(widths, seed):
    """(D, generator jets, [g0, g1], [g0, [g0, g1]]) at a random integer point (new caches)."""
    from theory.laws._lie_jets import generator_jets, jet_bracket
    from theory.laws.lie import _flint_generators
    p = linear_net(widths)
    xs = p.params
    rng = random.Random(seed)
    x0 = [rng.randint(-7, 7) for _ in xs]
    gens, outs = _flint_generators(xs, list(p.outputs), None)
    jets = generator_jets(gens, x0, outs)
    inner = jet_bracket(jets[0], jets[1])
    return len(xs), jets, inner, jet_bracket(jets[0], inner)


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
@pytest.mark.parametrize("widths,seed", [((2, 2, 2, 1), 5), ((2, 2, 1, 2), 8), ((1, 2, 2, 2), 3)])
def test_directional_jet_is_the_contraction_of_the_full_part(widths, seed):
    from theory.laws._lie_jets import _DirJet, _contract
    D, _, _, outer = _fresh_bracket_jets(widths, seed)
    rng = random.Random(seed + 1)
    c1 = [rng.randint(-9, 9) for _ in range(D)]
    c2 = [rng.randint(-9, 9) for _ in range(D)]
    # the directional jets first (Leibniz route: the outer bracket has no part above 1 yet)
    d1, d12 = outer.directional(c1), outer._dir((tuple(c1), tuple(c2)))
    assert isinstance(d1, _DirJet) and len(outer._parts) <= 2
    lazy = [d1.part(q) for q in range(3)] + [d12.part(q) for q in range(3)]
    low = (d1.value(), d1.jacobian(), d12.value(), d12.jacobian())
    assert len(outer._parts) <= 2  # still never formed the outer bracket's parts 2 and 3
    # the same from the full parts of fresh jets (exact polynomial contraction); the inner
    # bracket's parts are formed first, so the outer parts come from the plain part formula
    _, _, inner, full = _fresh_bracket_jets(widths, seed)
    [inner.part(q) for q in range(6)]
    once = [_contract(full, q + 1, c1) for q in range(4)]
    assert not inner._dirs and not full._dirs  # no directional jet was involved
    exact = once[:3] + [_contract_poly(once[q + 1], c2) for q in range(3)]
    assert lazy == exact
    assert low[0] == [int(x) for x in (full.jacobian() * _col(c1)).entries()]
    assert low[2] == [sum(int(a) * b for a, b in zip(r, c2)) for r in
                      _matrix_of(once[1], D)]  # value of d_c2 d_c1 Y: J_{d_c1 Y} c2
    assert low[1].tolist() == _matrix_of(once[1], D) and low[3].tolist() == _matrix_of(exact[4], D)
    # negative control: another direction gives another jet
    assert outer.directional([x + 1 for x in c1]).part(1) != lazy[1]


def _col(c):
    import flint
    return flint.fmpz_mat(len(c), 1, c)


def _contract_poly(P, c):
    """sum_j c_j dP/d delta_j (exact)."""
    out = P - P
    for j, cj in enumerate(c):
        if cj:
            out += cj * P.derivative(j)
    return out


def _matrix_of(P1, D):
    """D x D list with entry (i, j) the coefficient of delta_j E^i in P1."""
    M = [[0] * D for _ in range(D)]
    for m, c in zip(P1.monoms(), P1.coeffs()):
        j = [k for k in range(D) if m[k]]
        M[m[D + 1]][j[0]] += int(c)
    return M


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
def test_directional_jet_matches_sympy_derivatives():
    # independent check: d_c [g0, [g0, g1]] at x0 and its Jacobian from SymPy's exact field
    from theory.laws._lie_jets import generator_jets, jet_bracket
    from theory.laws.lie import _flint_generators
    p = linear_net((2, 2, 2, 1))
    xs, D = p.params, len(p.params)
    rng = random.Random(11)
    x0 = [rng.randint(-7, 7) for _ in xs]
    c = [rng.randint(-5, 5) for _ in xs]
    gens, outs = _flint_generators(xs, list(p.outputs), None)
    jets = generator_jets(gens, x0, outs)
    dY = jet_bracket(jets[0], jet_bracket(jets[0], jets[1])).directional(c)
    J = sp.Matrix(list(p.outputs)).jacobian(sp.Matrix(xs))
    v = [J[i, :].T for i in range(J.rows)]
    Y = sp.Matrix(bracket(v[0], bracket(v[0], v[1], xs), xs))
    dYx = Y.jacobian(sp.Matrix(xs)) * sp.Matrix(c)
    pt = dict(zip(xs, x0))
    # the generators are scaled by integers: compare up to the common factor of the two fields
    val = sp.Matrix(dY.value())
    ref = dYx.xreplace(pt)
    k = next(val[i] / ref[i] for i in range(D) if ref[i] != 0)
    assert k != 0 and val == k * ref
    assert sp.Matrix(dY.jacobian().tolist()) == k * dYx.jacobian(sp.Matrix(xs)).xreplace(pt)
    assert val != k * (Y.jacobian(sp.Matrix(xs)) * sp.Matrix(c[::-1])).xreplace(pt)  # control


@pytest.mark.skipif(not flint_available(), reason="python-flint not installed")
@pytest.mark.parametrize("widths,depth", [((2, 3, 3, 3, 1), 4), ((2, 4, 4, 1), 4),
                                          ((1, 3, 3, 3, 2), 4), ((2, 4, 4, 4, 1), 4)])
def test_narrow_end_nets_match_known_count(widths, depth):
    # narrow ends need 4-5 bracket layers; the directional jets keep every part at degree <= 1
    c = lie_count(linear_net(widths))
    assert (c.laws, c.bracket_depth) == (known_law_count(widths), depth)
    assert c.lie_dims == (c.lie_dimension,) * 3


@pytest.mark.parametrize("build", ["separate", "signed"])
def test_rational_fields_cleared_of_denominators_count_like_the_generic_engine(build):
    """Rational fields times their denominators (the modular jet engine) give the count of the
    symbolic engine on the fields as they are (issue 13: weightnorm-separate at n = 3 < 10 s)."""
    from theory.catalog import weightnorm as W
    import theory.laws.lie as lie

    p = getattr(W, build)(2, 2)
    params, outputs, metric, constants, _ = lie._target(p, None)
    vals = lie._constant_values(constants, random.Random(0))
    assert lie._cleared_fields(params, [o.xreplace(vals) for o in outputs],
                               metric.xreplace(vals)) is not None  # the new path is taken
    fast, slow = lie_count(p), lie_count(p, backend="generic")
    assert (fast.laws, fast.lie_dimension) == (slow.laws, slow.lie_dimension)
    # control: the count is not insensitive to the fields themselves (other rates, other model)
    assert lie_count(W.signed(2, 2)).laws != lie_count(W.separate(2, 2)).laws
