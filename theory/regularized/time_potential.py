r"""Time-dependent mirror potentials :math:`R_a`, :math:`a_t = -A_t` (Jacobs, Zhou, Burkholz 2025, Thm 3.1).

When :math:`(G, h)` commutes under the metric (:mod:`.admissibility`), Li et al.'s construction on
the extended map gives, with :math:`\varphi_i^s` the flow of :math:`V_i = M\nabla G_i` and
:math:`\varphi_h^s` that of :math:`V_h = M\nabla h`,

.. math:: \tilde\psi(x_0;\mu,a) = \varphi_h^{a}\circ\varphi_1^{\mu_1}\circ\cdots\circ\varphi_n^{\mu_n}(x_0),
          \qquad \nabla Q_a(\mu) = G(\tilde\psi(x_0;\mu,a)),\qquad \nabla R_a = (\nabla Q_a)^{-1},

and :math:`x(t) = \tilde\psi(x_0;\mu_t, a_t)` with :math:`\mu_t = -\int_0^t\nabla L`,
:math:`a_t = -\int_0^t\lambda` (differentiate: :math:`\dot x = \sum\dot\mu_i V_i + \dot a V_h`, the
flow). So :math:`\nabla R_{a_t}(w(t)) = \mu(t)`: the potential's parameter is read from the schedule.
Normalisation as in :mod:`theory.mirror`: :math:`\nabla Q_0(0) = w_0`; for every :math:`a`,
:math:`\nabla Q_a(0) = G(\varphi_h^a(x_0)) = \arg\min R_a` (the positional bias).

Proofs (verdicts by :func:`theory.proving.zero.check_identity`): the flow
(:math:`\partial_{\mu_i}\tilde\psi = V_i`, :math:`\partial_a\tilde\psi = V_h`, :math:`\tilde\psi(y;0,0) = y`);
a dual claim :math:`\nabla Q_a(\mu) - G(\tilde\psi(x_0;\mu,a)) \equiv 0`; a primal claim
:math:`\nabla R_a(\nabla Q_a(0)) \equiv 0` for every :math:`a` and
:math:`H := \nabla^2R_a(\nabla Q_a(\mu))\,\partial_\mu\nabla Q_a(\mu) \equiv I` (one output: or
:math:`H^2 \equiv 1` and :math:`H(0, a) \equiv 1`, continuity in :math:`\mu` as in :mod:`theory.mirror`).
"""
from __future__ import annotations

import sympy as sp

from ..claims import NoMirror, Proof
from ..errors import IbcheckError, LeafNotSolvable
from ..mirror import (MU, W, LeafFlow, _combine, _exp_to_T, _integrate0, _invert_scalar,
                      _tidy, domain_constraints, flow, reparametrize)
from ..parameterization import Parameterization
from ..proving.zero import check_identity, factor_radicands
from .admissibility import admissibility, extended_template
from .records import TimePotential, a

_S = sp.Symbol("S_a", positive=True)   # e^a, so exponentials of a become powers


def extended_leaf(p: Parameterization):
    r"""``(LeafFlow, psi_generic)``: :math:`\tilde\psi(y;\mu,a)` from a generic start ``y`` (module doc)."""
    tpl = extended_template(p)
    params = tpl.params
    n = len(tpl.outputs)
    mus = (MU,) if n == 1 else tuple(sp.Symbol(f"mu_{i + 1}", real=True) for i in range(n))
    ys = tuple(sp.Symbol(f"y_{x.name}", **{k: v for k, v in x.assumptions0.items()
                                           if k in ("positive", "real", "negative")}) for x in params)
    point = ys
    fields = [*tpl.fields()]
    order = list(zip(fields, mus))[::-1]
    for V, s in order:
        gen = flow(list(V), params, params, s)
        point = tuple(sp.sympify(c).xreplace(dict(zip(params, point))) for c in gen)
    gen = flow(list(tpl.regularizer_field()), params, params, a)
    point = tuple(sp.sympify(c).xreplace(dict(zip(params, point))) for c in gen)
    lf = LeafFlow(params, tuple(tpl.outputs), tuple(tpl.init), tpl.metric, mus, point, ys)
    return lf, tpl


def _dual_gradient(lf: LeafFlow) -> tuple:
    return tuple(_tidy(sp.powsimp(g, combine="exp"), lf.mus + (a,)) for g in lf.dual_gradient())


def derive_time_potential(p: Parameterization):
    r"""``(TimePotential, Proof)`` for an admissible model, else a :class:`NoMirror` with the
    witness bracket. Separable: per coordinate, primal where the dual gradient inverts in
    elementary terms (exponentials of :math:`\mu` and :math:`a`), dual only otherwise."""
    adm = admissibility(p)
    if not adm.admissible:
        return NoMirror(adm.reason, pair=adm.pair, bracket=adm.bracket, point=adm.point)
    try:
        lf, tpl = extended_leaf(p)
    except LeafNotSolvable as e:
        return NoMirror(f"time-dependent potential not derived: {e}")
    gq = _dual_gradient(lf)
    coordinate = tpl.coordinate and len(gq) == 1
    grad = R = Q = None
    if len(gq) == 1:
        g = gq[0]
        Q = _integrate0(g, MU, 0)
        w0a = sp.simplify(g.xreplace({MU: 0}))
        gS = sp.expand(sp.powsimp(g.xreplace({a: sp.log(_S)}), combine="exp"), power_exp=True)
        gS = sp.powsimp(gS, force=True)
        inv = _invert_scalar(gS, w0a.xreplace({a: sp.log(_S)}), domain_constraints(p))
        if inv is not None:
            back = {_S: sp.exp(a)}
            grad = sp.simplify(inv[0].xreplace(back))
            R = None if inv[1] is None else sp.simplify(inv[1].xreplace(back))
    elif len(gq) > 1:   # several outputs: solve w = grad Q_a(mu) for mu where SymPy can
        ws = p.output_symbols()
        try:
            sols = sp.solve([sp.Eq(wi, gi) for wi, gi in zip(ws, gq)], lf.mus, dict=True)
        except (NotImplementedError, ValueError):
            sols = []
        if len(sols) == 1:
            grad = tuple(sp.expand_log(sp.simplify(sols[0][m]), force=False) for m in lf.mus)
    pot = TimePotential(variables=(W,) if len(gq) == 1 else p.output_symbols(), potential=R,
                        gradient=None if grad is None else (grad if isinstance(grad, tuple) else (grad,)),
                        dual_variables=lf.mus, dual=Q,
                        dual_gradient=gq, origin="derived", coordinate=coordinate,
                        method="Li et al. construction on (G, h) (Jacobs et al. 2025, Thm 3.1)" +
                        ("" if grad is not None else "; dual only"))
    return pot, prove_time_potential(p, pot)


def _T(e, mus):
    """exp(a) -> S, then exponentials of the one dual variable -> powers of T (rational identities)."""
    e = sp.sympify(e).xreplace({a: sp.log(_S)})
    e = sp.powsimp(sp.expand(e.rewrite(sp.exp), power_exp=True), force=True)
    return _exp_to_T(e, mus)


def _drop_abs(e):
    """``Abs(q) -> q`` for a polynomial q in one symbol with no real root and q > 0 somewhere
    (then q > 0 everywhere); e.g. ``Abs(2 alpha^2 - 2 alpha + 1)``. Sound for every real value."""
    def positive(q):
        syms = q.free_symbols
        if len(syms) != 1 or not q.is_polynomial(*syms):
            return False
        P = sp.Poly(q, *syms)
        return P.degree() > 0 and P.count_roots() == 0 and P.eval(0) > 0
    return sp.sympify(e).replace(lambda x: isinstance(x, sp.Abs) and positive(x.args[0]), lambda x: x.args[0])


def _witness_in_a(pr: Proof) -> Proof:
    """Report a witness in the potential's parameter a = log S (the proofs run in S = e^a)."""
    if not pr.witness or _S not in pr.witness:
        return pr
    from dataclasses import replace
    wit = {(a if k == _S else k): (sp.log(v) if k == _S else v) for k, v in pr.witness.items()}
    return replace(pr, witness=wit)


def prove_time_potential(p: Parameterization, claim: TimePotential) -> Proof:
    """The checks of the module doc, for derived and stated claims alike."""
    if not (claim.has_primal or claim.has_dual):
        raise IbcheckError("prove_time_potential: the claim has neither a gradient nor a dual gradient")
    adm = admissibility(p)
    if not adm.admissible:
        return Proof("refuted", "(G, h) commutes under the metric", adm.bracket, adm.point,
                     None, "nonzero bracket at an exact point: " + adm.reason)
    lf, tpl = extended_leaf(p)
    sub, cons = reparametrize(domain_constraints(p))
    par = {claim.parameter: a} if claim.parameter != a else {}

    def chk(comps, identity):
        return check_identity([_drop_abs(factor_radicands(sp.sympify(c).xreplace(sub), square_roots_only=True))
                               for c in comps], identity, constraints=cons)

    proofs = []
    # the flow of the extended map
    comps = []
    psub = dict(zip(lf.params, lf.psi_generic))
    for V, s in list(zip(lf.fields, lf.mus)) + [(tpl.regularizer_field(), a)]:
        comps += [_T(sp.diff(pc, s) - V[k].xreplace(psub), lf.mus) for k, pc in enumerate(lf.psi_generic)]
    zero = {m: 0 for m in lf.mus} | {a: 0}
    comps += [pc.xreplace(zero) - y for pc, y in zip(lf.psi_generic, lf.starts)]
    proofs.append(chk(comps, r"\partial_{\mu_i}\tilde\psi = V_i,\ \partial_a\tilde\psi = V_h,\ \tilde\psi(y;0,0)=y"))
    gq = lf.dual_gradient()
    n = len(gq)
    if claim.has_dual:
        dg = tuple(sp.sympify(c).xreplace(par) for c in claim.dual_gradient)
        if len(dg) != n:
            raise IbcheckError(f"the dual gradient has {len(dg)} components, the model (template) {n} outputs")
        dv = tuple(claim.dual_variables) or lf.mus
        proofs.append(chk([_T(c.xreplace(dict(zip(dv, lf.mus))) - g, lf.mus) for c, g in zip(dg, gq)],
                          r"\nabla Q_a(\mu) = G(\tilde\psi(x_0;\mu,a))"))
    if claim.has_primal:
        grad = tuple(sp.sympify(c).xreplace(par) for c in claim.gradient)
        ws = tuple(claim.variables)
        if len(grad) != n or len(ws) != n:
            raise IbcheckError(f"the gradient has {len(grad)} components, the model (template) {n} outputs")
        wbar = [g.xreplace({m: 0 for m in lf.mus}) for g in gq]
        proofs.append(chk([_T(gc.xreplace(dict(zip(ws, wbar))), lf.mus) for gc in grad],
                          r"\nabla R_a(\nabla Q_a(0)) = 0\ \forall a"))
        H = sp.Matrix(grad).jacobian(sp.Matrix(ws)).xreplace(dict(zip(ws, gq))) * \
            sp.Matrix(gq).jacobian(sp.Matrix(lf.mus))
        if n == 1:
            h = _T(H[0, 0], lf.mus)
            direct = chk([h - 1], r"\nabla^2R_a(\nabla Q_a)\,\nabla^2Q_a = 1")
            if direct.proved or direct.refuted:
                proofs.append(direct)
            else:
                h0 = factor_radicands(sp.simplify(factor_radicands(
                    H[0, 0].xreplace({m: 0 for m in lf.mus}).xreplace(sub), square_roots_only=True)),
                    square_roots_only=True)
                proofs += [chk([sp.expand(h**2) - 1], r"(\nabla^2R_a\,\nabla^2Q_a)^2 = 1"),
                           chk([_T(h0, lf.mus) - 1], r"\nabla^2R_a(\bar w_a)\,\nabla^2Q_a(0) = 1")]
        else:
            proofs.append(chk([_T(c, lf.mus) for c in (H - sp.eye(n))],
                              r"\nabla^2R_a(\nabla Q_a)\,\nabla^2Q_a = I"))
    what = "dual and primal" if claim.has_dual and claim.has_primal else "dual" if claim.has_dual else "primal"
    proofs = [_witness_in_a(pr) for pr in proofs]
    return _combine(proofs, f"time-dependent mirror potential ({what}) of {p.name}, a = -A_t")
