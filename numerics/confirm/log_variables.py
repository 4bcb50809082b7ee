r"""Inconclusive law and leaf rows redone on the same flow in log coordinates.

A positive parameter that falls to :math:`10^{-90}` (weight normalization at :math:`\rho = 100`:
:math:`u_iv_i \approx \alpha_{\rm eff}^2`) is resolved by the integrator only to its absolute
error, so a law such as :math:`\log(a_1b_1) + \dots` loses every digit it had; the row is then
*inconclusive* (residual and error estimate both above the tolerance). The same trajectory in
:math:`\ell = \log x` (:mod:`theory.change_of_variables`: pulled-back metric, exact
:math:`\ell_0 = \log x_0`) carries those parameters to 30 *relative* digits. Each inconclusive
row of kind ``law``, ``leaf-mirror`` or ``limit-leaf`` is replaced by the same check on the log
flow (the claim rewritten by :math:`h(x)\mapsto h(e^\ell)`; tolerance and error estimate as
always: two precisions), labelled ``(log coordinates)``. Nothing else changes: a confirmed or
refuted row stays, and the symbolic status is the original proof's.
"""
from __future__ import annotations

import dataclasses

from theory.change_of_variables import log_parameters
from theory.claims import ConservedQuantity
from theory.errors import IbcheckError

from ..checks import check_law, run
from ..flows import gradient_flow
from ..verdict import relabeled

#: the kinds of rows this rerun may replace
KINDS = ("law", "leaf-mirror", "limit-leaf")


def _rewrite_leaf_claim(change, c):
    from theory.laws.leaf_potential import EffectiveScale, TimeChangedMirror

    if isinstance(c, TimeChangedMirror):
        return dataclasses.replace(c, phi=tuple(change.in_log(e) for e in c.phi))
    if isinstance(c, EffectiveScale):
        return dataclasses.replace(c, scale=change.in_log(c.scale),
                                   invariants=tuple(change.in_log(e) for e in c.invariants))
    return c


def redo_inconclusive(d, problem, verdicts: list, laws: list, *, backend: str = "fast", say=lambda m: None) -> list:
    """``verdicts`` with each inconclusive row of :data:`KINDS` replaced by its log-coordinate
    check. ``laws``: the ``(claim, label, symbolic status)`` of the law rows in the order
    ``confirm`` checked them. Returns ``verdicts`` unchanged when the model has a parameter not
    declared positive (the change is undefined) or nothing is inconclusive."""
    todo = [i for i, v in enumerate(verdicts) if v.status == "inconclusive" and v.kind in KINDS]
    p = d.parameterization
    if not todo or p.coordinate is not None:
        return verdicts
    try:
        change = log_parameters(p)
    except IbcheckError:
        return verdicts
    say(f"{p.name}: {len(todo)} inconclusive rows: the flow again in log coordinates")
    flow = gradient_flow(change.model, problem.X, problem.y, values=problem.values)
    try:
        runs = run(flow, dps=problem.dps, converge=False, t_end=5, backend=backend)
    except IbcheckError:
        return verdicts
    law_rows = [i for i, v in enumerate(verdicts) if v.kind == "law"]
    redone: dict = {}
    for i, (claim, label, status) in zip(law_rows, laws):
        if i in todo:
            moved = dataclasses.replace(claim, expr=change.in_log(claim.expr)) \
                if isinstance(claim, ConservedQuantity) else claim
            redone[i] = check_law(runs, moved, symbolic=status, label=label + " (log coordinates)")
    leaf_rows = [i for i, v in enumerate(verdicts) if v.kind in ("leaf-mirror", "limit-leaf")]
    if any(i in todo for i in leaf_rows):
        from .leaf import leaf_verdicts
        again = leaf_verdicts(d, problem, runs, backend=backend, say=say,
                              rewrite=lambda c: _rewrite_leaf_claim(change, c))
        by_name = {v.claim.split(":")[0]: v for v in again}
        for i in leaf_rows:
            v = by_name.get(verdicts[i].claim.split(":")[0])
            if i in todo and v is not None:
                redone[i] = relabeled(v, v.claim + " (log coordinates)")
    return [redone.get(i, v) for i, v in enumerate(verdicts)]
