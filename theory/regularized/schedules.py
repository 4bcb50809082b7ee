r"""Schedules :math:`\lambda(t)`: segments, sign, cumulative decay :math:`A_t = \int_0^t\lambda`.

A schedule is a SymPy expression in :data:`theory.parameterization.TIME` (``None`` means the
constant 1, as in :mod:`numerics.flows`); ``Heaviside`` and ``Piecewise`` are split at their
breakpoints into smooth segments, which the numerics integrate one after the other. Refused up
front, with the reason: :math:`\lambda < 0` somewhere (or a sign SymPy cannot decide), a
non-integrable singularity, and a tail with :math:`A_\infty = \infty` that is not eventually a
positive constant (neither an interpolation limit, which needs :math:`A_\infty < \infty`
(Jacobs et al. 2025, Thm 3.2: decay eventually off), nor a stationary point of a fixed
regularized objective).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import IbcheckError
from ..parameterization import TIME


class ScheduleError(IbcheckError):
    """A schedule that ibcheck refuses (negative, non-integrable, or with an unusable tail)."""


@dataclass(frozen=True)
class ScheduleInfo:
    r"""``segments``: ``((start, end, expr), ...)`` covering :math:`[0, \infty)` (``end`` may be
    ``oo``); ``cumulative``: :math:`A(t)` per segment (``((start, end, A_expr), ...)``, each
    :math:`A` including the earlier segments); ``total``: :math:`A_\infty` (``oo`` for a constant
    tail); ``tail``: ``"off"`` (zero after the last breakpoint), ``"integrable"`` or ``"constant"``;
    ``rate``: the constant tail value."""

    expr: sp.Expr
    segments: tuple
    cumulative: tuple
    total: sp.Expr
    tail: str
    rate: sp.Expr | None = None

    def A(self, t) -> sp.Expr:
        """:math:`A(t)` at an exact time ``t``."""
        t = sp.sympify(t)
        for s, e, F in self.cumulative:
            if t <= e if e != sp.oo else True:
                return F.xreplace({TIME: t})
        return self.total  # pragma: no cover

    @property
    def breakpoints(self) -> tuple:
        return tuple(s for s, _, _ in self.segments[1:])


def _breakpoints(e) -> list:
    pts = set()
    for pw in e.atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.Rel):
                if TIME in rel.free_symbols:
                    sol = sp.solve(sp.Eq(rel.lhs, rel.rhs), TIME)
                    pts.update(s for s in sol if s.is_real is not False)
    out = []
    for s in pts:
        if s.free_symbols:
            raise ScheduleError(f"schedule {e}: breakpoint t = {s} is not a number; give the constants "
                                "values first")
        if s > 0:
            out.append(s)
    return sorted(out)


def _branch(e, tmid):
    """The schedule's expression on the open segment containing ``tmid`` (Piecewise resolved)."""
    def pick(pw):
        for ex, cond in pw.args:
            if bool(cond.xreplace({TIME: tmid})):
                return ex
        raise ScheduleError(f"schedule {pw} is undefined at t = {tmid}")
    return e.replace(lambda x: isinstance(x, sp.Piecewise), pick)


def _nonnegative(e, start, end) -> bool | None:
    """Decide :math:`e \\ge 0` on ``(start, end)``: assumptions, then the minimum over the interval."""
    if e.is_nonnegative:
        return True
    if e.is_negative:
        return False
    if e.free_symbols - {TIME}:
        return None
    try:
        from sympy.calculus.util import minimum
        m = minimum(e, TIME, sp.Interval(start, end))
        return bool(m >= 0) if m.is_number and m.is_finite is not False else None
    except (NotImplementedError, ValueError, TypeError):
        return None


def analyse_schedule(expr, name: str = "schedule") -> ScheduleInfo:
    r"""Split, sign-check and integrate a schedule (see module doc); raises :class:`ScheduleError`."""
    e = sp.Integer(1) if expr is None else sp.sympify(expr)
    if e.has(sp.Heaviside):
        e = e.rewrite(sp.Piecewise)
    e = sp.piecewise_fold(e)
    pts = _breakpoints(e) if e.has(sp.Piecewise) else []
    edges = [sp.Integer(0)] + pts + [sp.oo]
    segments, cumulative = [], []
    acc = sp.Integer(0)
    s_ = sp.Dummy("s", nonnegative=True)
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1]
        mid = (lo + hi) / 2 if hi != sp.oo else lo + 1
        ek = sp.simplify(_branch(e, mid)) if e.has(sp.Piecewise) else e
        sign = _nonnegative(ek, lo, hi)
        if sign is False:
            raise ScheduleError(f"{name}: lambda(t) = {ek} is negative on ({lo}, {hi}); weight decay needs "
                                "lambda >= 0 (Jacobs et al. 2025, Thm 3.2)")
        if sign is None:
            raise ScheduleError(f"{name}: cannot decide lambda(t) = {ek} >= 0 on ({lo}, {hi}); give the "
                                "constants signs (positive=True) or a schedule whose sign SymPy can read")
        F = sp.integrate(ek.xreplace({TIME: s_}), (s_, lo, TIME))
        if F.has(sp.Integral) or F.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise ScheduleError(f"{name}: lambda(t) = {ek} has no finite integral on ({lo}, t) "
                                f"(got {F}): not integrable")
        F = sp.simplify(F)
        if hi != sp.oo:
            total_k = sp.simplify(F.xreplace({TIME: hi}))
            if total_k.has(sp.zoo, sp.nan, sp.oo) or total_k.is_finite is False:
                raise ScheduleError(f"{name}: lambda(t) = {ek} is not integrable up to t = {hi}")
        segments.append((lo, hi, ek))
        cumulative.append((lo, hi, acc + F))
        if hi != sp.oo:
            acc = sp.simplify(acc + total_k)
    last = segments[-1][2]
    if last == 0:
        return ScheduleInfo(e, tuple(segments), tuple(cumulative), acc, "off")
    tail = sp.integrate(last.xreplace({TIME: s_}), (s_, segments[-1][0], sp.oo))
    if not tail.has(sp.oo, sp.zoo, sp.nan, sp.Integral) and tail.is_finite is not False:
        return ScheduleInfo(e, tuple(segments), tuple(cumulative), sp.simplify(acc + tail), "integrable")
    if TIME not in last.free_symbols and last.is_positive is not False:
        return ScheduleInfo(e, tuple(segments), tuple(cumulative), sp.oo, "constant", rate=last)
    raise ScheduleError(f"{name}: the tail lambda(t) = {last} has an infinite integral (A_oo = oo) but is not "
                        "constant: the flow neither interpolates nor reaches a fixed regularized objective; "
                        "use a schedule that is eventually 0, integrable, or a positive constant")
