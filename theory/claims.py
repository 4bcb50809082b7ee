r"""Plain records at the seams: claims, proofs, derivations.

A *claim* is what is asserted about a parameterization; it is the same object whether
``theory.derive`` found it or a user stated it (``origin`` says which). A :class:`Proof`
is the outcome of one symbolic check. A :class:`Derivation` bundles a parameterization with
its derived claims and their proofs. ``numerics`` consumes these records; nothing here
depends on how they were obtained.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sympy as sp

Status = Literal["proved", "refuted", "undecided"]
Origin = Literal["derived", "user"]


@dataclass(frozen=True)
class Proof:
    """Outcome of a symbolic check.

    ``identity`` states what was checked (text, LaTeX-ready); ``remainder`` is the simplified
    residual (0 when proved); ``witness`` an exact point where the remainder is nonzero
    (refuted) and ``witness_value`` its value there; ``method`` how the verdict was reached.
    "undecided" is never reported as proved: it means simplification could not reach 0 and
    exact/high-precision evaluation at random points found no counterexample.
    """

    status: Status
    identity: str
    remainder: object = sp.Integer(0)
    witness: dict | None = None
    witness_value: object = None
    method: str = ""

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    def _repr_latex_(self) -> str:  # Jupyter renders a proof as LaTeX (theory.display)
        from .display import proof_latex
        return proof_latex(self)

    @property
    def refuted(self) -> bool:
        return self.status == "refuted"


@dataclass(frozen=True)
class ConservedQuantity:
    r"""A law :math:`h(x)` with :math:`J_G(x) M(x) \nabla h(x) = 0`: conserved for every loss.

    For separable models ``coordinate`` is True and ``expr`` is written in the template
    symbols; it holds for every coordinate ``i`` with the symbols renamed.
    """

    expr: sp.Expr
    origin: Origin = "user"
    method: str = ""
    coordinate: bool = False


@dataclass(frozen=True)
class MirrorPotential:
    r"""A mirror potential: along the flow :math:`\frac{d}{dt}\nabla R(w) = -\nabla L(w)`.

    Primal and/or dual form, both normalised so that :math:`\nabla R(w_0) = 0`
    (equivalently :math:`\nabla Q(0) = w_0`):

    * ``variables`` :math:`w`; ``potential`` :math:`R(w)` (``None`` when not elementary);
      ``gradient`` :math:`\nabla R(w)` (``None`` when not elementary).
    * ``dual_variables`` :math:`\mu`; ``dual`` :math:`Q(\mu)`; ``dual_gradient``
      :math:`\nabla Q(\mu)`, the point :math:`w` reached when :math:`\nabla R(w) = \mu`.

    For separable models (``coordinate=True``) everything is per coordinate, in one scalar
    variable, and may depend on the template's initial values (the constants).
    """

    variables: tuple
    potential: sp.Expr | None = None
    gradient: tuple | None = None
    dual_variables: tuple = ()
    dual: sp.Expr | None = None
    dual_gradient: tuple | None = None
    origin: Origin = "user"
    coordinate: bool = False
    method: str = ""
    #: empty: for the model's start as given, from the general flow of the fields; otherwise the
    #: leaf through x0 it was derived on (e.g. "v = u, s = u"): it holds from x0, not from every start
    leaf: str = ""

    @property
    def has_primal(self) -> bool:
        return self.gradient is not None

    @property
    def has_dual(self) -> bool:
        return self.dual_gradient is not None


@dataclass(frozen=True)
class LimitingRegularizer:
    r"""A limit of the potential as a constant (the init scale) goes to 0 or infinity.

    Asserts :math:`\lim_{s \to \text{point}} \text{factor}(s)\,\bigl(R_s(w) - R_s(0)\bigr)
    = \text{leading}(w)` for every ``w`` (per coordinate when ``coordinate``), e.g.
    :math:`R_\alpha / \log(1/\alpha) \to |w|` as :math:`\alpha \to 0`.

    ``potential`` is the :math:`R_\alpha` the limit is about; when it is ``None`` the limit is
    judged against the derived potential. A stated potential is itself proved first: a limit of
    a potential that is not the model's is not a limiting regularizer of the model.
    """

    scale: sp.Symbol
    point: object          # 0 or sp.oo
    factor: sp.Expr        # normalising factor, a function of ``scale``
    leading: sp.Expr       # the limiting regularizer in ``variable``
    variable: sp.Symbol
    origin: Origin = "user"
    coordinate: bool = True
    name: str = ""         # e.g. "l1", "l2"
    potential: "MirrorPotential | None" = None


@dataclass(frozen=True)
class LawCount:
    r"""Number of independent conservation laws, :math:`K = D - \dim \mathrm{Lie}(V)(x)`
    (Marcotte, Gribonval, Peyré 2023, Thm 3.3/Cor. 3.4), computed with exact rational rank.

    ``per_coordinate`` is True when counted on a separable template (then ``laws`` is per
    coordinate). ``points`` are the rational points used; ``lie_dims`` the rank at each.
    """

    dimension: int
    lie_dimension: int
    laws: int
    points: tuple = ()
    lie_dims: tuple = ()
    per_coordinate: bool = False
    bracket_depth: int = 0


@dataclass(frozen=True)
class NoMirror:
    """Why a derivation has no mirror potential: a nonzero bracket (the witness)."""

    reason: str
    pair: tuple | None = None
    bracket: tuple | None = None
    point: dict | None = None


@dataclass(frozen=True)
class Derivation:
    """Everything ``theory.derive`` establishes about one parameterization."""

    parameterization: object
    law_count: LawCount | None
    laws: tuple = ()                    # ((ConservedQuantity, Proof), ...)
    mirror: tuple | NoMirror | None = None  # (MirrorPotential, Proof) or NoMirror
    limits: tuple = ()                  # ((LimitingRegularizer, Proof), ...)
    notes: tuple = ()                   # human-readable remarks (e.g. "found 1 of 1 laws")
    timings: dict = field(default_factory=dict)

    @property
    def potential(self) -> MirrorPotential | None:
        return self.mirror[0] if isinstance(self.mirror, tuple) else None

    def _repr_latex_(self) -> str:  # Jupyter renders a derivation as LaTeX (theory.display)
        from .display import derivation_latex
        return derivation_latex(self)

    @property
    def claims(self) -> tuple:
        """All (claim, proof) pairs."""
        out = list(self.laws)
        if isinstance(self.mirror, tuple):
            out.append(self.mirror)
        out.extend(self.limits)
        return tuple(out)
