r"""Derive and verify the function-space claims of a :class:`~.claims.WideReluModel`.

:func:`derive_function_space`: normalisation (proved, else :class:`~.errors.InvalidLaw`),
:math:`\zeta_\pm` in closed form, and at the model's values the selected function
(:mod:`.spline`) and the kernel interpolant (:mod:`.kernel`), with proofs that the spline solves
the Euler–Lagrange problem and, where both are exact, that the two routes coincide piece by piece.
:func:`verify_curvature` proves or refutes a stated :math:`\zeta`; :func:`verify_realization`
Prop. 15.
"""
from __future__ import annotations

import sympy as sp

from ..claims import Proof
from ..proving.zero import check_identity
from .claims import CurvatureWeight, FunctionSpaceDerivation, PenaltyRealization, WideReluModel
from .init_laws import require_normalised
from .kernel import interpolate, least_squares_line
from .pieces import X, Pieces, less
from .spline import selected_function
from .zeta import zeta, zeta_parts


def derive_function_space(model: WideReluModel, *, dps: int = 40, data: bool = True) -> FunctionSpaceDerivation:
    norm = require_normalised(model.law)
    zp, zm = zeta_parts(model.law, check=False)
    z = (zp + zm).merged()
    notes = [f"zeta = {z.as_piecewise()}"]
    if not data or not model.xs:
        return FunctionSpaceDerivation(model, norm, z, zp, zm, notes=tuple(notes))
    vals = model.value_map()
    zpv, zmv = zp.subs(vals), zm.subs(vals)
    zv = (zpv + zmv).merged()
    sf = selected_function(model.xs, model.ys, zv, dps=dps)
    ki = interpolate(model.xs, model.ys, zpv, zmv, dps=dps)
    ols = least_squares_line(model.xs, model.ys)
    sp_proof = spline_proof(sf)
    agree = agreement_proof(sf, ki) if sf.exact and ki.exact else Proof(
        "undecided", "kernel interpolant = variational g* on S", None,
        method="coefficients are not exact rationals (zeta has transcendental moments): checked numerically")
    notes.append(f"theorem's linear term u x + v = {ki.u} x + {ki.v}; least-squares line {ols[0]} x + {ols[1]}")
    return FunctionSpaceDerivation(model, norm, z, zp, zm, sf, ki, ols, sp_proof, agree, tuple(notes))


def _on(pieces: Pieces, lo, hi):
    """(lo, hi, expr) sub-pieces of ``pieces`` inside [lo, hi]."""
    return [(a, b, e) for a, b, e in pieces.refine([lo, hi]).intervals() if not less(a, lo) and not less(hi, b)]


def verify_curvature(derived: Pieces, claim: CurvatureWeight) -> Proof:
    """Proved when every stated piece equals the derived zeta on its interval; refuted with an
    exact witness otherwise."""
    comps, cons = [], []
    for lo, hi, expr in claim.pieces:
        for a, b, e in _on(derived, sp.sympify(lo), sp.sympify(hi)):
            comps.append(e - sp.sympify(expr))
            cons.append((a, b))
    # one proof per sub-interval so a witness lands inside the interval it refutes
    for comp, (a, b) in zip(comps, cons):
        c = [X > a] if a != -sp.oo else []
        c += [X < b] if b != sp.oo else []
        pr = check_identity([comp], f"zeta = claim on ({a}, {b})", constraints=c, extra_symbols=[X])
        if pr.status != "proved":
            return Proof(pr.status, f"{claim.label}: zeta on ({a}, {b})", pr.remainder, pr.witness,
                         pr.witness_value, pr.method)
    return Proof("proved", claim.label, sp.Integer(0), method="piecewise symbolic simplification")


def verify_realization(claim: PenaltyRealization) -> Proof:
    r"""Prop. 15: :math:`\frac{d}{dx}(\zeta\,\varrho) = 0` on ``[lo, hi]`` for the kink law's derived zeta."""
    z = zeta(claim.law)
    comps = [sp.diff(e * claim.rho, X) for a, b, e in _on(z, claim.lo, claim.hi)]
    return check_identity(comps, f"{claim.label}: zeta * rho constant on [{claim.lo}, {claim.hi}]",
                          constraints=[X > claim.lo, X < claim.hi], extra_symbols=[X])


def spline_proof(sf) -> Proof:
    r"""Exact proof (rational data and zeta) that :math:`g^*` interpolates, is :math:`C^2`-glued
    with :math:`g''/\zeta` continuous, linear between knots ((g''/ζ)'' = 0) and zero at the ends."""
    if not sf.exact:
        return Proof("undecided", "g* solves the Euler-Lagrange problem", None,
                     method="coefficients are floating point: checked numerically")
    comps = []
    ivs = [(a, b, g) for a, b, g in sf.pieces.intervals() if not less(a, sf.xs[0]) and not less(sf.xs[-1], b)]
    for a, b, g in ivs:
        zk = sf.zeta.piece_at_interval(a, b)
        r = sp.cancel(sp.diff(g, X, 2) / zk)
        comps.append(sp.diff(r, X, 2))
    for (a, b, g), (_, _, g2) in zip(ivs, ivs[1:]):

        for k in (0, 1):
            comps.append((sp.diff(g, X, k) - sp.diff(g2, X, k)).subs(X, b))
    for a, b, g in ivs:
        for x, y in zip(sf.xs, sf.ys):
            if x == a:
                comps.append(g.subs(X, a) - y)
            if x == b:
                comps.append(g.subs(X, b) - y)
    # g''/zeta continuous at every inner break and zero at the ends
    ratios = [(a, b, sp.cancel(sp.diff(g, X, 2) / sf.zeta.piece_at_interval(a, b))) for a, b, g in ivs]
    for (a, b, r1), (_, _, r2) in zip(ratios, ratios[1:]):
        comps.append((r1 - r2).subs(X, b))
    comps += [ratios[0][2].subs(X, ratios[0][0]), ratios[-1][2].subs(X, ratios[-1][1])]
    return check_identity(comps, "g* interpolates, is C^1 with g''/zeta continuous, (g''/zeta)'' = 0, "
                                 "g''(x_1) = g''(x_M) = 0")


def agreement_proof(sf, ki) -> Proof:
    """Kernel interpolant minus g*, piece by piece on S, simplifies to 0 (exact cases)."""
    lo, hi = sf.xs[0], sf.xs[-1]
    pts = list(sf.pieces.breaks[1:-1]) + list(ki.pieces.breaks[1:-1])
    a = sf.pieces.refine(pts)
    b = ki.pieces.refine(pts)
    comps = [e1 - e2 for (l, h, e1), (_, _, e2) in zip(a.intervals(), b.intervals())
             if not less(l, lo) and not less(hi, h)]
    return check_identity(comps, "sum_j c_j Theta(x_j, x) + u x + v = g*(x) on S")
