r"""``derive(p)``: everything the theory engine establishes about a parameterization.

Pipeline: law count (exact Lie-algebra rank) → laws (ansatz over QQ, characteristics), each
proved → mirror potential (bracket test; dual/primal potential; proof) → limiting regularizers
(:math:`\alpha \to 0`, :math:`\alpha \to \infty`), each proved. The result is a plain
:class:`~theory.claims.Derivation`.
"""
from __future__ import annotations

import time

from dataclasses import replace

from . import cache
from .claims import Derivation, NoMirror
from .errors import LeafNotSolvable, NoMirrorPotential, UndecidedError
from .parameterization import Parameterization
from .support import rename, require_supported, reserved_renaming


def scale_constant(p: Parameterization):
    """The initialization scale whose limits are studied: the constant named ``alpha`` if any."""
    for c in p.constants:
        if c.name in {"alpha", "α"}:
            return c
    return None


def derive(p: Parameterization, *, limits: bool = True, use_cache: bool = True) -> Derivation:
    """Derive laws, mirror potential and limiting regularizers of ``p`` (see module doc)."""
    from .laws import find_laws, law_summary, prove_law
    from .laws import lie_count
    from .limits import derive_limits
    from .mirror import derive_potential

    require_supported(p, "derive laws and potentials")
    renaming = reserved_renaming(p)
    if renaming:  # the engine's own names stay its own: derive in fresh names, answer in the user's
        d = derive(rename(p, renaming), limits=limits, use_cache=use_cache)
        return replace(rename(d, {v: k for k, v in renaming.items()}), parameterization=p)
    if p.regularizer is not None or p.schedule is not None:  # weight decay: theory/regularized
        from .regularized import derive_regularized
        return derive_regularized(p, limits=limits, use_cache=use_cache)
    key = f"{p.fingerprint()}-{int(limits)}"
    if use_cache:
        hit = cache.load(key, Derivation)
        if hit is not None and hit.parameterization == p:
            return hit
    timings, notes = {}, []
    t0 = time.perf_counter()
    count = lie_count(p)
    timings["law count"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    found = find_laws(p, count=count)
    laws = tuple((h, prove_law(p, h.expr, coordinate=h.coordinate)) for h in found)
    timings["laws"] = time.perf_counter() - t0
    notes.append(law_summary(found, count))
    from .laws.leaf import leaf_identities  # the laws' forms on the leaf through x0 (issue 13)
    laws += leaf_identities(p, laws)

    t0 = time.perf_counter()
    mirror, lims = None, ()
    try:
        from .laws.leaf import quick_no_mirror  # one exact-point bracket first (issue 13: speed)
        mirror = quick_no_mirror(p) or derive_potential(p)
    except NoMirrorPotential as e:
        mirror = NoMirror(str(e), pair=e.pair, bracket=e.bracket, point=e.point)
    except (LeafNotSolvable, UndecidedError, NotImplementedError) as e:
        mirror = NoMirror(f"mirror potential not derived: {e}")
        notes.append(f"mirror potential not derived in closed form: {e}")
    timings["mirror"] = time.perf_counter() - t0

    scale = scale_constant(p)
    if limits and isinstance(mirror, tuple) and scale is not None:
        t0 = time.perf_counter()
        lims = []
        for claim, proof in derive_limits(p, mirror[0], scale=scale):
            if proof.refuted:  # a candidate the engine's own proof rejects is not a result
                notes.append(f"candidate limit {claim.name}: {claim.factor}*(R - R(0)) -> {claim.leading} "
                             f"refuted by its proof, dropped")
            else:
                lims.append((claim, proof))
        lims = tuple(lims)
        timings["limits"] = time.perf_counter() - t0
    d = Derivation(parameterization=p, law_count=count, laws=laws, mirror=mirror, limits=lims,
                   notes=tuple(notes), timings=timings)
    if use_cache:
        cache.store(key, d)
    return d
