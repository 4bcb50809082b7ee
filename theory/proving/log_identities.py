r"""Identities between sums of :math:`\operatorname{arsinh}` and :math:`\log` terms, decided by
exponentiating (issue 15: the mirror identities of the shaped product models).

For a real-valued :math:`A = \sum_i n_i \operatorname{arsinh} X_i + \sum_j m_j \log Y_j + r` (rational
:math:`n_i, m_j`, common denominator :math:`k`), :math:`A = 0 \iff e^{kA} = 1` because
:math:`\exp` is injective on the reals, and

.. math:: e^{\operatorname{arsinh} X} = X + \sqrt{X^2 + 1}, \qquad e^{\log Y} = Y,

so :math:`D\,(e^{kA} - 1) = N e^{kr} - D` with :math:`N, D` the products of the bases with
positive and negative exponents (:math:`D > 0`: every base is positive). When :math:`X` is a
rational function, :math:`X^2 + 1` is factored and its square factors leave the root
(:math:`\sqrt{E^2 S} = |E|\sqrt S` for real :math:`E`), the absolute values are resolved by
:func:`~.signs.sign_of`, and :math:`N e^{kr} - D` is a rational identity for ``cancel``.

Sound only for real :math:`A`: :func:`real_where_defined` certifies that syntactically (real
symbols, logarithms of provably positive arguments, roots of provably nonnegative bases); a
complex :math:`A` with :math:`e^{kA} = 1` (e.g. :math:`2\pi i`) is never proved zero this way.
"""
from __future__ import annotations

import sympy as sp

from .signs import resolve_abs, sign_of

#: real functions of a real argument
_REAL_OF_REAL = (sp.asinh, sp.atan, sp.exp, sp.sinh, sp.cosh, sp.tanh, sp.sin, sp.cos)
#: largest common denominator of the coefficients and largest total power of the bases
MAX_DENOMINATOR = 12
MAX_POWER = 16


def real_where_defined(e) -> bool:
    """Whether ``e`` is real at every admissible point where it is defined (conservative: ``False``
    means "not shown")."""
    if e.is_Number or e.is_NumberSymbol:
        return bool(e.is_real)
    if e.is_Symbol:
        return bool(e.is_real)
    if isinstance(e, (sp.Add, sp.Mul)):
        return all(real_where_defined(a) for a in e.args)
    if e.is_Pow:
        b, x = e.args
        if not real_where_defined(b):
            return False
        if x.is_integer:
            return True
        if x.is_Rational:
            return bool(b.is_nonnegative) or sign_of(b) == 1
        return real_where_defined(x) and (bool(b.is_positive) or sign_of(b) == 1)
    if isinstance(e, sp.Abs):
        return True
    if isinstance(e, _REAL_OF_REAL):
        return real_where_defined(e.args[0])
    if isinstance(e, sp.log):
        return real_where_defined(e.args[0]) and (bool(e.args[0].is_positive) or sign_of(e.args[0]) == 1)
    return False


def sqrt_of_rational(R):
    r""":math:`\sqrt R` with the square factors of :math:`R`'s numerator and denominator taken out
    (:math:`\sqrt{E^2 S} = |E|\sqrt S`, exact for real :math:`E`; the caller guarantees the factors
    are real), their absolute values resolved where the sign is known."""
    num, den = sp.fraction(sp.together(_even_abs_powers(R)))
    out, rest = sp.Integer(1), sp.Integer(1)
    for part, power in ((num, 1), (den, -1)):
        try:
            c, factors = sp.factor_list(part)
        except (sp.PolynomialError, NotImplementedError, ValueError, TypeError):
            return sp.sqrt(R)
        rest *= c ** power
        for f, m in factors:
            out *= (sp.Abs(f) ** (m // 2)) ** power
            rest *= (f ** (m % 2)) ** power
    return resolve_abs(out) * sp.sqrt(rest)


def _even_abs_powers(e):
    """``|a|^{2m} -> a^{2m}`` for ``a`` real where defined (SymPy does it only when it knows ``a`` is
    real everywhere, which a denominator that may vanish prevents)."""
    return e.replace(lambda x: x.is_Pow and isinstance(x.base, sp.Abs) and x.exp.is_integer and x.exp.is_even
                     and real_where_defined(x.base.args[0]),
                     lambda x: x.base.args[0] ** x.exp)


def _split(A):
    """``(k, [(n, f)], rest)``: the integer multiples ``n`` of the asinh/log terms ``f`` in ``k*A``."""
    terms, rest = [], []
    for t in sp.Add.make_args(sp.expand(A, deep=False)):
        c, f = t.as_coeff_Mul()
        if c.is_Rational and isinstance(f, (sp.asinh, sp.log)):
            terms.append((c, f))
        else:
            rest.append(t)
    if not terms:
        return None
    k = sp.ilcm(*[c.q for c, _ in terms], 1)
    if k > MAX_DENOMINATOR:
        return None
    return k, [(int(c * k), f) for c, f in terms], sp.Add(*rest)


def _base(f):
    if isinstance(f, sp.log):
        return f.args[0]
    X = f.args[0]
    return X + sqrt_of_rational(X**2 + 1)


def exp_form(A):
    r"""``N e^{kr} - D`` (see the module doc) for an Add ``A`` with arsinh terms, or ``None``."""
    split = _split(A)
    if split is None:
        return None
    k, terms, rest = split
    if not any(isinstance(f, sp.asinh) for _, f in terms) or sum(abs(n) for n, _ in terms) > MAX_POWER:
        return None
    N = sp.Mul(*[_base(f) ** n for n, f in terms if n > 0])
    D = sp.Mul(*[_base(f) ** -n for n, f in terms if n < 0])
    return N * sp.exp(k * rest) - D


def exp_form_zero(e) -> bool:
    """``True`` when ``e`` is proved identically 0 (where defined) by exponentiation; ``False``
    means "not proved this way" (never "nonzero")."""
    e = sp.sympify(e)
    if not e.has(sp.asinh):
        return False
    e = resolve_abs(e)
    if e == 0:
        return True
    # e = G * A: A = 0 proves e = 0 wherever e is defined
    e = sp.factor_terms(e)
    adds = [a for a in sp.Mul.make_args(e) if a.is_Add and a.has(sp.asinh)]
    if len(adds) != 1:
        return False
    A = adds[0]
    if not real_where_defined(A):
        return False
    F = exp_form(A)
    if F is None:
        return False
    for _ in range(2):
        F = sp.cancel(sp.together(resolve_abs(F)))
        if F == 0:
            return True
    return False
