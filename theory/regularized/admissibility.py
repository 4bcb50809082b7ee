r"""Admissibility of an explicit regularizer: does the extended map :math:`(G, h)` commute?

Jacobs, Zhou, Burkholz (ICML 2025), Thm 3.1: gradient flow with :math:`\lambda(t)\,h` is a
time-dependent mirror flow for every loss and schedule when Li et al.'s construction applies to
:math:`\tilde G = (G_1, \dots, G_n, h)`, i.e. when every bracket

.. math:: [M\nabla G_i, M\nabla G_j] = 0, \qquad [M\nabla G_i, M\nabla h] = 0

vanishes (:math:`[X, Y] = DY\,X - DX\,Y`). A nonzero bracket is reported with an exact witness
point. Separable models (Cor. 3.1 of the same paper): for :math:`w = \sum_j g_j(x_j)`,
:math:`h = \sum_j h_j(x_j)` (identity metric) the bracket's :math:`j`-th component is
:math:`g_j' h_j'' - g_j'' h_j'`, zero iff :math:`h_j = c_j g_j + \text{const}`; the *matched*
regularizer takes :math:`c_j = \pm 1` so that :math:`h \ge 0` grows like :math:`|g_j|`, e.g.
:math:`u^{2k} + v^{2k}` for :math:`u^{2k} - v^{2k}` (ordinary weight decay :math:`u^2 + v^2` is
admissible only for :math:`k = 1`).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import IbcheckError, UndecidedError
from ..mirror import _separable_metric_ok, bracket, domain_constraints
from ..parameterization import Parameterization
from ..proving.zero import check_identity
from .records import Admissibility


@dataclass(frozen=True)
class ExtendedTemplate:
    """params, outputs G, init, metric M and regularizer h of the (template of the) model."""

    params: tuple
    outputs: tuple
    init: tuple
    metric: sp.Matrix
    regularizer: sp.Expr
    coordinate: bool

    def fields(self) -> list:
        J = sp.Matrix(self.outputs).jacobian(sp.Matrix(self.params))
        return [self.metric * J[i, :].T for i in range(len(self.outputs))]

    def regularizer_field(self) -> sp.Matrix:
        return self.metric * sp.Matrix([self.regularizer]).jacobian(sp.Matrix(self.params)).T


def extended_template(p: Parameterization) -> ExtendedTemplate:
    r"""The one-coordinate template (separable model, template rates and template regularizer)
    or the whole model; refuses a model without a regularizer."""
    if p.regularizer is None:
        raise IbcheckError(f"{p.name}: no regularizer h: nothing to decide (use theory.derive)")
    c = p.coordinate
    if c is not None and c.regularizer is not None and _separable_metric_ok(p):
        M = sp.diag(*c.rates) if c.rates is not None else sp.eye(len(c.params))
        return ExtendedTemplate(tuple(c.params), (c.output,), tuple(c.init), M, c.regularizer, True)
    return ExtendedTemplate(tuple(p.params), tuple(p.outputs), tuple(p.init), p.metric_matrix(),
                            p.regularizer, False)


def matched_regularizer(output: sp.Expr, params) -> sp.Expr | None:
    r"""The admissible separable regularizer of a per-parameter additive output
    :math:`g = \sum_j g_j(x_j)`: :math:`\sum_j \sigma_j (g_j - g_j(0))` with :math:`\sigma_j = \pm1`
    making each term's leading coefficient positive (Cor. 3.1, :math:`h_j = c_j g_j`).
    ``None`` when the output is not additive in single parameters."""
    terms = sp.Add.make_args(sp.expand(output))
    parts = {x: sp.Integer(0) for x in params}
    for t in terms:
        syms = t.free_symbols & set(params)
        if len(syms) != 1:
            if not syms:
                continue
            return None
        parts[syms.pop()] += t
    h = sp.Integer(0)
    for x, g in parts.items():
        if g == 0:
            continue
        lead = sp.Poly(g, x).LC() if g.is_polynomial(x) else sp.sympify(g).as_coeff_Mul()[0]
        h += g if lead.is_positive else -g
    return h if h != 0 else None


def admissibility(p: Parameterization) -> Admissibility:
    r"""Decide whether :math:`(G, h)` commutes under the metric (see module doc); brackets with
    :math:`M\nabla h` first (they decide whether the regularizer fits the map), then among the
    :math:`M\nabla G_i`. Raises :class:`UndecidedError` when a bracket is neither proved zero nor
    refuted."""
    tpl = extended_template(p)
    fields = tpl.fields()
    Vh = tpl.regularizer_field()
    cons = domain_constraints(p)
    matched = matched_regularizer(tpl.outputs[0], tpl.params) if len(tpl.outputs) == 1 else None

    def test(X, Y, names):
        comps = [sp.expand(b) for b in bracket(X, Y, tpl.params)]
        pr = check_identity(comps, f"[M grad {names[0]}, M grad {names[1]}] = 0", constraints=cons)
        if pr.refuted:
            return comps, pr.witness
        if not pr.proved:
            raise UndecidedError(f"{p.name}: could not decide whether [M grad {names[0]}, M grad "
                                 f"{names[1]}] = {tuple(comps)} vanishes")
        return None

    for i, V in enumerate(fields):
        bad = test(V, Vh, (f"G_{i + 1}", "h"))
        if bad is not None:
            comps, pt = bad
            hint = ""
            if matched is not None and sp.expand(matched - tpl.regularizer) != 0:
                hint = (f"; the admissible separable regularizer for this map is {matched} "
                        f"(Jacobs et al. 2025, Cor. 3.1: h_j = c_j g_j), not {tpl.regularizer}")
            return Admissibility(
                False, f"{p.name}: the regularizer h = {tpl.regularizer} is not admissible: "
                f"[M grad G_{i + 1}, M grad h] = {tuple(comps)} is nonzero at {pt}{hint}",
                pair=(f"G_{i + 1}", "h"), bracket=tuple(comps), point=pt, matched=matched,
                regularizer_commutes=False, coordinate=tpl.coordinate)
    for i in range(len(fields)):
        for j in range(i + 1, len(fields)):
            bad = test(fields[i], fields[j], (f"G_{i + 1}", f"G_{j + 1}"))
            if bad is not None:
                comps, pt = bad
                return Admissibility(
                    False, f"{p.name}: the fields M grad G_{i + 1} and M grad G_{j + 1} do not commute: "
                    f"[V_{i + 1}, V_{j + 1}] = {tuple(comps)} is nonzero at {pt} (Li et al. 2022, "
                    "Thm 4.10: no mirror potential, with or without decay); the regularizer's own "
                    "brackets vanish", pair=(f"G_{i + 1}", f"G_{j + 1}"), bracket=tuple(comps),
                    point=pt, matched=matched, regularizer_commutes=True, coordinate=tpl.coordinate)
    return Admissibility(True, f"{p.name}: (G, h) commutes under the metric: h = {tpl.regularizer} "
                         "is admissible (Jacobs et al. 2025, Thm 3.1)", matched=matched,
                         coordinate=tpl.coordinate)


def declared_admissible(p: Parameterization) -> "Proof":
    r"""Prove or refute the statement 'h is admissible for G' (every bracket with :math:`M\nabla h`
    vanishes): a :class:`~theory.claims.Proof` whose refutation carries the witness."""
    tpl = extended_template(p)
    Vh = tpl.regularizer_field()
    comps = []
    for V in tpl.fields():
        comps += [sp.expand(b) for b in bracket(V, Vh, tpl.params)]
    return check_identity(comps, f"[M grad G_i, M grad h] = 0 for h = {tpl.regularizer}",
                          constraints=domain_constraints(p))
