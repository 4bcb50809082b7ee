r"""The three effects of decay on the bias (placeholder until the effects engine lands)."""
from __future__ import annotations


def derive_effects(p, pot) -> tuple:
    return ()


def prove_effect(p, claim):
    from ..errors import IbcheckError
    raise IbcheckError("effects: not implemented yet")
