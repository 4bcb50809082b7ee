r"""Limiting regularizers, numerically: flow limits approach the min-:math:`\ell_1` interpolant as
the init scale :math:`\alpha \to 0` and the min-:math:`\ell_2` one as :math:`\alpha \to \infty`.

For a sequence of scales approaching the limit point, each flow is integrated to convergence and
its limit :math:`w_\alpha` compared with the reference interpolant :math:`w^\star` (exact LP for
:math:`\ell_1`, exact least-norm solution for :math:`\ell_2`; :mod:`numerics.references`). The
check passes when the distances :math:`d(\alpha) = \|w_\alpha - w^\star\|_\infty` decrease
strictly along the sequence and the last one is below ``shrink`` times the first. The observed
rate is reported next to the theory's: for the hyperbolic entropy (depth 2)
:math:`d(\alpha) = O(1/\log(1/\alpha))`, so :math:`d \cdot \log(1/\alpha)` stays bounded; at
:math:`\alpha\to\infty`, :math:`d = O(1/\alpha^2)` around a zero initial output.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import mpmath
import sympy as sp

from theory.claims import LimitingRegularizer
from theory.parameterization import Parameterization

from .errors import IbcheckError
from .flows import gradient_flow
from .verdict import Verdict


def reference_for(claim: LimitingRegularizer) -> str:
    """'l1' or 'l2' from the leading term (|w| -> l1, w^2 -> l2)."""
    if claim.name in {"l1", "l2"}:
        return claim.name
    lead = sp.sympify(claim.leading)
    if lead.has(sp.Abs) or (claim.variable.is_positive and sp.degree(lead, claim.variable) == 1):
        return "l1"
    if sp.Poly(lead, claim.variable).degree() == 2:
        return "l2"
    raise IbcheckError(f"no reference interpolant for the leading term {lead}")


def default_scales(claim: LimitingRegularizer, depth_like: bool = False) -> list:
    """Scales approaching the limit point, as exact rationals."""
    if claim.point == 0:
        return [sp.Rational(1, 4), sp.Rational(1, 20), sp.Rational(1, 100)] if depth_like else \
            [sp.Rational(1, 10), sp.Rational(1, 1000), sp.Rational(1, 10**6)]
    return [sp.Integer(1), sp.Integer(3), sp.Integer(10)]


def check_regime(p: Parameterization, claim: LimitingRegularizer, X: Sequence, y: Sequence, *,
                 values: dict | None = None, scales: Sequence | None = None, dps: int = 30,
                 shrink: float = 0.5, reference: str | None = None, backend: str = "fast",
                 symbolic: str = "") -> Verdict:
    """Sweep the scale towards ``claim.point`` and compare flow limits with the reference
    interpolant (``reference`` overrides the one implied by the claim: the negative control)."""
    from .checks import compile_exprs
    from .integrator import integrate
    from .references import min_l1_interpolant, min_l2_interpolant

    from .checks import _require_underdetermined

    t0 = time.perf_counter()
    _require_underdetermined(X, "a limiting-regularizer sweep")
    kind = reference or reference_for(claim)
    scales = list(scales or default_scales(claim, depth_like=_depth_like(p)))
    if kind == "l1":
        w_star = min_l1_interpolant(X, y, check_unique=False,
                                    nonnegative=bool(claim.variable.is_nonnegative)).w
    else:
        w_star = min_l2_interpolant(X, y)
    dists, limits = [], []
    for a in scales:
        vals = dict(values or {})
        vals[claim.scale.name] = a
        flow = gradient_flow(p, X, y, values=vals, duals=False)
        out = compile_exprs(flow.outputs, flow.params)
        grad = flow.gradient_function()
        D = len(flow.params)
        thresh = mpmath.mpf(10) ** (-(dps // 2))

        def stop(t, yv):
            return max(abs(g) for g in grad(*out(*yv[:D]))) <= thresh

        with mpmath.workdps(dps):
            traj = integrate(flow.system, flow.y0, 10**5, dps=dps, stop=stop, backend=backend)
            w = out(*traj.final[:D])
            d = max(abs(a_ - mpmath.mpmathify(sp.N(b_, dps + 5))) for a_, b_ in zip(w, w_star))
        dists.append(float(d))
        limits.append([mpmath.nstr(v, 10) for v in w])
    decreasing = all(b < a for a, b in zip(dists, dists[1:]))
    passed = decreasing and dists[-1] <= shrink * dists[0]
    rate = _observed_rate(claim, scales, dists)
    status = "confirmed" if passed else "refuted"
    return Verdict(model=p.name, claim=f"alpha -> {claim.point}: limit approaches min-{kind} interpolant",
                   kind="regime", passed=passed, residual=dists[-1], tolerance=shrink * dists[0], dps=dps,
                   error_estimate=mpmath.mpf(10) ** (-(dps // 2)) * 10, symbolic=symbolic,
                   seconds=time.perf_counter() - t0,
                   details={"status": status, "scales": [str(s) for s in scales], "distances": dists,
                            "observed_rate": rate, "reference": kind, "limits": limits})


def _depth_like(p: Parameterization) -> bool:
    c = p.coordinate
    if c is None:
        return False
    return c.output.is_polynomial(*c.params) and sp.Poly(c.output, *c.params).total_degree() > 2


def _observed_rate(claim, scales, dists):
    """Products that the theory predicts to stay bounded: d*log(1/alpha) (alpha->0), d*alpha^2 (alpha->oo)."""
    if claim.point == 0:
        return {"d*log(1/alpha)": [d * math.log(1 / float(a)) for a, d in zip(scales, dists)]}
    return {"d*alpha^2": [d * float(a) ** 2 for a, d in zip(scales, dists)]}
