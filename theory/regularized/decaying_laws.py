r"""Decaying laws: quantities that are conserved without decay and evolve in closed form in
the cumulative decay :math:`A_t = \int_0^t\lambda` with it.

For a law :math:`q` of the decay-free flow (:math:`J_G M\nabla q = 0`), along
:math:`\dot x = -M(J_G^\top\nabla L + \lambda\nabla h)`

.. math:: \frac{d}{dt} q(x) = -\lambda(t)\,\Phi(x),\qquad \Phi := \nabla q^\top M\nabla h,

so :math:`q` is a function of :math:`A_t` alone, for every loss and schedule, whenever
:math:`\Phi = \varphi(q)`. The engine tries :math:`\varphi(q) = c\,q + d` (constants :math:`c, d`
found by exact linear solves at rational points, then proved), giving
:math:`q(x(t)) = (q_0 + d/c)e^{-cA_t} - d/c` (:math:`c \ne 0`) or :math:`q_0 - dA_t` (:math:`c = 0`).
E.g. :math:`m^2 - w^2` for :math:`x = m\odot w`, :math:`h = \|m\|^2 + \|w\|^2`: :math:`c = 4`;
:math:`u^{-2} + v^{-2}` for :math:`u^4 - v^4`, :math:`h = u^4 + v^4`: :math:`c = 0`, :math:`d = -16`.

Proof of a claim :math:`q(x(t)) = F(A_t, q_0)` (derived or stated), with
:math:`\varphi(h_0) := -\partial_A F(0, h_0)`: (a) :math:`q` is a law of the decay-free flow;
(b) :math:`\Phi(x) - \varphi(q(x)) \equiv 0`; (c) :math:`\partial_A F + \varphi(F) \equiv 0`;
(d) :math:`F(0, h_0) = h_0`. Then :math:`q(x(t))` and :math:`F(A_t, q_0)` solve the same
scalar ODE in :math:`A` from the same value (uniqueness; :math:`A_t` is nondecreasing, and
where :math:`\lambda = 0` both stand still).

PyTorch's convention: ``weight_decay=wd`` adds :math:`wd\,x` to the gradient, i.e.
:math:`\lambda\nabla h = wd\,x`; for :math:`h = \kappa\|x\|^2` this is :math:`\lambda = wd/(2\kappa)`,
so :math:`A = W/(2\kappa)` with :math:`W = \int_0^t wd`. For :math:`h = \|x\|^2`: :math:`e^{-4A} = e^{-2W}`.
"""
from __future__ import annotations

import random

import sympy as sp

from ..claims import Proof
from ..errors import IbcheckError
from ..mirror import _combine, domain_constraints
from ..parameterization import Parameterization
from ..proving.zero import check_identity, sample_point
from .admissibility import extended_template
from .records import A, H0, DecayingLaw


def lie_derivative(p: Parameterization, q, coordinate: bool) -> sp.Expr:
    r""":math:`\Phi = \nabla q^\top M \nabla h` on the template (``coordinate``) or the model."""
    tpl = extended_template(p)
    if coordinate and not tpl.coordinate:
        raise IbcheckError(f"{p.name}: a per-coordinate law needs a separable model with a template "
                           "regularizer (Coordinate(..., regularizer=...))")
    if coordinate:
        params, Vh = tpl.params, tpl.regularizer_field()
    else:
        params = tuple(p.params)
        Vh = p.metric_matrix() * sp.Matrix([p.regularizer]).jacobian(sp.Matrix(params)).T
    grad = sp.Matrix([sp.diff(q, x) for x in params])
    return sp.expand((grad.T * Vh)[0, 0])


def closed_form(c, d) -> sp.Expr:
    r""":math:`F(A, h_0)` solving :math:`dF/dA = -(cF + d)`, :math:`F(0) = h_0`."""
    c, d = sp.sympify(c), sp.sympify(d)
    if c == 0:
        return H0 - d * A
    return sp.simplify((H0 + d / c) * sp.exp(-c * A) - d / c)


def find_decaying(p: Parameterization, law, coordinate: bool):
    r"""``(c, d)`` with :math:`\Phi = c\,q + d` (constants), or ``None``."""
    Phi = lie_derivative(p, law, coordinate)
    tpl = extended_template(p)
    params = tpl.params if coordinate else tuple(p.params)
    c, d = sp.symbols("c_ d_")
    rng = random.Random(5)
    eqs = []
    for _ in range(3):
        try:
            pt = sample_point(params, rng, domain_constraints(p))
        except ValueError:
            return None
        qv, fv = sp.sympify(law).xreplace(pt), Phi.xreplace(pt)
        if qv.has(sp.zoo, sp.nan) or fv.has(sp.zoo, sp.nan):
            continue
        eqs.append(sp.Eq(fv, c * qv + d))
    sol = sp.solve(eqs, [c, d], dict=True)
    if len(sol) != 1 or len(sol[0]) != 2:
        return None
    cv, dv = sp.simplify(sol[0][c]), sp.simplify(sol[0][d])
    if (cv.free_symbols | dv.free_symbols) & set(params):
        return None
    if sp.simplify(sp.expand(Phi - cv * law - dv)) != 0:
        return None
    return cv, dv


def derive_decaying_laws(p: Parameterization, laws) -> tuple:
    r"""``((DecayingLaw, Proof), ...)`` for each decay-free law (a
    :class:`~theory.claims.ConservedQuantity`) whose drift closes affinely (module doc)."""
    out = []
    for law in laws:
        found = find_decaying(p, law.expr, law.coordinate)
        if found is None:
            continue
        c, d = found
        claim = DecayingLaw(law.expr, closed_form(c, d), origin="derived", coordinate=law.coordinate,
                            method=f"d q/dA = -({c}) q - ({d})")
        out.append((claim, prove_decaying_law(p, claim)))
    return tuple(out)


def pytorch_scale(p: Parameterization) -> sp.Expr:
    r""":math:`2\kappa` with :math:`\lambda\nabla h = wd\,x` when :math:`h = \kappa\|x\|^2` and
    :math:`M = I` (so :math:`A = W/(2\kappa)`); refuses other regularizers."""
    if p.metric is not None and sp.Matrix(p.metric) != sp.eye(p.dim):
        raise IbcheckError(f"{p.name}: PyTorch's weight_decay matches ibcheck's flow only with the identity metric")
    h = sp.expand(p.regularizer)
    kappa = sp.simplify(h / sum(x**2 for x in p.params))
    if kappa.free_symbols & set(p.params) or not kappa.is_positive:
        raise IbcheckError(f"{p.name}: h = {p.regularizer} is not kappa*||x||^2: PyTorch's weight_decay "
                           "(wd*x added to the gradient) is not this regularizer")
    return 2 * kappa


def to_pytorch(p: Parameterization, claim: DecayingLaw) -> DecayingLaw:
    r"""The same law with :math:`A` replaced by :math:`W/(2\kappa)`, :math:`W = \int wd` (module doc)."""
    if claim.convention == "pytorch":
        return claim
    s = pytorch_scale(p)
    return DecayingLaw(claim.expr, sp.simplify(claim.closed_form.xreplace({A: A / s})), claim.origin,
                       claim.coordinate, claim.method + f"; PyTorch: A = W/{s}", "pytorch")


def in_ibcheck_convention(p: Parameterization, claim: DecayingLaw) -> sp.Expr:
    """The claim's :math:`F(A, h_0)` in ibcheck's :math:`A` (PyTorch's :math:`W = 2\\kappa A`)."""
    if claim.convention == "ibcheck":
        return sp.sympify(claim.closed_form)
    if claim.convention != "pytorch":
        raise IbcheckError(f"unknown convention {claim.convention!r}; use 'ibcheck' or 'pytorch'")
    return sp.sympify(claim.closed_form).xreplace({A: pytorch_scale(p) * A})


def prove_decaying_law(p: Parameterization, claim: DecayingLaw) -> Proof:
    """(a)-(d) of the module doc; the first failing identity is reported with its witness."""
    from ..laws import prove_law

    F = in_ibcheck_convention(p, claim)
    q = sp.sympify(claim.expr)
    extra = F.free_symbols - {A, H0} - set(p.constants)
    if extra:
        raise IbcheckError(f"{p.name}: the closed form {claim.closed_form} uses {sorted(map(str, extra))}; "
                           "write it in A (cumulative decay), h_0 (initial value) and the constants")
    phi = sp.simplify(-sp.diff(F, A).xreplace({A: 0}))
    Phi = lie_derivative(p, q, claim.coordinate)
    cons = domain_constraints(p)
    proofs = [prove_law(p, q, coordinate=claim.coordinate),
              check_identity([sp.expand(Phi - phi.xreplace({H0: q}))],
                             r"\nabla q^\top M\nabla h = \varphi(q)", constraints=cons),
              check_identity([sp.diff(F, A) + phi.xreplace({H0: F})],
                             r"\partial_A F + \varphi(F) = 0", constraints=cons),
              check_identity([F.xreplace({A: 0}) - H0], "F(0, h_0) = h_0", constraints=cons)]
    return _combine(proofs, f"decaying law {q} = {claim.closed_form} ({claim.convention} convention)")
