"""The multi-modular law-count engine (theory.laws._lie_modular) against the exact fmpz jets."""
import math
import random

import numpy as np
import pytest
import sympy as sp

from theory import Coordinate, separable
from theory.catalog.linear import known_law_count, linear_net
from theory.laws.lie import _flint_generators, flint_available, lie_count

pytestmark = pytest.mark.skipif(not flint_available(), reason="python-flint not installed")


def _both(widths, seed, primes=5):
    """(D, flint generator jets, modular Point) at one random integer point of a linear net."""
    from theory.laws import _lie_modular as M
    from theory.laws._lie_jets import generator_jets
    p = linear_net(widths)
    rng = random.Random(seed)
    x0 = [rng.randint(-29, 29) for _ in p.params]
    gens, outs = _flint_generators(p.params, list(p.outputs), None)
    D = len(x0)
    terms = [M.monomials(g, D) for g in gens]
    return D, generator_jets(gens, x0, outs), M.Point(terms, [x0], M.primes_for(D, primes))


def _ints(pt, field):
    """Exact value (list) and Jacobian (nested list) of a modular field, by CRT."""
    (v, bv), (J, bj) = field.value(), field.jacobian()
    D = pt.D
    return pt.exact(v, bv)[0], np.array(pt.exact(J.reshape(len(pt.p), D * D), bj)[0],
                                          dtype=object).reshape(D, D).tolist()


@pytest.mark.parametrize("widths,seed", [((2, 2, 2, 1), 1), ((1, 3, 3, 2), 2), ((2, 3, 2, 2), 3)])
def test_bracket_values_and_jacobians_equal_the_exact_jets(widths, seed):
    from theory.laws import _lie_modular as M
    from theory.laws._lie_jets import jet_bracket
    D, jets, pt = _both(widths, seed)
    g = pt.gens
    exact = [(jets[0], g[0]), (jets[1], g[1])]
    exact.append((jet_bracket(jets[0], jets[1]), M.bracket(g[0], g[1])))
    exact.append((jet_bracket(jets[0], exact[2][0]), M.bracket(g[0], exact[2][1])))
    exact.append((jet_bracket(jets[1], exact[3][0]), M.bracket(g[1], exact[3][1])))
    for ref, field in exact:
        val, jac = _ints(pt, field)
        assert val == ref.value() and jac == ref.jacobian().tolist()
        # the proven bounds hold (max entry of the value, largest row sum of the Jacobian)
        assert max(map(abs, val)) <= 2 ** field.value()[1]
        assert max(sum(map(abs, row)) for row in jac) <= 2 ** field.jacobian()[1]
    # a directional derivative of the deepest bracket (Leibniz route, Hessians of generators)
    rng = random.Random(seed)
    c = [rng.randint(-9, 9) for _ in range(D)]
    key = pt.direction(pt.residues(np.array([c], dtype=np.int64)), math.log2(9))
    ref, field = exact[-1][0].directional(c), exact[-1][1]._dir((key,))
    val, jac = _ints(pt, field)
    assert val == ref.value() and jac == ref.jacobian().tolist()
    # negative control: the same comparison notices a wrong direction
    wrong = pt.direction(pt.residues(np.array([[x + 1 for x in c]], dtype=np.int64)), 4.0)
    assert _ints(pt, exact[-1][1]._dir((wrong,)))[1] != ref.jacobian().tolist()


NETS = [(2, 2, 2), (3, 2, 2), (2, 2, 2, 1), (1, 3, 3, 1), (2, 3, 3, 1), (2, 3, 2, 2),
        (3, 3, 3, 3), (2, 3, 3, 3, 1), (1, 3, 3, 3, 2), (5, 2, 4, 1)]


@pytest.mark.parametrize("widths", NETS)
def test_modular_engine_agrees_with_flint_jets(widths):
    p = linear_net(widths)
    a, b = lie_count(p, backend="modular"), lie_count(p, backend="flint")
    assert (a.laws, a.lie_dims, a.bracket_depth) == (b.laws, b.lie_dims, b.bracket_depth)
    assert a.laws == known_law_count(widths)


u, v = sp.symbols("u v", real=True)
up, vp = sp.symbols("u v", positive=True)


@pytest.mark.parametrize("out,params,rates,laws", [
    (up**3 - vp**3, (up, vp), None, 1),          # repeated variables: u^2 in the generator
    (u**4 - v**4, (u, v), None, 1),
    (u**12 * v - v**9, (u, v), None, 1),         # high powers: one entry per distinct tuple
    (u**2 * v - v**3, (u, v), None, 1),          # one output: one field, D - 1 laws
    (u * v, (u, v), (1, 2), 1),                  # a metric: the fields are M grad G
])
def test_modular_engine_on_templates(out, params, rates, laws):
    c = Coordinate(params, out, tuple(1 for _ in params), rates=rates)
    p = separable(c, 2, "t")
    a, b = lie_count(p, backend="modular"), lie_count(p, backend="flint")
    assert a.laws == b.laws == laws and a.lie_dims == b.lie_dims


def test_too_few_primes_reruns_with_more(monkeypatch):
    import theory.laws.lie as lie
    from theory.laws import _lie_modular as M
    calls = []
    real = M.primes_for
    monkeypatch.setattr(M, "primes_for", lambda D, n: calls.append(n) or real(D, n))
    monkeypatch.setattr(lie, "_MODULAR_PRIMES", 1)
    c = lie_count(linear_net((2, 3, 3, 3, 1)))
    assert c.laws == known_law_count((2, 3, 3, 3, 1)) and c.bracket_depth == 4
    assert calls[0] == 1 and len(calls) >= 2  # one prime (22 bits) cannot hold these values


def test_crt_needs_the_bound():
    from theory.laws import _lie_modular as M
    primes = M.primes_for(10, 5)
    pt = M.Point([], [[1] * 10], primes)
    x = [2**100 + 12345, -(3**60), 7, 0]
    res = pt.residues(np.array([x], dtype=object))
    assert pt.exact(res, 101.0)[0] == x
    # negative control: an understated bound uses too few primes and gets the big entries wrong
    wrong = pt.exact(res, 40.0)[0]
    assert wrong[2:] == [7, 0] and wrong[:2] != x[:2]
    with pytest.raises(M.NeedPrimes):
        pt.exact(res, 130.0)  # beyond the product of the five primes


@pytest.mark.parametrize("D", [2, 65, 100, 400])
def test_residue_products_stay_exact(D):
    from theory.laws import _lie_modular as M
    primes = M.primes_for(D, 2)
    pt = M.Point([], [[0] * D], primes)
    rng = np.random.default_rng(D)
    # worst case: every entry at the largest centred magnitude, all of one sign
    A = np.stack([np.full((D, D), math.floor(0.51 * q)) for q in primes]).astype(np.float64)
    B = np.stack([rng.integers(-q // 2, q // 2, (D, D)) for q in primes]).astype(np.float64)
    assert 2 * D * (0.51 * max(primes)) ** 2 < 2**53
    got = pt.red(A @ A - B @ A)
    for k, q in enumerate(primes):
        a, b = A[k].astype(np.int64).astype(object), B[k].astype(np.int64).astype(object)
        rows = slice(0, 3)  # (object arithmetic is slow: three rows are enough to compare)
        want = (a[rows].dot(a) - b[rows].dot(a)) % q
        assert (np.mod(got[k][rows], q).astype(np.int64) == want.astype(np.int64)).all()
        assert np.abs(got[k]).max() <= 0.51 * q


# --- property: the two engines agree on random polynomial models -----------------------------
from hypothesis import assume, given, strategies as st  # noqa: E402

from theory import Parameterization  # noqa: E402


@st.composite
def _polynomial_models(draw):
    """A random polynomial map of 3 parameters to 1-2 outputs (monomials of degree <= 9)."""
    xs = sp.symbols("a b c", real=True)
    outs = []
    for _ in range(draw(st.integers(1, 2))):
        terms = draw(st.lists(st.tuples(st.integers(-3, 3).filter(bool),
                                        st.tuples(*[st.integers(0, 3)] * 3)), min_size=1, max_size=4))
        out = sum(c * xs[0] ** e[0] * xs[1] ** e[1] * xs[2] ** e[2] for c, e in terms)
        assume(out.free_symbols)  # a constant map is refused (InvalidParameterization), not a model
        outs.append(out)
    return Parameterization("random-poly", xs, tuple(outs), (1, 1, 1))


@given(_polynomial_models())
def test_engines_agree_on_random_polynomial_models(p):
    a, b = lie_count(p, backend="modular"), lie_count(p, backend="flint")
    assert (a.laws, a.lie_dims, a.bracket_depth) == (b.laws, b.lie_dims, b.bracket_depth)
