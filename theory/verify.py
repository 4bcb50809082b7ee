r"""``verify(p, claim)``: prove or refute a user's claim with the same checks derivations use.

* :class:`~theory.claims.ConservedQuantity`: :math:`J_G M \nabla h \equiv 0`;
* :class:`~theory.claims.MirrorPotential`: every field that is given (:math:`R`, :math:`\nabla R`,
  :math:`Q`, :math:`\nabla Q`) is checked: against each other, against the normalisation
  :math:`R(w_0) = 0`, :math:`\nabla R(w_0) = 0`, :math:`Q(0) = 0`, and against the mirror identity
  :math:`\nabla^2 R\, J_G M J_G^\top = I` on the leaf through :math:`x_0` (or its dual form
  :math:`\nabla Q(\mu) = G(\psi(x_0;\mu))`), see :func:`theory.mirror.prove_potential`;
* :class:`~theory.claims.LimitingRegularizer`: the limit of ``factor * (R - R(0))`` equals ``leading``,
  against the potential the claim states (itself proved first), else the derived one.

A claim that uses symbols other than its own variables, the model's parameters (laws) and the
model's constants cannot be judged and comes back ``undecided`` naming the symbols. A model part
the derivation does not handle (a regularizer, a schedule) is refused
(:class:`~theory.errors.UnsupportedModel`). A refutation names the identity that failed, the
nonzero remainder and an exact point.
"""
from __future__ import annotations

import dataclasses
import hashlib

import sympy as sp

from . import cache
from .claims import ConservedQuantity, LimitingRegularizer, MirrorPotential, Proof
from .errors import IbcheckError, LeafNotSolvable, NoMirrorPotential, UndecidedError
from .parameterization import Parameterization
from .support import rename, require_supported, reserved_renaming


def verify(p: Parameterization, claim, *, potential: MirrorPotential | None = None,
           use_cache: bool = True) -> Proof:
    """Check ``claim`` about ``p`` symbolically; returns a :class:`~theory.claims.Proof`.

    ``potential`` (for a limit claim that states none) is the potential to judge the limit
    against; default: the derived one. The proof is cached on disk (:mod:`theory.cache`) under
    the parameterization's fingerprint and the claim's (and potential's) exact content."""
    require_supported(p, "verify claims")
    renaming = reserved_renaming(p)
    if renaming:  # the engine's own names stay its own: check in fresh names, answer in the user's
        proof = verify(rename(p, renaming), rename(claim, renaming), potential=rename(potential, renaming),
                       use_cache=use_cache)
        return rename(proof, {v: k for k, v in renaming.items()})
    key = f"verify-{p.fingerprint()}-{_content_hash(claim, potential)}"
    if use_cache:
        hit = cache.load(key, Proof)
        if hit is not None:
            return hit
    proof = _verify(p, claim, potential)
    if use_cache:
        cache.store(key, proof)
    return proof


def _content_hash(*objs) -> str:
    """A stable hash of dataclass records of SymPy expressions (field names and ``srepr``)."""
    h = hashlib.sha256()
    for obj in objs:
        h.update(type(obj).__name__.encode())
        for f in dataclasses.fields(obj) if dataclasses.is_dataclass(obj) else ():
            v = getattr(obj, f.name)
            if dataclasses.is_dataclass(v):
                v = _content_hash(v)
            h.update(f"{f.name}={sp.srepr(v) if isinstance(v, (sp.Basic, tuple)) else repr(v)};".encode())
    return h.hexdigest()[:16]


def _undecided(identity: str, why: str) -> Proof:
    return Proof("undecided", identity, sp.nan, method=f"cannot be judged: {why}")


def _foreign(expr, allowed, what: str) -> str | None:
    """A sentence naming the symbols of ``expr`` outside ``allowed``, or None."""
    extra = sp.sympify(expr).free_symbols - set(allowed)
    if not extra:
        return None
    return f"{what} uses {', '.join(sorted(map(str, extra)))}, unknown to the model and the claim"


def _verify(p: Parameterization, claim, potential) -> Proof:
    if p.regularizer is not None or p.schedule is not None:  # weight decay: theory/regularized
        from .regularized import verify_regularized
        return verify_regularized(p, claim)
    consts = set(p.constants)
    if isinstance(claim, ConservedQuantity):
        from .laws import prove_law
        params = set(p.coordinate.params) if claim.coordinate and p.is_separable else set(p.params)
        why = _foreign(claim.expr, params | consts, f"the law {claim.expr}")
        if why:
            return _undecided(f"law {claim.expr}", why)
        if claim.coordinate and not p.is_separable:
            return _undecided(f"law {claim.expr}", f"a per-coordinate law, but {p.name} is not separable")
        return prove_law(p, claim.expr, coordinate=claim.coordinate)
    if isinstance(claim, MirrorPotential):
        from .mirror import prove_potential
        try:
            return prove_potential(p, claim)
        except NoMirrorPotential as e:  # no potential at all: the claim is refuted by the witness
            return Proof("refuted", f"mirror potential of {p.name} [the fields commute]",
                         e.bracket if e.bracket is not None else sp.nan, witness=e.point,
                         method=str(e))
        except (LeafNotSolvable, UndecidedError) as e:
            return _undecided(f"mirror potential of {p.name}", str(e))
    if isinstance(claim, LimitingRegularizer):
        return _verify_limit(p, claim, potential)
    raise IbcheckError(f"verify: cannot check a {type(claim).__name__}; expected ConservedQuantity, "
                       "MirrorPotential or LimitingRegularizer")


def _verify_limit(p: Parameterization, claim: LimitingRegularizer, potential) -> Proof:
    from .limits import prove_limit
    from .mirror import _combine, derive_potential, prove_potential

    label = f"lim_{{{claim.scale}->{claim.point}}} {claim.factor}*(R(w) - R(0)) = {claim.leading}"
    consts = set(p.constants)
    for why in (None if claim.scale in consts else
                f"the scale {claim.scale} is not a constant of {p.name}",
                None if claim.point in (0, sp.oo) else f"the point {claim.point} is neither 0 nor oo",
                _foreign(claim.factor, consts, f"the factor {claim.factor}"),
                _foreign(claim.leading, consts | {claim.variable}, f"the leading term {claim.leading}")):
        if why:
            return _undecided(label, why)
    stated = claim.potential if claim.potential is not None else potential
    if stated is None:
        try:
            stated = derive_potential(p)[0]
        except NoMirrorPotential as e:
            return Proof("refuted", f"{label} [a mirror potential exists]", e.bracket, witness=e.point,
                         method=str(e))
        except (LeafNotSolvable, UndecidedError) as e:
            return _undecided(label, f"no potential to take the limit of: {e}")
        return prove_limit(p, claim, stated)
    premise = prove_potential(p, stated) if stated.origin != "derived" or claim.potential is not None \
        else None
    if premise is not None and not premise.proved:
        return _combine([premise], f"{label}, of the stated potential")
    proof = prove_limit(p, claim, stated)
    return proof if premise is None else _combine([premise, proof], label)
