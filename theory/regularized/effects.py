r"""The three effects of decay on the implicit bias (Jacobs, Zhou, Burkholz 2025, Sec. 3), computed
from the time-dependent potential :math:`R_a`, :math:`a = -A`:

* **positional bias**: :math:`\bar w_a = \arg\min R_a = \nabla Q_a(0) = G(\varphi_h^{a}(x_0))`, a
  function of :math:`a` (for :math:`x = m\odot w`: :math:`e^{4a}x_0 = e^{-4A}m_0w_0`). Proof:
  :math:`\bar w_a - \nabla Q_a(0) \equiv 0` with :math:`\nabla Q_a` from the extended flow; numerics:
  the zero-loss flow moves exactly along :math:`\bar w_{a_t}`.
* **type of bias**: :math:`\lim_{A\to\infty} \varphi(A)\,(R_{-A}(w) - R_{-A}(0)) = \ell(w)` by the limit
  engine of :mod:`theory.limits` with the scale :math:`A` and the factors :math:`A^{-k/2}` (an
  :math:`\ell_1`-type term whose weight grows linearly in :math:`A`, e.g. :math:`R/A \to 2|w|` for
  :math:`m\odot w`). Dual-only potentials (:math:`u^{2k} - v^{2k}`) use the dual route: the domain
  end :math:`\mu_+(A)` normalises.
* **range**: the dual domain :math:`(\mu_-(a), \mu_+(a))` of :math:`Q_a` (poles of
  :math:`\nabla Q_a`), ``"widening"`` / ``"shrinking"`` by the sign of :math:`d(\mu_+ - \mu_-)/dA`,
  ``"unbounded"`` without poles. Proof: the denominator of :math:`\nabla Q_a` vanishes at both ends
  and :math:`d(\mu_+-\mu_-)/dA` equals the reported rate.
"""
from __future__ import annotations

import sympy as sp

from ..claims import MirrorPotential, Proof
from ..errors import IbcheckError
from ..mirror import MU, domain_constraints
from ..proving.zero import check_identity
from .records import Effect, a
from .time_potential import _T, extended_leaf

#: the cumulative decay as a positive scale for the limit engine
A_POS = sp.Symbol("A", positive=True)


def positional_bias(p, pot) -> sp.Expr:
    r""":math:`\bar w_a = \nabla Q_a(0)` (per coordinate), from the extended flow."""
    lf, _ = extended_leaf(p)
    return sp.simplify(lf.dual_gradient()[0].xreplace({m: 0 for m in lf.mus}))


def _as_mirror(pot, value):
    """The potential at a = value as a :class:`MirrorPotential` (input of the limit engine)."""
    q = pot.at(value)
    return MirrorPotential(variables=q.variables, potential=q.potential, gradient=q.gradient,
                           dual_variables=q.dual_variables, dual=q.dual, dual_gradient=q.dual_gradient,
                           origin="derived", coordinate=q.coordinate, method=q.method)


def type_of_bias(p, pot) -> tuple:
    r"""``((LimitingRegularizer, Proof), ...)`` of :math:`R_{-A}` as :math:`A \to \infty`."""
    from ..limits import derive_limits

    cands = [A_POS ** sp.Rational(-k, 2) for k in range(0, 5)]
    return derive_limits(p, _as_mirror(pot, -A_POS), scale=A_POS, points=((sp.oo, "A->oo"),),
                         candidates=cands)


def dual_range(p, pot):
    r"""``(lo(a), hi(a), rate)``: the poles of :math:`\nabla Q_a` nearest 0 and
    :math:`d(\mu_+ - \mu_-)/dA`; ``None`` when :math:`\nabla Q_a` has no real pole."""
    if not pot.has_dual or len(pot.dual_gradient) != 1:
        return None
    gq = sp.together(pot.dual_gradient[0])
    mu = pot.dual_variables[0] if pot.dual_variables else MU
    den = sp.denom(gq)
    if not den.has(mu):
        return None
    roots = sp.solve(den, mu)
    if not roots:
        return None
    at0 = lambda r: r.xreplace({a: 0}).subs({c: sp.Rational(1, 2) for c in p.constants})
    pos = [r for r in roots if at0(r).is_positive]
    neg = [r for r in roots if at0(r).is_negative]
    if not pos or not neg:
        return None
    hi, lo = min(pos, key=at0), max(neg, key=at0)
    rate = sp.simplify(-sp.diff(hi - lo, a))     # d/dA = -d/da
    return sp.simplify(lo), sp.simplify(hi), rate


def derive_effects(p, pot) -> tuple:
    """``((Effect, Proof), ...)``: position, type (each limit found), range; per-coordinate
    potentials only (a potential in several outputs gets none: said in the derivation's notes)."""
    out = []
    if not pot.coordinate:
        return ()
    wbar = positional_bias(p, pot)
    e = Effect("position", wbar, origin="derived", coordinate=pot.coordinate,
               note=f"argmin R_a = grad Q_a(0) = {wbar}, a = -A")
    out.append((e, prove_effect(p, e)))
    for lim, pr in type_of_bias(p, pot):
        e = Effect("type", (lim.factor, lim.leading), verdict="l1" if lim.leading.has(sp.Abs) else "",
                   origin="derived", coordinate=pot.coordinate,
                   note=f"lim_(A->oo) {lim.factor} (R_(-A)(w) - R_(-A)(0)) = {lim.leading}")
        out.append((e, pr))
    rng = dual_range(p, pot)
    if rng is None:
        e = Effect("range", (-sp.oo, sp.oo), verdict="unbounded", origin="derived", coordinate=pot.coordinate,
                   note="grad Q_a has no real pole: the dual domain is R for every a")
        out.append((e, Proof("proved", "grad Q_a has no real pole in mu", method="denominator free of mu "
                                                                                   "or without real roots")))
    else:
        lo, hi, rate = rng
        verdict = "widening" if rate.is_positive else "shrinking" if rate.is_negative else "undecided"
        e = Effect("range", (lo, hi), verdict=verdict, origin="derived", coordinate=pot.coordinate,
                   note=f"dual domain ({lo}, {hi}); d(width)/dA = {rate}")
        out.append((e, prove_effect(p, e, pot=pot)))
    return tuple(out)


def prove_effect(p, claim: Effect, pot=None) -> Proof:
    """Position: :math:`\\bar w_a - \\nabla Q_a(0) \\equiv 0`; range: the denominator of
    :math:`\\nabla Q_a` vanishes at both ends and the width's A-derivative has the stated sign."""
    cons = domain_constraints(p)
    if claim.kind == "position":
        lf, _ = extended_leaf(p)
        ref = lf.dual_gradient()[0].xreplace({m: 0 for m in lf.mus})
        return check_identity([_T(sp.sympify(claim.value) - ref, lf.mus)],
                              r"\bar w_a = \nabla Q_a(0) = G(\varphi_h^a(x_0))", constraints=cons)
    if claim.kind == "range":
        if pot is None:
            from .time_potential import derive_time_potential
            pot = derive_time_potential(p)[0]
        lo, hi = claim.value
        gq = sp.together(pot.dual_gradient[0])
        mu = pot.dual_variables[0] if pot.dual_variables else MU
        den = sp.denom(gq)
        rate = sp.simplify(-sp.diff(hi - lo, a))
        sign = {"widening": 1, "shrinking": -1}.get(claim.verdict)
        if sign is None:
            raise IbcheckError(f"range effect: verdict must be 'widening' or 'shrinking', got {claim.verdict!r}")
        comps = [den.xreplace({mu: lo}), den.xreplace({mu: hi})]
        pr = check_identity(comps, r"\mathrm{den}\,\nabla Q_a(\mu_\pm(a)) = 0", constraints=cons)
        if not pr.proved:
            return pr
        ok = (rate * sign).is_positive
        if ok:
            return Proof("proved", f"d(mu_+ - mu_-)/dA = {rate}: {claim.verdict}", method="sign of an exact rate")
        return Proof("refuted" if (rate * sign).is_nonpositive else "undecided",
                     f"d(mu_+ - mu_-)/dA = {rate} is not {'> 0' if sign > 0 else '< 0'}", remainder=rate,
                     witness={} if (rate * sign).is_nonpositive else None, method="sign of an exact rate")
    raise IbcheckError(f"effect {claim.kind!r}: only 'position' and 'range' are proved directly; "
                       "'type' is a limiting regularizer (theory.limits)")
