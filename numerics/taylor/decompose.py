r"""An :class:`~numerics.taylor.odes.ODESystem` as a straight-line program for Taylor arithmetic.

Every right-hand side becomes a sequence of elementary *nodes* (constants, states, time, linear
combinations, products, quotients, powers and elementary functions), each referring only to
earlier nodes, so that the Taylor coefficients of the solution can be generated one order at a
time by the classical recurrences of automatic differentiation (Moore 1966; Jorba & Zou 2005,
§3).  Common subexpressions are shared (hash-consing), and sums with constant coefficients
:math:`\sum_k c_k a_k + c` are kept as *one* ``lin`` node: least-squares flows are mostly linear
maps (:math:`r = Xw - y`, :math:`g = X^\top r`), whose cost is then one dot product per order.

Elementary functions whose derivative is :math:`a'/b` (``log``, ``atan``, ``asinh``, ``asin``,
``atanh``) carry the node of :math:`b` as their second argument, so one recurrence serves them all:

.. math:: t' = a'/b \;\Rightarrow\; k\,t_k b_0 = k\,a_k - \sum_{j=1}^{k-1} j\,t_j\,b_{k-j}.

Constants stay exact SymPy numbers here; the backends evaluate them at their working precision.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sympy as sp

from ..errors import ProblemError
from .odes import ODESystem

#: Node kinds and their arguments (indices of earlier nodes unless noted).
OPS = {
    "const": "value = exact constant",
    "state": "value = index of the state",
    "time": "the time variable",
    "lin": "sum(coeffs[i] * args[i]) + value",
    "mul": "args[0] * args[1]",
    "sq": "args[0] ** 2",
    "div": "args[0] / args[1]",
    "pow": "args[0] ** value (real constant exponent)",
    "sqrt": "sqrt(args[0])",
    "exp": "exp(args[0])",
    "sin": "sin(args[0]); partner = its cos node",
    "cos": "cos(args[0]); partner = its sin node",
    "sinh": "sinh(args[0]); partner = its cosh node",
    "cosh": "cosh(args[0]); partner = its sinh node",
    "tanh": "tanh(args[0])",
    "log": "log(a), a' / a      (args = (a, a))",
    "atan": "atan(a), a' / (1 + a^2)   (args = (a, 1 + a^2))",
    "asinh": "asinh(a), a' / sqrt(1 + a^2)",
    "asin": "asin(a), a' / sqrt(1 - a^2)",
    "atanh": "atanh(a), a' / (1 - a^2)",
}
#: Nodes whose recurrence is t' = a'/b (second argument b).
DINT = ("log", "atan", "asinh", "asin", "atanh")


class UnsupportedExpression(ProblemError):
    """The right-hand side uses a function or number the Taylor backends cannot expand."""


@dataclass(frozen=True)
class Node:
    """One assignment of the program (see :data:`OPS`)."""

    op: str
    args: tuple = ()
    coeffs: tuple = ()        # 'lin': exact coefficient of each argument
    value: object = None      # 'const' value, 'lin' additive constant, 'pow' exponent, 'state' index
    partner: int | None = None  # sin<->cos, sinh<->cosh


@dataclass(frozen=True)
class Program:
    """Straight-line program of an ODE :math:`\\dot y = f(t, y)`; ``outputs[i]`` is the node of f_i."""

    nodes: tuple
    states: tuple             # node index of each state
    outputs: tuple            # node index of each right-hand side
    time: int | None          # node index of the time (None if f does not depend on t)
    names: tuple              # state names, for messages
    key: str                  # sha256 of the program (cache key of compiled backends)

    def count(self) -> dict:
        """Number of nodes of each kind (and of linear terms) -- for profiles and reports."""
        out: dict = {}
        for n in self.nodes:
            out[n.op] = out.get(n.op, 0) + 1
        out["lin_terms"] = sum(len(n.args) for n in self.nodes if n.op == "lin")
        return out


def _num_key(c) -> str:
    if isinstance(c, sp.Rational):
        return f"{c.p}/{c.q}"
    return sp.srepr(c)


class _Builder:
    def __init__(self, system: ODESystem):
        self.system = system
        self.nodes: list = []
        self.index: dict = {}
        self.memo: dict = {}
        self.symbols: dict = {}
        self.time = None
        for i, s in enumerate(system.states):
            self.symbols[s] = self.add(Node("state", value=i))
        if system.time is not None:
            self.time = self.add(Node("time"))
            self.symbols[system.time] = self.time

    # -- hash-consing ------------------------------------------------------------------------
    def add(self, node: Node) -> int:
        key = (node.op, node.args, tuple(_num_key(c) for c in node.coeffs),
               None if node.value is None else _num_key(sp.sympify(node.value)))
        i = self.index.get(key)
        if i is None:
            i = len(self.nodes)
            self.nodes.append(node)
            self.index[key] = i
        return i

    def const(self, c) -> int:
        return self.add(Node("const", value=self.exact(c)))

    def exact(self, c):
        if isinstance(c, sp.Rational):  # the common case (data, rates), without tree walks
            return c
        c = sp.sympify(c)
        if c.has(sp.Float):
            raise UnsupportedExpression(
                f"{self.system.name or 'ODE'}: inexact Float constant {c} -- use an exact Rational "
                "(a double-precision value would cap the accuracy at ~16 digits)")
        if c.has(sp.I) or c.is_real is False:
            raise UnsupportedExpression(f"{self.system.name or 'ODE'}: non-real constant {c}")
        return c

    # -- linear forms --------------------------------------------------------------------------
    def linear(self, e) -> tuple[dict, object]:
        """``e`` as ({node: coefficient}, constant), flattening nested sums in one expression."""
        if e.is_number:
            return {}, self.exact(e)
        if isinstance(e, sp.Add):
            terms: dict = {}
            c0 = sp.Integer(0)
            for a in e.args:
                t, c = self.linear(a)
                c0 += c
                for k, v in t.items():
                    terms[k] = terms.get(k, 0) + v
            return {k: v for k, v in terms.items() if v != 0}, c0
        if isinstance(e, sp.Mul):
            num = [f for f in e.args if f.is_number]
            rest = [f for f in e.args if not f.is_number]
            if num:
                c = self.exact(sp.Mul(*num))
                r = sp.Mul(*rest)
                t, c0 = self.linear(r)
                return {k: c * v for k, v in t.items()}, c * c0
        return {self.node(e): sp.Integer(1)}, sp.Integer(0)

    def lin(self, terms: dict, c0) -> int:
        terms = {k: v for k, v in terms.items() if v != 0}
        if not terms:
            return self.const(c0)
        if c0 == 0 and len(terms) == 1:
            (k, v), = terms.items()
            if v == 1:
                return k
        args = tuple(sorted(terms))
        return self.add(Node("lin", args, tuple(self.exact(terms[a]) for a in args), self.exact(c0)))

    # -- products and powers -------------------------------------------------------------------
    def mul(self, a: int, b: int) -> int:
        if a == b:
            return self.add(Node("sq", (a,)))
        return self.add(Node("mul", (min(a, b), max(a, b))))

    def ipow(self, a: int, n: int) -> int:
        if n == 1:
            return a
        if n % 2 == 0:
            h = self.ipow(a, n // 2)
            return self.add(Node("sq", (h,)))
        return self.mul(self.ipow(a, n - 1), a)

    def product(self, factors: list) -> int:
        out = None
        for f in sorted(factors):
            out = f if out is None else self.mul(out, f)
        return out

    def power(self, base, e) -> int:
        if e.is_number:
            e = self.exact(e)
            if e.is_Integer:
                n = int(e)
                if n == 0:
                    return self.const(1)
                p = self.ipow(self.node(base), abs(n))
                return p if n > 0 else self.add(Node("div", (self.const(1), p)))
            if e == sp.Rational(1, 2):
                return self.add(Node("sqrt", (self.node(base),)))
            if e == -sp.Rational(1, 2):
                return self.add(Node("div", (self.const(1), self.add(Node("sqrt", (self.node(base),))))))
            return self.add(Node("pow", (self.node(base),), value=e))
        if base.is_number:  # b**x = exp(log(b) x); build it by hand (SymPy folds exp(x log 2) back)
            lb = self.exact(sp.log(base))
            t, c0 = self.linear(e)
            return self.add(Node("exp", (self.lin({k: lb * v for k, v in t.items()}, lb * c0),)))
        lg = self.dint("log", self.node(base))
        return self.add(Node("exp", (self.mul(self.node(e), lg),)))

    def dint(self, op: str, a: int) -> int:
        if op == "log":
            b = a
        else:
            a2 = self.add(Node("sq", (a,)))
            if op == "atan":
                b = self.lin({a2: sp.Integer(1)}, 1)
            elif op == "atanh":
                b = self.lin({a2: sp.Integer(-1)}, 1)
            elif op == "asinh":
                b = self.add(Node("sqrt", (self.lin({a2: sp.Integer(1)}, 1),)))
            else:  # asin
                b = self.add(Node("sqrt", (self.lin({a2: sp.Integer(-1)}, 1),)))
        return self.add(Node(op, (a, b)))

    def pair(self, first: str, second: str, a: int, want: str) -> int:
        i = self.index.get((first, (a,), (), None))
        if i is None:
            i = len(self.nodes)
            self.nodes.append(Node(first, (a,), partner=i + 1))
            self.index[(first, (a,), (), None)] = i
            self.nodes.append(Node(second, (a,), partner=i))
            self.index[(second, (a,), (), None)] = i + 1
        return i if want == first else i + 1

    # -- the general case ----------------------------------------------------------------------
    def node(self, e) -> int:
        e = sp.sympify(e)
        hit = self.memo.get(e)
        if hit is not None:
            return hit
        i = self._node(e)
        self.memo[e] = i
        return i

    def _node(self, e) -> int:
        if e.is_Symbol:
            if e in self.symbols:
                return self.symbols[e]
            raise UnsupportedExpression(f"{self.system.name or 'ODE'}: undefined symbol {e}")
        if e.is_number:
            return self.const(e)
        if isinstance(e, sp.Add) or (isinstance(e, sp.Mul) and any(f.is_number for f in e.args)):
            return self.lin(*self.linear(e))
        if isinstance(e, sp.Mul):
            num, den = [], []
            for f in e.args:
                if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp < 0:
                    den.append(self.ipow(self.node(f.base), int(-f.exp)))
                else:
                    num.append(self.node(f))
            top = self.product(num) if num else self.const(1)
            return self.add(Node("div", (top, self.product(den)))) if den else top
        if isinstance(e, sp.Pow):
            return self.power(e.base, e.exp)
        if isinstance(e, sp.exp):
            return self.add(Node("exp", (self.node(e.args[0]),)))
        if isinstance(e, sp.log):
            if len(e.args) != 1:
                raise UnsupportedExpression(f"log with a base: {e}")
            return self.dint("log", self.node(e.args[0]))
        if isinstance(e, (sp.sin, sp.cos)):
            return self.pair("sin", "cos", self.node(e.args[0]), type(e).__name__)
        if isinstance(e, (sp.sinh, sp.cosh)):
            return self.pair("sinh", "cosh", self.node(e.args[0]), type(e).__name__)
        if isinstance(e, sp.tanh):
            return self.add(Node("tanh", (self.node(e.args[0]),)))
        for cls, op in ((sp.atan, "atan"), (sp.asinh, "asinh"), (sp.asin, "asin"), (sp.atanh, "atanh")):
            if isinstance(e, cls):
                return self.dint(op, self.node(e.args[0]))
        name = e.func.__name__ if hasattr(e, "func") else type(e).__name__
        raise UnsupportedExpression(
            f"{self.system.name or 'ODE'}: the Taylor integrator cannot expand {name} (in {e}); "
            f"supported: + - * /, powers, sqrt, exp, log, sin, cos, sinh, cosh, tanh, atan, asinh, "
            f"asin, atanh")


def _digest(nodes, states, outputs, time) -> str:
    h = hashlib.sha256()
    for n in nodes:
        h.update(repr((n.op, n.args, tuple(_num_key(c) for c in n.coeffs),
                       None if n.value is None else _num_key(sp.sympify(n.value)), n.partner)).encode())
    h.update(repr((states, outputs, time)).encode())
    return h.hexdigest()


def decompose(system: ODESystem) -> Program:
    """The straight-line :class:`Program` of ``system`` (intermediates become shared nodes)."""
    if not isinstance(system, ODESystem):
        raise ProblemError(f"decompose expects an ODESystem, got {type(system).__name__}")
    b = _Builder(system)
    for s, e in system.intermediates:
        b.symbols[s] = b.node(e)
    outputs = tuple(b.node(e) for e in system.rhs)
    states = tuple(range(len(system.states)))
    nodes = tuple(b.nodes)
    return Program(nodes, states, outputs, b.time, tuple(str(s) for s in system.states),
                   _digest(nodes, states, outputs, b.time))
