r"""The pullback :math:`J_G(x)^\top g` of a gradient flow by reverse accumulation.

The flow :math:`\dot x = -M J_G(x)^\top g` needs, per parameter, :math:`\sum_i \partial_k G_i(x)\,g_i`.
Differentiated symbolically term by term, a rational or algebraic map repeats its shared factors
in every term: for weight normalisation, :math:`w_i = r^2(a_i^2 - b_i^2)/\|(a,b)\|^2`, every
:math:`\partial_{a_j} w_i` carries its own quotient rule, and the Taylor jet pays each of them as a
series product or quotient at every order.

Reverse accumulation (Griewank & Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, §3.2)
names every distinct subexpression :math:`v_j` of :math:`G` and its adjoint

.. math:: \bar v_j = \sum_{u \,\ni\, v_j} \bar u\,\frac{\partial u}{\partial v_j},
          \qquad \bar w_i = g_i, \qquad \partial_k\langle g, G\rangle = \bar x_k,

so the pullback costs a small multiple of evaluating :math:`G` once (the cheap-gradient
principle, ibid. §4.6); the nodes and adjoints become intermediates of the ODE system, shared by
the Taylor program.  Used where it pays: outputs that are not polynomial in the parameters (a
quotient, a root, exp or log), every node an ``Add``, ``Mul``, ``Pow``, ``exp`` or ``log``.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

#: node kinds with a local rule (anything else: the direct differentiation of the caller)
_KINDS = (sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log)


@dataclass(frozen=True)
class Pullback:
    """``forward``: (symbol, node) assignments, each in earlier symbols and the parameters;
    ``outputs``: the outputs in those symbols; ``adjoints``: (symbol, adjoint) assignments, in the
    cotangent symbols too; ``gradient``: :math:`\\bar x_k` per parameter."""

    forward: tuple
    outputs: tuple
    adjoints: tuple
    gradient: tuple


def _partials(e, vargs, t) -> list:
    r"""The local partials :math:`\partial e/\partial a_i` in the arguments' symbols ``vargs``
    and the node's own symbol ``t`` (None: an argument that is a number)."""
    if isinstance(e, sp.Add):
        return [sp.Integer(1)] * len(vargs)
    if isinstance(e, sp.Mul):
        return [sp.Mul(*(vargs[:i] + vargs[i + 1:])) for i in range(len(vargs))]
    if isinstance(e, sp.exp):
        return [t]
    if isinstance(e, sp.log):
        return [1 / vargs[0]]
    b, p = vargs
    if p.is_number:
        # p b^(p-1), as p t / b where b != 0 wherever t = b^p is differentiable (p < 1, p != 0)
        if p.is_Integer and p > 0 or (p.is_extended_real and p > 1):
            return [p * b ** (p - 1), None]
        return [p * t / b, None]
    return [p * t / b, t * sp.log(b)]


def _free_prefix(prefix: str, taken: set) -> str:
    while any(name.startswith(prefix) for name in taken):
        prefix += "_"
    return prefix


def reverse_pullback(outputs, params, cotangents, *, taken=()) -> Pullback | None:
    r"""The pullback of ``outputs`` (expressions in ``params``) along ``cotangents`` (symbols) by
    reverse accumulation (module doc); ``None`` when it does not apply (polynomial outputs, whose
    direct derivatives share as well, or a node kind without a rule). ``taken``: names the new
    symbols must avoid."""
    params = tuple(params)
    pset = set(params)
    outs = [sp.sympify(o) for o in outputs]
    if all(o.is_polynomial(*params) for o in outs):
        return None
    order, index = [], {}

    def visit(e) -> bool:
        if e in index or e in pset or not (e.free_symbols & pset):
            return True
        if not isinstance(e, _KINDS):
            return False
        if not all(visit(a) for a in e.args):
            return False
        index[e] = len(order)
        order.append(e)
        return True

    if not all(visit(o) for o in outs):
        return None
    names = set(taken) | {s.name for s in params}
    pv, pa = _free_prefix("_pv", names), _free_prefix("_pa", names)
    V = [sp.Symbol(f"{pv}{j}", real=True) for j in range(len(order))]

    def val(a):
        return V[index[a]] if a in index else a

    forward = tuple((V[j], e.func(*[val(a) for a in e.args])) for j, e in enumerate(order))
    adj: dict = {}
    for o, g in zip(outs, cotangents):
        adj.setdefault(o, []).append(g)
    adjoints = []
    for j in range(len(order) - 1, -1, -1):  # reverse topological order: every parent first
        e = order[j]
        terms = adj.pop(e, None)
        if not terms:
            continue
        A = sp.Symbol(f"{pa}{j}", real=True)
        adjoints.append((A, sp.Add(*terms)))
        for a, d in zip(e.args, _partials(e, [val(a) for a in e.args], V[j])):
            if d is not None and (a in index or a in pset):
                adj.setdefault(a, []).append(A * d)
    return Pullback(forward, tuple(val(o) for o in outs), tuple(adjoints),
                    tuple(sp.Add(*adj.get(x, ())) for x in params))
