r"""Plain records of explicit regularization inside the mirror flow (weight decay).

Flow (ibcheck's convention, :mod:`theory.parameterization`):
:math:`\dot x = -M(x)\bigl(J_G^\top\nabla L + \lambda(t)\nabla h(x)\bigr)`, cumulative decay
:math:`A_t = \int_0^t \lambda(s)\,ds` and the potential's parameter :math:`a_t = -A_t`
(Jacobs, Zhou, Burkholz, 'Mirror, Mirror of the Flow', ICML 2025, Thm 3.1).

The claim kinds here sit next to those of :mod:`theory.claims`; a derived and a stated claim are
the same object (``origin``), and a paper's printed claim that fails is wrapped in
:class:`Erratum`.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..claims import Derivation

#: the cumulative decay :math:`A = \int_0^t \lambda \ge 0`
A = sp.Symbol("A", nonnegative=True)
#: the potential's parameter :math:`a = -A \le 0`
a = sp.Symbol("a", real=True)
#: the initial value of a decaying quantity
H0 = sp.Symbol("h_0", real=True)


@dataclass(frozen=True)
class Admissibility:
    r"""Whether the extended map :math:`(G, h)` commutes under the metric: every
    :math:`[M\nabla G_i, M\nabla G_j]` and :math:`[M\nabla G_i, M\nabla h]` vanishes.

    ``pair`` names the witness bracket (e.g. ``("G_1", "h")``), ``bracket`` its components and
    ``point`` an exact point where it is nonzero. ``matched`` is the admissible separable
    regularizer of the same additive structure (Cor. 3.1: :math:`h_{j} = c_{j} g_{j}`), when one
    exists, in the template's symbols."""

    admissible: bool
    reason: str
    pair: tuple | None = None
    bracket: tuple | None = None
    point: dict | None = None
    matched: sp.Expr | None = None
    regularizer_commutes: bool = True   # the brackets with M grad h alone
    coordinate: bool = False


@dataclass(frozen=True)
class DecayingLaw:
    r"""A quantity that evolves in closed form in the cumulative decay:
    :math:`q(x(t)) = F(A_t, q(x_0))` for every loss and every schedule.

    ``closed_form`` is :math:`F` in the symbols :data:`A` and :data:`H0`. ``convention`` is
    ``"ibcheck"`` (:math:`A = \int\lambda` of the flow :math:`\dot x = -M(\dots + \lambda\nabla h)`)
    or ``"pytorch"`` (:math:`A` is then :math:`\int wd`, with ``weight_decay=wd`` adding
    :math:`wd\,x` to the gradient; see :func:`theory.regularized.decaying_laws.to_pytorch`).
    """

    expr: sp.Expr
    closed_form: sp.Expr
    origin: str = "user"
    coordinate: bool = False
    method: str = ""
    convention: str = "ibcheck"


@dataclass(frozen=True)
class TimePotential:
    r"""A time-dependent mirror potential :math:`R_a` whose parameter is read from the schedule,
    :math:`a_t = -A_t`: along the flow :math:`\nabla R_{a_t}(w(t)) = \mu(t) := -\int_0^t\nabla L`.

    Fields as :class:`~theory.claims.MirrorPotential`, every expression may contain
    ``parameter`` (default :data:`a`); normalised at :math:`a = 0` as today
    (:math:`\nabla R_0(w_0) = 0`, :math:`\nabla Q_0(0) = w_0`). ``reading`` gives the parameter as
    a function of :data:`A`."""

    variables: tuple
    potential: sp.Expr | None = None
    gradient: tuple | None = None
    dual_variables: tuple = ()
    dual: sp.Expr | None = None
    dual_gradient: tuple | None = None
    parameter: sp.Symbol = a
    reading: sp.Expr = -A
    origin: str = "user"
    coordinate: bool = False
    method: str = ""

    @property
    def has_primal(self) -> bool:
        return self.gradient is not None

    @property
    def has_dual(self) -> bool:
        return self.dual_gradient is not None

    def at(self, value) -> "TimePotential":
        """The record with the parameter replaced by ``value`` (an expression or number)."""
        sub = {self.parameter: sp.sympify(value)}
        f = lambda e: None if e is None else sp.sympify(e).xreplace(sub)
        ft = lambda t: None if t is None else tuple(f(e) for e in t)
        return TimePotential(self.variables, f(self.potential), ft(self.gradient), self.dual_variables,
                             f(self.dual), ft(self.dual_gradient), self.parameter, self.reading,
                             self.origin, self.coordinate, self.method)


@dataclass(frozen=True)
class Effect:
    r"""One of the three effects of decay on the bias (Jacobs et al. 2025, Sec. 3), computed:

    * ``kind="position"``: :math:`\arg\min R_a = \nabla Q_a(0)` as a function of ``a``;
    * ``kind="type"``: :math:`\lim_{A\to\infty} R_{-A}(w)/A` (``value``, an :math:`\ell_1`-type term);
    * ``kind="range"``: the dual domain of :math:`Q_a` as ``(lo(a), hi(a))`` and ``verdict``
      ``"widening"``, ``"shrinking"`` or ``"unbounded"`` as the decay accumulates.
    """

    kind: str
    value: object
    verdict: str = ""
    origin: str = "derived"
    coordinate: bool = True
    note: str = ""


@dataclass(frozen=True)
class Erratum:
    r"""A paper's claim as printed, expected to be refuted (symbolically and numerically);
    ``correction`` names the claim that passes instead."""

    claim: object
    source: str
    note: str = ""
    correction: str = ""


@dataclass(frozen=True)
class DecayOff:
    r"""A claim about the same model with the regularizer switched off (:math:`\lambda \equiv 0`):
    checked symbolically on the decay-free model and numerically on its flow. A claim *not*
    wrapped is a statement about the model as stated, regularizer included: a plain law must
    then be conserved along the regularized flow, and a plain (time-independent) mirror
    potential cannot be judged there (state a :class:`TimePotential`)."""

    claim: object


@dataclass(frozen=True)
class Control(Erratum):
    r"""A negative control: a wrong claim (another convention's factor, a frozen potential, an
    inadmissible regularizer declared admissible) that the checker must refute."""


@dataclass(frozen=True)
class RegularizedDerivation(Derivation):
    r"""A :class:`~theory.claims.Derivation` of a model with an explicit regularizer:
    the decay-free laws and law count, plus admissibility of :math:`(G, h)`, decaying laws,
    the time-dependent potential (or why there is none), the effects and the schedule."""

    admissibility: Admissibility | None = None
    decaying: tuple = ()                # ((DecayingLaw, Proof), ...)
    time_potential: tuple | object = None  # (TimePotential, Proof) or NoMirror
    effects: tuple = ()                 # ((Effect, Proof), ...)
    schedule: object = None             # schedules.ScheduleInfo

    @property
    def potential(self):
        return None

    @property
    def claims(self) -> tuple:
        # the derived laws are laws of the decay-free flow: they say so
        out = [(DecayOff(h), pr) for h, pr in self.laws] + list(self.decaying)
        if isinstance(self.time_potential, tuple):
            out.append(self.time_potential)
        out.extend(self.limits)
        out.extend(self.effects)
        return tuple(out)
