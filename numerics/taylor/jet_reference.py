r"""Reference Taylor backend: mpmath ``mpf``, a direct interpreter of the recurrences.

Slow and plain on purpose: every recurrence is written as its textbook sum so that the fast
backend can be checked against it.  With :math:`x_k` the k-th Taylor coefficient of node x
(Jorba & Zou 2005, §3; Moore 1966):

.. math::
   (ab)_k = \sum_{j=0}^k a_j b_{k-j},\qquad
   q = a/b:\ q_k = \Bigl(a_k - \sum_{j=1}^k b_j q_{k-j}\Bigr)/b_0,\qquad
   e = \exp a:\ e_k = \tfrac1k \sum_{j=1}^k j a_j e_{k-j},

   s=\sin a,\ c=\cos a:\ s_k = \tfrac1k\sum_{j=1}^k j a_j c_{k-j},\ c_k = -\tfrac1k\sum_{j=1}^k j a_j s_{k-j},
   \qquad r = a^\alpha:\ r_k = \frac{1}{k a_0}\sum_{j=0}^{k-1}\bigl(\alpha(k-j) - j\bigr) a_{k-j} r_j,

   \sqrt a:\ s_k = \Bigl(a_k - \sum_{j=1}^{k-1} s_j s_{k-j}\Bigr)/(2 s_0),\qquad
   t' = a'/b:\ t_k = \Bigl(a_k - \tfrac1k\sum_{j=1}^{k-1} j t_j b_{k-j}\Bigr)/b_0,\qquad
   t = \tanh a:\ t_k = \tfrac1k\sum_{j=1}^k j a_j w_{k-j},\ w = 1 - t^2.
"""
from __future__ import annotations

import mpmath

from .decompose import DINT, Program
from .jets import Backend, exact_to_mpf, register

_F0 = {"exp": mpmath.exp, "sin": mpmath.sin, "cos": mpmath.cos, "sinh": mpmath.sinh,
       "cosh": mpmath.cosh, "tanh": mpmath.tanh, "sqrt": mpmath.sqrt, "log": mpmath.log,
       "atan": mpmath.atan, "asinh": mpmath.asinh, "asin": mpmath.asin, "atanh": mpmath.atanh}


def _dot(xs, ys):
    return mpmath.fsum(x * y for x, y in zip(xs, ys))


class _ReferenceJet:
    def __init__(self, program: Program, prec: int):
        self.p = program
        self.prec = prec
        self.value = [None if n.value is None or n.op == "state" else exact_to_mpf(n.value, prec)
                      for n in program.nodes]
        self.coeffs = [tuple(exact_to_mpf(c, prec) for c in n.coeffs) for n in program.nodes]

    def __call__(self, t0, y0, K):
        p, nodes = self.p, self.p.nodes
        s = [[] for _ in nodes]          # Taylor coefficients of every node
        aux = {}                         # w = 1 - tanh^2 for tanh nodes
        for i, st in enumerate(p.states):
            s[st].append(y0[i])
        for k in range(K):
            for i, n in enumerate(nodes):
                if n.op != "state":
                    s[i].append(self.coefficient(i, n, k, s, aux, t0))
            for st, out in zip(p.states, p.outputs):
                s[st].append(s[out][k] / (k + 1))
        return [s[st] for st in p.states]

    def coefficient(self, i, n, k, s, aux, t0):
        op, a = n.op, (s[n.args[0]] if n.args else None)
        if op == "const":
            return self.value[i] if k == 0 else mpmath.mpf(0)
        if op == "time":
            return t0 if k == 0 else mpmath.mpf(1 if k == 1 else 0)
        if op == "lin":
            v = _dot(self.coeffs[i], [s[j][k] for j in n.args])
            return v + self.value[i] if k == 0 else v
        if op in ("mul", "sq"):
            b = s[n.args[1]] if op == "mul" else a
            return _dot(a[: k + 1], b[k::-1])
        if op == "div":
            b, q = s[n.args[1]], s[i]
            return (a[k] - _dot(b[1 : k + 1], q[k - 1 :: -1] if k else [])) / b[0]
        if k == 0:
            if op == "pow":
                return a[0] ** self.value[i]
            v = _F0[op](a[0])
            if op == "tanh":
                aux[i] = [1 - v * v]
            return v
        ja = [j * a[j] for j in range(k + 1)]                    # coefficients of t * a'(t)
        if op == "exp":
            return _dot(ja[1:], s[i][k - 1 :: -1]) / k
        if op in ("sin", "cos", "sinh", "cosh"):
            other = _dot(ja[1:], s[n.partner][k - 1 :: -1]) / k
            return -other if op == "cos" else other
        if op == "tanh":
            w = aux[i]
            t = _dot(ja[1:], w[k - 1 :: -1]) / k
            tt = s[i] + [t]
            w.append(-_dot(tt[: k + 1], tt[k::-1]))
            return t
        if op == "pow":
            r, al = s[i], self.value[i]
            return _dot([al * (k - j) - j for j in range(k)], [a[k - j] * r[j] for j in range(k)]) / (k * a[0])
        if op == "sqrt":
            r = s[i]
            return (a[k] - _dot(r[1:k], r[k - 1 : 0 : -1])) / (2 * r[0])
        if op in DINT:
            b, t = s[n.args[1]], s[i]
            jt = [j * t[j] for j in range(k)]
            return (a[k] - _dot(jt[1:], b[k - 1 : 0 : -1]) / k) / b[0]
        raise AssertionError(f"unknown node kind {op}")


class ReferenceBackend(Backend):
    """mpmath ``mpf`` arithmetic; precision through ``mpmath.workprec`` (entered by the caller)."""

    name = "reference"

    def context(self, prec: int):
        return mpmath.workprec(prec)

    def from_mpf(self, x):
        return +mpmath.mpf(x)

    def to_mpf(self, x):
        return x

    def compile(self, program: Program, prec: int):
        return _ReferenceJet(program, prec)


register(ReferenceBackend())
