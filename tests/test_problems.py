"""Problems: exact data, validation with named errors, seeded random problems, losses."""
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.errors import ProblemError
from numerics.problems import Loss, Problem, exact_number, exact_rank, random_problem

X3 = ((1, 0, 2), (0, 1, -1))
Y3 = (1, 2)


def test_data_are_exact_rationals():
    p = Problem(((0.1, Fraction(1, 3), "2/7"),), ("0.25",), values={"alpha": 0.001})
    assert p.X == ((sp.Rational(1, 10), sp.Rational(1, 3), sp.Rational(2, 7)),)
    assert p.y == (sp.Rational(1, 4),)
    assert p.values == {"alpha": sp.Rational(1, 1000)}
    assert all(isinstance(a, sp.Rational) for a in p.X[0])
    assert (p.m, p.n) == (1, 3)


def test_per_coordinate_values():
    p = Problem(X3, Y3, values={"alpha": (1, "1/2", 0.25), sp.Symbol("s"): 0})
    assert p.values["alpha"] == (1, sp.Rational(1, 2), sp.Rational(1, 4))
    assert p.values_at(1) == {"alpha": sp.Rational(1, 2), "s": 0}
    with pytest.raises(ProblemError, match="2 per-coordinate values but the data have n=3"):
        Problem(X3, Y3, values={"alpha": (1, 2)})
    with pytest.raises(ProblemError, match="out of range"):
        p.values_at(3)


@pytest.mark.parametrize("X, y, message", [
    (((1, 2), (1,)), (1, 2), "unequal lengths"),
    (((1, 2), (3, 4)), (1,), "y has 1 entries but X has 2 rows"),
    ((), (), "empty data"),
    (((1, float("nan")),), (1,), "non-finite"),
    (((1, 2),), (float("inf"),), "non-finite"),
    (((1, sp.oo),), (1,), "non-finite"),
    (((1, "x"),), (1,), "not a number"),
    (((1, sp.sqrt(2)),), (1,), "must be rational"),
    (((1, 2),), ([1],), "expected a number"),
])
def test_bad_data_named(X, y, message):
    with pytest.raises(ProblemError, match=message):
        Problem(X, y)


def test_bad_settings_named():
    with pytest.raises(ProblemError, match="dps must be an integer"):
        Problem(X3, Y3, dps=2)
    with pytest.raises(ProblemError, match="horizon must be positive"):
        Problem(X3, Y3, horizon=-1)
    with pytest.raises(ProblemError, match="does not satisfy"):
        Problem(X3, Y3, planted=(0, 0, 0))
    assert Problem(X3, Y3, planted=(1, 2, 0)).planted == (1, 2, 0)


def test_require_underdetermined():
    assert Problem(X3, Y3).require_underdetermined().n == 3
    with pytest.raises(ProblemError, match=r"claim needs m < n, got m=3, n=3"):
        Problem(((1, 0, 0), (0, 1, 0), (0, 0, 1)), (1, 2, 3)).require_underdetermined()
    with pytest.raises(ProblemError, match=r"full row rank, got rank 1 < m=2"):
        Problem(((1, 2, 3), (2, 4, 6)), (1, 2)).require_underdetermined()


def test_exact_rank_against_sympy():
    for X in [((1, 2, 3), (2, 4, 6)), ((1, 0), (0, 1)), ((0, 0), (0, 0)), ((1, 2, 3), (4, 5, 6), (7, 8, 9))]:
        assert exact_rank(X) == sp.Matrix(X).rank()


def test_exact_rank_is_not_fooled_by_the_prime():
    """The modular shortcut only certifies full rank; a matrix singular mod p is decided exactly."""
    import numerics.problems as P
    p = P._PRIME
    assert exact_rank(((p, 0), (0, 1))) == 2                      # rank 1 mod p, 2 over QQ
    assert exact_rank((("1/2", "1/3"), ("3/2", 1))) == 1          # rows proportional after scaling
    flint = P._flint
    try:  # the Fraction fallback agrees
        P._flint = None
        assert exact_rank(((p, 0), (0, 1))) == 2
        assert exact_rank((("1/2", "1/3"), ("3/2", 1))) == 1
    finally:
        P._flint = flint


def test_exact_number_reads_decimal_text_not_the_double():
    assert exact_number(0.1) == sp.Rational(1, 10)          # the double would be 3602879701896397/2**55
    assert exact_number(0.1) != sp.Rational(3602879701896397, 2**55)
    with pytest.raises(ProblemError, match="boolean"):
        exact_number(True)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 7), data=st.data())
def test_random_problem_full_rank_and_planted(n, data):
    m = data.draw(st.integers(1, n))
    seed = data.draw(st.integers(0, 10**6))
    p = random_problem(n, m, seed=seed, denominator=4)
    assert p.rank() == m
    assert all(4 % a.q == 0 and abs(a) <= 2 for row in p.X for a in row)
    k = sum(1 for v in p.planted if v != 0)
    assert k == max(1, m // 2)
    assert tuple(sum(a * b for a, b in zip(row, p.planted)) for row in p.X) == p.y


def test_random_problem_seeded():
    a = random_problem(5, 3, seed=7)
    assert a == random_problem(5, 3, seed=7)
    assert a.X != random_problem(5, 3, seed=8).X
    b = random_problem(5, 3, seed=7, y_random=True, values={"alpha": "1/10"}, dps=50)
    assert b.planted is None and b.dps == 50 and b.values == {"alpha": sp.Rational(1, 10)}
    with pytest.raises(ProblemError, match="m <= n"):
        random_problem(2, 3, seed=0)
    with pytest.raises(ProblemError, match="need 1 <= k <= n nonzeros, got k=5"):
        random_problem(4, 2, seed=0, k=5)


def test_least_squares_loss_gradient():
    w = sp.symbols("w1:4", real=True)
    L = Problem(X3, Y3).loss()
    value = L.value_expr(w)
    grad = L.gradient_exprs(w)
    assert all(sp.expand(g - sp.diff(value, s)) == 0 for g, s in zip(grad, w))
    X, y, W = sp.Matrix(X3), sp.Matrix(Y3), sp.Matrix(w)
    assert sp.expand(value - ((X * W - y).T * (X * W - y))[0] / 2) == 0
    # negative control: the sign-flipped residual X^T (Xw + y) is not the gradient
    wrong = X.T * (X * W + y)
    assert any(sp.expand(g - wg) != 0 for g, wg in zip(grad, wrong))


def test_custom_loss():
    w = sp.symbols("w1:3", real=True)
    L = Loss(sp.log(1 + sp.exp(-w[0] - 2 * w[1])))
    g = L.gradient_exprs(w)
    assert sp.simplify(g[1] - 2 * g[0]) == 0
    assert sp.simplify(g[1] - g[0]) != 0    # negative control
    with pytest.raises(ProblemError, match="not among the w symbols"):
        Loss(w[0] * sp.Symbol("z")).gradient_exprs(w)
    with pytest.raises(ProblemError, match="floating-point"):
        Loss(sp.Float("0.5") * w[0] ** 2)
    with pytest.raises(ProblemError, match="3 columns"):
        Loss(None, X3, Y3).gradient_exprs(w)
