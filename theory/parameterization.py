r"""Parameterizations :math:`w = G(x)` and everything gradient flow on :math:`x` needs.

Gradient flow on the parameters with a (possibly state-dependent) metric :math:`M(x)`
(per-parameter learning rates are a diagonal :math:`M`) and an optional explicit
regularizer :math:`h` with schedule :math:`\lambda(t)` is

.. math::  \dot x = -M(x)\,\bigl(J_G(x)^\top \nabla L(G(x)) + \lambda(t)\,\nabla h(x)\bigr).

A :class:`Parameterization` is plain data: SymPy symbols and expressions, exact init values
(possibly in free *constants* such as :math:`\alpha`), a citation. Separable models are declared
once per coordinate (:class:`Coordinate`) and replicated with :func:`separable`; matrix-valued
parameters are flattened entry by entry with :func:`matrix_symbols` and remembered in ``blocks``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import sympy as sp

from .errors import InvalidParameterization

#: The time variable of schedules :math:`\lambda(t)` (weight decay and other explicit terms).
TIME = sp.Symbol("t", nonnegative=True)


@dataclass(frozen=True)
class Coordinate:
    r"""One coordinate of a separable model, :math:`w_i = g(x_{i,1},\dots,x_{i,k})`.

    ``params`` are template symbols (e.g. ``u, v``); ``init`` their initial values (exact,
    possibly in constants); ``rates`` optional per-parameter learning rates; ``regularizer``
    the per-coordinate part of an explicit regularizer :math:`h`.
    """

    params: tuple
    output: sp.Expr
    init: tuple
    rates: tuple | None = None
    regularizer: sp.Expr | None = None

    def __post_init__(self):
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "output", sp.sympify(self.output))
        object.__setattr__(self, "init", tuple(sp.sympify(v) for v in self.init))
        if self.rates is not None:
            object.__setattr__(self, "rates", tuple(sp.sympify(r) for r in self.rates))
        if self.regularizer is not None:
            object.__setattr__(self, "regularizer", sp.sympify(self.regularizer))
        if len(self.init) != len(self.params):
            raise InvalidParameterization(
                f"coordinate has {len(self.params)} parameters {self.params} but "
                f"{len(self.init)} initial values")
        if self.rates is not None and len(self.rates) != len(self.params):
            raise InvalidParameterization(
                f"coordinate has {len(self.params)} parameters but {len(self.rates)} learning rates")


@dataclass(frozen=True)
class Block:
    """A matrix-valued parameter (or output) that was flattened row-major into scalars."""

    name: str
    shape: tuple
    symbols: tuple  # row-major entries


@dataclass(frozen=True)
class Parameterization:
    r"""A reparameterization :math:`w = G(x)`, :math:`x \in \mathbb R^D`, :math:`w \in \mathbb R^n`.

    Fields
    ------
    name, source : identification and citation (paper, theorem or equation).
    params : the parameter symbols :math:`x` (assumptions such as ``positive=True`` are the domain).
    outputs : :math:`G(x)` as SymPy expressions.
    init : :math:`x(0)`, aligned with ``params``; exact, may contain ``constants``.
    constants : free scalars (init scale :math:`\alpha`, shape, rates) with their assumptions.
    metric : :math:`M(x)`, a ``D x D`` SymPy matrix (``None`` means the identity).
    regularizer, schedule : explicit :math:`h(x)` and its weight :math:`\lambda(t)` (in :data:`TIME`).
    coordinate : the template when the model is separable (see :func:`separable`).
    blocks, output_blocks : matrix-valued parameters/outputs, for display and matrix claims.
    """

    name: str
    params: tuple
    outputs: tuple
    init: tuple
    constants: tuple = ()
    metric: sp.ImmutableMatrix | None = None
    regularizer: sp.Expr | None = None
    schedule: sp.Expr | None = None
    source: str = ""
    coordinate: Coordinate | None = None
    blocks: tuple = ()
    output_blocks: tuple = ()
    description: str = ""

    def __post_init__(self):
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "outputs", tuple(sp.sympify(e) for e in self.outputs))
        object.__setattr__(self, "init", tuple(sp.nsimplify(sp.sympify(v), rational=True)
                                               if isinstance(v, float) else sp.sympify(v)
                                               for v in self.init))
        object.__setattr__(self, "constants", tuple(self.constants))
        if self.metric is not None:
            object.__setattr__(self, "metric", sp.ImmutableMatrix(self.metric))
        if self.regularizer is not None:
            object.__setattr__(self, "regularizer", sp.sympify(self.regularizer))
        if self.schedule is not None:
            object.__setattr__(self, "schedule", sp.sympify(self.schedule))
        _validate(self)

    # ---- sizes -------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """D, the number of scalar parameters."""
        return len(self.params)

    @property
    def n_outputs(self) -> int:
        """n, the number of outputs w_i."""
        return len(self.outputs)

    @property
    def init_map(self) -> dict:
        """``{x_j: x_j(0)}``."""
        return dict(zip(self.params, self.init))

    # ---- derived objects -----------------------------------------------------------------
    def jacobian(self) -> sp.Matrix:
        r""":math:`J_G(x)`, ``n x D``."""
        return sp.Matrix(self.outputs).jacobian(sp.Matrix(self.params))

    def metric_matrix(self) -> sp.Matrix:
        """M(x) as an explicit matrix (identity when none was given)."""
        return sp.eye(self.dim) if self.metric is None else sp.Matrix(self.metric)

    def fields(self) -> list:
        r"""The vector fields :math:`M(x)\nabla G_i(x)` whose Lie algebra governs the laws."""
        J = self.jacobian()
        M = self.metric_matrix()
        return [M * J[i, :].T for i in range(self.n_outputs)]

    def output_metric(self) -> sp.Matrix:
        r""":math:`J_G M J_G^\top`, the metric the flow induces on :math:`w` (in terms of x)."""
        J = self.jacobian()
        return J * self.metric_matrix() * J.T

    def output_symbols(self, name: str = "w") -> tuple:
        """Symbols for the outputs: ``w_1..w_n`` (real)."""
        return tuple(sp.Symbol(f"{name}_{i + 1}", real=True) for i in range(self.n_outputs))

    @property
    def is_separable(self) -> bool:
        return self.coordinate is not None

    def substitute(self, values: Mapping) -> "Parameterization":
        """Replace constants by values (exact numbers or expressions); returns a new object."""
        vals = {sp.Symbol(k) if isinstance(k, str) else k: sp.sympify(v) for k, v in values.items()}
        byname = {c.name: c for c in self.constants}
        vals = {byname.get(k.name, k): v for k, v in vals.items()}
        unknown = [k for k in vals if k not in self.constants]
        if unknown:
            raise InvalidParameterization(
                f"{self.name}: no constant named {', '.join(map(str, unknown))}; "
                f"constants are {', '.join(map(str, self.constants)) or '(none)'}")

        def sub(e):
            return None if e is None else sp.sympify(e).xreplace(vals)

        coord = self.coordinate
        if coord is not None:
            coord = replace(coord, init=tuple(sub(v) for v in coord.init),
                            rates=None if coord.rates is None else tuple(sub(r) for r in coord.rates),
                            regularizer=sub(coord.regularizer), output=sub(coord.output))
        return replace(
            self,
            outputs=tuple(sub(e) for e in self.outputs),
            init=tuple(sub(v) for v in self.init),
            constants=tuple(c for c in self.constants if c not in vals),
            metric=None if self.metric is None else self.metric.xreplace(vals),
            regularizer=sub(self.regularizer),
            schedule=sub(self.schedule),
            coordinate=coord,
        )

    def fingerprint(self) -> str:
        """A stable hash of every field, labels included (the key of on-disk caches: a cached
        result carries exactly the name, source and blocks of the model asked about)."""
        c = self.coordinate
        parts = [sp.srepr(x) for x in (self.params, self.outputs, self.init, self.constants,
                                         self.metric, self.regularizer, self.schedule)]
        parts += ["" if c is None else sp.srepr((c.params, c.output, c.init, c.rates, c.regularizer)),
                  repr(self.blocks), repr(self.output_blocks), self.name, self.source, self.description]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


# ---- constructors ----------------------------------------------------------------------------
def separable(coordinate: Coordinate, n: int, name: str, *, constants: Sequence = (),
              source: str = "", description: str = "", schedule=None) -> Parameterization:
    r"""Replicate a per-coordinate model :math:`w_i = g(x_i)` to ``n`` coordinates.

    Template symbol ``u`` becomes ``u_1..u_n`` (same assumptions). Rates become a diagonal
    metric; a per-coordinate regularizer is summed over coordinates.
    """
    if int(n) != n or n < 1:
        raise InvalidParameterization(f"{name}: the number of coordinates must be a positive integer, got {n!r}")
    params, outputs, init, rates, reg = [], [], [], [], sp.Integer(0)
    for i in range(1, n + 1):
        sub = {s: sp.Symbol(f"{s.name}_{i}", **s.assumptions0) for s in coordinate.params}
        params.extend(sub[s] for s in coordinate.params)
        outputs.append(coordinate.output.xreplace(sub))
        init.extend(coordinate.init)
        if coordinate.rates is not None:
            rates.extend(coordinate.rates)
        if coordinate.regularizer is not None:
            reg += coordinate.regularizer.xreplace(sub)
    return Parameterization(
        name=name, params=tuple(params), outputs=tuple(outputs), init=tuple(init),
        constants=tuple(constants), metric=sp.diag(*rates) if rates else None,
        regularizer=reg if coordinate.regularizer is not None else None, schedule=schedule,
        source=source, coordinate=coordinate, description=description)


def matrix_symbols(name: str, rows: int, cols: int, **assumptions) -> sp.Matrix:
    """A ``rows x cols`` matrix of scalar symbols ``name_{a,b}`` (1-based), real by default."""
    assumptions.setdefault("real", True)
    return sp.Matrix(rows, cols, lambda a, b: sp.Symbol(f"{name}_{a + 1}{b + 1}"
                                                        if rows < 10 and cols < 10 else
                                                        f"{name}_{a + 1},{b + 1}", **assumptions))


def from_matrices(name: str, factors: Sequence, output: sp.Matrix, init: Sequence, *,
                  constants: Sequence = (), source: str = "", description: str = "",
                  output_name: str = "W", metric=None, regularizer=None,
                  schedule=None) -> Parameterization:
    """A model with matrix-valued parameters: ``factors`` are ``(name, Matrix of symbols)``,
    ``output`` the matrix :math:`G`, ``init`` the initial matrices in the same order."""
    params, init_vals, blocks = [], [], []
    for (fname, F), F0 in zip(factors, init, strict=True):
        F0 = sp.Matrix(F0)
        if F0.shape != F.shape:
            raise InvalidParameterization(
                f"{name}: initial value of {fname} has shape {F0.shape}, expected {F.shape}")
        params.extend(F)
        init_vals.extend(F0)
        blocks.append(Block(fname, F.shape, tuple(F)))
    outs = tuple(sp.Matrix(output))
    oblock = Block(output_name, sp.Matrix(output).shape, ())
    return Parameterization(name=name, params=tuple(params), outputs=outs, init=tuple(init_vals),
                            constants=tuple(constants), metric=metric, regularizer=regularizer,
                            schedule=schedule, source=source, blocks=tuple(blocks),
                            output_blocks=(oblock,), description=description)


# ---- validation ------------------------------------------------------------------------------
def _names(syms) -> str:
    return ", ".join(sorted(map(str, syms)))


def _validate(p: Parameterization) -> None:
    if not p.params:
        raise InvalidParameterization(f"{p.name}: no parameters")
    if not p.outputs:
        raise InvalidParameterization(f"{p.name}: no outputs")
    bad = [s for s in p.params if not isinstance(s, sp.Symbol)]
    if bad:
        raise InvalidParameterization(f"{p.name}: parameters must be SymPy symbols, got {bad}")
    if len(set(p.params)) != len(p.params):
        raise InvalidParameterization(f"{p.name}: a parameter symbol is repeated")
    clash = set(p.params) & set(p.constants)
    if clash:
        raise InvalidParameterization(f"{p.name}: {_names(clash)} is both a parameter and a constant")
    if len(p.init) != len(p.params):
        raise InvalidParameterization(
            f"{p.name}: {len(p.params)} parameters but {len(p.init)} initial values")
    known = set(p.params) | set(p.constants)
    for i, e in enumerate(p.outputs):
        extra = e.free_symbols - known
        if extra:
            raise InvalidParameterization(
                f"{p.name}: output w_{i + 1} = {e} uses unknown symbol(s) {_names(extra)}; "
                f"parameters are {_names(p.params)}, constants {_names(p.constants) or '(none)'}")
    for s, v in zip(p.params, p.init):
        extra = v.free_symbols - set(p.constants)
        if extra:
            raise InvalidParameterization(
                f"{p.name}: initial value of {s} is {v}, which uses {_names(extra)}: "
                f"init may only use the constants ({_names(p.constants) or 'none'})")
        _check_domain(p.name, s, v)
    if p.metric is not None:
        if p.metric.shape != (p.dim, p.dim):
            raise InvalidParameterization(
                f"{p.name}: metric has shape {p.metric.shape}, expected {(p.dim, p.dim)}")
        extra = p.metric.free_symbols - known
        if extra:
            raise InvalidParameterization(f"{p.name}: metric uses unknown symbol(s) {_names(extra)}")
    if p.regularizer is not None:
        extra = p.regularizer.free_symbols - known
        if extra:
            raise InvalidParameterization(
                f"{p.name}: regularizer uses unknown symbol(s) {_names(extra)}")
    if p.schedule is not None:
        if p.regularizer is None:
            raise InvalidParameterization(f"{p.name}: a schedule was given but no regularizer")
        extra = p.schedule.free_symbols - set(p.constants) - {TIME}
        if extra:
            raise InvalidParameterization(
                f"{p.name}: schedule uses {_names(extra)}; it may use t and the constants only")
    _check_smooth_and_real(p)
    _check_metric(p)
    _check_regular_at_init(p)
    _check_moves(p)


#: functions a flow cannot differentiate (kinks, jumps) or that leave the reals: refused by name
NON_SMOOTH = (sp.Abs, sp.sign, sp.Min, sp.Max, sp.Piecewise, sp.floor, sp.ceiling, sp.Heaviside,
              sp.DiracDelta, sp.frac, sp.re, sp.im, sp.arg, sp.conjugate)


def _check_smooth_and_real(p: Parameterization) -> None:
    """Maps, metric and regularizer must be differentiable (no Abs/sign/Min/Max/Piecewise/floor,
    refused by name) and every part real (no I); each output must depend on a parameter."""
    parts = [(f"output w_{i + 1}", e) for i, e in enumerate(p.outputs)]
    if p.metric is not None:
        parts += [("the metric", e) for e in p.metric]
    if p.regularizer is not None:
        parts.append(("the regularizer", p.regularizer))
    for what, e in parts:
        for f in NON_SMOOTH:
            if e.has(f):
                raise InvalidParameterization(
                    f"{p.name}: {what} = {e} uses {f.__name__}, which is not differentiable "
                    "everywhere; ibcheck needs a smooth map (write e.g. sqrt(u**2 + eps**2) for Abs(u))")
    others = [(f"initial value of {s}", v) for s, v in zip(p.params, p.init)]
    if p.schedule is not None:
        others.append(("the schedule", p.schedule))
    for what, e in parts + others:
        if e.has(sp.I) or (e.is_number and e.is_real is False):
            raise InvalidParameterization(f"{p.name}: {what} = {e} is complex; every quantity must be real")
    params = set(p.params)
    for i, e in enumerate(p.outputs):
        if not (e.free_symbols & params):
            raise InvalidParameterization(
                f"{p.name}: output w_{i + 1} = {e} does not depend on any parameter (a constant map "
                "cannot be trained)")


def _check_metric(p: Parameterization) -> None:
    r"""Rates must be positive and a metric symmetric and positive definite (at the initial
    point, by leading principal minors, Sylvester's criterion): otherwise the flow is not a
    gradient flow and blows up or stalls. Only what SymPy can decide is refused."""
    if p.metric is None:
        return
    M = sp.Matrix(p.metric)
    at0 = p.init_map
    if M.is_diagonal():
        for k in range(M.rows):
            r, r0 = M[k, k], M[k, k].xreplace(at0)
            if r.is_positive is False or r0.is_positive is False:
                raise InvalidParameterization(
                    f"{p.name}: the rate (metric entry) of {p.params[k]} is {r}"
                    f"{'' if r0 == r else f' = {r0} at the initialization'}, not positive; "
                    "rates must be > 0")
        return
    asym = (M - M.T).applyfunc(lambda e: sp.expand(e))
    if any(e != 0 for e in asym):
        raise InvalidParameterization(f"{p.name}: the metric is not symmetric")
    if M.rows > 8:  # minors of larger symbolic matrices cost more than they are worth here
        return
    M0 = M.xreplace(at0)
    for k in range(1, M0.rows + 1):
        minor = sp.factor(M0[:k, :k].det())
        if minor.is_positive is False:
            raise InvalidParameterization(
                f"{p.name}: the metric is not positive definite at the initialization (its leading "
                f"{k}x{k} minor is {minor})")


def _check_moves(p: Parameterization) -> None:
    """An initialization where every output has zero gradient is a critical point of every
    loss: the flow never moves, so nothing about its limit can be checked."""
    J = p.jacobian()
    if J.xreplace(p.init_map).is_zero_matrix:
        raise InvalidParameterization(
            f"{p.name}: the initialization {', '.join(f'{k}={v}' for k, v in list(p.init_map.items())[:6])}"
            f"{' ...' if p.dim > 6 else ''} is a critical point (every output has zero gradient "
            "there): the flow never moves; start away from it")


_DOMAIN_FLAGS = (("positive", "is_positive"), ("negative", "is_negative"),
                 ("nonnegative", "is_nonnegative"), ("nonzero", "is_nonzero"))


def _check_domain(name: str, s: sp.Symbol, v: sp.Expr) -> None:
    """Init outside the declared domain of a parameter (e.g. a radius r > 0 set to -1)."""
    for flag, attr in _DOMAIN_FLAGS:
        if s.assumptions0.get(flag) and getattr(v, attr) is False:
            raise InvalidParameterization(
                f"{name}: initial value {s}(0) = {v} is outside the domain of {s} ({flag})")
    if v.is_real is False:
        raise InvalidParameterization(f"{name}: initial value {s}(0) = {v} is not real")


def _check_regular_at_init(p: Parameterization) -> None:
    """The map (and metric) must be finite at the initial point: a singular init is refused."""
    at0 = p.init_map
    exprs = list(p.outputs) + ([] if p.metric is None else list(p.metric))
    for e in exprs:
        try:
            val = e.xreplace(at0)
        except (ZeroDivisionError, TypeError):  # pragma: no cover - sympy returns zoo instead
            val = sp.zoo
        if val.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise InvalidParameterization(
                f"{p.name}: the initialization is a singular point of {e} "
                f"(at {', '.join(f'{k}={v}' for k, v in at0.items())})")
