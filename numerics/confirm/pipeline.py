r"""Derive, then confirm numerically: the pipeline behind ``ibcheck check``.

For one parameterization and one least-squares problem: every law, the mirror identity, the
KKT limit and the limiting regularizers, for the derived claims and for any claims stated by a
user or a paper (``extra_claims``), each with its symbolic proof status next to the numeric
verdict. One converged flow (at two precisions) serves all identity and limit checks.
"""
from __future__ import annotations

from typing import Sequence

from theory.claims import ConservedQuantity, Derivation, LimitingRegularizer, MirrorPotential, NoMirror
from theory.errors import IbcheckError

from theory.mirror import filled

from ..checks import check_kkt_limit, check_law, check_mirror, check_no_mirror, run
from ..flows import gradient_flow
from ..problems import Problem
from ..verdict import Verdict, failed_verdict, flag_inconsistency, relabeled
from .potential_values import check_potential_values
from .regimes import bias_sign, check_potential_limit, check_regime, reference_for


def _claim_label(claim, origin: str) -> str:
    tag = "" if origin == "derived" else f" [{origin}]"
    if isinstance(claim, ConservedQuantity):
        what = "leaf identity" if getattr(claim, "scope", "law") == "leaf" else "law"
        return f"{what} {claim.expr}{tag}"
    if isinstance(claim, MirrorPotential):
        leaf = getattr(claim, "leaf", "")
        return f"mirror potential{' on the leaf through x0' if leaf else ''}{tag}"
    if isinstance(claim, LimitingRegularizer):
        return f"limit alpha->{claim.point}: {claim.leading}{tag}"
    return str(claim)


def confirm(d: Derivation, problem: Problem, *, extra_claims: Sequence = (), regimes: bool = True,
            backend: str = "fast", progress=None) -> list[Verdict]:
    """Numeric verdicts for every claim of ``d`` and for ``extra_claims`` ((claim, proof) pairs)."""
    from theory.verify import verify

    if getattr(d, "admissibility", None) is not None:  # weight decay: numerics/regularized/confirm.py
        from ..regularized.confirm import confirm_regularized
        return [flag_inconsistency(v) for v in
                confirm_regularized(d, problem, extra_claims=extra_claims, backend=backend, progress=progress)]
    p = d.parameterization
    say = progress or (lambda msg: None)
    verdicts: list[Verdict] = []
    claims = [(c, pr, "derived") for c, pr in d.claims]
    claims += [(c, pr if pr is not None else verify(p, c, potential=d.potential), "user")
               for c, pr in extra_claims]
    needs_limit = isinstance(d.mirror, tuple) or any(isinstance(c, MirrorPotential) for c, _, _ in claims)
    say(f"{p.name}: integrating the flow at {problem.dps} and more digits")
    flow = gradient_flow(p, problem.X, problem.y, values=problem.values)
    try:
        runs = run(flow, dps=problem.dps, converge=needs_limit, t_end=None if needs_limit else 5,
                   backend=backend)
    except IbcheckError as e:
        return [failed_verdict(p.name, "flow", "flow", problem.dps, e, "")]
    if isinstance(d.mirror, NoMirror) and d.mirror.bracket is not None:
        say(f"{p.name}: confirming the bracket witness")
        verdicts.append(check_no_mirror(p.name, d.mirror, dps=problem.dps))
    swept = {}  # one alpha-sweep per (scale, point, reference), shared by equal claims
    law_rows = []  # (claim, label, status) of each "law" row, for a rerun in log coordinates
    for claim, proof, origin in claims:
        label = _claim_label(claim, origin)
        status = proof.status if proof is not None else "n/a"
        say(f"{p.name}: {label}")
        try:
            if isinstance(claim, ConservedQuantity):
                verdicts.append(check_law(runs, claim, symbolic=status, label=label))
                law_rows.append((claim, label, status))
            elif isinstance(claim, MirrorPotential):
                given, claim = claim, filled(claim)
                v = check_potential_values(runs, given, symbolic=status)
                if v is not None:
                    verdicts.append(relabeled(v, label + ": " + v.claim))
                v = check_mirror(runs, claim, symbolic=status)
                verdicts.append(relabeled(v, label + ": " + v.claim))
                v = check_kkt_limit(runs, claim, symbolic=status)
                verdicts.append(relabeled(v, label + ": " + v.claim))
            elif isinstance(claim, LimitingRegularizer):
                pot = claim.potential or d.potential or _user_potential(claims)
                if pot is not None:
                    v = check_potential_limit(claim, pot, model=p.name, values=problem.values,
                                              dps=problem.dps, symbolic=status)
                    verdicts.append(relabeled(v, f"{label}: potential"))
                # the flow sweep needs a reference interpolant and a bias that minimises it
                if regimes and reference_for(claim) is not None and bias_sign(claim) > 0:
                    key = (claim.scale, claim.point, reference_for(claim))
                    if key not in swept:
                        swept[key] = check_regime(p, claim, problem.X, problem.y, values=problem.values,
                                                  dps=problem.dps, backend=backend, symbolic=status)
                    verdicts.append(relabeled(swept[key], f"{label}: flow limits"))
        except (IbcheckError, ArithmeticError, ValueError) as e:
            # a claim undefined somewhere on the flow (log 0, 1/0) cannot be confirmed there
            verdicts.append(failed_verdict(p.name, label, type(claim).__name__, problem.dps, e, status))
    from .leaf import leaf_verdicts  # claims on the leaf through x0 (issue 13)
    verdicts += leaf_verdicts(d, problem, runs, backend=backend, say=say)
    from .log_variables import redo_inconclusive  # tiny parameters: the same flow in log x
    verdicts = redo_inconclusive(d, problem, verdicts, law_rows, backend=backend, say=say)
    if d.law_count is not None:
        verdicts.append(law_count_verdict(d, problem.dps))
    return [flag_inconsistency(v) for v in verdicts]


def law_count_verdict(d: Derivation, dps: int) -> Verdict:
    """The "found k of K laws" row: passes only when every counted law was found and proved
    (leaf identities are not counted: they are forms of laws on the leaf through x0)."""
    c = d.law_count
    laws = [(h, pr) for h, pr in d.laws if getattr(h, "scope", "law") != "leaf"]
    k = sum(1 for _, pr in laws if pr.proved)
    where = " per coordinate" if c.per_coordinate else ""
    ok = k >= c.laws
    return Verdict(model=d.parameterization.name, claim=f"laws: found {k} of {c.laws}{where}",
                   kind="law-count", passed=ok, residual=float(max(0, c.laws - k)), tolerance=0.0,
                   dps=dps, error_estimate=0.0, symbolic="proved" if ok else "undecided",
                   details={"status": "confirmed" if ok else "incomplete", "found": k, "counted": c.laws,
                            "lie_dimension": c.lie_dimension, "dimension": c.dimension})


def _user_potential(claims):
    return next((c for c, _, _ in claims if isinstance(c, MirrorPotential)), None)
