"""The proof oracle's fast paths (issue 15): memoised steps and the refutation certified before
the rewrite chain. Each gives the verdict, witness and value of the slow path; none proves a
false identity."""
import sympy as sp

import theory.proving.zero as zero
from theory.memo import clear, memo
from theory.proving.zero import check_identity, evaluate, simplify_to_zero

u, v = sp.symbols("u v", real=True)
a = sp.Symbol("alpha", positive=True)
w = sp.Symbol("w", real=True)


def _slow(comps, identity, **kw):
    """check_identity with the early refutation switched off and no memo."""
    gate, zero._PROBE_GATE = zero._PROBE_GATE, float("inf")
    try:
        clear()
        return check_identity(comps, identity, **kw)
    finally:
        zero._PROBE_GATE = gate
        clear()


FALSE = [
    [u * v + u - u * v],
    [sp.diff(sp.asinh(w / (2 * a**2)) / 2, w) * 4 * sp.sqrt(w**2 + 4 * a**4) - 1],  # wrong constant
    [sp.sqrt(u**2) - u],                                 # false for u < 0
    [sp.sinh(u) ** 2 - sp.cosh(u) ** 2 - 1],              # wrong sign
    [sp.Integer(0), sp.exp(u) * sp.exp(-u) - 2],          # second component only
]


def test_early_refutation_gives_the_slow_paths_witness_and_value():
    for comps in FALSE:
        fast = check_identity(comps, "f")
        slow = _slow(comps, "f")
        assert fast.refuted and slow.refuted, comps
        syms = set().union(*(sp.sympify(c).free_symbols for c in comps))
        assert zero._early_refutation([sp.sympify(c) for c in comps], "f", 6, 0, (), syms) is not None, comps
        assert fast.witness == slow.witness and fast.witness_value == slow.witness_value, comps
        # the reported remainder is the component's value at the witness
        rem = fast.remainder if isinstance(fast.remainder, tuple) else (fast.remainder,)
        vals = [evaluate(r, fast.witness) for r in rem]
        assert any(x is not None and abs(x - fast.witness_value) <= 1e-40 * (1 + abs(fast.witness_value))
                   for x in vals), comps


def test_true_identities_are_still_proved_and_the_probe_never_refutes_them():
    xp = sp.Symbol("x", positive=True)
    for comps in ([sp.sinh(u) ** 2 - sp.cosh(u) ** 2 + 1],
                  [sp.asinh(sp.Rational(3, 4)) - sp.log(2)],
                  [sp.log(xp**2) - 2 * sp.log(xp)],
                  [sp.sqrt(xp**2) - xp]):
        assert check_identity(comps, "t").proved, comps


def test_negative_controls_tiny_perturbation_and_branches():
    # 1e-40: the 15-digit probe cannot see it, the chain and the certified refutation do
    p = check_identity([sp.sinh(u) ** 2 - sp.cosh(u) ** 2 + 1 + sp.Rational(1, 10**40) * u], "tiny")
    assert p.refuted and 0 < abs(p.witness_value) < 1e-38
    x = sp.Symbol("x", real=True)
    assert check_identity([sp.log(x**2) - 2 * sp.log(x)], "log off the principal branch").status != "proved"
    assert check_identity([sp.sqrt(x**2) - x], "sqrt").refuted


def test_early_refutation_respects_the_constraints():
    s = sp.Symbol("s", real=True)
    # nonzero only for s < 0, which the constraint excludes: never refuted
    p = check_identity([sp.Abs(s) - s], "c", constraints=[s > 0])
    assert p.status != "refuted" and p.status != "proved"
    assert _slow([sp.Abs(s) - s], "c", constraints=[s > 0]).status == p.status


def test_memo_keys_keep_assumptions_apart():
    x = sp.Symbol("x", real=True)
    xp = sp.Symbol("x", positive=True)
    clear()
    assert simplify_to_zero(sp.sqrt(xp**2) - xp) == 0
    assert simplify_to_zero(sp.sqrt(x**2) - x) != 0       # same name, weaker assumption
    clear()
    assert simplify_to_zero(sp.sqrt(x**2) - x) != 0
    assert simplify_to_zero(sp.sqrt(xp**2) - xp) == 0
    # Float and Rational are different keys
    calls = []

    @memo(8)
    def f(e):
        calls.append(e)
        return e * 2

    assert f(sp.Rational(1, 2)) == 1 and f(sp.Float(0.5)) == sp.Float(1.0)
    assert len(calls) == 2 and f(sp.Rational(1, 2)) == 1 and len(calls) == 2
    # unhashable arguments run uncached
    assert f(sp.Matrix([1])) == sp.Matrix([2]) and len(calls) == 3


def test_constraints_in_other_symbols_keep_the_usual_order():
    # the constraint mentions b, which no component has: the early path stands aside (no error)
    b = sp.Symbol("b", positive=True)
    assert check_identity([sp.sinh(u) ** 2 - sp.cosh(u) ** 2 + 1], "t", constraints=[b < 2]).proved
