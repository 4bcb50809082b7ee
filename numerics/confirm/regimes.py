r"""Limiting regularizers, numerically: flow limits approach the min-:math:`\ell_1` interpolant as
the init scale :math:`\alpha \to 0` and the min-:math:`\ell_2` one as :math:`\alpha \to \infty`.

For a sequence of scales approaching the limit point, each flow is integrated to convergence and
its limit :math:`w_\alpha` compared with the reference interpolant :math:`w^\star` (exact LP for
:math:`\ell_1`, exact least-norm solution for :math:`\ell_2`; :mod:`numerics.references`). The
check passes when the distances :math:`d(\alpha) = \|w_\alpha - w^\star\|_\infty` decrease
strictly along the sequence and the last one is below ``shrink`` times the first. The observed
rate (fitted exponent of :math:`d` in the scale) is reported; for the hyperbolic entropy the theory
bounds :math:`d(\alpha) = O(1/\log(1/\alpha))` (Woodworth et al. 2020), so
:math:`d\cdot\log(1/\alpha)` must stay bounded, and the measured decay is in fact polynomial.
Each flow must converge (``NotConverged`` otherwise); its limit is accurate to about
:math:`10^{-dps/2}`, far below the distances measured, which is the reported error estimate.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import mpmath
import sympy as sp

from theory.claims import LimitingRegularizer, MirrorPotential
from theory.parameterization import Parameterization

from ..errors import IbcheckError
from ..flows import gradient_flow
from ..taylor.jets import exact_to_mpf
from ..duals import dual_edges, increasing_inverse
from ..verdict import Verdict, skipped


def reference_for(claim: LimitingRegularizer) -> str | None:
    """'l1' or 'l2' from the leading term (c|w| -> l1, c w^2 -> l2); None when it is neither
    (then only :func:`check_potential_limit` applies)."""
    if claim.name in {"l1", "l2"}:
        return claim.name
    w = claim.variable
    lead = sp.sympify(claim.leading)
    ratio_l1 = sp.simplify(lead / (w if w.is_nonnegative else sp.Abs(w)))
    if ratio_l1.is_number and ratio_l1.is_positive:
        return "l1"
    ratio_l2 = sp.simplify(lead / w**2)
    if w not in ratio_l2.free_symbols and ratio_l2.is_positive is not False and not ratio_l2.has(sp.Piecewise):
        return "l2"
    return None


def bias_sign(claim: LimitingRegularizer) -> int:
    """+1 when the normalising factor is positive near the limit point (the bias minimises the
    leading term), -1 when negative (it maximises it, e.g. u*u with alpha -> oo: factor
    1/log(1/alpha) < 0)."""
    probe = sp.Rational(1, 10**6) if claim.point == 0 else sp.Integer(10**6)
    val = sp.N(sp.sympify(claim.factor).subs(claim.scale, probe))
    return 1 if val > 0 else -1


def default_scales(claim: LimitingRegularizer, depth_like: bool = False) -> list:
    """Scales approaching the limit point, as exact rationals."""
    if claim.point == 0:
        return [sp.Rational(1, 3), sp.Rational(1, 6), sp.Rational(1, 12)] if depth_like else \
            [sp.Rational(1, 10), sp.Rational(1, 1000), sp.Rational(1, 10**6)]
    return [sp.Integer(1), sp.Integer(3), sp.Integer(10)]


def check_regime(p: Parameterization, claim: LimitingRegularizer, X: Sequence, y: Sequence, *,
                 values: dict | None = None, scales: Sequence | None = None, dps: int = 30,
                 shrink: float = 0.5, reference: str | None = None, backend: str = "fast",
                 symbolic: str = "") -> Verdict:
    """Sweep the scale towards ``claim.point`` and compare flow limits with the reference
    interpolant (``reference`` overrides the one implied by the claim: the negative control)."""
    from ..checks import _require_underdetermined
    from ..references import min_l1_interpolant, min_l2_interpolant

    t0 = time.perf_counter()
    if len(X[0]) == 1:  # one output: no underdetermined problem exists, the interpolant is unique
        return skipped(p.name, f"alpha -> {claim.point}: limit approaches the reference interpolant",
                       "regime", dps, f"no underdetermined problem (m={len(X)} rows, n={len(X[0])} "
                       "outputs): the interpolant is unique", symbolic)
    _require_underdetermined(X, "a limiting-regularizer sweep")
    kind = reference or reference_for(claim)
    if kind is None:
        raise IbcheckError(f"no reference interpolant for the leading term {claim.leading} "
                           "(neither l1 nor l2); use check_potential_limit")
    scales = list(scales or default_scales(claim, depth_like=_depth_like(p)))
    if kind == "l1":
        w_star = min_l1_interpolant(X, y, check_unique=False,
                                    nonnegative=bool(claim.variable.is_nonnegative)).w
    else:
        w_star = min_l2_interpolant(X, y)
    dists, limits = [], []
    for w in _sweep_limits(p, X, y, claim, scales, values, dps, backend):
        with mpmath.workdps(dps):
            d = max(abs(a_ - exact_to_mpf(b_, mpmath.mp.prec)) for a_, b_ in zip(w, w_star))
        dists.append(float(d))
        limits.append([mpmath.nstr(v, 10) for v in w])
    # a flow stops when |grad L| <= 10^-(dps//2): its limit is known to about that many digits
    err = float(mpmath.mpf(10) ** (-(dps // 2)) * 10)
    status, tol, why = decreasing_verdict(dists, [err] * len(dists), shrink)
    rate = _observed_rate(claim, scales, dists)
    return Verdict(model=p.name, claim=f"alpha -> {claim.point}: limit approaches min-{kind} interpolant",
                   kind="regime", passed=status == "confirmed", residual=dists[-1], tolerance=tol, dps=dps,
                   error_estimate=err, symbolic=symbolic,
                   seconds=time.perf_counter() - t0,
                   details={"status": status, "why": why, "scales": [str(s) for s in scales], "distances": dists,
                            "observed_rate": rate, "reference": kind, "limits": limits})


def _sweep_limits(p, X, y, claim, scales, values, dps, backend) -> list:
    r"""The converged limit :math:`w_\alpha` of the flow at every scale, in the scales' order.
    Flows of one program (the scale enters only the initial state) are integrated together by
    :func:`numerics.taylor.batch.integrate_batch` (each with its own steps and stop test, so
    every limit is the one :func:`~numerics.taylor.integrator.integrate` gives alone with the
    batch's backend, digit for digit: the default three scales keep the single-run jet); flows
    whose ODE differs are batched with their equals only."""
    from ..checks import compile_exprs
    from ..taylor.batch import integrate_batch

    flows = []
    for a in scales:
        vals = dict(values or {})
        vals[claim.scale.name] = a
        flows.append(gradient_flow(p, X, y, values=vals, duals=False))
    thresh = mpmath.mpf(10) ** (-(dps // 2))
    groups: dict = {}
    for i, flow in enumerate(flows):
        groups.setdefault(flow.system, []).append(i)
    limits = [None] * len(flows)
    for system, idx in groups.items():
        outs, stops = [], []
        for i in idx:
            flow = flows[i]
            out = compile_exprs(flow.outputs, flow.params)
            grad = flow.gradient_function()
            D = len(flow.params)

            def stop(t, yv, out=out, grad=grad, D=D):
                with mpmath.workdps(dps):
                    return max(abs(g) for g in grad(*out(*yv[:D]))) <= thresh

            outs.append((out, D))
            stops.append(stop)
        with mpmath.workdps(dps):  # NotConverged if a flow has not settled by t = 1e5
            trajs = integrate_batch(system, [flows[i].y0 for i in idx], 10**5, dps=dps, stop=stops,
                                    until_converged=True, backend=backend)
            for i, (out, D), traj in zip(idx, outs, trajs):
                limits[i] = out(*traj.final[:D])
    return limits


def _depth_like(p: Parameterization) -> bool:
    c = p.coordinate
    if c is None:
        return False
    return c.output.is_polynomial(*c.params) and sp.Poly(c.output, *c.params).total_degree() > 2


def _observed_rate(claim, scales, dists):
    """The fitted exponent of d against the scale between consecutive scales (d ~ scale^e), and
    d*log(1/alpha), which the depth-2 theory bounds as alpha -> 0 (d = O(1/log(1/alpha)))."""
    exps = [math.log(d2 / d1) / math.log(float(a2) / float(a1)) if d1 > 0 and d2 > 0 else None
            for (a1, d1), (a2, d2) in zip(zip(scales, dists), zip(scales[1:], dists[1:]))]
    out = {"exponent": exps}
    if claim.point == 0:
        out["d*log(1/alpha)"] = [d * math.log(1 / float(a)) for a, d in zip(scales, dists)]
    return out


# ---- the limit of the potential itself ---------------------------------------------------------------
SAMPLE_W = (sp.Rational(-2), sp.Rational(-1, 2), sp.Rational(1, 3), sp.Rational(3, 2))


def potential_scales(point) -> list:
    """Scales for :func:`check_potential_limit`: geometric, towards 0 or infinity."""
    if point == 0:
        return [sp.Rational(1, 10**2), sp.Rational(1, 10**4), sp.Rational(1, 10**8)]
    return [sp.Integer(10**2), sp.Integer(10**4), sp.Integer(10**8)]


def _normalised_potential(pot: MirrorPotential, claim: LimitingRegularizer, values: dict):
    """mpmath callable (scale, w) -> R_scale(w) - R_scale(0), per coordinate (constants other
    than the scale substituted). Primal R when given; else the integral of grad R; else the
    Legendre transform of the dual, R(w) = mu w - Q(mu) with grad Q(mu) = w."""
    a = claim.scale
    sub = {s: sp.sympify(v, rational=True) if isinstance(v, str) else sp.sympify(v)
           for s in _constants_of(pot) if s != a and s.name in values
           for v in [values[s.name]]}
    if pot.potential is not None:
        w = pot.variables[0]
        Rw = pot.potential.xreplace(sub)
        R0 = sp.limit(Rw, w, 0, "+") if w.is_positive else Rw.subs(w, 0)  # R(0+) for w > 0 models
        R = sp.lambdify((a, w), Rw - R0, modules="mpmath")
        return R
    if pot.gradient is not None:
        w = pot.variables[0]
        g = sp.lambdify((a, w), pot.gradient[0].xreplace(sub), modules="mpmath")
        return lambda al, x: mpmath.quad(lambda t: g(al, t), [0, x])
    mu = pot.dual_variables[0]
    dg = pot.dual_gradient[0].xreplace(sub)
    gq = sp.lambdify((a, mu), dg, modules="mpmath")
    Q = sp.lambdify((a, mu), sp.integrate(dg, mu), modules="mpmath")
    edge_lo, edge_hi = dual_edges(dg, mu, a)

    def legendre(al, x):
        edges = (edge_lo(al) if edge_lo else None, edge_hi(al) if edge_hi else None)

        def at(target):
            m = increasing_inverse(lambda t: gq(al, t), target, edges)
            return m * target - Q(al, m)
        return at(x) - at(mpmath.mpf(0))

    return legendre


def _constants_of(pot: MirrorPotential) -> set:
    exprs = [e for e in (pot.potential, pot.dual) if e is not None]
    exprs += list(pot.gradient or ()) + list(pot.dual_gradient or ())
    syms = set().union(*(sp.sympify(e).free_symbols for e in exprs)) if exprs else set()
    return syms - set(pot.variables) - set(pot.dual_variables)


def check_potential_limit(claim: LimitingRegularizer, pot: MirrorPotential, *, model: str = "",
                          values: dict | None = None, scales: Sequence | None = None, dps: int = 30,
                          shrink: float = 0.5, symbolic: str = "") -> Verdict:
    r"""The stated limit of the potential, numerically: the defect
    :math:`e(\alpha) = \max_w |\text{factor}(\alpha)(R_\alpha(w) - R_\alpha(0)) - \text{leading}(w)|`
    over sample points must decrease along scales approaching the limit point and end below
    ``shrink`` times its first value (a wrong factor or leading term leaves it bounded away from 0)."""
    t0 = time.perf_counter()
    values = dict(values or {})
    scales = list(scales or potential_scales(claim.point))
    wsym = claim.variable
    pts = [w for w in SAMPLE_W if not (wsym.is_nonnegative and w < 0)]
    other = {s: sp.sympify(values[s.name], rational=True) if isinstance(values.get(s.name), str)
             else sp.sympify(values[s.name]) for s in (sp.sympify(claim.factor).free_symbols |
                                                      sp.sympify(claim.leading).free_symbols)
             if s not in (claim.scale, wsym) and s.name in values}
    factor = sp.lambdify(claim.scale, sp.sympify(claim.factor).xreplace(other), modules="mpmath")
    lead = sp.lambdify(wsym, sp.sympify(claim.leading).xreplace(other), modules="mpmath")
    # the normalised potential cancels leading terms of size ~ scale^(+-4) (R ~ scale^2 w^2 times a
    # factor ~ scale^2): carry those digits too, and once more with more digits, so that the
    # change between the two evaluations is the error estimate of every defect
    extra = max(abs(int(mpmath.log10(abs(mpmath.mpmathify(sp.N(a, 20)))))) for a in scales)
    runs = []
    # built once: SymPy work and mpmath callables that read the precision when called
    R = _normalised_potential(pot, claim, values)
    for prec in (dps + 4 * extra + 10, dps + 4 * extra + 10 + max(10, dps // 2)):
        with mpmath.workdps(prec):
            ds = []
            for a in scales:
                am = exact_to_mpf(a, mpmath.mp.prec)
                wm = [exact_to_mpf(w, mpmath.mp.prec) for w in pts]
                ds.append(max(abs(factor(am) * R(am, x) - lead(x)) for x in wm))
            runs.append(ds)
    defects = [float(d) for d in runs[0]]
    errs = [float(abs(a - b)) + 10.0 ** (-dps) for a, b in zip(*runs)]
    status, tol, why = decreasing_verdict(defects, errs, shrink)
    return Verdict(model=model, claim=f"factor*(R(w)-R(0)) -> {claim.leading} as {claim.scale} -> {claim.point}",
                   kind="limit-potential", passed=status == "confirmed", residual=defects[-1], tolerance=tol,
                   dps=dps, error_estimate=max(errs), symbolic=symbolic,
                   seconds=time.perf_counter() - t0,
                   details={"status": status, "scales": [str(s) for s in scales], "why": why,
                            "defects": defects, "defect_errors": errs, "w": [str(w) for w in pts]})


def decreasing_verdict(defects: Sequence[float], errs: Sequence[float], shrink: float):
    r"""The verdict of a "defect keeps decreasing" test: (status, tolerance, reason).

    Tolerance :math:`\tau = \max(\text{shrink}\cdot d_0, e_\text{last})`. A step counts as
    decreasing when :math:`d_{k+1} < d_k` or both lie within their error estimates (at the
    noise floor nothing can decrease further). *confirmed*: every step decreases and
    :math:`d_\text{last} \le \tau`; *refuted*: :math:`d_\text{last} - e_\text{last} > \tau`
    (never a defect below its tolerance); *inconclusive* otherwise (not monotone, yet small).
    """
    tol = max(shrink * defects[0], errs[-1])
    steps_ok = all(b < a or (a <= ea and b <= eb)
                   for a, b, ea, eb in zip(defects, defects[1:], errs, errs[1:]))
    last, e = defects[-1], errs[-1]
    if steps_ok and last <= tol:
        return "confirmed", tol, "the defect decreases towards the limit point and ends below the tolerance"
    if last - e > tol:
        return "refuted", tol, "the last defect exceeds shrink x the first one: it is not going to 0"
    return "inconclusive", tol, "the defect is small but did not decrease at every step"
