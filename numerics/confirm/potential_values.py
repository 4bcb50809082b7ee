r"""The values of a stated potential, numerically: :math:`R` against its own gradient.

The mirror identity along the flow (:func:`numerics.checks.check_mirror`) sees only
:math:`\nabla R` (or :math:`\nabla Q`). When a claim also states :math:`R` (or :math:`Q`), its values
are checked at the flow's points by quadrature along the segment from the normalisation point:

.. math:: R(w(t)) = \int_0^1 \nabla R\bigl(w_0 + s(w(t) - w_0)\bigr)\cdot(w(t) - w_0)\,ds,
          \qquad Q(\mu(t)) = \int_0^1 \nabla Q(s\mu(t))\cdot\mu(t)\,ds,

which holds exactly when :math:`R` and :math:`\nabla R` agree and :math:`R(w_0) = 0` (likewise
:math:`Q(0) = 0`). Per-coordinate potentials are checked coordinate by coordinate.

Residual: the largest defect relative to :math:`\max(1, |R|)`; error estimate: the quadrature's
own error bound (Gauss–Legendre with a two-degree estimate, tanh–sinh where that does not
converge: :mod:`numerics.gauss`) plus the change of the defect between the two precisions of the run.
"""
from __future__ import annotations

import time

import mpmath

from theory.claims import MirrorPotential
from theory.mirror import filled

from .. import gauss
from ..checks import HEADROOM_IDENTITY, RunPair, _subs_constants, _verdict, compile_exprs
from ..errors import IbcheckError

#: grid points of the flow at which the values are compared
POINTS = 6


def _pieces(flow, pot: MirrorPotential, dual: bool):
    """[(value f(z), gradient g(z) -> list, index of the state entries z)] per coordinate, or one
    entry for a vector potential; z is w (primal) or mu (dual)."""
    n = flow.model.n_outputs
    vars_ = pot.dual_variables if dual else pot.variables
    value = pot.dual if dual else pot.potential
    grad = pot.dual_gradient if dual else pot.gradient
    if pot.coordinate:
        out = []
        for i in range(n):
            f = compile_exprs([_subs_constants(value, flow, i)], vars_)
            g = compile_exprs([_subs_constants(e, flow, i) for e in grad], vars_)
            out.append((f, g, (i,)))
        return out
    if len(vars_) != n:
        raise IbcheckError(f"the potential has {len(vars_)} variables but the model has {n} outputs")
    f = compile_exprs([_subs_constants(value, flow, None)], vars_)
    g = compile_exprs([_subs_constants(e, flow, None) for e in grad], vars_)
    return [(f, g, tuple(range(n)))]


def check_potential_values(runs: RunPair, pot: MirrorPotential, *, symbolic: str = ""):
    r"""Verdict on the stated values :math:`R` (and/or :math:`Q`) of ``pot`` (see module doc);
    ``None`` when the claim states neither."""
    if pot.potential is None and pot.dual is None:
        return None
    t0 = time.perf_counter()
    pot = filled(pot)
    flow = runs.flow
    D, n = len(flow.params), flow.model.n_outputs
    out = compile_exprs(flow.outputs, flow.params)
    parts = []
    if pot.potential is not None:
        parts.append((False, _pieces(flow, pot, False)))
    if pot.dual is not None:
        parts.append((True, _pieces(flow, pot, True)))

    def defects(y, w0):
        z_w = out(*y[:D])
        z_mu = y[D:D + n]
        res, quad_err = [], mpmath.mpf(0)
        for dual, pieces in parts:
            if dual and not flow.duals:
                raise IbcheckError("checking a dual potential's values needs a flow with duals")
            z, z0 = (z_mu, [0] * n) if dual else (z_w, w0)
            for f, g, idx in pieces:
                a = [z0[i] for i in idx]
                d = [z[i] - z0[i] for i in idx]
                integral, err = gauss.integrate(
                    lambda s: mpmath.fsum(gk * dk for gk, dk in zip(g(*[ak + s * dk for ak, dk in zip(a, d)]), d)),
                    0, 1)
                val = f(*[z[i] for i in idx])[0]
                res.append(abs(val - integral) / max(mpmath.mpf(1), abs(val)))
                quad_err = max(quad_err, err / max(mpmath.mpf(1), abs(val)))
        return res, quad_err

    lo, hi = [], []
    for t in runs.grid(POINTS):
        with mpmath.workdps(runs.dps):
            lo.append(defects(runs.lo.at(t), out(*runs.lo.at(0)[:D])))
        with mpmath.workdps(runs.dps + runs.extra):
            hi.append(defects(runs.hi.at(t), out(*runs.hi.at(0)[:D])))
    with mpmath.workdps(runs.dps + runs.extra):
        r = max(max(dl) for dl, _ in lo)
        e = max(max(abs(a - b) for a, b in zip(dl, dh)) + el + eh for (dl, el), (dh, eh) in zip(lo, hi))
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
    what = " and ".join(w for w, given in (("R = int grad R", pot.potential is not None),
                                           ("Q = int grad Q", pot.dual is not None)) if given)
    return _verdict(flow, f"potential values {what}", "potential", r, e, tau, runs.dps, t0, symbolic,
                    t_end=float(runs.t_end))
