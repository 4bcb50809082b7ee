r"""The seam between flows and integrators: an ODE as a straight-line program of SymPy expressions.

:math:`\dot y = f(t, y)` is given by ``intermediates`` (assignments evaluated in order, each
may use the states, the time and earlier intermediates) and ``rhs`` (one expression per state).
Keeping intermediates (residuals :math:`r = Xw - y`, gradients :math:`X^\top r`) instead of one
expanded expression keeps the cost linear in the size of the model. Every constant is exact
(Integer, Rational, or an exact symbolic number such as ``sqrt(2)``); integrators evaluate
them at their working precision, so no double-precision value ever enters.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class ODESystem:
    """:math:`\\dot y = f(t, y)` as plain data (see module docstring)."""

    states: tuple                 # y_1..y_N (SymPy symbols)
    rhs: tuple                    # f_1..f_N
    intermediates: tuple = ()     # ((symbol, expr), ...) in evaluation order
    time: sp.Symbol | None = None  # the time symbol if f depends on t explicitly
    name: str = ""

    def __post_init__(self):
        if len(self.states) != len(self.rhs):
            raise ValueError(f"{self.name or 'ODE'}: {len(self.states)} states but {len(self.rhs)} right-hand sides")
        allowed = set(self.states) | ({self.time} if self.time is not None else set())
        for s, e in self.intermediates:
            extra = sp.sympify(e).free_symbols - allowed
            if extra:
                raise ValueError(f"{self.name or 'ODE'}: intermediate {s} uses undefined {sorted(map(str, extra))}")
            allowed.add(s)
        for e in self.rhs:
            extra = sp.sympify(e).free_symbols - allowed
            if extra:
                raise ValueError(f"{self.name or 'ODE'}: right-hand side uses undefined {sorted(map(str, extra))}")

    @property
    def size(self) -> int:
        return len(self.states)

    def expanded_rhs(self) -> tuple:
        """The right-hand side with every intermediate substituted (for small systems / cross-checks)."""
        sub = {}
        for s, e in self.intermediates:
            sub[s] = sp.sympify(e).xreplace(sub)
        return tuple(sp.sympify(e).xreplace(sub) for e in self.rhs)
