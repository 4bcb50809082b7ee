r"""The flow of a field restricted to the leaf through :math:`x_0` (issue 13, item 2).

When the flow :math:`\varphi^\mu` of a field :math:`V = M\nabla G` has no closed form in general
(its components couple the parameters), the trajectory *from the initialization* often has one:
it stays on a smaller set, and on that set the field is scalar. Two sources of such sets:

* **symmetry of** :math:`x_0`: parameters with equal initial values (and the same domain) whose
  field components agree once they are identified, :math:`V_j|_{x_j = x_k} \equiv V_k|_{x_j = x_k}`.
  Then :math:`\{x_j = x_k\}` is invariant under :math:`V` (the field is tangent to it) and, by
  uniqueness of solutions, the flow from :math:`x_0` stays on it (e.g. :math:`w = u v s` from
  :math:`u_0 = v_0 = s_0`: :math:`V = (vs, us, uv)` is :math:`(u^2, u^2, u^2)` on :math:`u = v = s`);
* **laws**: a law :math:`h` is constant along the flow, so :math:`h(x) = h(x_0)` can be solved for a
  dependent parameter, choosing the branch through :math:`x_0` (e.g. :math:`w = u^2 v`:
  :math:`u^2 - 2v^2 = u_0^2 - 2v_0^2` gives :math:`v(u)`).

Both are substitutions :math:`x_{\rm dep} = \sigma(x_{\rm free})`; the reduced field is
:math:`V_{\rm free}\circ\sigma`. The result is a *leaf* statement: it describes the flow from
:math:`x_0` only, not from every start (:class:`LeafReduction` records which identifications and
which laws it used). Its proof is the flow identity :math:`\partial_\mu\psi = V(\psi)`,
:math:`\psi(0) = x_0` at :math:`x_0` (:func:`theory.mirror.prove_potential`); no step here is
trusted without it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from ..errors import LeafNotSolvable
from ..proving.zero import check_identity, evaluate, sample_point


@dataclass(frozen=True)
class LeafReduction:
    r"""The leaf through :math:`x_0` as a substitution: ``substitution`` maps each dependent
    parameter to an expression in the ``free`` ones (and the constants); ``reasons`` says where
    each came from (``"v = u (x0 symmetric, V invariant)"``, ``"law ... solved for v"``)."""

    free: tuple
    substitution: tuple
    reasons: tuple

    @property
    def mapping(self) -> dict:
        return dict(self.substitution)

    def describe(self) -> str:
        eqs = ", ".join(f"{k} = {sp.sstr(v)}" for k, v in self.substitution)
        return f"on the leaf through x0 ({eqs})"


def _same_domain(a: sp.Symbol, b: sp.Symbol) -> bool:
    keys = ("positive", "negative", "real", "nonnegative")
    return all(a.assumptions0.get(k) == b.assumptions0.get(k) for k in keys)


def _compose(sub: dict, new: dict) -> dict:
    out = {k: sp.sympify(v).xreplace(new) for k, v in sub.items()}
    out.update(new)
    return out


def _invariant(cls, params, field, sub, constraints) -> bool:
    r""":math:`V_j = V_k` on :math:`x_j = x_k` for every :math:`j` in ``cls`` (``k`` its first)."""
    rep, ident = cls[0], {x: cls[0] for x in cls[1:]}
    full = _compose(sub, ident)
    comps = [sp.sympify(field[params.index(x)]).xreplace(full) - sp.sympify(field[params.index(rep)]).xreplace(full)
             for x in cls[1:]]
    return check_identity(comps, "V_j = V_k on x_j = x_k", constraints=constraints).proved


def _symmetric_groups(params, field, init, sub, constraints) -> list:
    r"""Classes of parameters with equal :math:`x_0` values (and domains) on which the field is
    invariant: greedily, a parameter joins the first class it keeps invariant (``u_1 = v_1 = s_1``
    and ``u_2 = v_2 = s_2`` for :math:`u_1v_1s_1 - u_2v_2s_2` from an all-equal start)."""
    free = [x for x in params if x not in sub]
    classes: list[list] = []
    for x in free:
        i = params.index(x)
        for cls in classes:
            k = params.index(cls[0])
            if _same_domain(x, cls[0]) and sp.simplify(init[i] - init[k]) == 0 \
                    and _invariant(cls + [x], params, field, sub, constraints):
                cls.append(x)
                break
        else:
            classes.append([x])
    return [{x: cls[0] for x in cls[1:]} for cls in classes if len(cls) > 1]


def _branch_through(expr, at0: dict, target, constraints) -> bool:
    """``expr`` (a candidate dependent value) equals ``target`` at :math:`x_0` at random admissible
    values of the constants (a real number, exactly or to 30 digits)."""
    rng = random.Random(7)
    e = sp.sympify(expr).xreplace(at0) - target
    syms = e.free_symbols
    for _ in range(3):
        pt = sample_point(syms, rng, constraints)
        val = evaluate(e, pt)
        if val is None or not val.is_real or abs(val) > sp.Float("1e-30"):
            return False
    return True


def _solve_law(h, free, params, init, sub, constraints):
    """One dependent parameter solved from :math:`h(x) = h(x_0)` through :math:`x_0`, or None."""
    at0 = dict(zip(params, init))
    hs = sp.sympify(h).xreplace(sub)
    h0 = sp.sympify(h).xreplace(at0)
    for x in reversed(free):  # later parameters become dependent first (keeps the first one free)
        if not hs.has(x) or len([y for y in free if hs.has(y)]) < 2:
            continue
        try:
            sols = sp.solve(sp.Eq(hs, h0), x)
        except (NotImplementedError, ValueError):
            continue
        for s in sols:
            if s.has(x) or s.has(sp.I):
                continue
            if _branch_through(s, at0, init[params.index(x)], constraints):
                return x, s
    return None


def reduce_on_leaf(params, field, init, laws=(), constraints=()) -> LeafReduction:
    r"""The leaf through :math:`x_0` of the field ``field`` (a column over ``params``): first the
    symmetries of ``init`` on which the field is invariant, then each law solved for one
    dependent parameter through :math:`x_0`. Raises :class:`LeafNotSolvable` when nothing reduces."""
    params = tuple(params)
    init = tuple(sp.sympify(v) for v in init)
    sub: dict = {}
    reasons = []
    for ident in _symmetric_groups(params, field, init, sub, constraints):
        sub = _compose(sub, ident)
        reasons += [f"{k} = {v} (equal at x0; the field is tangent to {k} = {v})" for k, v in ident.items()]
    for h in laws:
        free = [x for x in params if x not in sub]
        got = _solve_law(h, free, params, init, sub, constraints)
        if got is not None:
            x, s = got
            sub = _compose(sub, {x: s})
            reasons.append(f"{x} = {sp.sstr(s)} (law {sp.sstr(h)} at its value at x0)")
    if not sub:
        raise LeafNotSolvable("no reduction on the leaf through x0: no symmetric coordinates of x0 on "
                              "which the field is invariant, and no law solvable for a parameter")
    free = tuple(x for x in params if x not in sub)
    return LeafReduction(free, tuple(sub.items()), tuple(reasons))


def leaf_field(red: LeafReduction, params, field) -> tuple:
    """The field's components for the free parameters, with the dependent ones substituted."""
    params = tuple(params)
    m = red.mapping
    return tuple(sp.sympify(field[params.index(x)]).xreplace(m) for x in red.free)


def dual_jet_check(p, claim, init=None, order: int = 3):
    r"""The dual gradient of a one-output potential claim against the Taylor jet of the flow from
    ``init`` (default :math:`x_0`), with no closed form of the flow needed:
    :math:`\partial_\mu^k \nabla Q(0) = (\mathcal L_V^k G)(x_0)` for :math:`k = 0..` ``order``,
    :math:`\mathcal L_V f = \nabla f\cdot V` (the flow :math:`\partial_\mu\psi = V(\psi)` gives
    :math:`\partial_\mu^k G(\psi)|_0 = \mathcal L_V^k G`).

    A necessary condition only: a mismatch refutes the claim from that start (with the point and
    the order); agreement proves nothing beyond the jet and is reported as ``undecided``. Used as
    the control of a potential derived on the leaf: from a start off the leaf it is refuted.
    """
    from ..claims import Proof
    from ..mirror import _template

    params, outs, init0, M = _template(p)
    if len(outs) != 1 or claim.dual_gradient is None:
        return Proof("undecided", "dual jet", sp.nan, method="needs a one-output template and a dual gradient")
    init = tuple(init0 if init is None else init)
    G = sp.sympify(outs[0])
    V = M * sp.Matrix([G]).jacobian(sp.Matrix(params)).T
    mus = tuple(claim.dual_variables) or (sp.Symbol("mu", real=True),)
    gq = sp.sympify(claim.dual_gradient[0])
    at0 = dict(zip(params, init))
    comps, f, d = [], G, gq
    for k in range(order + 1):
        comps.append(d.xreplace({mus[0]: 0}) - f.xreplace(at0))
        f = sum(sp.diff(f, x) * V[i] for i, x in enumerate(params))
        d = sp.diff(d, mus[0])
    pr = check_identity(comps, r"\partial_\mu^k\nabla Q(0) = (\mathcal L_V^k G)(x_0),\ k \le " + str(order))
    if pr.refuted:
        return pr
    return Proof("undecided", pr.identity, sp.Integer(0),
                 method=f"the jet to order {order} agrees ({pr.status}); a jet proves nothing beyond itself")
