r"""Plain records of the function-space claims (wide two-layer ReLU networks).

* :class:`WideReluModel`: an initialization law with its constants, built-in constant values
  and a data set; what a catalog entry builds.
* :class:`CurvatureWeight`: a claim :math:`\zeta(x) = f_k(x)` on stated intervals (a paper may
  state only part of the line); ``expect`` is ``"holds"`` or ``"fails"`` (a negative control or
  an erratum kept next to the corrected claim).
* :class:`FunctionSpaceDerivation`: what :func:`~.derive.derive_function_space` found: the
  normalisation proof, :math:`\zeta_\pm`, and at the built-in values the selected function, the
  kernel interpolant, the theorem's linear term and the least-squares line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..claims import Proof


@dataclass(frozen=True)
class WideReluModel:
    name: str
    law: object
    source: str
    constants: tuple = ()
    values: dict = field(default_factory=dict)   # name -> exact string, for the numeric instance
    xs: tuple = ()
    ys: tuple = ()
    description: str = ""

    def value_map(self) -> dict:
        by_name = {c.name: c for c in self.constants}
        return {by_name[k]: sp.Rational(v) for k, v in self.values.items() if k in by_name}


@dataclass(frozen=True)
class CurvatureWeight:
    r"""Claim: :math:`\zeta = ` ``expr`` on each ``(lo, hi, expr)`` of ``pieces``."""

    pieces: tuple
    label: str
    origin: str = "user"
    expect: str = "holds"


@dataclass(frozen=True)
class PenaltyRealization:
    r"""Claim (Prop. 15): the kink law ``law`` has :math:`1/\zeta \propto` ``rho`` on ``[lo, hi]``."""

    rho: sp.Expr
    lo: object
    hi: object
    law: object
    label: str
    origin: str = "user"
    expect: str = "holds"


@dataclass(frozen=True)
class FunctionSpaceDerivation:
    model: WideReluModel
    normalisation: Proof
    zeta: object           # Pieces (symbolic constants)
    zeta_plus: object
    zeta_minus: object
    spline: object = None  # SelectedFunction at the built-in values
    kernel: object = None  # KernelInterpolant at the built-in values
    least_squares: tuple = ()
    spline_proof: Proof | None = None
    agreement_proof: Proof | None = None
    notes: tuple = ()
