"""Flows as exact straight-line programs: structure, constants, and bad input."""
import pytest
import sympy as sp

from numerics.errors import ProblemError, SingularInitialization
from numerics.flows import gradient_flow, instantiate
from theory import Coordinate, Parameterization, separable
from theory.catalog import CATALOG

X = [[1, 2, 3], [0, 1, -1]]
Y = [1, 2]


def test_least_squares_flow_is_the_gradient_of_the_expanded_loss():
    p = CATALOG["diagonal-quadratic"].parameterization()
    f = gradient_flow(p, X, Y, values={"alpha": "1/10"})
    rhs = f.system.expanded_rhs()
    w = [e for e in f.outputs]
    L = sum((sum(sp.Integer(X[j][i]) * w[i] for i in range(3)) - Y[j]) ** 2 for j in range(2)) / 2
    for k, x in enumerate(f.params):
        assert sp.expand(rhs[k] + sp.diff(L, x)) == 0
    # the dual accumulators integrate -grad L(w)
    for i in range(3):  # the dual accumulators integrate -grad L(w)
        g_i = sum(X[j][i] * (sum(X[j][k] * w[k] for k in range(3)) - Y[j]) for j in range(2))
        assert sp.expand(rhs[6 + i] + g_i) == 0
    assert f.y0[:6] == (sp.Rational(1, 10),) * 6 and f.y0[6:] == (0, 0, 0)


def test_metric_and_time_dependent_regularizer_enter_the_vector_field():
    u, v = sp.symbols("u v", real=True)
    t = sp.Symbol("t", nonnegative=True)
    c = Coordinate((u, v), u**2 - v**2, (1, 1), rates=(2, 1), regularizer=u**2 + v**2)
    p = separable(c, 1, "wd", schedule=1 / (1 + t))
    f = gradient_flow(p, [[1]], [1], duals=False)
    assert f.system.time is not None
    rhs = f.system.expanded_rhs()
    u1, v1 = f.params
    r = u1**2 - v1**2 - 1
    assert sp.simplify(rhs[0] - (-2 * (2 * u1 * r + 2 * u1 / (1 + t)))) == 0
    assert sp.simplify(rhs[1] - (-(-2 * v1 * r + 2 * v1 / (1 + t)))) == 0


def test_floats_enter_exactly_at_their_decimal_text():
    p = CATALOG["diagonal-quadratic"].parameterization()
    f = gradient_flow(p, [[0.1, 0.2, 0.3]], [0.7], values={"alpha": 0.1})
    assert f.y0[0] == sp.Rational(1, 10) and f.y[0] == sp.Rational(7, 10)
    assert not any(e.has(sp.Float) for _, e in f.system.intermediates)


def test_per_coordinate_values_for_separable_models():
    p = CATALOG["diagonal-product"].parameterization()
    q = instantiate(p, {"alpha": "1/2", "s": ["1/3", "0", "-1/3"]})
    assert q.constants == ()
    assert q.init[2] == q.init[3]  # s = 0: u0 = v0
    assert q.init[0] != q.init[1]


@pytest.mark.parametrize("X, y, message", [
    ([[1, 2]], [1], "X must have 3 columns"),
    ([[1, 2, 3]], [1, 2], "X has 1 rows but y has 2"),
])
def test_mismatched_shapes_are_refused(X, y, message):
    p = CATALOG["diagonal-quadratic"].parameterization()
    with pytest.raises(ProblemError, match=message):
        gradient_flow(p, X, y, values={"alpha": 1})


def test_missing_constant_values_are_named():
    p = CATALOG["diagonal-product"].parameterization()
    with pytest.raises(ProblemError, match="give a value for s"):
        gradient_flow(p, X, Y, values={"alpha": 1})


def test_singular_initialization_of_the_vector_field_is_refused():
    # the map sqrt(u) is finite at u = 0 but its gradient is not
    u = sp.Symbol("u", nonnegative=True)
    p = Parameterization("sqrt", (u,), (sp.sqrt(u),), (0,))
    with pytest.raises(SingularInitialization, match="singular at the initialization"):
        gradient_flow(p, [[1]], [1])


def test_singular_initialization_of_the_map_is_refused_when_constants_are_set():
    from theory import InvalidParameterization
    u, a = sp.Symbol("u", real=True), sp.Symbol("a")
    p = Parameterization("log", (u,), (sp.log(u**2),), (a,), constants=(a,))
    with pytest.raises(InvalidParameterization, match="singular point of log"):
        gradient_flow(p, [[1]], [1], values={"a": 0})


def test_linear_rows_are_evaluated_exactly_at_the_initialization():
    """The singularity check evaluates the m*n-term rows of r and g in integer arithmetic; the
    values are SymPy's, and anything non-linear (or with an irrational value) goes to SymPy."""
    from numerics.flows import _linear_value
    a, b = sp.symbols("a b")
    row = sp.Add(sp.Mul(sp.Rational(3, 8), a, evaluate=False), sp.Mul(sp.Rational(-5, 4), b, evaluate=False),
                 b, sp.Rational(-1, 3), evaluate=False)
    sub = {a: sp.Rational(2, 7), b: sp.Rational(-9, 10)}
    assert _linear_value(row, sub) == row.xreplace(sub) == sp.Rational(3, 28) + sp.Rational(9, 40) - sp.Rational(1, 3)
    assert _linear_value(row, {**sub, b: sp.Rational(-9, 11)}) != row.xreplace(sub)   # negative control
    assert _linear_value(a * b, sub) is None
    assert _linear_value(row, {a: sp.sqrt(2), b: sp.Integer(1)}) is None
