r"""Flows with explicit regularization :math:`\lambda(t)h` (weight decay), integrated segment by segment.

The schedule is split at its breakpoints (:func:`theory.regularized.analyse_schedule`); each smooth
segment is its own ODE program (the Taylor integrator expands no ``Piecewise``/``Heaviside``) and
starts from the previous segment's end state. The cumulative decay :math:`A_t = \int_0^t\lambda`
comes from the schedule's exact antiderivative, evaluated at the caller's precision, never from
the integrator.

Stop rule: an interpolating flow (:math:`A_\infty < \infty`) runs until
:math:`\|\nabla L\|_\infty \le 10^{-(dps-4)}` *and* the remaining decay
:math:`A_\infty - A_t \le 10^{-(dps-4)}`; a flow with a constant tail :math:`\lambda > 0` never
interpolates and runs until the parameters come to rest,
:math:`\|M(J^\top\nabla L + \lambda\nabla h)\|_\infty \le 10^{-(dps-4)}` (a stationary point of
:math:`L(G(x)) + \lambda h(x)`).
"""
from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, replace

import mpmath
import sympy as sp

from theory.parameterization import TIME
from theory.regularized.schedules import ScheduleInfo, analyse_schedule

from ..checks import RunPair, compile_exprs
from ..errors import IbcheckError
from ..flows import Flow, gradient_flow, instantiate


@dataclass(frozen=True)
class SegmentedFlow:
    """The segments' flows ``((start, end, Flow), ...)``, the schedule and a representative flow
    (first segment, with the full model) for the checks' bookkeeping."""

    flow: Flow
    segments: tuple
    schedule: ScheduleInfo


def segmented_flow(p, X=None, y=None, *, values=None, loss=None) -> SegmentedFlow:
    """One :class:`~numerics.flows.Flow` per smooth segment of the schedule of ``p``."""
    if p.regularizer is None:
        raise IbcheckError(f"{p.name}: no regularizer: use numerics.flows.gradient_flow")
    q = instantiate(p, values)
    info = analyse_schedule(q.schedule, f"{p.name}: schedule")
    vals = tuple(sorted(((str(k), v) for k, v in (values or {}).items()), key=lambda kv: kv[0]))
    segs = []
    for lo, hi, e in info.segments:
        f = gradient_flow(replace(q, schedule=e), X, y, loss=loss)
        segs.append((lo, hi, replace(f, values=vals)))
    rep = replace(segs[0][2], model=q)
    return SegmentedFlow(rep, tuple(segs), info)


class SegmentedTrajectory:
    """Trajectories of consecutive segments behind the interface of one
    :class:`~numerics.taylor.integrator.Trajectory` (``times``, ``states``, ``final``, ``at``)."""

    def __init__(self, parts):
        self.parts = list(parts)
        self.dps = self.parts[0].dps

    @property
    def times(self):
        out = list(self.parts[0].times)
        for p in self.parts[1:]:
            out += list(p.times[1:])
        return out

    @property
    def states(self):
        out = list(self.parts[0].states)
        for p in self.parts[1:]:
            out += list(p.states[1:])
        return out

    @property
    def final(self):
        return self.parts[-1].final

    @property
    def t_final(self):
        return self.parts[-1].t_final

    @property
    def orders(self):
        return [k for p in self.parts for k in p.orders]

    @property
    def error_estimate(self):
        with mpmath.workdps(self.dps):
            return mpmath.fsum(p.error_estimate for p in self.parts)

    def at(self, t):
        starts = [p.times[0] for p in self.parts]
        j = max(bisect.bisect_right(starts, mpmath.mpf(t)) - 1, 0)
        j = min(j, len(self.parts) - 1)
        return self.parts[j].at(t)


def cumulative(info: ScheduleInfo):
    r"""mpmath callable :math:`t \mapsto A(t)` at the caller's precision (exact antiderivatives)."""
    fns = [(lo, hi, sp.lambdify(TIME, F, modules="mpmath")) for lo, hi, F in info.cumulative]

    def A(t):
        t = mpmath.mpf(t)
        for lo, hi, f in fns:
            if hi == sp.oo or t <= mpmath.mpf(sp.Rational(hi).p) / sp.Rational(hi).q:
                return mpmath.mpf(f(t))
        return mpmath.mpf(fns[-1][2](t))  # pragma: no cover
    return A


def _mpf(x):
    x = sp.nsimplify(x) if isinstance(x, float) else sp.sympify(x)
    return mpmath.mpf(x.p) / x.q if x.is_Rational else mpmath.mpf(sp.N(x, mpmath.mp.dps + 5))


def _x_speed(seg_flow: Flow):
    """mpmath callable of :math:`\\|\\dot x\\|_\\infty` (the parameters only, not the duals)."""
    sysm = seg_flow.system
    D = len(seg_flow.params)
    rhs = sysm.expanded_rhs()[:D]
    args = list(sysm.states) + ([sysm.time] if sysm.time is not None else [TIME])
    f = sp.lambdify(args, list(rhs), modules="mpmath")
    return lambda t, y: max(abs(v) for v in f(*y, t))


def _integrate(sf: SegmentedFlow, dps, *, converge, t_end, backend, max_time):
    from ..taylor.integrator import integrate

    A = cumulative(sf.schedule)
    parts, y = [], list(sf.segments[0][2].y0)
    thr_digits = dps - 4
    last = len(sf.segments) - 1
    for k, (lo, hi, f) in enumerate(sf.segments):
        with mpmath.workdps(dps + 10):
            lo_m = _mpf(lo)
            end = _mpf(hi) if hi != sp.oo else (mpmath.mpf(t_end) if t_end is not None else mpmath.mpf(max_time))
            if t_end is not None and end > t_end:
                end = mpmath.mpf(t_end)
            elif hi != sp.oo:
                end = hi  # exact breakpoint: every precision ends the segment at the same time
        if t_end is not None and lo_m >= t_end:
            break
        if k < last or not converge:
            tr = integrate(f.system, y, end, t0=lo, dps=dps, backend=backend)
        else:
            grad_fn = f.gradient_function()
            out_fn = compile_exprs(f.outputs, f.params)
            D = len(f.params)
            if sf.schedule.tail == "constant":
                speed = _x_speed(f)

                def stop(t, yy):
                    with mpmath.workdps(dps):
                        return speed(t, yy) <= mpmath.mpf(10) ** (-thr_digits)
            else:
                with mpmath.workdps(dps + 10):
                    Ainf = _mpf(sf.schedule.total)

                def stop(t, yy):
                    with mpmath.workdps(dps):
                        tol = mpmath.mpf(10) ** (-thr_digits)
                        if Ainf - A(t) > tol:
                            return False
                        w = out_fn(*yy[:D])
                        return max(abs(g) for g in grad_fn(*w)) <= tol
            tr = integrate(f.system, y, max_time, t0=lo, dps=dps, stop=stop, until_converged=True,
                           backend=backend)
        parts.append(tr)
        y = list(tr.final)
    return SegmentedTrajectory(parts)


def run_decayed(sf: SegmentedFlow, *, dps: int = 30, extra: int | None = None, converge: bool = True,
                t_end=None, backend: str = "fast", max_time=10**4) -> RunPair:
    """The segmented flow at ``dps`` and ``dps + extra`` digits (the second run to the first's end
    time), as a :class:`~numerics.checks.RunPair`."""
    extra = max(10, dps // 2) if extra is None else extra
    t0 = time.perf_counter()
    lo = _integrate(sf, dps, converge=converge, t_end=None if converge else t_end, backend=backend,
                    max_time=max_time)
    with mpmath.workdps(dps + extra + 10):
        Te = lo.t_final if converge else _mpf(t_end)
    hi = _integrate(sf, dps + extra, converge=False, t_end=Te, backend=backend, max_time=max_time)
    return RunPair(sf.flow, lo, hi, dps, extra, Te, converge, time.perf_counter() - t0)
