"""Reverse accumulation of J^T g (numerics.pullback): the same vector field as the direct
derivatives, exactly where SymPy can simplify and at 50 digits elsewhere; wrong local rules
(controls) are caught by the same comparison, and the flow built with it integrates to the same
digits with fewer series products per order."""
import random

import mpmath
import pytest
import sympy as sp

import numerics.flows as flows
import numerics.pullback as pb
from numerics.cli import default_problem
from numerics.taylor.decompose import decompose
from numerics.taylor.integrator import integrate
from theory.catalog import CATALOG

u, v, r = sp.symbols("u v r", positive=True)
a1, a2, b1, b2 = sp.symbols("a_1 a_2 b_1 b_2", real=True)
D = a1**2 + a2**2 + b1**2 + b2**2
MAPS = {
    "weightnorm-2": ((r**2 * (a1**2 - b1**2) / D, r**2 * (a2**2 - b2**2) / D), (r, a1, a2, b1, b2)),
    "weightnorm-3": ((r**3 * (a1**3 - b1**3) / D**sp.Rational(3, 2), r**3 * (a2**3 - b2**3) / D**sp.Rational(3, 2)),
                     (r, a1, a2, b1, b2)),
    "log-root-exp": ((sp.log(u) * sp.sqrt(u + v**2), sp.exp(u * v) / (1 + v**2), u**v), (u, v)),
}


def _direct(outputs, params, g):
    return [sum(sp.diff(o, x) * gi for o, gi in zip(outputs, g)) for x in params]


def _evaluate(p, point: dict) -> list:
    env = dict(point)
    for s, e in (*p.forward, *p.adjoints):
        env[s] = e.xreplace(env)
    return [e.xreplace(env) for e in p.gradient]


def _max_gap(outputs, params, seed=1) -> mpmath.mpf:
    g = sp.symbols(f"g0:{len(outputs)}", real=True)
    p = pb.reverse_pullback(outputs, params, g)
    rnd = random.Random(seed)
    gap = mpmath.mpf(0)
    for _ in range(3):
        point = {x: sp.Rational(rnd.randint(1, 40), rnd.randint(1, 9)) for x in params}
        point.update({gi: sp.Rational(rnd.randint(-30, 30), 7) for gi in g})
        got, want = _evaluate(p, point), [e.xreplace(point) for e in _direct(outputs, params, g)]
        with mpmath.workdps(50):
            gap = max([gap] + [abs(mpmath.mpf(sp.N(x - y, 60))) for x, y in zip(got, want)])
    return gap


@pytest.mark.parametrize("name", sorted(MAPS))
def test_reverse_accumulation_gives_the_direct_derivatives(name):
    outputs, params = MAPS[name]
    assert _max_gap(outputs, params) < mpmath.mpf(10) ** -45


def test_weight_normalisation_pullback_is_exactly_the_direct_one():
    outputs, params = MAPS["weightnorm-2"]
    g = sp.symbols("g0:2", real=True)
    p = pb.reverse_pullback(outputs, params, g)
    back = {}
    for s, e in (*p.forward, *p.adjoints):
        back[s] = e.xreplace(back)
    for got, want in zip(p.gradient, _direct(outputs, params, g)):
        assert sp.simplify(got.xreplace(back) - want) == 0


@pytest.mark.parametrize("kind,wrong", [
    ("pow", lambda e, vargs, t: [(vargs[1] + 1) * t / vargs[0], None]),   # exponent off by one
    ("log", lambda e, vargs, t: [-1 / vargs[0]]),                         # sign
    ("mul", lambda e, vargs, t: [sp.Mul(*vargs[1:])] * len(vargs)),       # the same factor for every argument
])
def test_a_wrong_local_rule_is_caught(monkeypatch, kind, wrong):
    right = pb._partials
    cls = {"pow": sp.Pow, "log": sp.log, "mul": sp.Mul}[kind]
    monkeypatch.setattr(pb, "_partials", lambda e, vargs, t: wrong(e, vargs, t) if isinstance(e, cls)
                        else right(e, vargs, t))
    assert _max_gap(*MAPS["log-root-exp"]) > mpmath.mpf(10) ** -3


def test_polynomial_and_unruled_maps_keep_the_direct_route():
    assert pb.reverse_pullback((u * v, u**2), (u, v), sp.symbols("g0:2")) is None
    assert pb.reverse_pullback((sp.Abs(u - v) / u,), (u, v), sp.symbols("g0:1")) is None
    assert pb.reverse_pullback((u / v,), (u, v), sp.symbols("g0:1")) is not None
    # a non-real exponent is no comparison error here (the Taylor program refuses it, one line)
    assert pb.reverse_pullback((u**sp.I / v,), (u, v), sp.symbols("g0:1")) is not None


def test_new_symbols_avoid_the_models_names():
    x = sp.Symbol("_pv0", positive=True)
    p = pb.reverse_pullback((x / u,), (x, u), sp.symbols("g0:1"))
    assert all(not s.name.startswith("_pv0") or s == x for s, _ in p.forward)
    assert all(s.name.startswith("_pv_") for s, _ in p.forward)


def _flow(name, direct: bool, monkeypatch):
    entry = CATALOG[name]
    p = entry.parameterization()
    prob = default_problem(p, dict(entry.values), seed=2024, dps=30)
    with monkeypatch.context() as m:
        if direct:
            m.setattr(flows, "reverse_pullback", lambda *a, **k: None)
        return flows.gradient_flow(p, prob.X, prob.y, values=prob.values)


def _products(system) -> int:
    return sum(n.op in ("mul", "div", "pow") for n in decompose(system).nodes)


def test_weight_normalisation_flow_same_digits_fewer_products(monkeypatch):
    rev, direct = _flow("weightnorm-L2", False, monkeypatch), _flow("weightnorm-L2", True, monkeypatch)
    assert any(s.name.startswith("_pa") for s, _ in rev.system.intermediates)
    assert _products(rev.system) < 0.75 * _products(direct.system)
    a, b = integrate(rev.system, rev.y0, 2, dps=30).final, integrate(direct.system, direct.y0, 2, dps=30).final
    assert max(abs(x - y) for x, y in zip(a, b)) < mpmath.mpf(10) ** -28
    # control: a flow built with a wrong quotient rule ends elsewhere
    right = pb._partials
    monkeypatch.setattr(pb, "_partials", lambda e, vargs, t: [2 * d if d is not None else d for d in
                                                               right(e, vargs, t)] if isinstance(e, sp.Pow)
                        else right(e, vargs, t))
    bad = _flow("weightnorm-L2", False, monkeypatch)
    c = integrate(bad.system, bad.y0, 2, dps=30).final
    assert max(abs(x - y) for x, y in zip(c, b)) > mpmath.mpf(10) ** -6
