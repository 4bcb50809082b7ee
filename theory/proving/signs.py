r"""Exact signs of real expressions, and absolute values resolved by them (value-preserving).

:func:`sign_of` answers +1 / -1 only when the sign holds for *every* admissible value of the
symbols (their declared assumptions): SymPy's assumptions on the expression, its expanded and its
factored form, then, for a polynomial of degree 2 in some real symbol :math:`x`,
:math:`q = a x^2 + b x + c`, the discriminant rule: if :math:`a > 0` and :math:`4ac - b^2 > 0`
for every value of the other symbols, then :math:`q = a(x + b/2a)^2 + (4ac - b^2)/4a > 0` for
every real :math:`x` (same with :math:`a < 0`: :math:`q < 0`), decided recursively on
:math:`a` and :math:`4ac - b^2`. Anything else is 0 ("not known"), never a guess.

:func:`resolve_abs` replaces :math:`|a|` by :math:`a` or :math:`-a` where that sign is known, else
by the product of the absolute values of the factors of :math:`a`'s numerator and denominator
(:math:`|ab| = |a||b|`), each resolved where its sign is known.
"""
from __future__ import annotations

import sympy as sp

from ..memo import memo


@memo(4096)
def sign_of(p, depth: int = 2) -> int:
    """+1 (``p > 0``), -1 (``p < 0``) for every admissible value of its symbols, else 0."""
    p = sp.sympify(p)
    for form in (lambda x: x, sp.expand, sp.factor):
        try:
            q = form(p)
        except Exception:  # noqa: BLE001 - a form SymPy cannot build decides nothing
            continue
        if q.is_positive:
            return 1
        if q.is_negative:
            return -1
    if depth <= 0:
        return 0
    q = sp.expand(p)
    syms = sorted(q.free_symbols, key=str)
    if not syms or not all(s.is_real for s in syms) or not q.is_polynomial(*syms):
        return 0
    for x in syms:
        P = sp.Poly(q, x)
        if P.degree() != 2:
            continue
        a, b, c = P.all_coeffs()
        s = sign_of(a, depth - 1)
        if s != 0 and sign_of(sp.expand(4 * a * c - b * b), depth - 1) == 1:
            return s
    return 0


def resolve_abs(e):
    """``e`` with every ``Abs(a)`` whose sign is known replaced by ``a`` or ``-a`` (inner first)."""
    e = sp.sympify(e)
    if not e.has(sp.Abs):
        return e

    def one(a):
        s = sign_of(a)
        return a if s == 1 else -a if s == -1 else None

    def rep(node):
        a = node.args[0]
        r = one(a)
        if r is not None:
            return r
        # |num/den| as the product of the factors' absolute values (|ab| = |a||b|), each resolved
        # where its sign is known: equal values get one canonical form
        out = sp.Integer(1)
        for part, power in zip(sp.fraction(sp.together(a)), (1, -1)):
            try:
                c, factors = sp.factor_list(part)
            except (sp.PolynomialError, NotImplementedError, ValueError, TypeError):
                return node
            out *= sp.Abs(c) ** power
            for f, m in factors:
                r = one(f)
                out *= (sp.Abs(f) if r is None else r) ** (m * power)
        return out

    return e.replace(lambda x: isinstance(x, sp.Abs), rep)
