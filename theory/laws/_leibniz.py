r"""The Leibniz rule for derivatives along constant vectors through a bracket.

.. math::  \partial_C [A, W] = \sum_{S \subseteq C} [\partial_S A, \partial_{C \setminus S} W]

for a multiset C of directions: a direction repeated r times is split in :math:`\binom{r}{s}`
ways, so each sub-multiset S carries the product k of these binomials. Shared by the law count's
two jet engines (:mod:`theory.laws._lie_jets`, :mod:`theory.laws._lie_modular`).
"""
from __future__ import annotations

import itertools
import math


def splits(C) -> list:
    """The terms (k, S, C minus S) of the rule, S over the sub-multisets of ``C`` (a tuple of
    hashable, orderable directions); S and the rest are tuples in sorted order."""
    dirs = sorted(set(C))
    counts = [C.count(c) for c in dirs]
    out = []
    for split in itertools.product(*[range(r + 1) for r in counts]):
        k, S, R = 1, [], []
        for c, r, s in zip(dirs, counts, split):
            k *= math.comb(r, s)
            S += [c] * s
            R += [c] * (r - s)
        out.append((k, tuple(S), tuple(R)))
    return out
