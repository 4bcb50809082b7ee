"""Inverse of an increasing dual gradient on its domain (numerics.duals.increasing_inverse)."""
import mpmath
import pytest

from numerics.duals import increasing_inverse
from theory.errors import IbcheckError


@pytest.mark.parametrize("dps", [30, 72])
def test_inverse_to_the_working_digits_with_poles_and_without(dps):
    with mpmath.workdps(dps):
        calls = []

        def pole(m):  # increasing on (-1, 1), poles at the ends: the root finder must stay inside
            calls.append(m)
            return m / (1 - m**2)

        for target in (mpmath.mpf(-40), mpmath.mpf(-1) / 3, mpmath.mpf(7) / 2, mpmath.mpf(10) ** 6):
            m = increasing_inverse(pole, target, (mpmath.mpf(-1), mpmath.mpf(1)))
            exact = (-1 + mpmath.sqrt(1 + 4 * target**2)) / (2 * target)  # the root in (-1, 1)
            assert abs(m - exact) <= mpmath.mpf(10) ** -(dps - 4) * max(1, abs(exact))
        # far fewer evaluations than bisection (~3.3 dps per target)
        assert len(calls) < 4 * 3.3 * dps / 2
        for target in (mpmath.mpf(5), mpmath.mpf(-2) / 7):
            m = increasing_inverse(mpmath.sinh, target)
            assert abs(m - mpmath.asinh(target)) <= mpmath.mpf(10) ** -(dps - 4) * max(1, abs(m))


def test_a_value_the_gradient_never_reaches_is_an_error():
    with mpmath.workdps(30):
        with pytest.raises(IbcheckError, match="could not bracket"):
            increasing_inverse(mpmath.atan, mpmath.mpf(2))  # atan < pi/2 < 2
