r"""Identities that hold on the leaf through :math:`x_0` only, next to laws that hold for every start.

A law :math:`h(x)` is conserved from every start. Papers often write it with one of its
ingredients frozen at its initial value: for weight normalization :math:`\|s\|^2` is a law, and
the law :math:`\log(s_{+,i}s_{-,i}) + \eta_s r^2/(\eta_r\|s\|^2)` becomes, with
:math:`\|s\|^2 = \|s(0)\|^2`, the paper's :math:`\log(z_{+,i}z_{-,i}) + \rho r^2`,
:math:`\rho = \eta_s/(\eta_r\|s(0)\|^2)` (up to a constant). That form is *not* a law (from a
start with another :math:`\|s(0)\|` it drifts), but it is conserved along the flow from
:math:`x_0`, because the flow never leaves the leaf :math:`\{q(x) = q(x_0)\}` of the law
:math:`q`. A :class:`LeafIdentity` records which law was frozen; its proof is the proof of the
law form plus the substitution (exact on the leaf by construction), and the same check on the
leaf form as a law for every start is reported (refuted, with a witness point).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..claims import ConservedQuantity, Proof


@dataclass(frozen=True)
class LeafIdentity(ConservedQuantity):
    r""":math:`h_{\text{leaf}}(x) = h(x)|_{q = q(x_0)}`, conserved along the flow from :math:`x_0`.

    ``expr`` is the leaf form (what is checked along the flow); ``law`` the law form :math:`h`
    (conserved from every start); ``frozen`` the pairs :math:`(q, q(x_0))` substituted;
    ``scope`` is ``"leaf"`` (a :class:`~theory.claims.ConservedQuantity` is ``"law"``);
    ``as_law`` the proof status of ``expr`` as a law for every start (normally refuted).
    """

    law: sp.Expr = None
    frozen: tuple = ()
    scope: str = "leaf"
    as_law: str = ""


def leaf_identities(p, laws) -> tuple:
    r"""``((LeafIdentity, Proof), ...)``: every proved law :math:`h` that contains another found
    law :math:`q` as a subexpression, with :math:`q` frozen at :math:`q(x_0)`.

    The proof is that of :math:`h` (``J_G M \nabla h = 0``) together with
    :math:`h_{\text{leaf}} - h = 0` on :math:`\{q = q(x_0)\}` (an exact substitution)."""
    out = []
    proved = [(h, pr) for h, pr in laws if pr.proved and not h.coordinate]
    at0 = dict(zip(p.params, p.init))
    for h, pr in proved:
        for q, _ in proved:
            if q is h or not q.expr.free_symbols & set(p.params):
                continue
            if q.expr.is_Add and h.expr.has(q.expr):
                q0 = sp.simplify(q.expr.xreplace(at0))
                leaf = h.expr.xreplace({q.expr: q0})
                if leaf == h.expr:
                    continue
                as_law = _as_law(p, leaf)
                claim = LeafIdentity(leaf, origin="derived", method=f"leaf identity: {q.expr} = {q0}",
                                     law=h.expr, frozen=((q.expr, q0),), as_law=as_law)
                proof = Proof("proved", f"{LEAF_IDENTITY},\\ q = {sp.latex(q.expr)}",
                              method=f"law {h.expr} proved ({pr.method}); exact on the leaf "
                                     f"q = {q0}; as a law for every start: {as_law}")
                out.append((claim, proof))
    return tuple(out)


def _as_law(p, leaf) -> str:
    r"""``"refuted"`` when :math:`J_G M\nabla h_{\text{leaf}}` is clearly nonzero at an exact point
    (the evaluation :func:`theory.proving.zero.check_identity` refutes with; the full simplification of
    an expression that is not zero is skipped), else ``"not refuted at a point"``."""
    import random

    from ..proving.zero import evaluate, is_clearly_nonzero, sample_point

    J = p.jacobian()
    grad = sp.Matrix([sp.diff(leaf, x) for x in p.params])
    comps = list(J * p.metric_matrix() * grad)
    rng = random.Random(0)
    for _ in range(3):
        pt = sample_point(list(p.params) + list(p.constants), rng)
        if any(is_clearly_nonzero(evaluate(c, pt)) for c in comps):
            return "refuted"
    return "not refuted at a point"


#: the statement a leaf identity's proof establishes
LEAF_IDENTITY = r"h|_{q = q(x_0)} = h \text{ on } \{q = q(x_0)\},\ J_G M \nabla h = 0"


def quick_no_mirror(p):
    r"""A nonzero bracket :math:`[V_i, V_j]` at one exact point, before the symbolic bracket test.

    For a model that is not separable, every bracket of :math:`V_i = M\nabla G_i` is evaluated
    (unsimplified, exactly or at 50 digits by :func:`theory.proving.zero.evaluate`, the evaluation
    :func:`theory.proving.zero.check_identity` refutes with) at one random exact point; a value that is
    clearly nonzero refutes commutation there (Li et al. 2022, Thm 4.10: no mirror potential), and
    the symbolic simplification of large rational brackets, which cannot reach 0 anyway, is
    skipped. ``None`` when every bracket vanishes at the point (the full test then decides).
    """
    import random

    from ..claims import NoMirror
    from ..mirror import bracket, domain_constraints
    from ..proving.zero import evaluate, is_clearly_nonzero, sample_point

    if p.is_separable or p.n_outputs < 2:
        return None
    params = tuple(p.params)
    J = p.jacobian()
    M = p.metric_matrix()
    fields = [M * J[i, :].T for i in range(p.n_outputs)]
    try:
        pt = sample_point(list(params) + list(p.constants), random.Random(0), domain_constraints(p))
    except ValueError:
        return None
    for i in range(len(fields)):
        for j in range(i + 1, len(fields)):
            B = bracket(fields[i], fields[j], params)
            for k, comp in enumerate(B):
                val = evaluate(comp, pt)
                if is_clearly_nonzero(val):
                    return NoMirror(
                        f"{p.name}: the fields M grad G_{i + 1} and M grad G_{j + 1} do not commute: "
                        f"component {k + 1} ({params[k]}) of [V_{i + 1}, V_{j + 1}] is {sp.N(val, 6)} "
                        f"at {pt} (Li et al. 2022, Thm 4.10: no mirror potential for every loss)",
                        pair=(i, j), bracket=tuple(B), point=pt)
    return None
