r"""Gradient flows of a parameterization as ODE systems (exact SymPy data, no floats).

For :math:`w = G(x)`, metric :math:`M`, loss :math:`L(w)` and an optional explicit
regularizer :math:`\lambda(t) h(x)`:

.. math::
   \dot x = -M\bigl(J_G(x)^\top g + \lambda(t)\nabla h(x)\bigr),\qquad g = \nabla L(w),
   \qquad \dot\mu = -g,

where :math:`\mu(t) = -\int_0^t \nabla L(w(s))\,ds` is carried along so that the mirror identity
:math:`\nabla R(w(t)) = \mu(t)` (with :math:`\nabla R(w_0) = 0`) can be checked directly. For least
squares :math:`L = \tfrac12\|Xw - y\|^2` the program keeps :math:`w`, :math:`r = Xw - y` and
:math:`g = X^\top r` as intermediates, so its size is linear in the model and the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import mpmath
import sympy as sp

from theory.parameterization import TIME, Parameterization

from .errors import ProblemError, SingularInitialization
from .taylor.jets import exact_to_mpf
from .problems import exact_number
from .pullback import reverse_pullback
from .taylor.odes import ODESystem


@dataclass(frozen=True)
class Flow:
    """A gradient flow ready to integrate, with the bookkeeping the checks need."""

    model: Parameterization       # with every constant replaced by its value
    system: ODESystem
    y0: tuple                     # exact initial state (x0, then mu0 = 0)
    params: tuple                 # the x states
    duals: tuple                  # the mu states (empty when not carried)
    outputs: tuple                # G(x) as expressions of the x states
    w_symbols: tuple
    X: tuple | None = None
    y: tuple | None = None
    loss: sp.Expr | None = None   # a general loss in w_symbols (None: least squares on X, y)
    values: tuple = ()            # ((constant, value or per-coordinate tuple), ...)

    def gradient_exprs(self) -> tuple:
        """grad L(w) as SymPy expressions in ``w_symbols`` (quadratic cost in n for least squares)."""
        if self.loss is not None:
            return tuple(sp.diff(self.loss, s) for s in self.w_symbols)
        n = len(self.w_symbols)
        r = [sp.Add(*[a * s for a, s in zip(row, self.w_symbols)]) - b for row, b in zip(self.X, self.y)]
        return tuple(sp.Add(*[row[i] * rj for row, rj in zip(self.X, r)]) for i in range(n))

    def gradient_function(self):
        """An mpmath callable ``grad(*w) -> list`` of grad L at the caller's precision; for least
        squares it computes r = Xw - y and X^T r with exact data rounded once per precision."""
        if self.loss is not None:
            return sp.lambdify(list(self.w_symbols), list(self.gradient_exprs()), modules="mpmath")
        X, y = self.X, self.y
        cache = {}

        def grad(*w):
            prec = mpmath.mp.prec
            if prec not in cache:
                conv = lambda v: exact_to_mpf(v, prec)
                Xm = [[conv(a) for a in row] for row in X]
                cache[prec] = (Xm, [list(col) for col in zip(*Xm)], [conv(b) for b in y])
            Xm, Xt, ym = cache[prec]
            r = [mpmath.fdot(row, w) - b for row, b in zip(Xm, ym)]
            return [mpmath.fdot(col, r) for col in Xt]

        return grad

    @property
    def x0(self) -> tuple:
        return self.y0[: len(self.params)]

    @property
    def w0(self) -> tuple:
        sub = dict(zip(self.params, self.x0))
        return tuple(sp.sympify(e).xreplace(sub) for e in self.outputs)


def instantiate(p: Parameterization, values: Mapping | None = None) -> Parameterization:
    """Replace the constants of ``p`` by exact values.

    For separable models a constant may be given per coordinate (a sequence of length n): the
    i-th value is used in coordinate i's initial values, rates and regularizer.
    """
    values = dict(values or {})
    byname = {c.name: c for c in p.constants}
    vals = {}
    for k, v in values.items():
        key = byname.get(k if isinstance(k, str) else k.name)
        if key is None:
            raise ProblemError(f"{p.name}: no constant named {k}; constants are "
                               f"{', '.join(byname) or '(none)'}")
        vals[key] = v
    missing = [c for c in p.constants if c not in vals]
    if missing:
        raise ProblemError(f"{p.name}: give a value for {', '.join(map(str, missing))}")
    scalar = {k: exact_number(v) for k, v in vals.items() if not isinstance(v, (list, tuple))}
    per = {k: tuple(exact_number(x) for x in v) for k, v in vals.items() if isinstance(v, (list, tuple))}
    if not per:
        return p.substitute(scalar)
    if p.coordinate is None:
        raise ProblemError(f"{p.name}: per-coordinate values need a separable model")
    n = p.n_outputs
    for k, v in per.items():
        if len(v) != n:
            raise ProblemError(f"{p.name}: {k} has {len(v)} values but the model has {n} coordinates")
    q = p.substitute(scalar)
    k_per = len(p.coordinate.params)
    init = list(q.init)
    metric = None if q.metric is None else sp.Matrix(q.metric)
    for i in range(n):
        sub = {c: per[c][i] for c in per}
        for j in range(k_per):
            init[i * k_per + j] = sp.sympify(init[i * k_per + j]).xreplace(sub)
            if metric is not None:
                idx = i * k_per + j
                metric[idx, idx] = metric[idx, idx].xreplace(sub)
    if q.regularizer is not None and q.regularizer.free_symbols & set(per):
        raise ProblemError(f"{p.name}: per-coordinate constants inside the regularizer are not supported")
    from dataclasses import replace
    return replace(q, init=tuple(init), metric=metric,
                   constants=tuple(c for c in q.constants if c not in per))


def gradient_flow(p: Parameterization, X: Sequence | None = None, y: Sequence | None = None, *,
                  values: Mapping | None = None, loss: sp.Expr | None = None,
                  w_symbols: Sequence | None = None, duals: bool = True) -> Flow:
    r"""The gradient flow of ``p`` on least squares :math:`\tfrac12\|Xw-y\|^2` (``X``, ``y``)
    or on a smooth ``loss`` given as a SymPy expression in ``w_symbols`` (default ``w_1..w_n``)."""
    q = instantiate(p, values)
    n, D = q.n_outputs, q.dim
    wsyms = tuple(w_symbols) if w_symbols is not None else q.output_symbols("w")
    if len(wsyms) != n:
        raise ProblemError(f"{p.name}: {len(wsyms)} w symbols for {n} outputs")
    Wint = tuple(sp.Symbol(f"_w{i}", real=True) for i in range(n))
    Gint = tuple(sp.Symbol(f"_g{i}", real=True) for i in range(n))
    # a rational or algebraic map: J^T g by reverse accumulation (shared factors, numerics.pullback)
    rev = reverse_pullback(q.outputs, q.params, Gint, taken={s.name for s in q.constants})
    if rev is None:
        inter = [(Wint[i], q.outputs[i]) for i in range(n)]
    else:
        inter = list(rev.forward) + [(Wint[i], rev.outputs[i]) for i in range(n)]
    Xe = ye = None
    rows: set = set()   # the rows of r and g (data times symbols): no time, no singularity
    if loss is None:
        if X is None or y is None:
            raise ProblemError("give least-squares data X, y or a loss expression")
        Xe = tuple(tuple(exact_number(a) for a in row) for row in X)
        ye = tuple(exact_number(b) for b in y)
        if not Xe or any(len(row) != n for row in Xe):
            widths = sorted({len(row) for row in Xe})
            raise ProblemError(f"{p.name}: X must have {n} columns (one per output w_i); "
                               f"got rows of length {widths or [0]}")
        if len(ye) != len(Xe):
            raise ProblemError(f"{p.name}: X has {len(Xe)} rows but y has {len(ye)} entries")
        m = len(Xe)
        R = tuple(sp.Symbol(f"_r{j}", real=True) for j in range(m))
        # r = Xw - y and g = X^T r as flat sums built from their terms directly: SymPy's
        # canonicalisation (even with evaluate=False) costs ~20-100 us a term and adds nothing,
        # the terms (number * symbol) are already canonical
        lin = lambda terms: sp.Add._from_args(terms) if len(terms) > 1 else (terms[0] if terms else sp.Integer(0))
        term = lambda c, s: s if c == 1 else sp.Mul._from_args((c, s))
        inter += [(R[j], lin([term(Xe[j][i], Wint[i]) for i in range(n) if Xe[j][i]] +
                             ([-ye[j]] if ye[j] else [])))
                  for j in range(m)]
        inter += [(Gint[i], lin([term(Xe[j][i], R[j]) for j in range(m) if Xe[j][i]]))
                  for i in range(n)]
        rows = set(R) | set(Gint)
    else:
        loss = sp.sympify(loss)
        extra = loss.free_symbols - set(wsyms)
        if extra:
            raise ProblemError(f"loss uses {sorted(map(str, extra))}, which are not output symbols "
                               f"{[str(s) for s in wsyms]}")
        to_int = dict(zip(wsyms, Wint))
        inter += [(Gint[i], sp.diff(loss, wsyms[i]).xreplace(to_int)) for i in range(n)]
    # x-dot = -M (J^T g + lambda(t) grad h): the Jacobian is sparse for separable/matrix models,
    # so differentiate <g, G(x)> term by term instead of forming J.
    if rev is None:
        touches = {xk: [] for xk in q.params}
        for i, out in enumerate(q.outputs):
            for xk in out.free_symbols:
                if xk in touches:
                    touches[xk].append(i)
        pullback = [sp.Add(*[sp.diff(q.outputs[i], xk) * Gint[i] for i in touches[xk]]) for xk in q.params]
    else:
        inter += rev.adjoints
        pullback = list(rev.gradient)
    if q.regularizer is not None:
        lam = q.schedule if q.schedule is not None else sp.Integer(1)
        pullback = [pb + lam * sp.diff(q.regularizer, xk) for pb, xk in zip(pullback, q.params)]
    M = q.metric_matrix()
    if q.metric is None:
        xdot = [-pb for pb in pullback]
    else:
        xdot = [-sp.Add(*[M[k, l] * pullback[l] for l in range(D) if M[k, l] != 0]) for k in range(D)]
    # the dual states mu_i, under names no parameter has (a model may have parameters mu_1, ...)
    taken = {s.name for s in (*q.params, *q.constants)}
    base = next(b for b in ("mu", "mu_dual", "mu_dual_") if all(f"{b}_{i + 1}" not in taken for i in range(n)))
    mus = tuple(sp.Symbol(f"{base}_{i + 1}", real=True) for i in range(n)) if duals else ()
    rhs = tuple(xdot) + tuple(-Gint[i] for i in range(n) if duals)
    uses_time = any(TIME in e.free_symbols for s, e in inter if s not in rows) or \
        any(TIME in sp.sympify(e).free_symbols for e in rhs)
    system = ODESystem(states=tuple(q.params) + mus, rhs=rhs, intermediates=tuple(inter),
                       time=TIME if uses_time else None, name=q.name)
    y0 = tuple(q.init) + tuple(sp.Integer(0) for _ in mus)
    _check_regular(q, system, y0)
    vals = tuple(sorted(((str(k), v) for k, v in (values or {}).items()), key=lambda kv: kv[0]))
    return Flow(model=q, system=system, y0=y0, params=tuple(q.params), duals=mus,
                outputs=tuple(q.outputs), w_symbols=wsyms, X=Xe, y=ye, loss=loss, values=vals)


def _check_regular(q: Parameterization, system: ODESystem, y0: tuple) -> None:
    """Refuse an initial point where the vector field is undefined (e.g. 1/u at u = 0)."""
    sub = dict(zip(system.states, y0))
    if system.time is not None:
        sub[system.time] = sp.Integer(0)
    for s, e in system.intermediates:
        val = _linear_value(e, sub)
        if val is None:
            val = sp.sympify(e).xreplace(sub)
        if val.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise SingularInitialization(
                f"{q.name}: the vector field is singular at the initialization ({s} = {e} is undefined "
                f"at {', '.join(f'{k}={v}' for k, v in list(sub.items())[:8])})")
        sub[s] = val
    for st, e in zip(system.states, system.rhs):
        val = sp.sympify(e).xreplace(sub)
        if val.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise SingularInitialization(f"{q.name}: d{st}/dt is singular at the initialization")


def _linear_value(e, sub: dict):
    r"""The exact value of a sum of rational multiples of symbols whose values are rational
    (the rows of :math:`r = Xw - y`, :math:`g = X^\top r`), in integer arithmetic; None for
    anything else.  SymPy would rebuild and canonicalise the m*n-term sums, about 20 us a term."""
    terms = e.args if isinstance(e, sp.Add) else (e,)
    num, den = 0, 1
    for a in terms:
        if isinstance(a, sp.Mul) and len(a.args) == 2 and isinstance(a.args[0], sp.Rational):
            c, s = a.args
        elif isinstance(a, sp.Rational):
            c, s = a, None
        else:
            c, s = sp.Integer(1), a
        v = sp.Integer(1) if s is None else sub.get(s)
        if not (isinstance(v, sp.Rational) and (s is None or s.is_Symbol)):
            return None
        p, q = int(c.p) * int(v.p), int(c.q) * int(v.q)
        num, den = num * q + p * den, den * q
    return sp.Rational(num, den)
