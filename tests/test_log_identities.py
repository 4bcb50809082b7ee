"""The asinh/log identities decided by exponentiating (theory/proving/log_identities.py), the exact signs
behind them (theory/proving/signs.py), and the faster paths of issue 15 that use them. Every proof has a
negative control of the same shape that the same path must not prove."""
import sympy as sp

from theory.limits import _limit
from theory.proving.log_identities import exp_form_zero, real_where_defined, sqrt_of_rational
from theory.memo import clear
from theory.proving.signs import resolve_abs, sign_of
from theory.proving.zero import check_identity, simplify_to_zero

x, y = sp.symbols("x y", real=True)
T, r, a = sp.symbols("T r a", positive=True)


# ---- signs ------------------------------------------------------------------------------------
def test_sign_of_by_the_discriminant_rule_and_its_negative_controls():
    q = T**2 * (r + 1) ** 2 + (r - 1) ** 2            # expanded, SymPy's assumptions cannot tell
    assert sp.expand(q).is_positive is None
    assert sign_of(sp.expand(q)) == 1
    assert sign_of(-sp.expand(q)) == -1
    assert sign_of(x**2 + x + 1) == 1                  # discriminant -3 < 0
    # negative controls: indefinite quadratics (discriminant > 0 or = 0) are never given a sign
    assert sign_of(x**2 + 3 * x + 1) == 0
    assert sign_of(x**2 - 2 * x + 1) == 0              # (x - 1)^2 vanishes at 1: not > 0
    assert sign_of(sp.expand(T**2 * (r + 1) ** 2 - (r - 1) ** 2)) == 0
    assert sign_of(x * y) == 0


def test_resolve_abs_is_value_preserving():
    e = sp.Abs(sp.expand(T**2 * (r + 1) ** 2 + (r - 1) ** 2)) + sp.Abs((r - 1) * (r + 1) / (2 * r))
    out = resolve_abs(e)
    assert out.has(sp.Abs(r - 1)) and not out.has(sp.Abs(sp.expand(T**2 * (r + 1) ** 2 + (r - 1) ** 2)))
    for pt in ({T: sp.Rational(1, 3), r: sp.Rational(1, 2)}, {T: 3, r: sp.Rational(7, 2)}):
        assert sp.simplify(e.xreplace(pt) - out.xreplace(pt)) == 0
    # negative control: an argument of unknown sign keeps its absolute value
    assert resolve_abs(sp.Abs(x - 1)) == sp.Abs(x - 1)


def test_sqrt_of_rational_takes_out_square_factors_only():
    X = (T**2 * (r + 1) ** 2 - (r - 1) ** 2) / (2 * T * (r + 1) * (r - 1))
    s = sqrt_of_rational(X**2 + 1)
    assert not any(p.exp == sp.Rational(1, 2) and p.base.has(T) for p in s.atoms(sp.Pow))
    pt = {T: sp.Rational(5, 3), r: sp.Rational(1, 4)}
    assert abs(sp.N((s - sp.sqrt(X**2 + 1)).xreplace(pt), 50)) < 1e-45
    # negative control: a radicand that is no square keeps its root
    assert sqrt_of_rational(x**2 + 2).has(sp.sqrt(x**2 + 2))


# ---- the exponentiation rule -------------------------------------------------------------------
def _mirror_like(k=1, c=0):
    """asinh(B(T)) - asinh(A) - k log T + c: true for k = 1, c = 0 (the shaped product's mirror
    identity in miniature: B = (T^2 (A + S) - 1/(A + S)) / (2T)... written out)."""
    A = 2 * r / ((r + 1) * sp.Abs(r - 1))
    B = (T**2 * (r + 1) ** 2 - (r - 1) ** 2) / (2 * T * (r + 1) * sp.Abs(r - 1))
    return sp.asinh(B) - sp.asinh(A) - k * sp.log(T) + c


def test_exp_form_proves_asinh_log_identities():
    clear()
    assert exp_form_zero(_mirror_like())
    assert exp_form_zero((2 * sp.asinh(x) - sp.asinh(2 * x * sp.sqrt(x**2 + 1))) / 3)   # sinh 2u, all real x
    assert exp_form_zero(2 * sp.asinh((T - 1 / T) / 2) - 2 * sp.log(T))
    assert exp_form_zero(a * (sp.asinh(sp.Rational(3, 4)) - sp.log(2)))     # common factor pulled out
    assert simplify_to_zero(_mirror_like()) == 0
    assert check_identity([_mirror_like()], "mirror").proved


def test_exp_form_negative_controls():
    clear()
    # wrong multiple of log T, wrong constant, wrong argument: never proved, and refuted
    for e in (_mirror_like(k=2), _mirror_like(c=sp.Rational(1, 10**30)),
              2 * sp.asinh(x) - sp.asinh(2 * x * sp.sqrt(x**2 + 2))):
        assert not exp_form_zero(e)
        assert check_identity([e], "false").refuted, e
    # exp(k A) = 1 holds for A = 2 pi i: a complex A is never decided this way
    e = sp.log(-T) - sp.log(T) + sp.I * sp.pi
    assert not real_where_defined(e) and not exp_form_zero(e + sp.asinh(x) - sp.asinh(x))
    # log of an argument of unknown sign: not real, not decided here
    assert not real_where_defined(sp.log(x) + sp.asinh(x))


def test_exp_form_respects_branches():
    # asinh(sqrt(x^2)) = asinh(|x|) differs from asinh(x) for x < 0: not proved, refuted
    e = sp.asinh(sp.sqrt(x**2)) - sp.asinh(x)
    assert not exp_form_zero(e)
    assert check_identity([e], "branch").refuted


# ---- Piecewise by cases, flipped limits --------------------------------------------------------
def test_piecewise_components_by_cases_first_and_negative_control():
    s = sp.Symbol("s", positive=True)
    pw = sp.Piecewise((sp.asinh((1 - s) / s), s <= 1), (-sp.asinh((s - 1) / s), True))
    pr = check_identity([pw - sp.asinh((1 - s) / s)], "pw")
    assert pr.proved and "case" in pr.method
    bad = sp.Piecewise((sp.asinh((1 - s) / s), s <= 1), (sp.asinh((s - 1) / s), True))
    assert check_identity([bad - sp.asinh((1 - s) / s)], "pw bad").refuted


def test_limit_with_a_negative_symbol_is_the_plain_limit():
    clear()
    wn = sp.Symbol("w_n", negative=True)
    al = sp.Symbol("alpha", positive=True)
    e = sp.asinh(wn / al) / sp.log(1 / al)
    assert _limit(e, al, 0) == sp.limit(e, al, 0, "+") == -1
    # the sign of the symbol is kept: the positive twin has the opposite limit
    wp = sp.Symbol("w_p", positive=True)
    assert _limit(sp.asinh(wp / al) / sp.log(1 / al), al, 0) == 1
    assert _limit(wn * sp.asinh(wn / al) / sp.log(1 / al), al, 0) == -wn


def test_kernel_sections_scaled_by_a_float_are_expanded_with_the_same_values():
    from theory.function_space.pieces import X, Pieces

    p = Pieces((-sp.oo, 0, sp.oo), (sp.exp(-X**2) * (X + 1) ** 2, X**2 + sp.Rational(1, 3)))
    c = sp.Float("0.1234567890123456789012345678901234567890", 50)
    f = p.scale(c)
    assert f.exprs == tuple(sp.expand(c * e) for e in p.exprs)
    for e0, e1 in zip(p.exprs, f.exprs):
        assert abs(sp.N((c * e0 - e1).xreplace({X: sp.Rational(-3, 7)}), 50)) < 1e-45
    # an exact coefficient keeps the simplifying scale (exact pieces stay exact)
    assert p.scale(sp.Rational(2, 3)).exprs == tuple(sp.simplify(sp.Rational(2, 3) * e) for e in p.exprs)
