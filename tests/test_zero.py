"""The proof oracle: proved only when the remainder simplifies to 0; refuted only with an exact witness."""
import sympy as sp

from theory.proving.zero import check_identity, evaluate, sample_point

u, v = sp.symbols("u v", real=True)
a = sp.Symbol("alpha", positive=True)
w = sp.Symbol("w", real=True)


def test_true_identities_are_proved():
    assert check_identity([sp.sinh(u) ** 2 - sp.cosh(u) ** 2 + 1], "hyp").proved
    assert check_identity([sp.diff(sp.asinh(w / (2 * a**2)) / 4, w) * 4 * sp.sqrt(w**2 + 4 * a**4) - 1], "m").proved


def test_false_identities_are_refuted_with_a_witness_where_the_remainder_is_nonzero():
    p = check_identity([u * v + u - u * v], "law")
    assert p.refuted and p.witness is not None
    assert evaluate(p.remainder, p.witness) == p.witness_value != 0
    # a wrong constant in a transcendental identity: refuted numerically at 50 digits
    q = check_identity([sp.diff(sp.asinh(w / (2 * a**2)) / 2, w) * 4 * sp.sqrt(w**2 + 4 * a**4) - 1], "m")
    assert q.refuted and abs(q.witness_value) > 0.5


def test_sample_points_respect_sign_assumptions_and_constraints():
    import random
    s = sp.Symbol("s", real=True)
    pt = sample_point([a, s], random.Random(1), constraints=[s**2 < sp.Rational(1, 4)])
    assert pt[a] > 0 and pt[s] ** 2 < sp.Rational(1, 4)
    assert all(isinstance(x, sp.Rational) for x in pt.values())


def test_undefined_points_are_not_taken_as_evidence():
    assert evaluate(1 / u, {u: sp.Integer(0)}) is None


def test_rewrites_valid_only_for_positive_symbols_never_prove_a_false_identity():
    x = sp.Symbol("x", real=True)
    xp = sp.Symbol("x", positive=True)
    assert check_identity([sp.sqrt(x**2) - x], "sqrt").refuted        # false for x < 0
    assert check_identity([sp.log(x**2) - 2 * sp.log(x)], "log").status != "proved"
    assert check_identity([sp.sqrt(xp**2) - xp], "sqrt+").proved       # true for x > 0
    assert check_identity([sp.log(xp**2) - 2 * sp.log(xp)], "log+").proved


def test_identities_that_hold_by_sign_cases_are_proved_and_false_ones_are_not():
    from theory.proving.zero import split_cases_zero
    x = sp.Symbol("x", real=True)
    r = sp.Symbol("r", positive=True)
    assert check_identity([sp.sqrt((r - 1)**2) - sp.Abs(r - 1)], "c").proved
    assert check_identity([sp.Abs(x) * sp.sign(x) - x], "c").proved
    # true on one side only: never proved by cases
    assert not split_cases_zero(sp.Abs(x) - x)
    assert not split_cases_zero(sp.Piecewise((x, x > 1), (0, True)) - sp.Max(x - 1, 0) - 1)
    assert check_identity([sp.Abs(r - 1) - (r - 1)], "c").refuted
