r"""The values of a stated potential, numerically: :math:`R` against its own gradient.

The mirror identity along the flow (:func:`numerics.checks.check_mirror`) sees only
:math:`\nabla R` (or :math:`\nabla Q`). When a claim also states :math:`R` (or :math:`Q`), its values
are checked at the flow's points by quadrature along the segment from the normalisation point:

.. math:: R(w(t)) = \int_0^1 \nabla R\bigl(w_0 + s(w(t) - w_0)\bigr)\cdot(w(t) - w_0)\,ds,
          \qquad Q(\mu(t)) = \int_0^1 \nabla Q(s\mu(t))\cdot\mu(t)\,ds,

which holds exactly when :math:`R` and :math:`\nabla R` agree and :math:`R(w_0) = 0` (likewise
:math:`Q(0) = 0`). Per-coordinate potentials are checked coordinate by coordinate. For one
coordinate the segments of the grid points lie on one line, so they are integrated as the gaps
between the sorted end points and summed (the same integrals; the short gaps converge with few
nodes: Gauss–Legendre evaluations in a ``check --all`` 67 272 -> 21 582).

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


def _along_segment(g, a, b):
    r""":math:`\int_0^1 \nabla R(a + s(b - a))\cdot(b - a)\,ds` and its quadrature error."""
    d = [bk - ak for ak, bk in zip(a, b)]
    return gauss.integrate(
        lambda s: mpmath.fsum(gk * dk for gk, dk in zip(g(*[ak + s * dk for ak, dk in zip(a, d)]), d)), 0, 1)


def _along_line(g, z0, zs):
    r""":math:`\int_{z_0}^{z_j} g` for every :math:`z_j` of ``zs`` (a scalar gradient) and each one's
    quadrature error: one integral per gap between the sorted end points, summed from
    :math:`z_0` (the grid points of one coordinate share the pieces of their paths, and short pieces
    converge with few nodes); the error of :math:`z_j`'s value is the sum of its pieces' errors."""
    pts = sorted(set([z0] + list(zs)))
    acc, accerr = [mpmath.mpf(0)], [mpmath.mpf(0)]
    for a, b in zip(pts, pts[1:]):
        v, e = gauss.integrate(lambda x: g(x)[0], a, b)
        acc.append(acc[-1] + v)
        accerr.append(accerr[-1] + e)
    at = {p: k for k, p in enumerate(pts)}
    k0 = at[z0]
    return [(acc[at[z]] - acc[k0], abs(accerr[at[z]] - accerr[k0])) for z in zs]


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

    def defects(ys, w0):
        """[(relative defects, quadrature error)] at the states ``ys`` (one per grid point)."""
        zs = [(out(*y[:D]), y[D:D + n]) for y in ys]
        res = [[] for _ in ys]
        err = [mpmath.mpf(0)] * len(ys)
        for dual, pieces in parts:
            if dual and not flow.duals:
                raise IbcheckError("checking a dual potential's values needs a flow with duals")
            z0 = [0] * n if dual else w0
            ends = [z_mu if dual else z_w for z_w, z_mu in zs]
            for f, g, idx in pieces:
                if len(idx) == 1:
                    ints = _along_line(g, z0[idx[0]], [z[idx[0]] for z in ends])
                else:
                    ints = [_along_segment(g, [z0[i] for i in idx], [z[i] for i in idx]) for z in ends]
                for j, (z, (integral, e)) in enumerate(zip(ends, ints)):
                    val = f(*[z[i] for i in idx])[0]
                    res[j].append(abs(val - integral) / max(mpmath.mpf(1), abs(val)))
                    err[j] = max(err[j], e / max(mpmath.mpf(1), abs(val)))
        return list(zip(res, err))

    ts = runs.grid(POINTS)
    with mpmath.workdps(runs.dps):
        lo = defects([runs.lo.at(t) for t in ts], out(*runs.lo.at(0)[:D]))
    with mpmath.workdps(runs.dps + runs.extra):
        hi = defects([runs.hi.at(t) for t in ts], out(*runs.hi.at(0)[:D]))
    with mpmath.workdps(runs.dps + runs.extra):
        r = max(max(dl) for dl, _ in lo)
        e = max(max(abs(a - b) for a, b in zip(dl, dh)) + el + eh for (dl, el), (dh, eh) in zip(lo, hi))
        tau = mpmath.mpf(10) ** (-(runs.dps - HEADROOM_IDENTITY))
    what = " and ".join(w for w, given in (("R = int grad R", pot.potential is not None),
                                           ("Q = int grad Q", pot.dual is not None)) if given)
    return _verdict(flow, f"potential values {what}", "potential", r, e, tau, runs.dps, t0, symbolic,
                    t_end=float(runs.t_end))
