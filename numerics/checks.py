r"""Numeric checks of derived or stated claims along high-precision flows.

Every check integrates the flow twice, at ``dps`` and at ``dps + extra`` digits, and compares
the claimed quantity on a common time grid (dense output):

* **residual** ``r``: the claim's defect measured on the ``dps`` run (relative to a scale);
* **error estimate** ``e``: the largest change of the checked quantity between the two runs;
* **tolerance** ``tau = 10^-(dps - headroom)``, fixed by the working precision alone
  (``headroom`` digits cover accumulated rounding over many steps: 5 for identities along the
  flow, 10 for limits, which also carry the convergence threshold of the flow).

Verdict: *confirmed* when ``r <= tau`` and ``e <= tau``; *refuted* when ``r - e > tau`` (the defect
exceeds the tolerance by more than the numerical error); *inconclusive* otherwise (``e > tau``:
raise the precision). The residual, tolerance and estimate are all reported.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import mpmath
import sympy as sp

from theory.claims import ConservedQuantity, MirrorPotential
from theory.memo import memo

from .errors import IbcheckError, NotConverged, PrecisionTooLow, ProblemError
from .flows import Flow
from .taylor.jets import exact_to_mpf
from .problems import exact_number
from .verdict import Verdict, skipped

HEADROOM_IDENTITY = 5
HEADROOM_LIMIT = 10
GRID = 40
#: the default step budget of one run (:func:`run`): every step keeps its Taylor polynomial, so
#: the budget bounds memory as well as time
MAX_STEPS = 100_000


@dataclass(frozen=True)
class RunPair:
    """The same flow integrated at ``dps`` and ``dps + extra`` digits."""

    flow: Flow
    lo: object
    hi: object
    dps: int
    extra: int
    t_end: object
    converged: bool
    seconds: float
    #: the states of both runs on a grid, by number of points, computed once for all the checks
    #: of this pair (each law, the mirror identity, ... samples the same grid)
    _states: dict = field(default_factory=dict, compare=False, repr=False)
    #: why a ``converge`` run was judged on a horizon instead (:func:`run`'s ``horizon``), or ""
    not_converged: str = ""

    def grid(self, points: int = GRID) -> list:
        with mpmath.workdps(self.dps + self.extra):
            T = mpmath.mpf(self.t_end)
            return [T * k / (points - 1) for k in range(points)]

    def states(self, points: int = GRID) -> tuple:
        """``(lo states, hi states)`` on :meth:`grid` (a trajectory's ``at`` is a pure function
        of ``t``, rounded to that run's own digits, so sharing the states changes no digit)."""
        hit = self._states.get(points)
        if hit is None:
            ts = self.grid(points)
            with mpmath.workdps(self.dps):  # each run sampled at its own precision, as always
                lo = tuple(tuple(self.lo.at(t)) for t in ts)
            with mpmath.workdps(self.dps + self.extra):
                hi = tuple(tuple(self.hi.at(t)) for t in ts)
            hit = self._states[points] = (lo, hi)
        return hit


@memo(1024)
def compile_exprs(exprs: Sequence, symbols: Sequence) -> Callable:
    """mpmath-callable of SymPy expressions; Rationals are evaluated at the caller's precision.
    Memoised: the function has no state, and the two precision runs, the claims of one entry and
    the regimes compile the same expressions again."""
    f = sp.lambdify(list(symbols), list(exprs), modules="mpmath")
    return f


def run(flow: Flow, *, dps: int = 30, extra: int | None = None, t_end=None, converge: bool = False,
        tol_digits: int | None = None, max_time=10**4, max_steps: int = MAX_STEPS, horizon=None,
        backend: str = "fast") -> RunPair:
    """Integrate ``flow`` at ``dps`` and ``dps + extra`` digits.

    With ``converge`` the flow runs until :math:`\\|\\nabla L(w)\\|_\\infty \\le 10^{-(dps - 4)}`
    (the high-precision run then goes to the same time); otherwise to ``t_end``.

    ``max_steps`` bounds the steps of the ``dps`` run (the ``dps + extra`` run, which goes to the
    same time, gets twice as many as a margin: it took 0.7-1.1 times as many in the property
    tests): time and memory (every step's Taylor polynomial is kept for the dense output) grow
    linearly with it. A flow that does not converge within it raises
    :class:`~numerics.errors.NotConverged` naming the budget; raise ``max_steps`` (or ``max_time``)
    to integrate further. Or give a ``horizon``: such a flow is then returned with
    ``converged=False``, the reason in ``not_converged`` and ``t_end`` the smaller of ``horizon``
    and the time its ``dps`` run reached (that run is reused: the horizon costs no more steps),
    for the identities that hold along the flow; the limit checks refuse it.
    """
    from .taylor.integrator import integrate

    if dps < 15:
        raise PrecisionTooLow(f"dps={dps} is too low for ibcheck's checks (need at least 15 digits)")
    extra = max(10, dps // 2) if extra is None else extra
    t0 = time.perf_counter()
    grad_fn = flow.gradient_function()
    out_fn = compile_exprs(flow.outputs, flow.params)
    D = len(flow.params)
    why = ""
    if converge:
        thresh_digits = (dps - 4) if tol_digits is None else tol_digits

        def stop(t, y):
            with mpmath.workdps(dps):
                w = out_fn(*y[:D])
                return max(abs(g) for g in grad_fn(*w)) <= mpmath.mpf(10) ** (-thresh_digits)

        try:
            with _budget(max_steps, max_time):
                lo = integrate(flow.system, flow.y0, max_time, dps=dps, stop=stop, until_converged=True,
                               max_steps=max_steps, backend=backend)
            t_end = lo.times[-1]
        except NotConverged as exc:
            if horizon is None:
                raise
            lo, converge, why = exc.trajectory, False, str(exc)
            with mpmath.workdps(dps + extra):
                horizon_m = exact_to_mpf(exact_number(horizon, "horizon"), mpmath.mp.prec)
                reached = lo.times[-1]
                t_end = horizon if horizon_m <= reached else reached
    else:
        if t_end is None:
            raise IbcheckError("run: give t_end or converge=True")
        with _budget(max_steps, None):
            lo = integrate(flow.system, flow.y0, t_end, dps=dps, max_steps=max_steps, backend=backend)
    with _budget(2 * max_steps, None):
        hi = integrate(flow.system, flow.y0, t_end, dps=dps + extra, max_steps=2 * max_steps,
                       backend=backend)
    return RunPair(flow, lo, hi, dps, extra, t_end, converge, time.perf_counter() - t0,
                   not_converged=why)


def run_many(flows: Sequence[Flow], *, dps: int = 30, extra: int | None = None, t_end=None,
             converge: bool = False, tol_digits: int | None = None, max_time=10**4,
             max_steps: int = MAX_STEPS, backend: str = "fast") -> list:
    """:func:`run` for several flows: flows of one program (the same ODE, e.g. one data set at
    several initial scales) are integrated together (:func:`numerics.taylor.batch.integrate_batch`:
    shared jet calls, each flow with its own steps), at ``dps`` and then at ``dps + extra``;
    the RunPairs are identical, digit for digit, to ``[run(f, ...) for f in flows]`` (the same
    ``max_steps`` budget per flow) with the batch's backend: under ``"fast"`` a group of four
    flows or more runs on the limb jet (:func:`numerics.taylor.jet_fast.batch_backend`)."""
    from .taylor.batch import integrate_batch

    if dps < 15:
        raise PrecisionTooLow(f"dps={dps} is too low for ibcheck's checks (need at least 15 digits)")
    extra = max(10, dps // 2) if extra is None else extra
    groups: dict = {}
    for i, f in enumerate(flows):
        groups.setdefault(f.system, []).append(i)
    out = [None] * len(flows)
    for system, idx in groups.items():
        t0 = time.perf_counter()
        group = [flows[i] for i in idx]
        y0s = [f.y0 for f in group]
        if converge:
            thresh_digits = (dps - 4) if tol_digits is None else tol_digits
            stops = [_converged(f, dps, thresh_digits) for f in group]
            with _budget(max_steps, max_time):
                lo = integrate_batch(system, y0s, max_time, dps=dps, stop=stops, until_converged=True,
                                     max_steps=max_steps, backend=backend)
            ends = [tr.times[-1] for tr in lo]
        else:
            if t_end is None:
                raise IbcheckError("run_many: give t_end or converge=True")
            with _budget(max_steps, None):
                lo = integrate_batch(system, y0s, t_end, dps=dps, max_steps=max_steps, backend=backend)
            ends = [t_end] * len(group)
        with _budget(2 * max_steps, None):
            hi = integrate_batch(system, y0s, ends, dps=dps + extra, max_steps=2 * max_steps,
                                 backend=backend)
        seconds = (time.perf_counter() - t0) / len(group)
        for i, f, a, b, te in zip(idx, group, lo, hi, ends):
            out[i] = RunPair(f, a, b, dps, extra, te, converge, seconds)
    return out


@contextlib.contextmanager
def _budget(max_steps: int, max_time):
    """Name the budget in a :class:`NotConverged` raised inside, and how to raise it."""
    try:
        yield
    except NotConverged as exc:
        horizon = f", max_time={max_time}" if max_time is not None else ""
        raise NotConverged(f"{exc} [budget: max_steps={max_steps}{horizon}; raise max_steps to "
                           "integrate further]", exc.trajectory) from None


def _converged(flow: Flow, dps: int, thresh_digits: int):
    """The stop condition of :func:`run`: the loss gradient below 10^-thresh_digits."""
    grad_fn = flow.gradient_function()
    out_fn = compile_exprs(flow.outputs, flow.params)
    D = len(flow.params)

    def stop(t, y):
        with mpmath.workdps(dps):
            w = out_fn(*y[:D])
            return max(abs(g) for g in grad_fn(*w)) <= mpmath.mpf(10) ** (-thresh_digits)

    return stop


# ---- evaluation helpers --------------------------------------------------------------------------
def _values_for(flow: Flow, i: int | None) -> dict:
    """Constant values (coordinate ``i`` of per-coordinate ones) as exact SymPy numbers."""
    by = {}
    for name, v in flow.values:
        if isinstance(v, (list, tuple)):
            if i is None:
                continue
            v = v[i]
        by[name] = exact_number(v, f"constant {name}")
    return by


def _subs_constants(expr, flow: Flow, i: int | None):
    vals = _values_for(flow, i)
    sub = {s: vals[s.name] for s in sp.sympify(expr).free_symbols if s.name in vals}
    return sp.sympify(expr).xreplace(sub)


def coordinate_exprs(flow: Flow, expr, template_symbols: Sequence, coordinate_symbols_for) -> list:
    """Instantiate a per-coordinate expression for every coordinate (constants substituted)."""
    out = []
    for i in range(flow.model.n_outputs):
        sub = dict(zip(template_symbols, coordinate_symbols_for(i)))
        out.append(_subs_constants(sp.sympify(expr).xreplace(sub), flow, i))
    return out


def _template_params(flow: Flow):
    c = flow.model.coordinate
    k = len(c.params)
    return c.params, (lambda i: flow.params[i * k:(i + 1) * k])


def _verdict(flow, claim, kind, r, e, tau, dps, t0, symbolic, **details):
    status = "confirmed" if (r <= tau and e <= tau) else ("refuted" if r - e > tau else "inconclusive")
    return Verdict(model=flow.model.name, claim=claim, kind=kind, passed=status == "confirmed",
                   residual=float(r), tolerance=float(tau), dps=dps, error_estimate=float(e),
                   symbolic=symbolic, seconds=time.perf_counter() - t0,
                   details={"status": status, **details})


def _sample(runs: RunPair, quantity: Callable, points: int = GRID):
    """(values at dps, values at dps+extra) of ``quantity(state)`` on the common grid."""
    lo_vals, hi_vals = [], []
    lo_states, hi_states = runs.states(points)
    for ylo, yhi in zip(lo_states, hi_states):
        with mpmath.workdps(runs.dps):
            lo_vals.append(quantity(list(ylo)))
        with mpmath.workdps(runs.dps + runs.extra):
            hi_vals.append(quantity(list(yhi)))
    return lo_vals, hi_vals


# ---- checks ------------------------------------------------------------------------------------
def limit_defect(runs: RunPair, results) -> tuple:
    r"""``(w_flow, residual, error estimate, tolerance)`` of a limit check from
    ``results = [(w_flow, w_ref) at dps, (w_flow, w_ref) at dps + extra]``: the residual is
    :math:`\max|w_{\rm flow} - w_{\rm ref}|` at ``dps``, the estimate the larger change of either
    point between the precisions, both relative to :math:`\max(1, \|w_{\rm ref}\|_\infty)`; the
    tolerance is :math:`10^{-(dps - 10)}` (:data:`HEADROOM_LIMIT`)."""
    with mpmath.workdps(runs.dps + runs.extra):
        (wf, wr), (wf2, wr2) = results
        scale = max([mpmath.mpf(1)] + [abs(v) for v in wr2])
        r = max(abs(a - b) for a, b in zip(wf, wr)) / scale
        e = max(max(abs(a - b) for a, b in zip(wf, wf2)), max(abs(a - b) for a, b in zip(wr, wr2))) / scale
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_LIMIT))
    return wf, r, e, tau


def check_law(runs: RunPair, law: ConservedQuantity, *, symbolic: str = "", label: str | None = None) -> Verdict:
    r"""Conserved quantity: :math:`\max_t |h(x(t)) - h(x(0))|` relative to :math:`\max(1, |h(x_0)|)`."""
    t0 = time.perf_counter()
    flow = runs.flow
    if law.coordinate:
        tpl, syms_for = _template_params(flow)
        exprs = coordinate_exprs(flow, law.expr, tpl, syms_for)
    else:
        exprs = [_subs_constants(law.expr, flow, None)]
    extra = set().union(*(e.free_symbols for e in exprs)) - set(flow.params)
    if extra:
        raise IbcheckError(f"law {law.expr} uses {sorted(map(str, extra))}, which are neither parameters "
                           "nor constants with values")
    f = compile_exprs(exprs, flow.params)
    D = len(flow.params)
    lo, hi = _sample(runs, lambda y: f(*y[:D]))
    with mpmath.workdps(runs.dps + runs.extra):
        h0 = lo[0]
        scale = max([mpmath.mpf(1)] + [abs(v) for v in h0])
        r = max(abs(a - b) for vals in lo for a, b in zip(vals, h0)) / scale
        e = max(abs(a - b) for va, vb in zip(lo, hi) for a, b in zip(va, vb)) / scale
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
    return _verdict(flow, label or f"law {law.expr}", "law", r, e, tau, runs.dps, t0, symbolic,
                    t_end=float(runs.t_end))


def _potential_maps(flow: Flow, pot: MirrorPotential):
    """(mode, callable(w, mu) -> residual vector) for the mirror identity."""
    n = flow.model.n_outputs
    if pot.coordinate:
        grads, duals, _ = _coordinate_maps(flow, pot)
        if grads is not None:
            return "primal", lambda w, mu: [g(a) - b for g, a, b in zip(grads, w, mu)]
        if duals is not None:
            return "dual", lambda w, mu: [a - q(b) for q, a, b in zip(duals, w, mu)]
    else:
        if len(pot.variables) != n and pot.has_primal:
            raise IbcheckError(f"potential has {len(pot.variables)} variables but the model has {n} outputs")
        if pot.has_primal:
            gexprs = [_subs_constants(e.xreplace(dict(zip(pot.variables, flow.w_symbols))), flow, None)
                      for e in pot.gradient]
            g = compile_exprs(gexprs, flow.w_symbols)
            return "primal", lambda w, mu: [a - b for a, b in zip(g(*w), mu)]
        if pot.has_dual:
            qexprs = [_subs_constants(e, flow, None) for e in pot.dual_gradient]
            q = compile_exprs(qexprs, pot.dual_variables)
            return "dual", lambda w, mu: [a - b for a, b in zip(w, q(*mu))]
    raise IbcheckError("the potential has neither a gradient nor a dual gradient to check")


def check_mirror(runs: RunPair, pot: MirrorPotential, *, symbolic: str = "") -> Verdict:
    r"""Mirror identity along the flow: :math:`\nabla R(w(t)) - \mu(t)` (primal) or
    :math:`w(t) - \nabla Q(\mu(t))` (dual), :math:`\mu(t) = -\int_0^t \nabla L(w)`, max norm
    relative to :math:`\max(1, \|\cdot\|)`."""
    t0 = time.perf_counter()
    flow = runs.flow
    if not flow.duals:
        raise IbcheckError("the mirror check needs a flow built with duals=True")
    mode, defect = _potential_maps(flow, pot)
    out = compile_exprs(flow.outputs, flow.params)
    D, n = len(flow.params), flow.model.n_outputs

    def q(y):
        w = out(*y[:D])
        mu = y[D:D + n]
        return defect(w, mu), max([mpmath.mpf(1)] + [abs(v) for v in (mu if mode == "primal" else w)])

    lo, hi = _sample(runs, q)
    with mpmath.workdps(runs.dps + runs.extra):
        r = max(max(abs(d) for d in dv) / s for dv, s in lo)
        e = max(max(abs(a - b) for a, b in zip(dl, dh)) / sl for (dl, sl), (dh, _) in zip(lo, hi))
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
    what = "grad R(w(t)) = mu(t)" if mode == "primal" else "w(t) = grad Q(mu(t))"
    return _verdict(flow, f"mirror identity {what}", "mirror", r, e, tau, runs.dps, t0, symbolic,
                    mode=mode, t_end=float(runs.t_end))


def check_kkt_limit(runs: RunPair, pot: MirrorPotential, *, symbolic: str = "") -> Verdict:
    r"""Implicit bias at the limit: the flow's :math:`w_\infty` against
    :math:`\arg\min D_R(w, w_0)` s.t. :math:`Xw = y`, solved independently (Newton on the KKT
    system of :mod:`numerics.references`)."""
    from .references import bregman_projection

    t0 = time.perf_counter()
    flow = runs.flow
    if flow.X is None:
        raise IbcheckError("the KKT limit check needs least-squares data X, y")
    if not runs.converged:
        raise IbcheckError("the KKT limit check needs a run with converge=True")
    label = "limit = argmin D_R(w, w0) s.t. Xw = y"
    if len(flow.X[0]) == 1:  # one output: no underdetermined problem exists at all
        return skipped(flow.model.name, label, "limit", runs.dps,
                       f"no underdetermined problem: the data have m={len(flow.X)} rows for "
                       f"n={len(flow.X[0])} outputs, so the limit is the unique interpolant and "
                       "implicit bias does not select it", symbolic)
    _require_underdetermined(flow.X, "the implicit-bias limit")
    grads, duals, dual_exprs = _coordinate_maps(flow, pot)
    domain = _dual_domain(pot, dual_exprs)
    D = len(flow.params)
    out = compile_exprs(flow.outputs, flow.params)
    results = []
    for dps, traj in ((runs.dps, runs.lo), (runs.dps + runs.extra, runs.hi)):
        with mpmath.workdps(dps):
            w_flow = out(*traj.final[:D])
            w0 = [exact_to_mpf(v, mpmath.mp.prec) for v in flow.w0]
            ref = bregman_projection(grad_R=grads, dual_grad=duals, X=flow.X, y=flow.y, w0=w0, dps=dps,
                                     dual_domain=domain)
            w_ref = ref.w
            results.append((w_flow, w_ref))
    wf, r, e, tau = limit_defect(runs, results)
    return _verdict(flow, "limit = argmin D_R(w, w0) s.t. Xw = y", "limit", r, e, tau, runs.dps, t0,
                    symbolic, t_end=float(runs.t_end),
                    w_limit=[mpmath.nstr(v, 12) for v in wf])


def _require_underdetermined(X, what: str) -> None:
    """Implicit bias is about choosing among interpolants: it needs m < n and full row rank."""
    from .problems import exact_rank

    m, n = len(X), len(X[0])
    if m >= n:
        raise ProblemError(f"{what} needs an underdetermined problem (m < n), got m={m}, n={n}")
    r = exact_rank(X)
    if r < m:
        raise ProblemError(f"{what} needs X of full row rank, got rank {r} < m={m}")


def _coordinate_maps(flow: Flow, pot: MirrorPotential):
    """Per-coordinate mpmath callables for grad R and grad Q (``None`` where absent), with the
    coordinate's constants substituted, and the dual gradients as expressions."""
    n = flow.model.n_outputs
    if not pot.coordinate:
        raise IbcheckError("the KKT check currently needs a separable (per-coordinate) potential")
    grads = duals = dual_exprs = None
    if pot.has_primal:
        grads = [sp.lambdify(pot.variables[0], _subs_constants(pot.gradient[0], flow, i), modules="mpmath")
                 for i in range(n)]
    if pot.has_dual:
        dual_exprs = [_subs_constants(pot.dual_gradient[0], flow, i) for i in range(n)]
        duals = [sp.lambdify(pot.dual_variables[0], e, modules="mpmath") for e in dual_exprs]
    return grads, duals, dual_exprs


def _dual_domain(pot: MirrorPotential, dual_exprs):
    """The interval between the poles of grad Q nearest 0, common to all coordinates."""
    from .duals import dual_interval

    if not dual_exprs:
        return None
    edges = [dual_interval(e, pot.dual_variables[0]) for e in dual_exprs]
    lo = [e[0] for e in edges if e[0] is not None]
    hi = [e[1] for e in edges if e[1] is not None]
    return (max(lo) if lo else None, min(hi) if hi else None) if (lo or hi) else None


def check_no_mirror(model: str, nm, *, dps: int = 30) -> Verdict:
    r"""A refused mirror potential, confirmed numerically: the witness bracket
    :math:`[M\nabla G_i, M\nabla G_j]` evaluated at the witness point at ``dps`` digits must be
    clearly nonzero (``residual`` is its max-norm; the check passes when it exceeds the tolerance
    :math:`10^{-(dps-5)}`, i.e. the refusal is not a rounding artefact)."""
    if nm.bracket is None or nm.point is None:
        raise IbcheckError(f"{model}: no witness to confirm ({nm.reason})")
    i, j = nm.pair
    return witness_verdict(model, f"no mirror potential: [V_{i + 1}, V_{j + 1}] != 0 at the witness",
                           nm.bracket, nm.point, dps=dps)


def witness_verdict(model: str, claim: str, bracket, point: dict, *, dps: int = 30) -> Verdict:
    """The absence of a (time-dependent) potential, confirmed: the witness bracket evaluated at
    the exact witness point is clearly nonzero at ``dps`` digits. The claim is the *absence*;
    the theory proved it with an exact nonzero bracket, so the symbolic column reads "proved"
    (of this claim), never "refuted"."""
    t0 = time.perf_counter()
    with mpmath.workdps(dps):
        vals = [abs(exact_to_mpf(sp.sympify(b).xreplace(point), mpmath.mp.prec)) for b in bracket]
        r = max(vals)
        tau = mpmath.mpf(10) ** (-(dps - HEADROOM_IDENTITY))
    passed = bool(r > tau)
    return Verdict(model=model, claim=claim, kind="no-mirror", passed=passed, residual=float(r),
                   tolerance=float(tau), dps=dps, error_estimate=float(mpmath.mpf(10) ** (-dps)),
                   seconds=time.perf_counter() - t0, symbolic="proved",
                   details={"status": "confirmed" if passed else "refuted",
                            "point": {str(k): str(v) for k, v in point.items()}})
