r"""``verify(p, claim)``: prove or refute a user's claim with the same checks derivations use.

* :class:`~theory.claims.ConservedQuantity`: :math:`J_G M \nabla h \equiv 0`;
* :class:`~theory.claims.MirrorPotential`: :math:`\nabla^2 R\, J_G M J_G^\top = I` on the leaf through
  :math:`x_0` and :math:`\nabla R(w_0) = 0` (or the dual identity :math:`\nabla Q(\mu) = G(\psi(x_0;\mu))`);
* :class:`~theory.claims.LimitingRegularizer`: the limit of ``factor * (R - R(0))`` equals ``leading``,
  against ``potential`` (derived if not given).

A refutation names the identity that failed, the nonzero remainder and an exact point.
"""
from __future__ import annotations

import dataclasses
import hashlib

import sympy as sp

from . import cache
from .claims import ConservedQuantity, LimitingRegularizer, MirrorPotential, Proof
from .errors import IbcheckError
from .parameterization import Parameterization


def verify(p: Parameterization, claim, *, potential: MirrorPotential | None = None,
           use_cache: bool = True) -> Proof:
    """Check ``claim`` about ``p`` symbolically; returns a :class:`~theory.claims.Proof`.

    The proof is cached on disk (:mod:`theory.cache`) under the parameterization's fingerprint
    and the claim's (and potential's) exact content, like derivations."""
    key = f"verify-{p.fingerprint()}-{_content_hash(claim, potential)}"
    if use_cache:
        hit = cache.load(key)
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
            h.update(f"{f.name}={sp.srepr(v) if isinstance(v, (sp.Basic, tuple)) else repr(v)};".encode())
    return h.hexdigest()[:16]


def _verify(p: Parameterization, claim, potential) -> Proof:
    if p.regularizer is not None or p.schedule is not None:  # weight decay: theory/regularized
        from .regularized import verify_regularized
        return verify_regularized(p, claim)
    if isinstance(claim, ConservedQuantity):
        from .laws import prove_law
        return prove_law(p, claim.expr, coordinate=claim.coordinate)
    if isinstance(claim, MirrorPotential):
        from .mirror import prove_potential
        return prove_potential(p, claim)
    if isinstance(claim, LimitingRegularizer):
        from .limits import prove_limit
        if potential is None:
            from .mirror import derive_potential
            potential = derive_potential(p)[0]
        return prove_limit(p, claim, potential)
    raise IbcheckError(f"verify: cannot check a {type(claim).__name__}; expected ConservedQuantity, "
                       "MirrorPotential or LimitingRegularizer")
