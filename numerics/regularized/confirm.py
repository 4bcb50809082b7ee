r"""Derive, then confirm numerically, for models with an explicit regularizer (weight decay):
the pipeline behind ``ibcheck check`` for a :class:`~theory.regularized.RegularizedDerivation`.

One segmented flow (:mod:`numerics.regularized.flows`) at two precisions serves every decaying law, the
time-dependent mirror identity and the limit (the KKT point of :math:`R_{a_\infty}` when the decay
ends, the stationary point of the regularized objective under a constant tail). Decay-free laws
are checked on the same model with the decay off. Errata and negative controls
(:class:`~theory.regularized.Erratum`, :class:`~theory.regularized.records.Control`) must be
refuted, symbolically and numerically: their rows pass as *refuted as expected* and show the
identity that fails, the residual, and where.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from theory.claims import ConservedQuantity, MirrorPotential, NoMirror
from theory.errors import IbcheckError
from theory.mirror import filled
from theory.regularized.derive import decay_free
from theory.regularized.records import Control, DecayingLaw, DecayOff, Effect, Erratum, TimePotential

from ..checks import check_law, check_mirror, run
from ..confirm.potential_values import check_potential_values
from ..flows import gradient_flow
from ..verdict import Verdict, failed_verdict, relabeled
from .checks import check_decay_limit, check_decaying_law, check_stationary, check_time_mirror, check_witness
from .flows import run_decayed, segmented_flow


def _label(claim, origin: str) -> str:
    tag = "" if origin == "derived" else f" [{origin}]"
    if isinstance(claim, DecayOff):
        inner = claim.claim
        if isinstance(inner, ConservedQuantity):
            return f"law {inner.expr} (decay off){tag}"
        return f"potential R (decay off){tag}"
    if isinstance(claim, DecayingLaw):
        conv = "" if claim.convention == "ibcheck" else f" ({claim.convention})"
        return f"decaying law {claim.expr} = {claim.closed_form}{conv}{tag}"
    if isinstance(claim, TimePotential):
        return f"time-dependent potential R_a{tag}"
    if isinstance(claim, ConservedQuantity):
        return f"law {claim.expr}{tag}"
    if isinstance(claim, MirrorPotential):
        return f"potential R{tag}"
    if isinstance(claim, Effect):
        return f"effect {claim.kind}: {claim.value}{tag}"
    return f"{type(claim).__name__}{tag}"


def _expected_refuted(v: Verdict, proof, wrapper) -> Verdict:
    """An erratum/control row: passes when both the proof and the numeric check refute it."""
    num_refuted = v.details.get("status") == "refuted"
    ok = proof is not None and proof.refuted and num_refuted
    status = "refuted as expected" if ok else ("NOT refuted" if not num_refuted else "symbolic not refuted")
    details = dict(v.details, status=status, source=wrapper.source, note=wrapper.note,
                   correction=wrapper.correction)
    if proof is not None:
        details.update(failing_identity=proof.identity, witness={str(k): str(x) for k, x in (proof.witness or {}).items()})
    return replace(v, passed=ok, details=details)


def confirm_regularized(d, problem, *, extra_claims: Sequence = (), backend: str = "fast",
                        progress=None, regimes: bool = True) -> list[Verdict]:
    """Numeric verdicts for every claim of ``d`` and for ``extra_claims`` ((claim, proof) pairs)."""
    from theory.verify import verify

    from theory.regularized.decaying_laws import in_ibcheck_convention

    p = d.parameterization
    say = progress or (lambda msg: None)
    out: list[Verdict] = []
    say(f"{p.name}: integrating the decayed flow segment by segment at {problem.dps} and more digits")
    try:
        sf = segmented_flow(p, problem.X, problem.y, values=problem.values)
        runs = run_decayed(sf, dps=problem.dps, converge=True, backend=backend)
    except IbcheckError as e:
        return [failed_verdict(p.name, "flow", "flow", problem.dps, e, "")]
    sched = sf.schedule
    adm = d.admissibility
    if adm is not None and not adm.admissible and adm.bracket is not None:
        out.append(check_witness(p.name, adm, dps=problem.dps))
    free_runs = plain_runs = None
    claims = [(c, pr, "derived") for c, pr in d.claims]
    claims += [(c, pr if pr is not None else verify(p, c), "user") for c, pr in extra_claims]
    for claim, proof, origin in claims:
        wrapper = claim if isinstance(claim, Erratum) else None
        inner = claim.claim if wrapper is not None else claim
        if wrapper is not None:
            origin = "control" if isinstance(wrapper, Control) else "erratum"
        label = _label(inner, origin)
        status = proof.status if proof is not None else "n/a"
        say(f"{p.name}: {label}")
        try:
            vs = []
            if isinstance(inner, DecayingLaw):
                vs.append(check_decaying_law(runs, inner, sched, closed_form=in_ibcheck_convention(p, inner),
                                             symbolic=status, label=label))
            elif isinstance(inner, TimePotential):
                v = check_time_mirror(runs, inner, sched, symbolic=status)
                vs.append(relabeled(v, label + ": " + v.claim))
                if wrapper is None:
                    if sched.tail == "constant":
                        v = check_stationary(runs, sf, symbolic=status)
                    else:
                        v = check_decay_limit(runs, inner, sched, symbolic=status)
                    vs.append(relabeled(v, label + ": " + v.claim))
            elif isinstance(inner, DecayOff):  # statements about the decay-free flow
                if free_runs is None:
                    free_runs = run(gradient_flow(decay_free(p), problem.X, problem.y, values=problem.values),
                                    dps=problem.dps, t_end=3, backend=backend)
                if isinstance(inner.claim, ConservedQuantity):
                    vs.append(check_law(free_runs, inner.claim, symbolic=status, label=label))
                else:
                    v = check_potential_values(free_runs, inner.claim, symbolic=status)
                    if v is not None:
                        vs.append(relabeled(v, label + ": " + v.claim))
                    v = check_mirror(free_runs, filled(inner.claim), symbolic=status)
                    vs.append(relabeled(v, label + ": " + v.claim))
            elif isinstance(inner, (ConservedQuantity, MirrorPotential)):
                if plain_runs is None:  # statements about the model as stated, regularizer included
                    plain_runs = run(gradient_flow(p, problem.X, problem.y, values=problem.values),
                                     dps=problem.dps, t_end=3, backend=backend)
                if isinstance(inner, ConservedQuantity):
                    vs.append(check_law(plain_runs, inner, symbolic=status, label=label))
                else:
                    v = check_mirror(plain_runs, inner, symbolic=status)
                    vs.append(relabeled(v, label + ": " + v.claim))
            elif isinstance(inner, Effect):
                from .checks import check_effect
                tp = d.time_potential[0] if isinstance(d.time_potential, tuple) else None
                vs.append(check_effect(runs, inner, sched, p, potential=tp, symbolic=status, label=label))
            else:
                from .checks import check_admissible_claim
                vs.append(check_admissible_claim(p.name, inner, proof, dps=problem.dps, label=label))
            for v in vs:
                out.append(_expected_refuted(v, proof, wrapper) if wrapper is not None else v)
        except IbcheckError as e:
            out.append(failed_verdict(p.name, label, type(inner).__name__, problem.dps, e, status))
    if isinstance(d.time_potential, NoMirror) and sched.tail == "constant":
        out.append(check_stationary(runs, sf))
    return out
