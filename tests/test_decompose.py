"""numerics.taylor.decompose: SymPy ODESystem -> straight-line program (shared nodes, one node per sum)."""
import pytest
import sympy as sp

from numerics import ODESystem
from numerics.taylor.decompose import UnsupportedExpression, decompose
from numerics.errors import ProblemError

u, v, x, t = sp.symbols("u v x t")


def _eval(program, state_values, tval=0):
    """Evaluate the program's outputs exactly (SymPy) -- an independent reading of the nodes."""
    val = []
    for n in program.nodes:
        a = [val[j] for j in n.args]
        op = n.op
        if op == "state":
            val.append(state_values[n.value])
        elif op == "time":
            val.append(sp.Integer(tval))
        elif op == "const":
            val.append(n.value)
        elif op == "lin":
            val.append(sum((c * y for c, y in zip(n.coeffs, a)), n.value))
        elif op == "mul":
            val.append(a[0] * a[1])
        elif op == "sq":
            val.append(a[0] ** 2)
        elif op == "div":
            val.append(a[0] / a[1])
        elif op == "pow":
            val.append(a[0] ** n.value)
        elif op == "sqrt":
            val.append(sp.sqrt(a[0]))
        else:
            val.append(getattr(sp, op)(a[0]))
    return [val[o] for o in program.outputs]


def test_least_squares_sums_are_single_nodes_and_shared():
    X = [[1, 2, -1], [sp.Rational(1, 3), 0, 5]]
    y = [1, -2]
    w = [sp.Symbol(f"w{i}") for i in range(3)]
    r = [sp.Symbol(f"r{j}") for j in range(2)]
    g = [sp.Symbol(f"g{i}") for i in range(3)]
    us = sp.symbols("u0:3")
    vs = sp.symbols("v0:3")
    inter = [(w[i], us[i] ** 2 - vs[i] ** 2) for i in range(3)]
    inter += [(r[j], sum(X[j][i] * w[i] for i in range(3)) - y[j]) for j in range(2)]
    inter += [(g[i], sum(X[j][i] * r[j] for j in range(2))) for i in range(3)]
    rhs = [-2 * us[i] * g[i] for i in range(3)] + [2 * vs[i] * g[i] for i in range(3)]
    p = decompose(ODESystem(us + vs, tuple(rhs), tuple(inter)))
    c = p.count()
    # 6 squares, 3 w-sums, 2 residuals, 3 gradients, 6 products u*g, 6 scalings
    assert c["sq"] == 6 and c["mul"] == 6
    assert c["lin"] == 3 + 2 + 3 + 6
    assert c["lin_terms"] == 3 * 2 + (3 + 2) + (2 + 1 + 2) + 6
    # exact evaluation agrees with the expanded right-hand side
    pt = [sp.Rational(1, 2), sp.Rational(-1, 3), 2, sp.Rational(1, 5), 1, sp.Rational(3, 7)]
    sysm = ODESystem(us + vs, tuple(rhs), tuple(inter))
    want = [e.xreplace(dict(zip(us + vs, pt))) for e in sysm.expanded_rhs()]
    assert _eval(p, pt) == want
    # negative control: a perturbed coefficient in the program changes the value
    nodes = list(p.nodes)
    k = next(i for i, n in enumerate(nodes) if n.op == "lin" and len(n.args) == 3)
    bad = nodes[k].coeffs[:-1] + (nodes[k].coeffs[-1] + 1,)
    nodes[k] = type(nodes[k])("lin", nodes[k].args, bad, nodes[k].value)
    assert _eval(type(p)(tuple(nodes), p.states, p.outputs, p.time, p.names, p.key), pt) != want


def test_common_subexpressions_are_shared():
    e = sp.exp(u * v) + sp.sin(u * v) * sp.exp(u * v)
    p = decompose(ODESystem((u, v), (e, sp.cos(u * v))))
    assert p.count()["mul"] == 2  # u*v once, sin(uv)*exp(uv) once
    assert p.count()["exp"] == 1 and p.count()["sin"] == 1 and p.count()["cos"] == 1


def test_functions_and_powers_evaluate_exactly():
    rhs = (sp.sqrt(1 + u ** 2) * sp.exp(-v) + u ** 5 / v ** 3 + (1 + u ** 2) ** sp.Rational(1, 3),
           sp.log(2 + v) + sp.atan(u) - sp.tanh(u) + sp.asinh(v) + 2 ** v + t * u)
    p = decompose(ODESystem((u, v), rhs, time=t))
    pt = [sp.Rational(1, 3), sp.Rational(2, 5)]
    got = _eval(p, pt, 3)
    want = [e.xreplace({u: pt[0], v: pt[1], t: 3}) for e in rhs]
    for g_, w_ in zip(got, want):
        assert abs(sp.N(g_ - w_, 50)) < sp.Rational(1, 10 ** 45)
    # negative control: the exact reading notices a wrong exponent
    wrong = rhs[0].subs(u ** 5, u ** 4).xreplace({u: pt[0], v: pt[1]})
    assert abs(sp.N(got[0] - wrong, 30)) > sp.Rational(1, 100)


def test_program_hash_is_structural():
    a = decompose(ODESystem((u, v), (u * v, -u)))
    b = decompose(ODESystem((u, v), (u * v, -u)))
    c = decompose(ODESystem((u, v), (u * v, -2 * u)))
    assert a.key == b.key and a.key != c.key


def test_unsupported_function_is_named():
    with pytest.raises(UnsupportedExpression, match="besselj"):
        decompose(ODESystem((u,), (sp.besselj(0, u),)))
    with pytest.raises(UnsupportedExpression, match="Float"):
        decompose(ODESystem((u,), (sp.Float("0.7") * u,)))
    with pytest.raises(ProblemError):
        decompose("not a system")
