r"""Taylor-coefficient backends ("jets") of a :class:`~numerics.taylor.decompose.Program`.

A backend turns the program into a function ``taylor(t0, y0, K)`` returning, for every state,
the coefficients :math:`y_0, \dots, y_K` of the solution's Taylor series at :math:`t_0`
(:math:`y_{k+1} = f_k/(k+1)`, where :math:`f_k` is the k-th coefficient of :math:`f(t, y(t))`,
generated order by order with the recurrences of automatic differentiation; Jorba & Zou 2005).

Backends (one module each):

- ``"reference"`` (:mod:`numerics.taylor.jet_reference`): mpmath ``mpf``, a plain interpreter of the
  program -- the readable reference arithmetic;
- ``"fast"`` (:mod:`numerics.taylor.jet_fast`): Python code generated from the program (cached per
  program hash) running on gmpy2 ``mpfr`` with correctly rounded ``fsum`` dot products, or, for
  polynomial fields when it measures faster, the fixed-point jet (:mod:`numerics.taylor.jet_fixed`:
  integer mantissas with one exponent per order, vectorised over the nodes of a level);
- ``"fixed"``: that fixed-point jet alone (polynomial fields only; for tests).

Every backend works in its own number type ("native") and offers the few operations the
integrator needs: conversion from/to mpmath ``mpf`` (exact, no double in between), a precision
context, and the program's constants evaluated at the working precision.
"""
from __future__ import annotations

import contextlib

import mpmath
import sympy as sp

from .decompose import Program
from ..errors import ProblemError


def exact_to_mpf(c, prec: int) -> mpmath.mpf:
    """An exact SymPy number as an mpmath ``mpf`` rounded at ``prec`` bits (never via a float)."""
    c = sp.sympify(c)
    with mpmath.workprec(prec):
        if c.is_Integer:
            return mpmath.mpf(int(c))
        if c.is_Rational:
            return mpmath.mpf(int(c.p)) / int(c.q)
        v = sp.N(c, int(prec * 0.30103) + 10)
        if not v.is_Float:
            raise ProblemError(f"constant {c} does not evaluate to a real number (got {v})")
        return mpmath.mpf(v._mpf_)


class Backend:
    """Interface of a jet backend (see the module docstring)."""

    name = "?"

    def context(self, prec: int):
        """Context manager setting this backend's working precision (no global leak)."""
        return contextlib.nullcontext()

    def from_mpf(self, x):
        raise NotImplementedError

    def to_mpf(self, x) -> mpmath.mpf:
        raise NotImplementedError

    def compile(self, program: Program, prec: int):
        """A callable ``taylor(t0, y0, K) -> [[y_i0..y_iK] for each state]`` (natives)."""
        raise NotImplementedError


_BACKENDS: dict = {}


def register(backend: Backend) -> Backend:
    _BACKENDS[backend.name] = backend
    return backend


def get_backend(name: str) -> Backend:
    """The backend called ``name`` ("fast" or "reference")."""
    from . import jet_fast, jet_reference  # noqa: F401  (registration on import)
    try:
        return _BACKENDS[name]
    except KeyError:
        raise ProblemError(f"unknown Taylor backend {name!r}; available: {', '.join(sorted(_BACKENDS))}") from None
