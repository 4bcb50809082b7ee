r"""Numeric checks of the claims on the leaf (:mod:`theory.laws.leaf_potential`).

* :func:`check_time_changed_mirror`: along the flow, the part of :math:`\phi(x(t)) - \phi(x_0)`
  in :math:`\ker X` (the projection :math:`P = I - X^\top(XX^\top)^{-1}X`), relative to
  :math:`\max(1, \|\phi(x(t)) - \phi(x_0)\|)`: zero when the dual lies in
  :math:`\mathrm{range}(X^\top)`, whatever the clock. Identity tolerance :math:`10^{-(dps-5)}`.
* :func:`check_effective_scale`: the limit :math:`x_\infty` of a converged flow against the
  independent Bregman/KKT reference (:func:`numerics.references.bregman_projection`) of the plain
  potential at the scale :math:`a = \alpha_{\mathrm{eff}}(x_\infty)` read from the final state;
  limit tolerance :math:`10^{-(dps-10)}`; the error estimate is the change of :math:`x_\infty`
  between the two precisions plus the reference's own estimate.
"""
from __future__ import annotations

import time

import mpmath
import sympy as sp

from theory.laws.leaf_potential import EffectiveScale, TimeChangedMirror, claims_for, prove

from ..checks import HEADROOM_IDENTITY, HEADROOM_LIMIT, _sample, _subs_constants, _verdict, compile_exprs, run
from ..errors import IbcheckError
from ..references import bregman_projection
from ..verdict import failed_verdict


def _kernel_projector(X):
    Xm = mpmath.matrix([[mpmath.mpf(sp.Rational(a).p) / sp.Rational(a).q for a in row] for row in X])
    G = Xm * Xm.T
    return mpmath.eye(Xm.cols) - Xm.T * (G ** -1) * Xm


def check_time_changed_mirror(runs, claim: TimeChangedMirror, *, symbolic: str = ""):
    t0 = time.perf_counter()
    flow = runs.flow
    exprs = [_subs_constants(e, flow, None) for e in claim.phi]
    f = compile_exprs(exprs, flow.params)
    D = len(flow.params)

    projectors: dict = {}   # one per working precision (the samples of both runs share it)

    def sample(y):
        P = projectors.get(mpmath.mp.prec)
        if P is None:
            P = projectors[mpmath.mp.prec] = _kernel_projector(flow.X)
        return mpmath.matrix(f(*y[:D])), P

    lo, hi = _sample(runs, sample)
    with mpmath.workdps(runs.dps + runs.extra):
        v0_lo, v0_hi = lo[0][0], hi[0][0]
        res_lo, res_hi = [], []
        for (vl, P), (vh, _) in zip(lo, hi):
            dl, dh = vl - v0_lo, vh - v0_hi
            sl = max([mpmath.mpf(1)] + [abs(x) for x in dl])
            res_lo.append([x / sl for x in P * dl])
            res_hi.append([x / sl for x in P * dh])
        r = max(max(abs(x) for x in rl) for rl in res_lo)
        e = max(max(abs(a - b) for a, b in zip(rl, rh)) for rl, rh in zip(res_lo, res_hi))
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
    return _verdict(flow, f"{claim.name}: phi(x(t)) - phi(x0) in range(X^T)", "leaf-mirror", r, e, tau,
                    runs.dps, t0, symbolic, t_end=float(runs.t_end))


def check_effective_scale(conv, claim: EffectiveScale, *, symbolic: str = ""):
    r"""``conv``: a converged :class:`~numerics.checks.RunPair`."""
    t0 = time.perf_counter()
    flow = conv.flow
    D = len(flow.params)
    scale = compile_exprs([_subs_constants(claim.scale, flow, None)], flow.params)
    outs = compile_exprs(flow.outputs, flow.params)
    with mpmath.workdps(conv.dps + conv.extra):
        y_hi = conv.hi.at(conv.t_end)
        a_hi = scale(*y_hi[:D])[0]
        x_hi = outs(*y_hi[:D])
    with mpmath.workdps(conv.dps):
        y_lo = conv.lo.at(conv.t_end)
        x_lo = outs(*y_lo[:D])
    ref = _reference(claim, a_hi, flow.X, flow.y, conv.dps)
    with mpmath.workdps(conv.dps + conv.extra):
        scale_x = max([mpmath.mpf(1)] + [abs(v) for v in ref.w])
        r = max(abs(a - b) for a, b in zip(x_lo, ref.w)) / scale_x
        e = max(abs(a - b) for a, b in zip(x_lo, x_hi)) / scale_x + (ref.error_estimate or 0)
        tau = mpmath.mpf(10) ** (-(conv.dps - HEADROOM_LIMIT))
    return _verdict(flow, f"{claim.name}: x_inf = argmin Q_a, a = alpha_eff(x_inf) = {mpmath.nstr(a_hi, 8)}",
                    "limit-leaf", r, e, tau, conv.dps, t0, symbolic, alpha_eff=str(mpmath.nstr(a_hi, 25)),
                    limit=[mpmath.nstr(v, 20) for v in x_lo], reference=[mpmath.nstr(v, 20) for v in ref.w],
                    t_end=float(conv.t_end))


def _reference(claim: EffectiveScale, a_value, X, y, dps):
    """The Bregman/KKT point of the plain potential at scale ``a_value`` (an mpf)."""
    mu = claim.mu
    g = sp.lambdify([mu, claim.a], claim.dual_gradient, "mpmath")
    dg = sp.lambdify([mu, claim.a], sp.diff(claim.dual_gradient, mu), "mpmath")
    a = a_value  # no unary plus: that would round to the ambient (15-digit) precision
    dom = None
    if claim.depth > 2:
        L = claim.depth
        with mpmath.workdps(dps + 20):
            bound = 1 / (L * (L - 2) * a ** (L - 2))
            q = sp.Rational(int(bound * 10**25 * (1 - mpmath.mpf(10) ** -20)), 10**25)
        dom = (-q, q)
    # near the edge of the dual domain (L > 2, tiny a: |mu| ~ 1/(L(L-2)a^(L-2))) the factors
    # 1 -+ kappa*mu cancel: Newton then stalls above its tolerance; the same problem with more
    # digits (the tolerance stays 10^-dps of the data) is the honest retry
    from ..references import BregmanFailure
    for more in (0, 30, 60):
        try:
            return bregman_projection(dual_grad=lambda m: g(m, a), dual_hess=lambda m: dg(m, a), X=X, y=y,
                                      dps=dps + more, dual_domain=dom,
                                      tol=sp.Rational(1, 10**dps))
        except BregmanFailure as e:
            last = e
    raise last


def leaf_verdicts(d, problem, runs, *, backend: str = "fast", say=lambda m: None, rewrite=None) -> list:
    """Verdicts for the family claims registered for ``d``'s model (none for most models).
    ``rewrite``: the claim as the flow's coordinates need it (proved as stated, checked rewritten)."""
    p = d.parameterization
    claims = claims_for(p)
    out, conv = [], None
    for c in claims:
        say(f"{p.name}: {c.name}")
        try:
            pr = prove(p, c)
            c = rewrite(c) if rewrite is not None else c
            if isinstance(c, TimeChangedMirror):
                out.append(check_time_changed_mirror(runs, c, symbolic=pr.status))
            elif isinstance(c, EffectiveScale):
                if conv is None:
                    conv = run(runs.flow, dps=problem.dps, converge=True, backend=backend)
                out.append(check_effective_scale(conv, c, symbolic=pr.status))
        except IbcheckError as e:
            out.append(failed_verdict(p.name, c.name, type(c).__name__, problem.dps, e, "n/a"))
    return out
