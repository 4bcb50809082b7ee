r"""``derive_regularized(p)``: what the theory engine establishes about a model with an explicit
regularizer :math:`\lambda(t)\,h` (weight decay), and ``verify_regularized(p, claim)``.

Pipeline: schedule (refused up front when negative or with an unusable tail) → law count and laws
of the decay-free flow → admissibility of :math:`(G, h)` (witness bracket when not) → decaying
laws in :math:`A_t = \int_0^t\lambda` → time-dependent potential :math:`R_{a}`, :math:`a = -A_t` →
the three effects. Every claim carries a :class:`~theory.claims.Proof`.
"""
from __future__ import annotations

import time

from .. import cache
from ..claims import NoMirror, Proof
from ..errors import IbcheckError
from ..parameterization import Parameterization
from .records import DecayingLaw, DecayOff, Effect, Erratum, RegularizedDerivation, TimePotential
from .schedules import analyse_schedule


def has_regularization(p: Parameterization) -> bool:
    """True when ``p`` has an explicit regularizer or a schedule (the dispatch test)."""
    return p.regularizer is not None or p.schedule is not None


def derive_regularized(p: Parameterization, *, limits: bool = True, use_cache: bool = True) -> RegularizedDerivation:
    """Derive everything about a regularized model (see module doc)."""
    from ..laws import find_laws, law_summary
    from ..laws import lie_count
    from .admissibility import admissibility
    from .decaying_laws import derive_decaying_laws
    from .effects import derive_effects
    from .time_potential import derive_time_potential

    if p.regularizer is None:
        raise IbcheckError(f"{p.name}: a schedule was given but no regularizer")
    sched = analyse_schedule(p.schedule, f"{p.name}: schedule")
    key = f"decay-{p.fingerprint()}-{int(limits)}"
    if use_cache:
        hit = cache.load(key)
        if hit is not None:
            return hit
    timings, notes = {}, []
    t0 = time.perf_counter()
    count = lie_count(p)
    found = find_laws(p, count=count)
    from ..laws import prove_law
    laws = tuple((h, prove_law(p, h.expr, coordinate=h.coordinate)) for h in found)
    notes.append(law_summary(found, count) + " (of the decay-free flow)")
    timings["laws"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    adm = admissibility(p)
    notes.append(adm.reason)
    decaying = derive_decaying_laws(p, found)
    timings["decaying laws"] = time.perf_counter() - t0
    if len(decaying) < len(found):
        notes.append(f"{len(found) - len(decaying)} decay-free law(s) do not close in A_t affinely")

    t0 = time.perf_counter()
    tp = derive_time_potential(p) if adm.admissible else \
        NoMirror(adm.reason, pair=adm.pair, bracket=adm.bracket, point=adm.point)
    timings["time potential"] = time.perf_counter() - t0
    effects = ()
    if limits and isinstance(tp, tuple):
        t0 = time.perf_counter()
        effects = derive_effects(p, tp[0])
        timings["effects"] = time.perf_counter() - t0
    notes.append(f"schedule: {sched.expr}; A_oo = {sched.total} ({sched.tail} tail)")
    # the claims of this derivation as notes, so every printer of notes (ibcheck derive) shows them
    for c, pr in decaying:
        notes.append(f"decaying law {c.expr} = {c.closed_form}, A = int lambda  [{pr.status}; {c.method}]")
    if isinstance(tp, tuple):
        pot, pr = tp
        if pot.has_primal:
            notes.append(f"time-dependent potential (a = -A_t): grad R_a = {pot.gradient}  [{pr.status}]")
        if pot.has_dual:
            notes.append(f"time-dependent potential (a = -A_t): grad Q_a = {pot.dual_gradient}  [{pr.status}]")
    else:
        notes.append(f"no time-dependent potential: {tp.reason}")
    for e, pr in effects:
        notes.append(f"effect {e.kind}: {e.note or e.value} {e.verdict}  [{pr.status}]")
    d = RegularizedDerivation(parameterization=p, law_count=count, laws=laws, mirror=None, limits=(),
                              notes=tuple(notes), timings=timings, admissibility=adm, decaying=decaying,
                              time_potential=tp, effects=effects, schedule=sched)
    if use_cache:
        cache.store(key, d)
    return d


def prove_regularized_law(p: Parameterization, claim) -> Proof:
    r"""A law of the flow as stated, regularizer included: :math:`h` is conserved by
    :math:`\dot x = -M(J_G^\top\nabla L + \lambda(t)\nabla h_{\rm reg})` for every loss (and every
    schedule) iff :math:`J_G M\nabla h = 0` and :math:`\nabla h_{\rm reg}^\top M\nabla h = 0`."""
    from ..laws.search import LAW_IDENTITY, _system
    from ..proving.zero import check_identity

    params, outputs, M, _ = _system(p, claim.coordinate)
    reg = p.coordinate.regularizer if claim.coordinate else p.regularizer
    h = sp.sympify(claim.expr)
    grad = sp.Matrix([sp.diff(h, x) for x in params])
    J = sp.Matrix(list(outputs) + [reg]).jacobian(sp.Matrix(list(params)))
    return check_identity(list(J * M * grad), LAW_IDENTITY + r",\ \nabla h_{\rm reg}^\top M \nabla h = 0",
                          extra_symbols=params)


def decay_free(p: Parameterization) -> Parameterization:
    """The same model with the regularizer and schedule removed (the decay-free flow)."""
    from dataclasses import replace
    c = p.coordinate
    return replace(p, regularizer=None, schedule=None,
                   coordinate=None if c is None else replace(c, regularizer=None))


def verify_regularized(p: Parameterization, claim) -> Proof:
    r"""Prove or refute a claim about a regularized model: :class:`DecayingLaw`,
    :class:`TimePotential`, an :class:`Effect` (positional bias), an :class:`Erratum` (its claim;
    the caller expects ``refuted``), a :class:`~theory.claims.ConservedQuantity` (decay-free law)
    or the admissibility statement ``("admissible", h)``."""
    from ..claims import ConservedQuantity, MirrorPotential
    if isinstance(claim, Erratum):
        return verify_regularized(p, claim.claim)
    if isinstance(claim, DecayOff):
        from ..verify import verify
        return verify(decay_free(p), claim.claim)
    if isinstance(claim, DecayingLaw):
        from .decaying_laws import prove_decaying_law
        return prove_decaying_law(p, claim)
    if isinstance(claim, TimePotential):
        from .time_potential import prove_time_potential
        return prove_time_potential(p, claim)
    if isinstance(claim, Effect):
        from .effects import prove_effect
        return prove_effect(p, claim)
    if isinstance(claim, ConservedQuantity):
        return prove_regularized_law(p, claim)
    if isinstance(claim, MirrorPotential):
        return Proof("undecided", f"mirror potential of {p.name}", sp.nan,
                     method="cannot be judged: a time-independent mirror potential of a flow with an "
                            "explicit regularizer (the decay-free identity does not hold along it); state a "
                            "TimePotential, or wrap the claim in DecayOff for the decay-free flow")
    if isinstance(claim, Admissible):
        from dataclasses import replace
        from .admissibility import declared_admissible
        q = replace(p, regularizer=claim.regularizer_total(p),
                    coordinate=None if p.coordinate is None else replace(p.coordinate, regularizer=claim.regularizer))
        return declared_admissible(q)
    raise IbcheckError(f"verify: cannot check a {type(claim).__name__} on a regularized model; expected "
                       "DecayingLaw, TimePotential, Effect, Erratum, ConservedQuantity or Admissible")


from dataclasses import dataclass  # noqa: E402

import sympy as sp  # noqa: E402


@dataclass(frozen=True)
class Admissible:
    """The statement 'the (template) regularizer ``regularizer`` is admissible for this map'."""

    regularizer: sp.Expr
    origin: str = "user"

    def regularizer_total(self, p: Parameterization):
        c = p.coordinate
        if c is None:
            return self.regularizer
        out = sp.Integer(0)
        for i in range(1, p.n_outputs + 1):
            out += sp.sympify(self.regularizer).xreplace(
                {s: sp.Symbol(f"{s.name}_{i}", **s.assumptions0) for s in c.params})
        return out
