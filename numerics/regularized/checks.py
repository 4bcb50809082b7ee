r"""Checks of decay claims along segmented flows (:mod:`numerics.regularized.flows`), same verdict rules as
:mod:`numerics.checks` (residual on the ``dps`` run, error estimate = change against the
``dps + extra`` run, tolerance fixed by ``dps``):

* decaying law: :math:`\max_t |q(x(t)) - F(A_t, q(x_0))|` relative to :math:`\max(1, |q(x_0)|)`;
* time-dependent mirror identity: :math:`\nabla R_{-A_t}(w(t)) - \mu(t)` (primal) or
  :math:`w(t) - \nabla Q_{-A_t}(\mu(t))` (dual);
* limit: the flow's :math:`w_\infty` against :math:`\arg\min R_{a_\infty}(w)` s.t. :math:`Xw = y`
  (i.e. :math:`\arg\min D_{R_{a_\infty}}(w, \bar w_{a_\infty})`, :math:`\bar w_a = \arg\min R_a`, a
  potential not normalised at :math:`w_0`), Newton on the KKT system (:func:`numerics.references.bregman_projection`);
* stationary point (constant decay): :math:`\|M(J^\top\nabla L + \lambda\nabla h)\|_\infty` at the end,
  with :math:`\|Xw - y\|` reported (a constant decay never interpolates);
* witness bracket of an inadmissible regularizer, evaluated at ``dps`` digits.
"""
from __future__ import annotations

import time

import mpmath
import sympy as sp

from theory.regularized.records import A as A_SYM, H0, a as a_SYM

from ..checks import (HEADROOM_IDENTITY, HEADROOM_LIMIT, RunPair, _require_underdetermined, _sample, witness_verdict,
                     _subs_constants, _template_params, _verdict, compile_exprs, coordinate_exprs,
                     limit_defect)
from .flows import cumulative
from ..errors import IbcheckError
from ..taylor.jets import exact_to_mpf
from ..verdict import Verdict


def check_decaying_law(runs: RunPair, claim, schedule, *, closed_form=None, symbolic: str = "",
                       label: str | None = None) -> Verdict:
    """``closed_form``: :math:`F(A, h_0)` in ibcheck's convention (default ``claim.closed_form``)."""
    t0 = time.perf_counter()
    flow = runs.flow
    F = sp.sympify(claim.closed_form if closed_form is None else closed_form)
    if claim.coordinate:
        tpl, syms_for = _template_params(flow)
        exprs = coordinate_exprs(flow, claim.expr, tpl, syms_for)
        Fs = [_subs_constants(F, flow, i) for i in range(flow.model.n_outputs)]
    else:
        exprs, Fs = [_subs_constants(claim.expr, flow, None)], [_subs_constants(F, flow, None)]
    f = compile_exprs(exprs, flow.params)
    Ff = [sp.lambdify((A_SYM, H0), e, modules="mpmath") for e in Fs]
    Afn = cumulative(schedule)
    D = len(flow.params)
    q0 = None

    def quantity(y):
        return f(*y[:D])

    ts = runs.grid()
    lo, hi = _sample(runs, quantity)
    with mpmath.workdps(runs.dps + runs.extra):
        q0 = lo[0]
        res_lo, res_hi = [], []
        for t, vl, vh in zip(ts, lo, hi):
            At = Afn(t)
            pred = [F_(At, h) for F_, h in zip(Ff, q0)]
            res_lo.append([x - p for x, p in zip(vl, pred)])
            res_hi.append([x - p for x, p in zip(vh, pred)])
        scale = max([mpmath.mpf(1)] + [abs(v) for v in q0])
        r = max(abs(d) for row in res_lo for d in row) / scale
        e = max(abs(x - y) for a_, b_ in zip(res_lo, res_hi) for x, y in zip(a_, b_)) / scale
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
        worst = max(range(len(ts)), key=lambda k: max(abs(d) for d in res_lo[k]))
    return _verdict(flow, label or f"decaying law {claim.expr} = {claim.closed_form}", "decaying-law", r, e, tau,
                    runs.dps, t0, symbolic, t_end=float(runs.t_end), worst_t=float(ts[worst]),
                    A_end=float(Afn(ts[-1])))


def _time_maps(flow, pot):
    """(mode, per-coordinate callables of (value, a)) for the time-dependent identity."""
    n = flow.model.n_outputs
    par = pot.parameter
    if pot.coordinate:
        if pot.has_primal:
            v = pot.variables[0]
            fs = [sp.lambdify((v, par), _subs_constants(pot.gradient[0], flow, i), modules="mpmath") for i in range(n)]
            return "primal", lambda w, mu, av: [f(x, av) - m for f, x, m in zip(fs, w, mu)]
        m_ = pot.dual_variables[0]
        fs = [sp.lambdify((m_, par), _subs_constants(pot.dual_gradient[0], flow, i), modules="mpmath")
              for i in range(n)]
        return "dual", lambda w, mu, av: [x - f(m, av) for f, x, m in zip(fs, w, mu)]
    if pot.has_primal:
        ge = [_subs_constants(e.xreplace(dict(zip(pot.variables, flow.w_symbols))), flow, None) for e in pot.gradient]
        g = sp.lambdify(list(flow.w_symbols) + [par], ge, modules="mpmath")
        return "primal", lambda w, mu, av: [x - m for x, m in zip(g(*w, av), mu)]
    qe = [_subs_constants(e, flow, None) for e in pot.dual_gradient]
    q = sp.lambdify(list(pot.dual_variables) + [par], qe, modules="mpmath")
    return "dual", lambda w, mu, av: [x - y for x, y in zip(w, q(*mu, av))]


def check_time_mirror(runs: RunPair, pot, schedule, *, symbolic: str = "", label: str | None = None) -> Verdict:
    r""":math:`\nabla R_{a_t}(w(t)) = \mu(t)` with :math:`a_t` = ``pot.reading`` at :math:`A_t`."""
    t0 = time.perf_counter()
    flow = runs.flow
    mode, defect = _time_maps(flow, pot)
    out = compile_exprs(flow.outputs, flow.params)
    Afn = cumulative(schedule)
    reading = sp.lambdify(A_SYM, pot.reading, modules="mpmath")
    D, n = len(flow.params), flow.model.n_outputs

    def q(y, t):
        w = out(*y[:D])
        mu = y[D:D + n]
        return defect(w, mu, reading(Afn(t))), max([mpmath.mpf(1)] + [abs(v) for v in (mu if mode == "primal" else w)])

    lo, hi = [], []
    ts = runs.grid()
    for t, ylo, yhi in zip(ts, *runs.states()):  # the states shared with the other checks of runs
        with mpmath.workdps(runs.dps):
            lo.append(q(list(ylo), t))
        with mpmath.workdps(runs.dps + runs.extra):
            hi.append(q(list(yhi), t))
    with mpmath.workdps(runs.dps + runs.extra):
        r = max(max(abs(d) for d in dv) / s for dv, s in lo)
        e = max(max(abs(x - y) for x, y in zip(dl, dh)) / sl for (dl, sl), (dh, _) in zip(lo, hi))
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
        worst = max(range(len(ts)), key=lambda k: max(abs(d) for d in lo[k][0]) / lo[k][1])
        A_w = Afn(ts[worst])
    what = "grad R_{a_t}(w(t)) = mu(t)" if mode == "primal" else "w(t) = grad Q_{a_t}(mu(t))"
    return _verdict(flow, label or f"time-dependent mirror identity {what}", "time-mirror", r, e, tau, runs.dps,
                    t0, symbolic, mode=mode, t_end=float(runs.t_end), worst_t=float(ts[worst]),
                    A_at_worst=float(A_w))


def _argmin_point(pot_at, flow, i):
    """:math:`\\bar w = \\arg\\min R` per coordinate: :math:`\\nabla Q(0)` or the root of :math:`\\nabla R`."""
    if pot_at.has_dual:
        e = _subs_constants(pot_at.dual_gradient[0], flow, i).xreplace({pot_at.dual_variables[0]: 0})
        return mpmath.mpf(str(sp.N(e, mpmath.mp.dps + 10)))
    g = sp.lambdify(pot_at.variables[0], _subs_constants(pot_at.gradient[0], flow, i), modules="mpmath")
    return mpmath.findroot(g, mpmath.mpf(0))


def check_decay_limit(runs: RunPair, pot, schedule, *, symbolic: str = "", label: str | None = None) -> Verdict:
    r"""Flow limit against :math:`\arg\min R_{a_\infty}` s.t. :math:`Xw = y` (module doc)."""
    from ..checks import _coordinate_maps, _dual_domain
    from ..references import bregman_projection

    t0 = time.perf_counter()
    flow = runs.flow
    if not runs.converged:
        raise IbcheckError("the limit check needs a converged run")
    if schedule.tail == "constant":
        raise IbcheckError("a constant decay never interpolates: use check_stationary")
    _require_underdetermined(flow.X, "the implicit-bias limit")
    pot_at = pot.at(pot.reading.xreplace({A_SYM: schedule.total}))
    if not pot_at.coordinate:
        return _kkt_vector(runs, pot_at, schedule, t0, symbolic, label)
    grads, duals, dual_exprs = _coordinate_maps(flow, pot_at)
    domain = _dual_domain(pot_at, dual_exprs)
    D, n = len(flow.params), flow.model.n_outputs
    out = compile_exprs(flow.outputs, flow.params)
    results = []
    for dps, traj in ((runs.dps, runs.lo), (runs.dps + runs.extra, runs.hi)):
        with mpmath.workdps(dps):
            w_flow = out(*traj.final[:D])
            wbar = None if duals is not None else [_argmin_point(pot_at, flow, i) for i in range(n)]
            ref = bregman_projection(grad_R=grads, dual_grad=duals, X=flow.X, y=flow.y,
                                     w0=None if wbar is None else [mpmath.nstr(v, dps + 5) for v in wbar],
                                     dps=dps, dual_domain=domain)
            results.append((w_flow, ref.w))
    wf, r, e, tau = limit_defect(runs, results)
    return _verdict(flow, label or "limit = argmin R_{a_oo}(w) s.t. Xw = y", "limit", r, e, tau, runs.dps, t0,
                    symbolic, t_end=float(runs.t_end), A_oo=str(schedule.total),
                    w_limit=[mpmath.nstr(v, 12) for v in wf])


def check_stationary(runs: RunPair, sf, *, symbolic: str = "", label: str | None = None) -> Verdict:
    r"""Constant tail :math:`\lambda`: the end point is a stationary point of
    :math:`L(G(x)) + \lambda h(x)` (speed of :math:`x` within tolerance) and does not interpolate."""
    from .flows import _x_speed

    t0 = time.perf_counter()
    flow = runs.flow
    last = sf.segments[-1][2]
    speed = _x_speed(last)
    out = compile_exprs(flow.outputs, flow.params)
    D = len(flow.params)
    vals = []
    for dps, traj in ((runs.dps, runs.lo), (runs.dps + runs.extra, runs.hi)):
        with mpmath.workdps(dps):
            y = traj.final
            s = speed(mpmath.mpf(runs.t_end), y)
            w = out(*y[:D])
            res = max(abs(mpmath.fsum(exact_to_mpf(c, mpmath.mp.prec) * wi for c, wi in zip(row, w))
                          - exact_to_mpf(b, mpmath.mp.prec)) for row, b in zip(flow.X, flow.y))
            vals.append((s, res, [mpmath.nstr(v, 12) for v in w]))
    with mpmath.workdps(runs.dps + runs.extra):
        r = vals[0][0]
        e = abs(vals[0][0] - vals[1][0])
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_LIMIT))
    return _verdict(flow, label or "constant decay: stationary point of L + lambda h (no interpolation)",
                    "stationary", r, e, tau, runs.dps, t0, symbolic, t_end=float(runs.t_end),
                    interpolation_residual=mpmath.nstr(vals[0][1], 6), w_limit=vals[0][2],
                    interpolates=bool(vals[0][1] <= tau))


def check_witness(model: str, adm, *, dps: int = 30) -> Verdict:
    """An inadmissible regularizer (or non-commuting fields), confirmed: the witness bracket at the
    witness point is clearly nonzero at ``dps`` digits."""
    return witness_verdict(model, f"no time-dependent potential: [M grad {adm.pair[0]}, M grad {adm.pair[1]}] "
                           "!= 0 at the witness", adm.bracket, adm.point, dps=dps)


def check_admissible_claim(model: str, claim, proof, *, dps: int = 30, label: str = "") -> Verdict:
    r"""'h is admissible': the brackets :math:`[M\nabla G_i, M\nabla h]` (the proof's remainders)
    evaluated at the proof's witness point (or 0 when proved) at ``dps`` digits."""
    t0 = time.perf_counter()
    rem = proof.remainder if isinstance(proof.remainder, tuple) else (proof.remainder,)
    with mpmath.workdps(dps):
        if proof.witness:
            r = max(abs(mpmath.mpf(str(sp.N(sp.sympify(c).xreplace(proof.witness), dps + 10)))) for c in rem)
        else:
            r = mpmath.mpf(0)
        tau = mpmath.mpf(10) ** (-(dps - HEADROOM_IDENTITY))
    status = "confirmed" if r <= tau else "refuted"
    return Verdict(model=model, claim=label or f"admissible: {claim.regularizer}", kind="admissibility",
                   passed=status == "confirmed", residual=float(r), tolerance=float(tau), dps=dps,
                   error_estimate=float(mpmath.mpf(10) ** (-dps)), symbolic=proof.status,
                   seconds=time.perf_counter() - t0,
                   details={"status": status, "point": {str(k): str(v) for k, v in (proof.witness or {}).items()}})


def check_effect(runs: RunPair, effect, schedule, p, *, potential=None, symbolic: str = "",
                 label: str | None = None) -> Verdict:
    r"""The three effects numerically (``potential``: the derivation's time-dependent potential,
    which the type effect needs).

    * position: the zero-loss flow (segmented, same schedule) moves along
      :math:`w(t) = \bar w_{a_t}`: residual :math:`\max_t |w(t) - \bar w_{a_t}|`;
    * type: :func:`numerics.confirm.regimes.check_potential_limit` with the scale :math:`A \to \infty`;
    * range: along the decayed flow every :math:`\mu_i(t)` lies in :math:`(\mu_-(a_t), \mu_+(a_t))`
      (residual: the largest violation, 0 when inside); reported: whether :math:`\mu` left the
      decay-free domain :math:`(\mu_-(0), \mu_+(0))`.
    """
    from theory.claims import LimitingRegularizer
    from theory.regularized.effects import A_POS
    from theory.mirror import W

    from .flows import segmented_flow
    t0 = time.perf_counter()
    flow = runs.flow
    values = dict(flow.values)
    n = flow.model.n_outputs
    Afn = cumulative(schedule)
    if effect.kind == "position":
        sf0 = segmented_flow(p, values=values, loss=sp.Integer(0))
        T = max([sp.Integer(1)] + [b + 1 for b in schedule.breakpoints])
        from .flows import run_decayed
        r0 = run_decayed(sf0, dps=runs.dps, converge=False, t_end=T)
        f0 = r0.flow
        D = len(f0.params)
        out = compile_exprs(f0.outputs, f0.params)
        wb = [sp.lambdify(a_SYM, _subs_constants(effect.value, f0, i), modules="mpmath") for i in range(n)]
        lo, hi = [], []
        for t in r0.grid():
            for dps, traj, acc in ((r0.dps, r0.lo, lo), (r0.dps + r0.extra, r0.hi, hi)):
                with mpmath.workdps(dps):
                    w = out(*traj.at(t)[:D])
                    at = -Afn(t)
                    acc.append([x - g(at) for x, g in zip(w, wb)])
        with mpmath.workdps(r0.dps + r0.extra):
            r = max(abs(d) for row in lo for d in row)
            e = max(abs(x - y) for ra, rb in zip(lo, hi) for x, y in zip(ra, rb))
            tau = mpmath.mpf(10) ** (-(r0.dps - HEADROOM_IDENTITY))
        return _verdict(f0, label or f"positional bias argmin R_a = {effect.value}", "effect-position", r, e, tau,
                        r0.dps, t0, symbolic, t_end=float(T))
    if effect.kind == "type":
        from ..confirm.regimes import check_potential_limit
        from theory.regularized.effects import _as_mirror
        if potential is None:  # the derivation's own potential, never a second derivation of p
            raise IbcheckError(f"{p.name}: the type effect needs the derived time-dependent potential; "
                               "none was derived")
        factor, leading = effect.value
        claim = LimitingRegularizer(A_POS, sp.oo, factor, leading, W, origin="derived", name="A->oo")
        v = check_potential_limit(claim, _as_mirror(potential, -A_POS), model=p.name, values=values, dps=runs.dps,
                                  symbolic=symbolic)
        from dataclasses import replace
        return replace(v, claim=label or v.claim, kind="effect-type")
    if effect.kind == "range":
        lo_e, hi_e = effect.value
        if lo_e == -sp.oo and hi_e == sp.oo:
            return _verdict(flow, label or "range: dual domain = R", "effect-range", 0, 0, mpmath.mpf(10) ** -25,
                            runs.dps, t0, symbolic, verdict="unbounded")
        fl = [sp.lambdify(a_SYM, _subs_constants(lo_e, flow, i), modules="mpmath") for i in range(n)]
        fh = [sp.lambdify(a_SYM, _subs_constants(hi_e, flow, i), modules="mpmath") for i in range(n)]
        D = len(flow.params)
        viol, left = [], False
        mu_max = mpmath.mpf(0)
        for t in runs.grid():
            with mpmath.workdps(runs.dps):
                y = runs.lo.at(t)
                at = -Afn(t)
                for i in range(n):
                    m_ = y[D + i]
                    viol.append(max(0, fl[i](at) - m_, m_ - fh[i](at)))
                    left = left or not (fl[i](0) < m_ < fh[i](0))
                    mu_max = max(mu_max, abs(m_))
        with mpmath.workdps(runs.dps):
            r = max(viol)
            tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
        return _verdict(flow, label or f"range: mu(t) in ({lo_e}, {hi_e}) at a = a_t", "effect-range", r, 0, tau,
                        runs.dps, t0, symbolic, verdict=effect.verdict, mu_max=mpmath.nstr(mu_max, 8),
                        left_decay_free_domain=bool(left),
                        decay_free_domain=[mpmath.nstr(fl[0](0), 8), mpmath.nstr(fh[0](0), 8)])
    raise IbcheckError(f"unknown effect kind {effect.kind!r}")


def _kkt_defect(runs, solve):
    r"""The KKT reference at both precisions of ``runs`` against the flow's limit:
    ``solve(traj, X, y, dps)`` runs at dps + 10 digits (X, y exact data at that precision) and
    returns ``(w_flow or None, w_ref)``; ``None`` means the flow's output at ``dps``. Then
    :func:`numerics.checks.limit_defect` (residual, estimate, tolerance)."""
    flow = runs.flow
    D = len(flow.params)
    out = compile_exprs(flow.outputs, flow.params)
    results = []
    for dps, traj in ((runs.dps, runs.lo), (runs.dps + runs.extra, runs.hi)):
        with mpmath.workdps(dps + 10):
            Xm = [[exact_to_mpf(c, mpmath.mp.prec) for c in row] for row in flow.X]
            ym = [exact_to_mpf(b, mpmath.mp.prec) for b in flow.y]
            wf, w_ref = solve(traj, Xm, ym, dps)
        with mpmath.workdps(dps):
            wf = out(*traj.final[:D]) if wf is None else [+v for v in wf]
            results.append((wf, [+v for v in w_ref]))
    return limit_defect(runs, results)


def _kkt_vector(runs, pot_at, schedule, t0, symbolic, label):
    r"""KKT for a potential that is not per coordinate: solve :math:`X\nabla Q(X^\top\nu) = y` for
    :math:`\nu` (mpmath.findroot, Newton with numeric Jacobian, from 0) at each precision and compare
    :math:`\nabla Q(X^\top\nu)` with the flow's limit."""
    flow = runs.flow
    if not pot_at.has_dual:
        return _kkt_primal(runs, pot_at, schedule, t0, symbolic, label)
    qe = [_subs_constants(e, flow, None) for e in pot_at.dual_gradient]
    q = sp.lambdify(list(pot_at.dual_variables), qe, modules="mpmath")
    m, n = len(flow.X), len(flow.X[0])

    def solve(traj, Xm, ym, dps):
        def wq(nu):
            mu = [mpmath.fsum(Xm[j][i] * nu[j] for j in range(m)) for i in range(n)]
            return q(*mu)

        def F(*nu):
            w = wq(nu)
            return [mpmath.fsum(Xm[j][i] * w[i] for i in range(n)) - ym[j] for j in range(m)]
        nu = mpmath.findroot(F, [mpmath.mpf(0)] * m, tol=mpmath.mpf(10) ** (-(dps + 5)))
        nu = [nu] if m == 1 and not isinstance(nu, mpmath.matrix) else list(nu)
        return None, wq(nu)
    wf, r, e, tau = _kkt_defect(runs, solve)
    return _verdict(flow, label or "limit = argmin R_{a_oo}(w) s.t. Xw = y (KKT, non-separable)", "limit", r, e,
                    tau, runs.dps, t0, symbolic, t_end=float(runs.t_end), A_oo=str(schedule.total),
                    w_limit=[mpmath.nstr(v, 12) for v in wf])


def _kkt_primal(runs, pot_at, schedule, t0, symbolic, label):
    r"""KKT with only :math:`\nabla R` known: solve :math:`\nabla R(w) = X^\top\nu`, :math:`Xw = y` for
    :math:`(w, \nu)` by Newton (mpmath.findroot) from the flow's limit rounded to 6 digits and
    :math:`\nu = 0` (the system has one solution: R is strictly convex)."""
    flow = runs.flow
    ge = [_subs_constants(e.xreplace(dict(zip(pot_at.variables, flow.w_symbols))), flow, None)
          for e in pot_at.gradient]
    g = sp.lambdify(list(flow.w_symbols), ge, modules="mpmath")
    D = len(flow.params)
    out = compile_exprs(flow.outputs, flow.params)
    m, n = len(flow.X), len(flow.X[0])

    def solve(traj, Xm, ym, dps):
        wf = out(*traj.final[:D])  # at dps + 10, as the Newton start

        def F(*z):
            w, nu = z[:n], z[n:]
            gr = g(*w)
            return [gr[i] - mpmath.fsum(Xm[j][i] * nu[j] for j in range(m)) for i in range(n)] + \
                   [mpmath.fsum(Xm[j][i] * w[i] for i in range(n)) - ym[j] for j in range(m)]
        start = [mpmath.mpf(mpmath.nstr(v, 6)) for v in wf] + [mpmath.mpf(0)] * m
        z = mpmath.findroot(F, start, tol=mpmath.mpf(10) ** (-(dps + 5)))
        return wf, list(z)[:n]
    wf, r, e, tau = _kkt_defect(runs, solve)
    return _verdict(flow, label or "limit = argmin R_{a_oo}(w) s.t. Xw = y (KKT, non-separable, primal)", "limit",
                    r, e, tau, runs.dps, t0, symbolic, t_end=float(runs.t_end), A_oo=str(schedule.total))
