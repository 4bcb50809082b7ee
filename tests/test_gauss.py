"""Gauss–Legendre pieces with a two-degree error estimate (numerics.gauss)."""
import mpmath
import pytest

from numerics import gauss


@pytest.mark.parametrize("dps", [30, 60, 120])
def test_smooth_integrands_agree_with_closed_forms(dps):
    with mpmath.workdps(dps):
        cases = [(mpmath.exp, 0, 1, mpmath.e - 1),
                 (lambda x: 1 / (1 + x**2), -2, 3, mpmath.atan(3) + mpmath.atan(2)),
                 (lambda x: x**7 - 3 * x**2, mpmath.mpf(-1) / 3, 2, None)]
        for f, a, b, exact in cases:
            val, err = gauss.integrate(f, a, b)
            if exact is None:  # polynomial of degree 7: exact from 4 nodes on
                a, b = mpmath.mpf(a), mpmath.mpf(b)
                exact = (b**8 - a**8) / 8 - (b**3 - a**3)
            assert abs(val - exact) <= mpmath.mpf(10) ** -(dps - 1)
            assert err <= mpmath.mpf(10) ** -(dps + 1)


def test_a_kink_inside_a_piece_is_not_taken_for_smooth():
    """|x - 1/3| unsplit: the rules of 3..96 nodes disagree, so the piece goes to tanh-sinh, whose
    own error estimate is reported (the negative control of the two-degree test)."""
    with mpmath.workdps(30):
        f = lambda x: abs(x - mpmath.mpf(1) / 3)  # noqa: E731
        _, err = gauss.integrate(f, 0, 1)
        assert err > mpmath.mpf(10) ** -20
        # split at the kink, it is exact
        val = gauss.quad(f, [0, mpmath.mpf(1) / 3, 1])
        assert abs(val - mpmath.mpf(5) / 18) <= mpmath.mpf(10) ** -29


def test_infinite_and_singular_pieces_match_mpmath_quad():
    with mpmath.workdps(30):
        g = lambda w: w**3 * mpmath.exp(-w**2 / 2)  # noqa: E731
        assert abs(gauss.quad(g, [0, mpmath.inf]) - 2) <= mpmath.mpf(10) ** -28
        root = lambda x: mpmath.cbrt(x)  # noqa: E731  (endpoint singularity: tanh-sinh takes over)
        assert abs(gauss.quad(root, [0, 1]) - mpmath.mpf(3) / 4) <= mpmath.mpf(10) ** -28


def test_nodes_are_cached_per_degree_and_precision():
    a = gauss.nodes(3, 120)
    assert gauss.nodes(3, 120) is a and len(a) == 12
    assert gauss.nodes(3, 240) is not a
    with mpmath.workprec(120):
        assert abs(mpmath.fsum(w for _, w in a) - 2) < mpmath.mpf(2) ** -110
