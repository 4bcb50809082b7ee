r"""Adaptive-order, adaptive-step Taylor integration at high precision.

Order and step follow Jorba & Zou (2005, §3.2–3.3): with tolerance :math:`\varepsilon` the order is
:math:`K = \lceil -\tfrac12 \ln\varepsilon + 1\rceil` and the step

.. math::
   h = e^{-0.7/(K-1)} \min_{j \in \{K-1, K\}} \Bigl(\frac{\varepsilon\,\max(1, \|y\|_\infty)}{\|y_j\|_\infty}\Bigr)^{1/j},

i.e. the last two Taylor coefficients :math:`y_j` bound the radius of convergence
:math:`\rho`, and the truncation error of a step is about :math:`\varepsilon\,\max(1,\|y\|)`
(relative above 1, absolute below; the safety factor is heyoka's).  Each step records the size
of the omitted terms, estimated from the geometric decay of the coefficients,
:math:`\|y_K\| h^K \, q/(1-q)` with :math:`q = h/\rho`; the trajectory reports them per step and
summed.  The arithmetic runs at ``dps`` + guard digits and states are reported at ``dps``.

mpmath precision is set only with ``mpmath.workprec`` and gmpy2 precision only with a gmpy2
context, both local to the call.
"""
from __future__ import annotations

import bisect
from collections import OrderedDict
import math
import time as _time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import gmpy2
import mpmath
import sympy as sp

from .decompose import Program, decompose
from ..errors import FlowBlowUp, NotConverged, PrecisionTooLow, ProblemError, SingularInitialization
from .jet_fast import mpf_to_mpfr, mpfr_to_mpf
from .jets import exact_to_mpf, get_backend
from .odes import ODESystem

GUARD_DPS = 10
#: Horner's start in Trajectory.at
_ZERO = gmpy2.mpfr(0)


@dataclass(frozen=True)
class Speed:
    r"""Stop condition :math:`\|f(t, y)\|_\infty < \text{threshold}` (the flow has come to rest)."""

    threshold: object  # exact number, string or mpf


@dataclass
class Trajectory:
    """The result of :func:`integrate`: step points, orders, error estimates and dense output.

    ``times``, ``states`` and ``step_errors`` are mpf at ``dps`` digits, converted from the
    backend's numbers on first access (a check that reads only the end point or samples the
    dense output never pays for the conversion of every step point)."""

    orders: list                 # Taylor order of each step
    backend: str
    dps: int
    compile_seconds: float
    integrate_seconds: float
    stopped: bool = False        # True when ``stop`` fired before t_end
    final_speed: object = None   # ||f(t_N, y_N)||_inf when computed (stop / until_converged)
    _steps: list = field(default_factory=list, repr=False)  # (t_j, coefficients), both native
    _to_mpf: Callable | None = field(default=None, repr=False)
    _work_prec: int = 0
    _rows: dict = field(default_factory=dict, repr=False)  # step index -> coefficients as mpfr
    _points: list = field(default_factory=list, repr=False)  # native (t, error, y) per step point
    _done: tuple | None = field(default=None, repr=False)   # (times, states, step_errors) as mpf

    def _converted(self) -> tuple:
        if self._done is None or len(self._done[0]) != len(self._points):
            with mpmath.workdps(self.dps):
                to = self._to_mpf
                times = [+to(t) for t, _, _ in self._points]
                states = [[+to(v) for v in y] for _, _, y in self._points]
                errors = [+to(e) for _, e, _ in self._points[1:]]
            self._done = (times, states, errors)
        return self._done

    @property
    def times(self) -> list:
        """mpf, t_0 .. t_N (the step points)."""
        return self._converted()[0]

    @property
    def states(self) -> list:
        """mpf lists at the step points (rounded to ``dps``)."""
        return self._converted()[1]

    @property
    def step_errors(self) -> list:
        """Estimated truncation error of each step (mpf)."""
        return self._converted()[2]

    @property
    def final(self) -> list:
        return self.states[-1]

    @property
    def t_final(self):
        return self.times[-1]

    @property
    def error_estimate(self):
        """Sum of the per-step truncation-error estimates (mpf)."""
        with mpmath.workdps(self.dps):
            return mpmath.fsum(self.step_errors)

    def at(self, t) -> list:
        """The state at time ``t`` from the Taylor polynomial of the step containing ``t``: Horner
        in ``mpfr`` at the work precision, every operation rounded to nearest as mpmath's are (the
        same bits as mpmath's Horner, without its per-operation overhead), then rounded to ``dps``."""
        P = self._work_prec
        with mpmath.workprec(P):
            t = _to_mpf(t, "t")
            if not (self.times[0] <= t <= self.times[-1]):
                raise ProblemError(f"t = {mpmath.nstr(t, 10)} outside the integrated interval "
                                   f"[{mpmath.nstr(self.times[0], 10)}, {mpmath.nstr(self.times[-1], 10)}]")
            if not self._steps:
                return list(self.states[0])
            j = min(max(bisect.bisect_right(self.times, t) - 1, 0), len(self._steps) - 1)
            t0, coeffs = self._steps[j]
            dt = t - self._to_mpf(t0)
            with gmpy2.context(precision=P):   # round to nearest
                rows = self._rows.get(j)
                if rows is None:  # convert a step's coefficients once, however often it is sampled
                    rows = coeffs.mpfr_rows() if hasattr(coeffs, "mpfr_rows") else \
                        [[mpf_to_mpfr(self._to_mpf(x)) for x in c] for c in coeffs]
                    self._rows[j] = rows
                d, out = mpf_to_mpfr(dt), []
                for c in rows:
                    v = _ZERO
                    for x in reversed(c):
                        v = v * d + x
                    out.append(v)
        with mpmath.workdps(self.dps):
            return [mpfr_to_mpf(v) for v in out]

    def sample(self, ts) -> list:
        """``[self.at(t) for t in ts]``."""
        return [self.at(t) for t in ts]


# ---------------------------------------------------------------------------------------------
def _to_mpf(v, what: str):
    """An exact number / mpf / string / int / Fraction as mpf at the current precision."""
    if isinstance(v, bool):
        raise ProblemError(f"{what}: expected a number, got {v!r}")
    if isinstance(v, float):
        raise ProblemError(f"{what} = {v!r} is a double-precision float; give it exactly "
                           f"(an int, a string such as '{v!r}', a Fraction or a SymPy Rational)")
    if isinstance(v, mpmath.mpf):
        return +v
    if isinstance(v, int):
        return mpmath.mpf(v)
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    if isinstance(v, str):
        try:
            return exact_to_mpf(sp.Rational(v), mpmath.mp.prec) if "/" in v else mpmath.mpf(v)
        except (ValueError, TypeError):
            raise ProblemError(f"{what}: cannot read {v!r} as a number") from None
    if isinstance(v, sp.Basic):
        if v.has(sp.Float):
            raise ProblemError(f"{what} = {v} contains an inexact Float; use a Rational")
        if not v.is_number:
            raise ProblemError(f"{what} = {v} is not a number (free symbols {v.free_symbols})")
        return exact_to_mpf(v, mpmath.mp.prec)
    try:  # gmpy2 mpfr and similar exact binary numbers
        from .jet_fast import mpfr_to_mpf
        import gmpy2
        if isinstance(v, type(gmpy2.mpfr(0))):
            return mpfr_to_mpf(v)
    except ImportError:  # pragma: no cover
        pass
    raise ProblemError(f"{what}: unsupported number type {type(v).__name__}")


class _LRU(OrderedDict):
    """A small bounded cache: property tests integrate thousands of distinct flows, and keeping
    every program and compiled jet alive would grow memory without bound."""

    def __init__(self, maxsize: int):
        super().__init__()
        self.maxsize = maxsize

    def get(self, key, default=None):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.maxsize:
            self.popitem(last=False)


_JETS = _LRU(64)
_PROGRAMS = _LRU(64)


def _program(system: ODESystem) -> Program:
    p = _PROGRAMS.get(id(system))
    if p is None or p[0] is not system:
        p = (system, decompose(system))
        _PROGRAMS.put(id(system), p)
    return p[1]


def compile_system(system: ODESystem, *, dps: int = 30, backend: str = "fast"):
    """Decompose and compile ``system`` for ``backend`` at ``dps`` (+ guard) digits; cached."""
    be = get_backend(backend)
    prec = _work_prec(dps)
    program = _program(system)
    key = (program.key, be.name, prec)
    jet = _JETS.get(key)
    if jet is None:
        with mpmath.workprec(prec), be.context(prec):
            jet = be.compile(program, prec)
        _JETS.put(key, jet)
    return program, jet


def _work_prec(dps: int) -> int:
    return int(math.ceil((dps + GUARD_DPS) * math.log2(10))) + 4


def order_for(tol) -> int:
    r"""Jorba–Zou order :math:`\lceil -\tfrac12\ln\varepsilon + 1\rceil` (at least 2)."""
    return max(2, int(mpmath.ceil(-mpmath.log(tol) / 2 + 1)))


def integrate(system: ODESystem, y0, t_end, *, dps: int = 30, tol=None, backend: str = "fast",
              stop=None, until_converged: bool = False, max_steps: int = 100_000, t0=0,
              max_norm=10 ** 50, order: int | None = None) -> Trajectory:
    r"""Integrate :math:`\dot y = f(t, y)`, :math:`y(t_0) = y_0`, up to ``t_end``.

    ``y0``, ``t_end``, ``t0``, ``tol`` and ``max_norm`` are exact (int, Fraction, SymPy number,
    decimal string) or mpf; Python floats are refused.  ``tol`` defaults to :math:`10^{-dps}`.
    ``stop`` is a :class:`Speed` or a callable ``(t, y) -> bool`` checked at every step point;
    with ``until_converged=True`` not meeting it by ``t_end``, or reaching ``max_steps`` (the step
    budget, which bounds time and memory) before ``t_end``, raises :class:`NotConverged` (message
    with the final speed; the steps made so far as its ``trajectory``).  Raises :class:`FlowBlowUp` when
    :math:`\|y\|_\infty` exceeds ``max_norm``, a Taylor coefficient is not finite or the step
    collapses; :class:`PrecisionTooLow` when ``tol`` is finer than the working precision allows.
    """
    if not isinstance(system, ODESystem):
        raise ProblemError(f"integrate expects an ODESystem, got {type(system).__name__}")
    if not isinstance(dps, int) or dps < 5:
        raise PrecisionTooLow(f"dps must be an integer >= 5, got {dps!r}")
    if len(y0) != system.size:
        raise ProblemError(f"{system.name or 'ODE'}: {system.size} states but {len(y0)} initial values")
    be = get_backend(backend)
    prec = _work_prec(dps)
    tc = _time.perf_counter()
    program, jet = compile_system(system, dps=dps, backend=backend)
    compile_seconds = _time.perf_counter() - tc

    gen = _integration(system, y0, t_end, dps, tol, stop, until_converged, max_steps, t0, max_norm,
                       order, be, prec, program, getattr(jet, "scaled", False), compile_seconds)
    with mpmath.workprec(prec), be.context(prec):
        return _drive(gen, lambda t, y, K, hint, steps: _jet_at(jet, system, program, t, y, be, steps, K, hint))


@dataclass(frozen=True)
class Evaluate:
    """A request of :func:`_integration` for the end point of a step: every state's Taylor
    polynomial ``coeffs`` at step ``h`` (order K), answered by :func:`evaluate` -- or, in a
    batch, by one call for several flows (:mod:`numerics.taylor.batch`)."""

    coeffs: object
    h: object
    K: int


def evaluate(req: Evaluate) -> list:
    """The states at the step's end: the series' own ``evaluate`` (fixed point) or Horner."""
    coeffs, h, K = req.coeffs, req.h, req.K
    if hasattr(coeffs, "evaluate"):
        return coeffs.evaluate(h)
    ynew = []
    for c in coeffs:
        v = c[K]
        for x in c[K - 1::-1]:
            v = v * h + x
        ynew.append(v)
    return ynew


def _drive(gen, taylor):
    """Run one integration generator: every request (t, y, K, hint, steps) is answered with
    the Taylor coefficients, every :class:`Evaluate` with the step's end point; the generator's
    return value is the trajectory."""
    try:
        req = next(gen)
        while True:
            req = gen.send(evaluate(req) if isinstance(req, Evaluate) else taylor(*req))
    except StopIteration as done:
        return done.value


def _integration(system, y0, t_end, dps, tol, stop, until_converged, max_steps, t0, max_norm, order,
                 be, prec, program, scaled, compile_seconds):
    """The integration of :func:`integrate` as a generator that yields its requests -- Taylor
    coefficients (t, y, K, hint, steps) and step end points (:class:`Evaluate`) -- and receives
    the answers, so that several flows of one program can share the jet calls and the
    evaluations (:mod:`numerics.taylor.batch`) with the same step logic, digit for digit.  The
    caller holds the precision contexts (mpmath and the backend's)."""
    work_dps = dps + GUARD_DPS
    tol_m = _to_mpf(tol, "tol") if tol is not None else mpmath.mpf(10) ** (-dps)
    if not (0 < tol_m < 1):
        raise ProblemError(f"tol must lie in (0, 1), got {mpmath.nstr(tol_m, 5)}")
    if tol_m < mpmath.mpf(10) ** (-(work_dps - 2)):
        raise PrecisionTooLow(f"tol = {mpmath.nstr(tol_m, 3)} is finer than {dps} digits (+{GUARD_DPS} "
                              f"guard) can deliver; raise dps to at least {int(-mpmath.log10(tol_m)) + 2 - GUARD_DPS}")
    K = order if order is not None else order_for(tol_m)
    if K < 2:
        raise ProblemError(f"order must be >= 2, got {K}")
    ta, tb = _to_mpf(t0, "t0"), _to_mpf(t_end, "t_end")
    if tb < ta:
        raise ProblemError(f"t_end = {mpmath.nstr(tb, 10)} lies before t0 = {mpmath.nstr(ta, 10)}")
    ym = [_to_mpf(v, f"y0[{i}] ({program.names[i]})") for i, v in enumerate(y0)]
    bound = _to_mpf(max_norm, "max_norm")
    thr = _to_mpf(stop.threshold, "stop threshold") if isinstance(stop, Speed) else None
    if until_converged and stop is None:
        raise ProblemError("until_converged=True needs a stop condition (Speed(threshold) or a callable)")
    if stop is not None and thr is None and not callable(stop):
        raise ProblemError(f"stop must be a Speed(threshold) or a callable(t, y) -> bool, got {stop!r}")

    N = be.from_mpf
    t, tend = N(ta), N(tb)
    y = [N(v) for v in ym]
    one, zero = N(1), N(0)
    safety = N(mpmath.exp(-mpmath.mpf(7) / 10 / (K - 1)))
    tol_root = N(tol_m ** (mpmath.mpf(1) / K))
    inv_j = {K - 1: one / (K - 1), K: one / K}
    eps_t = N(mpmath.mpf(2) ** (-prec + 8))

    to_mpf = be.to_mpf

    def report(v):
        with mpmath.workdps(dps):
            return +to_mpf(v)

    def stopped_at(tn, yn, speed) -> bool:
        if stop is None:
            return False
        if thr is not None:
            return speed < thr
        return bool(stop(report(tn), [report(v) for v in yn]))

    traj = Trajectory([], be.name, dps, compile_seconds, 0.0, _to_mpf=be.to_mpf, _work_prec=prec,
                      _points=[(t, None, y)])
    ti = _time.perf_counter()
    steps = 0
    hint = None
    ynorm = max(abs(v) for v in y) if y else zero   # then the end point's norm of each step
    while True:
        if t >= tend:  # the speed at the end point (order 1 is enough)
            if stop is not None or until_converged:
                speed_n = _norm((yield (t, y, 1, None, steps)), 1, zero)
                traj.final_speed = report(speed_n)
                traj.stopped = stop is not None and stopped_at(t, y, be.to_mpf(speed_n))
            break
        coeffs = (yield (t, y, K, hint, steps))
        speed_n = _norm(coeffs, 1, zero)
        if stop is not None and stopped_at(t, y, be.to_mpf(speed_n)):
            traj.stopped, traj.final_speed = True, report(speed_n)
            break
        if steps >= max_steps:
            traj.final_speed, traj.integrate_seconds = report(speed_n), _time.perf_counter() - ti
            raise NotConverged(f"{system.name or 'ODE'}: {max_steps} steps reached at t = "
                               f"{mpmath.nstr(be.to_mpf(t), 12)} before t_end = {mpmath.nstr(tb, 12)}; "
                               f"speed ||f|| = {mpmath.nstr(be.to_mpf(speed_n), 5)}", traj)
        scale = ynorm if ynorm > one else one
        left = tend - t
        for _ in range(2):
            nK1, nK = _norm(coeffs, K - 1, zero), _norm(coeffs, K, zero)
            if not (_finite(nK) and _finite(nK1) and _finite(speed_n)):
                raise _singular(system, program, t, y, be, steps, "a Taylor coefficient is not finite")
            rhos = [(scale / n) ** inv_j[j] for j, n in ((K - 1, nK1), (K, nK)) if n > zero]
            if rhos:
                rho = min(rhos)
                h = tol_root * rho * safety
                h_full = h
                if h > left:
                    h = left
            else:  # the last two coefficients vanish: the series is (locally) a polynomial
                rho, h, h_full = None, left, left
            # a fixed-point jet is accurate for steps up to its unit: recompute for longer ones
            if not scaled or h <= _unit(coeffs):
                break
            coeffs = (yield (t, y, K, h, steps))
        hint = h_full
        if h_full <= eps_t * (abs(t) if abs(t) > one else one):
            raise FlowBlowUp(f"{system.name or 'ODE'}: step size collapsed to {mpmath.nstr(be.to_mpf(h_full), 3)} "
                             f"at t = {mpmath.nstr(be.to_mpf(t), 15)}; ||y|| = {mpmath.nstr(be.to_mpf(ynorm), 5)}"
                             f" (largest: {_largest(program, y)})")
        # estimated size of the omitted terms y_{K+1} h^{K+1} + ...: geometric with ratio q
        if rho is None:
            err = zero
        else:
            q = h / rho
            err = nK * h ** K * q / (one - q)
        ynew = (yield Evaluate(coeffs, h, K))
        traj._steps.append((t, coeffs))   # native: converted when the dense output is sampled
        t = t + h if h != left else tend
        y = ynew
        steps += 1
        ynorm = max(abs(v) for v in y) if y else zero
        if not _finite(ynorm) or ynorm > bound:
            raise FlowBlowUp(f"{system.name or 'ODE'}: ||y||_inf = {mpmath.nstr(be.to_mpf(ynorm), 5)} exceeds "
                             f"{mpmath.nstr(bound, 3)} at t = {mpmath.nstr(be.to_mpf(t), 15)} "
                             f"(largest: {_largest(program, y)}) after {steps} steps")
        traj._points.append((t, err, y))
        traj.orders.append(K)
    traj.integrate_seconds = _time.perf_counter() - ti
    if until_converged and not traj.stopped:
        raise NotConverged(f"{system.name or 'ODE'}: stop condition not met by t = "
                           f"{mpmath.nstr(traj.t_final, 12)} ({len(traj.orders)} steps); final speed "
                           f"||f|| = {mpmath.nstr(traj.final_speed, 5)}", traj)
    return traj



def _unit(coeffs):
    """The unit 2^s of a scaled series: steps up to it are evaluated at full accuracy."""
    import gmpy2
    return gmpy2.mul_2exp(gmpy2.mpfr(1), coeffs.s)


def _jet_at(jet, system, program, t, y, be, steps, K, hint=None):
    """Taylor coefficients at (t, y), turning arithmetic failures into named errors."""
    try:
        return jet(t, y, K, hint) if getattr(jet, "scaled", False) else jet(t, y, K)
    except (ZeroDivisionError, ValueError) as exc:
        raise _singular(system, program, t, y, be, steps, str(exc)) from None


def _norm(coeffs, k, zero):
    """max_i |y_ik| as a native number (fixed-point series convert the one maximum)."""
    if not coeffs:
        return zero
    if hasattr(coeffs, "norm"):  # limb series (numerics.taylor.jet_limbs) convert one order only
        return coeffs.norm(k)
    m = max(abs(c[k]) for c in coeffs)
    return coeffs.value(m, k) if hasattr(coeffs, "value") else m


def _finite(x) -> bool:
    """Neither NaN (x != x) nor infinite (x == 2x with x != 0), for mpf and mpfr alike."""
    return x == x and (x == 0 or x != x * 2)


def _largest(program: Program, y) -> str:
    i = max(range(len(y)), key=lambda j: abs(y[j]))
    return f"state {program.names[i]}"


def _singular(system, program, t, y, be, steps, why):
    where = f"at t = {mpmath.nstr(be.to_mpf(t), 15)} (largest: {_largest(program, y)})" if y else ""
    cls = SingularInitialization if steps == 0 else FlowBlowUp
    return cls(f"{system.name or 'ODE'}: singular vector field {where}: {why}")
