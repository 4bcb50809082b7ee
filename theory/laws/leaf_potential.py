r"""Potentials on the leaf through :math:`x_0` when no mirror potential exists for every start.

Weight normalization has no mirror potential (its fields do not commute), but on the leaf
through a symmetric start the flow is a *time-changed* mirror flow of the plain diagonal network
at a scale that moves with the state (derived in ``docs/weightnorm.md``, consistent with Chou,
Rauhut, Ward, arXiv 2305.05448):

* **time-changed mirror identity** (:class:`TimeChangedMirror`): per coordinate
  :math:`\phi_i(x)` with :math:`\frac{d}{dt}\phi_i = -\lambda_i(x)\,\partial_i L` for every loss,
  i.e. :math:`J_\phi M J_G^\top = \mathrm{diag}(\lambda_i)`, where the ratios
  :math:`\lambda_i/\lambda_1` are laws equal to 1 at :math:`x_0`. Then
  :math:`\phi(x(t)) - \phi(x_0) = -\int_0^t\lambda\,X^\top(Xw - y)\,dt \in \mathrm{range}(X^\top)`:
  the plain mirror identity with the dual run on the clock :math:`\int\lambda\,dt`. For
  :math:`x = u^{L} - v^{L}`: :math:`\phi_i = \tfrac12\log(u_i/v_i) = \tfrac12\mathrm{asinh}
  (x_i/(2u_iv_i))` (L = 2) and :math:`\phi_i = (v_i^{2-L} - u_i^{2-L})/(v_i^{2-L} + u_i^{2-L})
  = h_L^{-1}\bigl(x_i (c_i/2)^{L/(L-2)}\bigr)`, :math:`c_i = u_i^{2-L} + v_i^{2-L}` (L > 2);
* **effective scale** (:class:`EffectiveScale`): the plain network's law at scale :math:`a`,
  :math:`u_i^{2-L} + v_i^{2-L} = 2a^{2-L}` (:math:`u_iv_i = a^2` for L = 2), holds along the flow
  with :math:`a = \alpha_{\mathrm{eff}}(x) = \alpha\,(r/r_0)\,
  e^{-\rho(r^2 - r_0^2)/2}`, :math:`\rho = \eta_s/(\eta_r\|s\|^2)`, the same form for every L.
  With the time-changed mirror identity, the limit is :math:`\arg\min Q^L_{a}` s.t. :math:`Xx = y`
  at :math:`a = \alpha_{\mathrm{eff}}(x_\infty)`, a potential parameter read from the final state.

Proofs go through :func:`theory.laws.search.prove_law` and :func:`theory.proving.zero.check_identity`.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..claims import Proof
from ..proving.zero import check_identity
from ..mirror import _combine


@dataclass(frozen=True)
class EffectiveScale:
    r""":math:`g_i(x) = g_{\text{plain}}(\alpha_{\text{eff}}(x))` along the flow from :math:`x_0`.

    ``scale``: :math:`\alpha_{\text{eff}}(x)` in parameters and constants; ``invariants``: the
    plain network's per-coordinate law in the model's parameters (:math:`c_i(x)`); ``plain``:
    its value at scale ``a`` (a function of the symbol ``a``); ``depth`` L; ``dual_gradient``:
    the plain potential's :math:`\nabla Q_a(\mu)` (SymPy, in ``mu`` and ``a``) the limit is
    compared with; ``origin`` as for every claim.
    """

    scale: sp.Expr
    invariants: tuple
    plain: sp.Expr
    a: sp.Symbol
    depth: int
    dual_gradient: sp.Expr
    mu: sp.Symbol
    origin: str = "user"
    name: str = "effective scale"


@dataclass(frozen=True)
class TimeChangedMirror:
    r""":math:`J_\phi M J_G^\top = \mathrm{diag}(\lambda_i)` with :math:`\lambda_i/\lambda_1` laws equal
    to 1 at :math:`x_0`: :math:`\phi(x(t)) - \phi(x_0) \in \mathrm{range}(X^\top)` along the flow."""

    phi: tuple
    origin: str = "user"
    name: str = "time-changed mirror identity"


def _law_form(p, h) -> sp.Expr:
    return sp.sympify(h)


def prove_effective_scale(p, claim: EffectiveScale) -> Proof:
    r"""Each :math:`H_i = \log c_i(x) - \log g_{\text{plain}}(\alpha_{\text{eff}}(x))` is a law
    (:math:`J_G M\nabla H_i = 0`) and :math:`H_i(x_0) = 0`: then :math:`c_i = g_{\text{plain}}
    (\alpha_{\text{eff}})` on the whole trajectory from :math:`x_0`."""
    from .search import prove_law

    at0 = dict(zip(p.params, p.init))
    proofs = []
    for c in claim.invariants:
        H = sp.log(c) - sp.log(claim.plain.xreplace({claim.a: claim.scale}))
        proofs.append(prove_law(p, H))
        proofs.append(check_identity([sp.expand_log(H.xreplace(at0), force=True)], "H_i(x_0) = 0"))
    return _combine(proofs, r"\log c_i(x) = \log c_{\mathrm{plain}}(\alpha_{\mathrm{eff}}(x)):\ "
                            r"J_G M\nabla H_i = 0,\ H_i(x_0) = 0")


def prove_time_changed_mirror(p, claim: TimeChangedMirror) -> Proof:
    r"""Off-diagonal entries of :math:`J_\phi M J_G^\top` vanish, the ratios
    :math:`\lambda_i/\lambda_1` of its diagonal are laws, and they equal 1 at :math:`x_0`."""
    from .search import prove_law

    phi = sp.Matrix(list(claim.phi))
    Jphi = phi.jacobian(sp.Matrix(list(p.params)))
    K = Jphi * p.metric_matrix() * p.jacobian().T
    n = K.rows
    off = [K[i, j] for i in range(n) for j in range(n) if i != j]
    proofs = [check_identity(off, r"(J_\phi M J_G^\top)_{ij} = 0,\ i \ne j")] if off else []
    at0 = dict(zip(p.params, p.init))
    for i in range(1, n):
        ratio = sp.cancel(sp.together(K[i, i] / K[0, 0]))
        proofs.append(prove_law(p, ratio))
        proofs.append(check_identity([ratio.xreplace(at0) - 1], r"\lambda_i(x_0) = \lambda_1(x_0)"))
    return _combine(proofs, r"\frac{d}{dt}\phi = -\mathrm{diag}(\lambda)\nabla L,\ "
                            r"\lambda_i/\lambda_1 \text{ laws, } = 1 \text{ at } x_0")



# ---- registry: family claims that are not laws or potentials -------------------------------------
_REGISTRY: dict = {}


def register(name: str, build) -> None:
    """Attach ``build(p) -> (claim, ...)`` to the model called ``name`` (a catalog module does this)."""
    _REGISTRY[name] = build


def claims_for(p) -> tuple:
    """The registered family claims of ``p`` (empty when none)."""
    build = _REGISTRY.get(p.name)
    return tuple(build(p)) if build is not None else ()


def prove(p, claim) -> Proof:
    if isinstance(claim, EffectiveScale):
        return prove_effective_scale(p, claim)
    if isinstance(claim, TimeChangedMirror):
        return prove_time_changed_mirror(p, claim)
    raise TypeError(f"not a leaf claim: {type(claim).__name__}")
