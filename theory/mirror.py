r"""Mirror potentials of commuting parameterizations: bracket test, dual and primal potentials, proofs.

Convention: :math:`\dot x = -M(x)\nabla_x L(G(x))`; a mirror potential satisfies
:math:`\frac{d}{dt}\nabla R(w) = -\nabla L(w)` with :math:`\nabla R(w_0) = 0`; the dual has
:math:`\nabla Q(\mu) = w` when :math:`\mu = \nabla R(w)`, so :math:`\nabla Q(0) = w_0`.

Construction (Li, Wang, Lee, Arora et al., 'Implicit Bias of Gradient Descent on Reparametrized
Models: On Equivalence to Mirror Descent', NeurIPS 2022, Sec. 4): when the fields
:math:`V_i = M\nabla G_i` commute, with :math:`\varphi_i^s` the flow of :math:`V_i`,

.. math:: \psi(x_0;\mu) = \varphi_1^{\mu_1}\circ\cdots\circ\varphi_n^{\mu_n}(x_0), \qquad
          \nabla Q(\mu) = G(\psi(x_0;\mu)),\qquad \nabla R = (\nabla Q)^{-1},

because :math:`\partial_\mu G(\psi) = J_G M J_G^\top` (so :math:`\nabla^2 R\,J_G M J_G^\top = I`)
and :math:`x_t = \psi(x_0; \mu_t)`, :math:`\mu_t = -\int_0^t \nabla L`. Thm 4.10 of the same paper:
a nonzero bracket :math:`[V_i, V_j]` rules out a mirror flow for every loss.

Proofs (all verdicts by :func:`theory.proving.zero.check_identity`):

* the flow: :math:`\partial_{\mu}\psi = V(\psi)` and :math:`\psi(x_0;0) = x_0`;
* a dual claim: :math:`\nabla Q(\mu) - G(\psi(x_0;\mu)) \equiv 0`;
* a primal claim: :math:`\nabla R(w_0) = 0` and :math:`H(\mu) := \nabla^2 R(\nabla Q(\mu))\,
  \nabla^2 Q(\mu) \equiv I` (the :math:`\mu`-derivative of :math:`\nabla R(G(\psi)) = \mu`). For one
  output, where square roots hide signs, :math:`H^2 \equiv 1` together with :math:`H(0) \equiv 1`
  is accepted: :math:`H` is continuous on the (connected) interval of :math:`\mu` where the flow
  exists, so it cannot jump from +1 to -1.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

import sympy as sp

from .claims import MirrorPotential, NoMirror, Proof
from .errors import IbcheckError, LeafNotSolvable, NoMirrorPotential, UndecidedError
from .parameterization import Parameterization
from .memo import memo
from .proving.zero import check_identity, evaluate, factor_radicands, sample_point
from .proving.zero import check_identity as _check

#: the dual variable of a separable template
MU = sp.Symbol("mu", real=True)
#: the primal variable of a separable template
W = sp.Symbol("w", real=True)


# ---- domain of the constants -------------------------------------------------------------------
def domain_constraints(p: Parameterization) -> tuple:
    r"""Constraints on the constants implied by a real initialization: every ``sqrt(b)`` in an
    initial value needs :math:`b > 0` (e.g. the shape :math:`|s| < 1` of :func:`catalog.diagonal.product`)."""
    out = []
    for v in p.init:
        for pw in v.atoms(sp.Pow):
            if pw.exp == sp.Rational(1, 2) and pw.base.free_symbols:
                num, den = sp.fraction(sp.together(pw.base))
                c = sp.StrictGreaterThan(sp.expand(num * den), 0)  # no poles at sampled points
                if c is not sp.true:
                    out.append(c)
    return tuple(dict.fromkeys(out))


def reparametrize(constraints) -> tuple:
    r"""Turn interval constraints :math:`k^2 - s^2 > 0` into a substitution
    :math:`s = k(1-\rho)/(1+\rho)`, :math:`\rho > 0` (a bijection onto :math:`(-k, k)`), so that
    SymPy knows the signs of :math:`k \mp s` and can resolve ``Abs``/``sqrt`` exactly.
    Returns ``(substitution, remaining constraints)``."""
    sub, rest = {}, []
    for c in constraints:
        lhs = sp.expand(c.lhs - c.rhs) if isinstance(c, sp.StrictGreaterThan) else None
        done = False
        if lhs is not None:
            for sym in lhs.free_symbols:
                P = sp.Poly(lhs, sym) if lhs.is_polynomial(sym) else None
                if P is not None and P.degree() == 2 and P.coeff_monomial(sym) == 0 \
                        and P.coeff_monomial(sym**2) == -1 and P.coeff_monomial(1).is_positive \
                        and sym not in sub:
                    k = sp.sqrt(P.coeff_monomial(1))
                    rho = sp.Symbol(f"rho_{sym.name}", positive=True)
                    sub[sym] = k * (1 - rho) / (1 + rho)
                    done = True
                    break
        if not done:
            rest.append(c)
    return sub, tuple(rest)


def _template(p: Parameterization):
    """(params, output, init, metric) of the one-coordinate template, or of the whole model."""
    c = p.coordinate
    if c is not None and _separable_metric_ok(p):
        M = sp.diag(*c.rates) if c.rates is not None else sp.eye(len(c.params))
        return tuple(c.params), (c.output,), tuple(c.init), M
    return tuple(p.params), tuple(p.outputs), tuple(p.init), p.metric_matrix()


def _separable_metric_ok(p: Parameterization) -> bool:
    """A separable model whose metric is the (diagonal) replication of the template rates."""
    if p.metric is None:
        return p.coordinate.rates is None
    M = sp.Matrix(p.metric)
    return M.is_diagonal() and p.coordinate.rates is not None and \
        all(M[i, i] == p.coordinate.rates[i % len(p.coordinate.rates)] for i in range(M.rows))


# ---- brackets ------------------------------------------------------------------------------------
def bracket(X: sp.Matrix, Y: sp.Matrix, x) -> sp.Matrix:
    r"""Lie bracket of vector fields, :math:`[X, Y] = DY\,X - DX\,Y`."""
    xs = sp.Matrix(x)
    return Y.jacobian(xs) * X - X.jacobian(xs) * Y


def brackets_vanish(p: Parameterization) -> NoMirror | None:
    r"""``None`` when every :math:`[M\nabla G_i, M\nabla G_j] \equiv 0` (Li et al. 2022: then ``p`` is a
    mirror flow for every loss); otherwise a :class:`NoMirror` with the pair, the bracket and an
    exact point where it is nonzero (Thm 4.10: no mirror potential).

    A separable model with the template's own (diagonal) rates is checked on the template: one
    output per coordinate, and fields of different coordinates act on disjoint parameters, so
    they commute. A metric that couples coordinates is checked on the full model.
    Raises :class:`UndecidedError` when a bracket can be neither proved zero nor refuted.
    """
    params, outs, _, M = _template(p)
    J = sp.Matrix(outs).jacobian(sp.Matrix(params))
    fields = [M * J[i, :].T for i in range(len(outs))]
    constraints = domain_constraints(p)
    for i in range(len(fields)):
        for j in range(i + 1, len(fields)):
            B = bracket(fields[i], fields[j], params)
            comps = [sp.expand(b) for b in B]
            pr = check_identity(comps, f"[V_{i + 1}, V_{j + 1}] = 0", constraints=constraints)
            if pr.refuted:
                return NoMirror(
                    f"{p.name}: the fields M grad G_{i + 1} and M grad G_{j + 1} do not commute: "
                    f"[V_{i + 1}, V_{j + 1}] = {tuple(comps)} is nonzero at {pr.witness} "
                    "(Li et al. 2022, Thm 4.10: no mirror potential for every loss)",
                    pair=(i, j), bracket=tuple(comps), point=pr.witness)
            if not pr.proved:
                raise UndecidedError(f"{p.name}: could not decide whether [V_{i + 1}, V_{j + 1}] = "
                                     f"{tuple(comps)} vanishes")
    return None


# ---- flows of the fields -----------------------------------------------------------------------
def _monomial(expr, x):
    """(c, k) with expr = c*x**k (c free of x), else None."""
    c, k = sp.Wild("c", exclude=[x]), sp.Wild("k", exclude=[x])
    m = sp.expand(expr).match(c * x**k)
    if m is None or m[c] == 0:
        return None
    return m[c], m[k]


def _scalar_flow(rate_fn, x, y, mu):
    r"""Solve :math:`\dot x = f(x)`, :math:`x(0) = y` in closed form (monomial fields explicitly,
    others by separation :math:`\int_y^x d\xi/f(\xi) = \mu`)."""
    mono = _monomial(rate_fn, x)
    if mono is not None:
        c, k = mono
        if k == 0:
            return y + c * mu
        if k == 1:
            return y * sp.exp(c * mu)
        return (y ** (1 - k) + (1 - k) * c * mu) ** (1 / (1 - k))
    xi = sp.Dummy("xi", **{k: v for k, v in x.assumptions0.items() if k in ("positive", "real")})
    prim = sp.integrate(1 / rate_fn.xreplace({x: xi}), xi)
    if prim.has(sp.Integral):
        raise LeafNotSolvable(f"the flow of dx/dmu = {rate_fn} cannot be integrated in closed form")
    sols = sp.solve(sp.Eq(prim - prim.xreplace({xi: y}), mu), xi)
    for s in sols:
        # selecting the branch through y; the flow identity is proved later (_flow_proof)
        if sp.simplify(s.xreplace({mu: 0}) - y) == 0 or _vanishes_at_points(s.xreplace({mu: 0}) - y):
            return s
    raise LeafNotSolvable(f"the flow of dx/dmu = {rate_fn} from {y} has no closed-form solution "
                          f"through the initial point (candidates {sols})")


def _vanishes_at_points(e, points: int = 3) -> bool:
    """``e`` is 0 to 40 digits at random admissible values of its symbols (a branch selection
    only: the identity it leads to is proved on its own)."""
    rng = random.Random(11)
    for _ in range(points):
        val = evaluate(e, sample_point(e.free_symbols, rng))
        if val is None or not val.is_real or abs(val) > sp.Float("1e-40"):
            return False
    return True


@memo(512)
def flow(field, params, start, mu=MU) -> tuple:
    r"""The flow :math:`\varphi^\mu(y)` of the vector field ``field`` (a column in ``params``),
    started at ``start``: components with zero rate stay; linear fields :math:`V = Ax` use
    :math:`e^{\mu A}y`; fields whose components each depend on their own variable only are
    integrated by separation. Raises :class:`LeafNotSolvable` otherwise."""
    params = tuple(params)
    V = [sp.sympify(f) for f in field]
    start = tuple(sp.sympify(s) for s in start)
    xs = sp.Matrix(params)
    A = sp.Matrix(V).jacobian(xs)
    if not (A.free_symbols & set(params)) and all(sp.expand(vi - sum(A[i, j] * params[j] for j in range(len(params)))) == 0
                                                   for i, vi in enumerate(V)):
        active = [i for i in range(len(params)) if any(A[i, j] != 0 or A[j, i] != 0 for j in range(len(params)))]
        out = list(start)
        if active:
            sub = A.extract(active, active)
            E = (mu * sub).exp()
            y = sp.Matrix([start[i] for i in active])
            for r, i in enumerate(active):
                out[i] = sp.simplify((E * y)[r].rewrite(sp.exp))
        return tuple(out)
    out = []
    for i, (x, vi) in enumerate(zip(params, V)):
        if vi == 0:
            out.append(start[i])
            continue
        if vi.free_symbols & set(params) - {x}:
            raise LeafNotSolvable(
                f"the flow of the field {tuple(V)} is not solvable in closed form here: component "
                f"d{x}/dmu = {vi} depends on other parameters and the field is not linear")
        out.append(_scalar_flow(vi, x, start[i], mu))
    return tuple(out)


@dataclass(frozen=True)
class LeafFlow:
    r""":math:`\psi(x_0;\mu)` for a (template of a) model: ``params``, ``outputs`` :math:`G`, ``init``,
    ``metric``, the dual variables ``mus`` and the composed flow ``psi``."""

    params: tuple
    outputs: tuple
    init: tuple
    metric: sp.Matrix
    mus: tuple
    psi_generic: tuple
    starts: tuple
    #: a :class:`theory.laws.leaf_reduce.LeafReduction` when the flow was solved only on the leaf
    #: through :math:`x_0` (then ``psi_generic`` is already at :math:`x_0` and ``starts`` is empty)
    leaf: object = None

    @property
    def psi(self) -> tuple:
        r""":math:`\psi(x_0;\mu)`."""
        sub = dict(zip(self.starts, self.init))
        return tuple(_tidy(c.xreplace(sub), self.mus) for c in self.psi_generic)

    @property
    def fields(self):
        J = sp.Matrix(self.outputs).jacobian(sp.Matrix(self.params))
        return [self.metric * J[i, :].T for i in range(len(self.outputs))]

    def dual_gradient(self) -> tuple:
        r""":math:`\nabla Q(\mu) = G(\psi(x_0;\mu))` (simplified for a generic start, then at :math:`x_0`)."""
        return _dual_gradient(self.outputs, self.params, self.psi_generic, self.starts, self.init, self.mus)


@memo(256)
def _dual_gradient(outputs, params, psi_generic, starts, init, mus) -> tuple:
    """:meth:`LeafFlow.dual_gradient` from the fields it reads (memoised: derive and every
    literature claim of an entry ask for it)."""
    sub = dict(zip(params, psi_generic))
    at0 = dict(zip(starts, init))
    out = []
    for g in outputs:
        gy = sp.simplify(sp.powsimp(sp.expand(g.xreplace(sub)), combine="exp"))
        out.append(_tidy(gy.xreplace(at0), mus))
    return tuple(out)


def leaf_flow(p: Parameterization) -> LeafFlow:
    r"""The Li et al. map :math:`\psi(x_0;\mu) = \varphi_1^{\mu_1}\circ\cdots\circ\varphi_n^{\mu_n}(x_0)`
    (on the template for separable models, with one dual variable ``mu``)."""
    params, outs, init, M = _template(p)
    n = len(outs)
    mus = (MU,) if n == 1 else tuple(sp.Symbol(f"mu_{i + 1}", real=True) for i in range(n))
    J = sp.Matrix(outs).jacobian(sp.Matrix(params))
    # flows from a generic start y (symbols with the parameters' domains): closed forms stay small
    ys = tuple(sp.Symbol(f"y_{x.name}", **{k: v for k, v in x.assumptions0.items()
                                           if k in ("positive", "real", "negative")}) for x in params)
    point = ys
    for i in reversed(range(n)):
        V = M * J[i, :].T
        try:
            gen = flow(list(V), params, params, mus[i])
        except LeafNotSolvable as general:
            if n != 1:
                raise
            return _flow_on_leaf(p, params, outs, init, M, list(V), general)
        point = tuple(sp.sympify(c).xreplace(dict(zip(params, point))) for c in gen)
    return LeafFlow(params, tuple(outs), tuple(init), M, mus, point, ys)


def _flow_on_leaf(p, params, outs, init, M, V, general: LeafNotSolvable) -> LeafFlow:
    r"""The flow of the one field ``V`` from :math:`x_0` only, on the leaf through :math:`x_0`
    (:mod:`theory.laws.leaf_reduce`): symmetries of :math:`x_0` first, then also the model's laws
    solved for dependent parameters, until the reduced field has a closed-form flow."""
    from .laws.leaf_reduce import leaf_field, reduce_on_leaf

    cons = domain_constraints(p)
    last = general
    for with_laws in (False, True):
        laws = _template_laws(p, params) if with_laws else ()
        if with_laws and not laws:
            break
        try:
            red = reduce_on_leaf(params, V, init, laws, cons)
            free_init = [init[params.index(x)] for x in red.free]
            sol = flow(list(leaf_field(red, params, V)), red.free, free_init, MU)
        except LeafNotSolvable as e:
            last = e
            continue
        on = dict(zip(red.free, sol))
        psi = tuple(_tidy(sp.sympify(x).xreplace(red.mapping).xreplace(on), (MU,)) for x in params)
        return LeafFlow(params, tuple(outs), tuple(init), M, (MU,), psi, (), red)
    raise LeafNotSolvable(f"{general}; on the leaf through x0: {last}")


def _template_laws(p, params) -> tuple:
    """The rational laws of ``p`` in the template's parameters (found and proved by the law
    search). Log laws are left out: solving them needs Lambert W and the flow along them is
    rarely elementary, and SymPy spends minutes on both (weightnorm-L2 at n = 1: 24 s -> 1 s)."""
    from .laws import find_laws

    found = find_laws(p)
    found = [f[0] if isinstance(f, tuple) else f for f in found]
    return tuple(law.expr for law in found if law.expr.free_symbols & set(params)
                 and law.expr.free_symbols <= set(params) | set(p.constants)
                 and law.expr.is_rational_function(*params))


@memo(1024)
def _tidy(e, mus=()):
    """Collect on the exponentials of the dual variables, factor the coefficients; square roots
    of the init are combined (their bases are positive by :func:`domain_constraints`)."""
    e = sp.powsimp(sp.expand(sp.sympify(e).rewrite(sp.exp)), force=True)
    atoms = sorted({a for a in e.atoms(sp.exp) if any(a.has(m) for m in mus)}, key=str)
    if atoms:
        return sp.collect(e, atoms, func=sp.factor)
    return sp.factor(e) if e.is_rational_function(*mus) else e


def _flow_proof(lf: LeafFlow, constraints=()) -> Proof:
    r"""Check :math:`\partial_{\mu_i}\psi(y;\mu) = V_i(\psi)` for every ``i`` and
    :math:`\psi(y;0) = y`, from a generic start ``y`` (so also from :math:`x_0`)."""
    comps = []
    sub = dict(zip(lf.params, lf.psi_generic))
    for i, V in enumerate(lf.fields):
        comps += [_exp_to_T(sp.diff(pc, lf.mus[i]) - V[k].xreplace(sub), lf.mus)
                  for k, pc in enumerate(lf.psi_generic)]
    zero = {m: 0 for m in lf.mus}
    if lf.leaf is not None:  # solved from x0 only: psi(x0; 0) = x0 (uniqueness makes it the flow)
        comps += [pc.xreplace(zero) - x0 for pc, x0 in zip(lf.psi_generic, lf.init)]
        return check_identity(comps, r"\partial_\mu \psi = M\nabla G(\psi),\ \psi(x_0;0) = x_0"
                                     r"\ \text{on the leaf through } x_0", constraints=constraints)
    comps += [pc.xreplace(zero) - y for pc, y in zip(lf.psi_generic, lf.starts)]
    return check_identity(comps, r"\partial_{\mu_i} \psi = M\nabla G_i(\psi),\ \psi(y;0) = y",
                          constraints=constraints)


# ---- inverting the dual gradient (one output) ----------------------------------------------------
def _exp_generator(e, mu):
    """(T, c) with every exp(k*mu) in ``e`` an integer power of T = exp(c*mu), else None."""
    coeffs = []
    for a in e.atoms(sp.exp):
        k = sp.expand(a.args[0]).coeff(mu)
        if sp.expand(a.args[0] - k * mu).has(mu):
            return None
        coeffs.append(k)
    if not coeffs:
        return None
    # the generator c must make every k/c an integer: divide c by each denominator met
    # (sorted, so the choice does not depend on set order)
    coeffs = sorted(set(coeffs), key=lambda k: (sp.default_sort_key(abs(k)), sp.default_sort_key(k)))
    c = coeffs[0]
    for k in coeffs[1:]:
        r = sp.nsimplify(k / c)
        if not r.is_Rational:
            return None
        c = c / r.q
    return c


def _invert_scalar(gq, w0, constraints=(), w=W, mu=MU):
    r"""Solve :math:`w = \nabla Q(\mu)` for :math:`\mu` when :math:`\nabla Q = A e^{c\mu} + K + B e^{-c\mu}`
    (exp type when :math:`AB = 0`; sinh type when :math:`AB < 0`:
    :math:`w - K = 2\sqrt{-AB}\,\sinh(c\mu + \varphi)`), normalised by :math:`\nabla R(w_0) = 0`.

    Returns ``(grad_R, R)`` with :math:`R = \int_{w_0}^w \nabla R` (``None`` if not elementary), or
    ``None`` when there is no such elementary inverse (depth :math:`D\ge3`, cosh type).
    """
    e = sp.expand(gq.rewrite(sp.exp))
    c = _exp_generator(e, mu)
    if c is None:
        return None
    c = abs(c) if c.is_number else c
    T = sp.Symbol("T", positive=True)
    eT = sp.expand(e.xreplace({a: T ** sp.nsimplify(sp.expand(a.args[0]).coeff(mu) / c)
                               for a in e.atoms(sp.exp)}))
    num, den = sp.fraction(sp.together(eT * T))
    if den.has(T) or not num.is_polynomial(T) or num.has(mu):
        return None
    P = sp.Poly(num, T)
    if P.degree() > 2:
        return None
    A, K, B = (sp.factor(P.coeff_monomial(T**k) / den) for k in (2, 1, 0))
    w0 = sp.cancel(sp.powsimp(w0, force=True))
    r = sp.Dummy("r", positive=True)
    rng = random.Random(1)

    def sign_of(x):
        sg = set()
        for _ in range(4):
            v = evaluate(x, sample_point(x.free_symbols, rng, constraints))
            if v is None:
                return None
            sg.add(sp.sign(v))
        return sg.pop() if len(sg) == 1 else None

    if A == 0 and B == 0:
        return None
    if A == 0 or B == 0:
        sgn = -c if A == 0 else c
        grad = sp.log((w - K) / (w0 - K)) / sgn
        rep = {}
    else:
        if sign_of(A * B) != -1:
            return None  # cosh type: not onto R
        sa = sign_of(A)
        if sa is None:
            return None
        rad = sp.Abs(sp.factor(sp.powdenest(sp.sqrt(sp.factor(-A * B)), force=True)))
        grad = (sp.asinh(sa * (w - K) / (2 * r)) - sp.asinh(sa * (w0 - K) / (2 * r))) / c
        rep = {r: rad}
    R = _integrate0(grad, w, w0)
    return grad.xreplace(rep), None if R is None else R.xreplace(rep)


# ---- derivations ------------------------------------------------------------------------------
@memo(512)
def _integrate0(f, var, lower):
    """:math:`\\int_{lower}^{var} f`, or ``None`` when SymPy leaves an unevaluated integral."""
    t = sp.Dummy("t", **{k: v for k, v in var.assumptions0.items() if k in ("positive", "real")})
    try:
        F = sp.integrate(f.xreplace({var: t}), t)
    except (AttributeError, NotImplementedError, ValueError, TypeError):  # SymPy's own failures
        return None
    if F.has(sp.Integral):
        return None
    return sp.simplify(F.xreplace({t: var}) - F.xreplace({t: lower}))


def _check_commuting(p: Parameterization) -> None:
    nm = brackets_vanish(p)
    if nm is not None:
        raise NoMirrorPotential(nm.reason, pair=nm.pair, bracket=nm.bracket, point=nm.point)


def derive_potential(p: Parameterization) -> tuple:
    r"""A mirror potential of ``p`` and its proof: ``(MirrorPotential, Proof)``.

    Separable models: per coordinate, dual :math:`\nabla Q(\mu) = g(\psi(x_0;\mu))` from the flow of
    the template field, :math:`Q = \int_0^\mu \nabla Q`; the primal :math:`\nabla R = (\nabla Q)^{-1}`
    and :math:`R = \int_{w_0}^w \nabla R` where elementary (depth :math:`D \ge 3`: dual only).
    Other commuting models: the composed flows, :math:`\nabla Q(\mu) = G(\psi(x_0;\mu))` (dual only
    unless the system :math:`w = \nabla Q(\mu)` solves). Raises :class:`NoMirrorPotential` when the
    fields do not commute, :class:`LeafNotSolvable` when a flow has no closed form.
    """
    _check_commuting(p)
    lf = leaf_flow(p)
    gq = lf.dual_gradient()
    cons = domain_constraints(p)
    coordinate = len(gq) == 1 and p.is_separable
    if len(gq) == 1:
        g = gq[0]
        Q = _integrate0(g, MU, 0)
        w0 = lf.outputs[0].xreplace(dict(zip(lf.params, lf.init)))
        inv = _invert_scalar(g, w0, cons)
        grad, R = inv if inv is not None else (None, None)
        var = W
        if grad is not None and lf.outputs[0].is_nonnegative:
            # sign-constrained outputs (w = u^2): the primal lives on w > 0
            wp = sp.Symbol("w", positive=True)
            grad, R, var = grad.xreplace({W: wp}), None if R is None else R.xreplace({W: wp}), wp
        pot = MirrorPotential(variables=(var,), potential=R, gradient=None if grad is None else (grad,),
                              dual_variables=(MU,), dual=Q, dual_gradient=(g,), origin="derived",
                              coordinate=coordinate,
                              method="Li et al. flow construction" + (
                                  "; primal by inverting the dual gradient" if grad is not None else
                                  "; dual gradient has no elementary inverse: dual only"))
    else:
        ws = p.output_symbols()
        sol = None
        try:
            sols = sp.solve([sp.Eq(wi, gi) for wi, gi in zip(ws, gq)], lf.mus, dict=True)
            w0 = [o.xreplace(dict(zip(lf.params, lf.init))) for o in lf.outputs]
            for s in sols:
                if all(sp.simplify(s[m].xreplace(dict(zip(ws, w0)))) == 0 for m in lf.mus):
                    sol = s
                    break
        except (NotImplementedError, ValueError):
            sol = None
        pot = MirrorPotential(variables=ws, gradient=None if sol is None else tuple(sol[m] for m in lf.mus),
                              dual_variables=lf.mus, dual_gradient=gq, origin="derived",
                              coordinate=False, method="Li et al. composed flows")
    pot = _drop_unusable_fields(pot)
    if lf.leaf is not None:
        pot = replace(pot, leaf=lf.leaf.describe(),
                      method=pot.method + "; flow solved on the leaf through x0: " + "; ".join(lf.leaf.reasons))
    if pot.gradient is None and pot.dual_gradient is None:
        raise LeafNotSolvable(f"{p.name}: the construction gave no finite real expression for the potential")
    proof = prove_potential(p, pot)
    if lf.leaf is not None and proof.refuted:
        # a flow solved on the leaf is a candidate until its own identities hold (e.g. a closed
        # form valid on one branch only): refuted means not derived, never a refuted derivation
        raise LeafNotSolvable(f"{p.name}: the flow solved {lf.leaf.describe()} is refuted by its own "
                              f"identity at {proof.witness}")
    return pot, proof


def _drop_unusable_fields(pot: MirrorPotential) -> MirrorPotential:
    """A derived field that is not a finite real expression (``nan``, ``zoo``, an explicit ``I``
    SymPy could not remove) is not a result: it is dropped (the method says so), never shown."""
    bad = {}
    for name in ("potential", "gradient", "dual", "dual_gradient"):
        val = getattr(pot, name)
        if val is None:
            continue
        parts = val if isinstance(val, tuple) else (val,)
        if any(sp.sympify(e).has(sp.nan, sp.zoo, sp.oo, -sp.oo) for e in parts):
            bad[name] = None
        elif any(sp.sympify(e).has(sp.I) for e in parts):
            fixed = tuple(sp.simplify(sp.expand_log(e, force=False)) for e in parts)
            bad[name] = None if any(e.has(sp.I) for e in fixed) else (fixed if isinstance(val, tuple) else fixed[0])
    if not bad:
        return pot
    if bad.get("gradient", pot.gradient) is None:
        bad["potential"] = None
    if bad.get("dual_gradient", pot.dual_gradient) is None:
        bad["dual"] = None
    dropped = [k for k, v in bad.items() if v is None and getattr(pot, k) is not None]
    return replace(pot, **bad, method=pot.method + (f"; not finite and real, dropped: {', '.join(dropped)}"
                                                     if dropped else ""))


def leaf_potential(p: Parameterization, law: sp.Expr | None = None) -> MirrorPotential:
    r"""Second, independent derivation for 2-parameter templates (the leaf route).

    Solve :math:`\{g(x) = w,\ h(x) = h(x_0)\}` for :math:`x(w)` (``h`` the template's law: given, or
    a first integral of the template field found by separation), then
    :math:`m(w) = \sum_j \eta_j (\partial_j g)^2` on the leaf and
    :math:`\nabla R(w) = \int_{w_0}^w dt/m(t)`. Raises :class:`LeafNotSolvable` otherwise.
    """
    params, outs, init, M = _template(p)
    if len(params) != 2 or len(outs) != 1:
        raise LeafNotSolvable(f"{p.name}: the leaf route needs a 2-parameter, 1-output template, "
                              f"got {len(params)} parameters and {len(outs)} outputs")
    x1, x2 = params
    g = outs[0]
    V = M * sp.Matrix([g]).jacobian(sp.Matrix(params)).T
    if law is None:
        law = _first_integral(V, x1, x2)
    h0 = law.xreplace({x1: init[0], x2: init[1]})
    cons = domain_constraints(p)
    rng = random.Random(3)
    w0 = g.xreplace({x1: init[0], x2: init[1]})
    try:
        x2s = sp.solve(sp.Eq(law, h0), x2)
    except NotImplementedError:
        x2s = []
    for x2w in x2s:
        try:
            x1s = sp.solve(sp.Eq(g.xreplace({x2: x2w}), W), x1)
        except NotImplementedError:
            continue
        for x1w in x1s:
            ok = True
            for _ in range(3):
                pt = sample_point((x1w.free_symbols | set(init[0].free_symbols)) - {W}, rng, cons)
                a = evaluate(x1w.xreplace({W: w0}) - init[0], pt)
                b = evaluate(x2w.xreplace({x1: x1w}).xreplace({W: w0}) - init[1], pt)
                if a is None or b is None or not (a.is_real and b.is_real) or abs(a) > sp.Float("1e-30") \
                        or abs(b) > sp.Float("1e-30"):
                    ok = False
                    break
            if not ok:
                continue
            leaf = {x1: x1w, x2: x2w.xreplace({x1: x1w})}
            grad_g = [sp.diff(g, x) for x in params]
            m = sum(M[j, j] * grad_g[j] ** 2 for j in range(2)).xreplace(leaf)
            grad = _integrate0(_rationalize(1 / m), W, w0)
            if grad is None:
                raise LeafNotSolvable(f"{p.name}: 1/m(w) = {1 / m} on the leaf has no elementary antiderivative")
            return MirrorPotential(variables=(W,), gradient=(grad,), origin="derived",
                                   coordinate=p.is_separable, method=f"leaf route, law {law}")
    raise LeafNotSolvable(f"{p.name}: could not solve the leaf {{{g} = w, {law} = {h0}}} for "
                          f"{x1}, {x2} through the initial point in closed form")


def _rationalize(e):
    r"""Simplify a rational function of one square root :math:`S=\sqrt c`: multiply by the conjugate
    of the denominator and reduce with :math:`S^2 = c` (e.g. :math:`(w+S)/(4(c+wS)) = 1/(4S)`)."""
    e = sp.together(sp.sympify(e))
    roots = [a for a in e.atoms(sp.Pow) if a.exp == sp.Rational(1, 2)]
    if len(roots) != 1:
        return sp.simplify(e)
    S = roots[0]
    sig = sp.Dummy("sigma", positive=True)
    num, den = (sp.expand(x.xreplace({S: sig})) for x in sp.fraction(e))
    rel = sp.Poly(sig**2 - S.base, sig)

    def red(x):
        return sp.Poly(x, sig).rem(rel).as_expr()

    den = red(den)
    a, b = den.coeff(sig, 0), den.coeff(sig, 1)
    num, den = red(num * (a - b * sig)), sp.expand(a**2 - b**2 * S.base)
    out = sp.factor(num.coeff(sig, 0) / den) + sp.factor(num.coeff(sig, 1) / den) * sig
    return sp.powsimp(out.xreplace({sig: S}), force=True)


def _first_integral(V, x1, x2):
    r"""A first integral of a planar field: :math:`\int dx_1/V_1 - \int dx_2/V_2` when
    :math:`V_k = V_k(x_k)`, :math:`\int V_2 dx_1 - \int V_1 dx_2` when :math:`V_1 = V_1(x_2)`,
    :math:`V_2 = V_2(x_1)`."""
    v1, v2 = V
    if not v1.has(x2) and not v2.has(x1):
        return sp.expand_log(sp.integrate(1 / v1, x1) - sp.integrate(1 / v2, x2), force=True)
    if not v1.has(x1) and not v2.has(x2):
        return sp.integrate(v2, x1) - sp.integrate(v1, x2)
    raise LeafNotSolvable(f"no first integral found for the field {tuple(V)}; pass the law explicitly")


# ---- proofs -----------------------------------------------------------------------------------
#: the positive symbols standing for exp(c*mu) in proofs, with what they stand for
_T_MEANING: dict = {}


def _T(c, mu):
    r"""The positive symbol for :math:`T = e^{c\mu}` (named after what it stands for, so a
    remainder reads in the user's terms); remembered for :func:`_in_user_terms`."""
    T = sp.Symbol(f"exp({sp.sstr(c * mu)})", positive=True)
    _T_MEANING[T] = (c, mu)
    return T


def _in_user_terms(proof: Proof) -> Proof:
    r"""``proof`` with each stand-in :math:`T = e^{c\mu}` turned back into :math:`\mu`: the witness
    gets :math:`\mu = \log(T)/c`, the remainder :math:`T \to e^{c\mu}`."""
    if proof.witness is None and not isinstance(proof.remainder, (sp.Basic, tuple)):
        return proof
    back = {T: sp.exp(c * mu) for T, (c, mu) in _T_MEANING.items()}
    witness = proof.witness
    if witness:
        witness = {(_T_MEANING[k][1] if k in _T_MEANING else k):
                   (sp.log(v) / _T_MEANING[k][0] if k in _T_MEANING else v) for k, v in witness.items()}
    rem = proof.remainder
    if isinstance(rem, tuple):
        rem = tuple(sp.sympify(r).xreplace(back) for r in rem)
    elif isinstance(rem, sp.Basic):
        rem = rem.xreplace(back)
    return replace(proof, witness=witness, remainder=rem)


def _exp_to_T(e, mus):
    """Replace exp(k*mu) by T**k (T > 0) so hyperbolic identities become rational ones."""
    e = sp.sympify(e).rewrite(sp.exp)
    if len(mus) != 1:
        return e
    c = _exp_generator(sp.expand(e), mus[0])
    if c is None:
        return e
    T = _T(c, mus[0])
    rep = {a: T ** sp.nsimplify(sp.expand(a.args[0]).coeff(mus[0]) / c) for a in e.atoms(sp.exp)
           if a.args[0].has(mus[0])}
    return e.xreplace(rep)


def _combine(proofs, identity) -> Proof:
    """All proved -> proved (methods joined); else the first refuted, else the first undecided."""
    for status in ("refuted", "undecided"):
        for pr in proofs:
            if pr.status == status:
                return Proof(status, identity + " [" + pr.identity + "]", pr.remainder, pr.witness,
                             pr.witness_value, pr.method)
    return Proof("proved", identity, sp.Integer(0), method="; ".join(dict.fromkeys(pr.method for pr in proofs)))


def prove_potential(p: Parameterization, claim: MirrorPotential) -> Proof:
    r"""Prove or refute a mirror potential of ``p``, every field of it (see module doc).

    Each field that is given is checked; none is ignored:

    * ``potential`` :math:`R`: :math:`R(w_0) = 0` and :math:`\nabla R` equals ``gradient`` (or stands
      in for it when no gradient is given);
    * ``gradient``: :math:`\nabla R(w_0) = 0` and :math:`\nabla^2R(\nabla Q(\mu))\nabla^2Q(\mu) \equiv I`;
    * ``dual`` :math:`Q`: :math:`Q(0) = 0` and :math:`\nabla Q` equals ``dual_gradient`` (or stands in for it);
    * ``dual_gradient``: :math:`\nabla Q(\mu) - G(\psi(x_0;\mu)) \equiv 0`;

    and the flow :math:`\psi` itself. A field in symbols other than its own variables and the
    model's constants cannot be judged: the verdict is then ``undecided`` and says which field.
    """
    if all(f is None for f in (claim.potential, claim.gradient, claim.dual, claim.dual_gradient)):
        raise IbcheckError("prove_potential: the claim states no potential, gradient, dual or dual gradient")
    unknown = _unknown_symbols(p, claim)
    if unknown:
        return Proof("undecided", f"mirror potential of {p.name}", sp.nan,
                     method="cannot be judged: " + "; ".join(unknown))
    _check_commuting(p)
    lf = leaf_flow(p)
    sub, cons = reparametrize(domain_constraints(p))

    def check_identity(comps, identity, constraints=()):
        return _check([factor_radicands(sp.sympify(c).xreplace(sub), square_roots_only=True) for c in comps],
                      identity, constraints=cons)

    consistency, claim = _complete(claim, lf, check_identity)
    proofs = [_flow_proof(lf, cons)] + consistency
    gq = lf.dual_gradient()
    n = len(gq)
    if claim.has_dual:
        dg = tuple(claim.dual_gradient)
        if len(dg) != n:
            raise IbcheckError(f"prove_potential: the dual gradient has {len(dg)} components, the model "
                               f"(template) has {n} outputs")
        dv = tuple(claim.dual_variables) or lf.mus
        comps = [_exp_to_T(sp.sympify(c).xreplace(dict(zip(dv, lf.mus))) - g, lf.mus)
                 for c, g in zip(dg, gq)]
        proofs.append(check_identity(comps, r"\nabla Q(\mu) = G(\psi(x_0;\mu))", constraints=cons))
    if claim.has_primal:
        grad = tuple(claim.gradient)
        ws = tuple(claim.variables)
        if len(grad) != n or len(ws) != n:
            raise IbcheckError(f"prove_potential: the gradient has {len(grad)} components in {len(ws)} "
                               f"variables, the model (template) has {n} outputs")
        w0 = [o.xreplace(dict(zip(lf.params, lf.init))) for o in lf.outputs]
        at0 = [sp.sympify(gc).xreplace(dict(zip(ws, w0))) for gc in grad]
        proofs.append(check_identity(at0, r"\nabla R(w_0) = 0", constraints=cons))
        proofs.append(_primal_identity(grad, ws, gq, lf, check_identity, sub))
    what = "dual and primal" if claim.has_dual and claim.has_primal else "dual" if claim.has_dual else "primal"
    where = "" if lf.leaf is None else " " + lf.leaf.describe()
    return _in_user_terms(_combine(proofs, f"mirror potential ({what}) of {p.name}{where}"))


def _to_T(e, mus):
    r"""For one dual variable: ``e`` with :math:`e^{k\mu} \to T^{k/c}` and every other
    :math:`\mu \to \log(T)/c` (:math:`T = e^{c\mu} > 0`), so identities in :math:`\mu` over
    :math:`\mathbb R` become identities in :math:`T > 0`. Several dual variables: unchanged."""
    e = sp.sympify(e).rewrite(sp.exp)
    if len(mus) != 1:
        return e
    mu = mus[0]
    c = _exp_generator(sp.expand(e), mu)
    if c is None:
        return e
    T = _T(c, mu)
    rep = {a: T ** sp.nsimplify(sp.expand(a.args[0]).coeff(mu) / c) for a in e.atoms(sp.exp)
           if a.args[0].has(mu)}
    return e.xreplace(rep).xreplace({mu: sp.log(T) / c})


#: real functions analytic on all of R
_ENTIRE = (sp.exp, sp.sinh, sp.cosh, sp.tanh, sp.asinh, sp.atan, sp.sin, sp.cos)


def _branch_points(e, variables) -> str | None:
    r"""``None`` when ``e`` is provably real-analytic in ``variables`` wherever they range (every
    log and fractional power of a provably positive argument, every denominator provably nonzero,
    only entire functions otherwise; pieces free of the variables are constants and cannot
    jump); else a sentence naming the first piece that may jump."""
    variables = set(variables)
    for node in sp.preorder_traversal(e):
        if not (node.free_symbols & variables):
            continue
        if isinstance(node, sp.log):
            if not (node.args[0].is_positive or sp.factor(node.args[0]).is_positive):
                return f"log({node.args[0]}) may take a non-positive argument"
        elif isinstance(node, sp.Pow):
            b, k = node.args
            if k.is_integer and k.is_nonnegative:
                continue
            if k.is_integer:
                if not (b.is_nonzero or sp.factor(b).is_nonzero):
                    return f"the denominator {b} may vanish"
            elif not (b.is_positive or sp.factor(b).is_positive):
                return f"{node} may take a non-positive base"
        elif isinstance(node, sp.Function) and not isinstance(node, _ENTIRE):
            return f"{node.func} is not analytic on the whole range"
    return None


def _primal_identity(grad, ws, gq, lf: LeafFlow, check, sub) -> Proof:
    r"""The mirror identity for a primal gradient: :math:`\nabla R(\nabla Q(\mu)) = \mu` for every
    :math:`\mu`, i.e. :math:`\nabla R(w) = \mu` wherever the flow goes.

    First directly. When simplification cannot decide it, through its derivative
    :math:`\nabla^2R(\nabla Q(\mu))\nabla^2Q(\mu) = I` (for one output also :math:`H^2 = 1` with
    :math:`H(0) = 1`): the derivative fixes :math:`\nabla R(\nabla Q(\mu)) - \mu` up to a
    constant, which :math:`\nabla R(w_0) = 0` makes 0 *only if* the composition cannot jump (a
    log or square root with a branch on the range, an absolute value). So the derivative route
    proves only when :func:`_branch_points` certifies analyticity; otherwise it is ``undecided``.
    """
    n = len(gq)
    onto = dict(zip(ws, gq))
    h = [sp.sympify(g).xreplace(onto) for g in grad]
    direct = check([_to_T(hi - m, lf.mus) for hi, m in zip(h, lf.mus)], r"\nabla R(\nabla Q(\mu)) = \mu")
    if direct.proved or direct.refuted:
        return direct
    hessR = sp.Matrix(grad).jacobian(sp.Matrix(ws))
    hessQ = sp.Matrix(gq).jacobian(sp.Matrix(lf.mus))
    H = hessR.xreplace(onto) * hessQ
    if n == 1:
        hh = _to_T(H[0, 0], lf.mus)
        first = check([hh - 1], r"\nabla^2R(\nabla Q(\mu))\,\nabla^2Q(\mu) = 1")
        if first.proved or first.refuted:
            hess = first
        else:
            sq = check([sp.expand(hh**2) - 1], r"(\nabla^2R\,\nabla^2Q)^2 = 1")
            h0 = H[0, 0].xreplace({m: 0 for m in lf.mus}).xreplace(sub)
            h0 = factor_radicands(sp.simplify(factor_radicands(h0, square_roots_only=True)),
                                  square_roots_only=True)
            hess = _combine([sq, check([h0 - 1], r"\nabla^2R(w_0)\,\nabla^2Q(0) = 1")],
                            r"\nabla^2R\,\nabla^2Q = 1")
    else:
        hess = check([_to_T(c, lf.mus) for c in (H - sp.eye(n))],
                     r"\nabla^2R(\nabla Q(\mu))\,\nabla^2Q(\mu) = I")
    if not hess.proved:
        return hess if hess.refuted else direct
    composed = sp.Matrix([_to_T(hi, lf.mus) for hi in h]).xreplace(sub)
    why = _branch_points(composed, set(lf.mus) | (composed.free_symbols & set(_T_MEANING)))
    if why is None:
        return Proof("proved", hess.identity, sp.Integer(0),
                     method=hess.method + "; grad R(grad Q(mu)) is analytic on the range, so it is "
                                          "mu + const, and const = 0 by grad R(w0) = 0")
    return Proof("undecided", r"\nabla R(\nabla Q(\mu)) = \mu", direct.remainder,
                 method=f"proved only its derivative ({hess.identity}); {why}, so the constant of "
                        "integration may jump between branches")


def _unknown_symbols(p: Parameterization, claim: MirrorPotential) -> list:
    """Sentences naming each field of ``claim`` that uses symbols other than its variables and
    the model's constants (and each malformed variable list)."""
    out = []
    consts = set(p.constants)
    for vars_, fields in ((claim.variables, ("potential", "gradient")),
                          (claim.dual_variables, ("dual", "dual_gradient"))):
        vs = tuple(vars_)
        if any(not isinstance(v, sp.Symbol) for v in vs) or len(set(vs)) != len(vs):
            out.append(f"its variables {vs} are not distinct symbols")
            continue
        for name in fields:
            val = getattr(claim, name)
            if val is None:
                continue
            free = set().union(*(sp.sympify(e).free_symbols for e in (val if isinstance(val, tuple) else (val,))))
            # an unnamed dual variable is the engine's own (mu, mu_1, ...)
            allowed = consts | set(vs) | (set() if vs or fields[0] == "potential" else
                                          {s for s in free if s.name == "mu" or s.name.startswith("mu_")})
            extra = free - allowed
            if extra:
                out.append(f"the field {name} uses {', '.join(sorted(map(str, extra)))}, which is neither "
                           f"a variable of the claim ({', '.join(map(str, vs)) or 'none given'}) nor a "
                           f"constant of {p.name}")
    return out


def filled(claim: MirrorPotential) -> MirrorPotential:
    r"""``claim`` with a missing ``gradient`` taken as :math:`\nabla R` of its ``potential`` and a
    missing ``dual_gradient`` as :math:`\nabla Q` of its ``dual`` (dual variables default to the
    engine's :math:`\mu`), so a claim stated as R alone (as papers state it) is checked as such."""
    fill = {}
    if claim.potential is not None and claim.gradient is None:
        fill["gradient"] = tuple(sp.diff(claim.potential, x) for x in claim.variables)
    if claim.dual is not None and claim.dual_gradient is None:
        mus = tuple(claim.dual_variables) or ((MU,) if len(claim.variables) == 1 else
                                              tuple(sp.Symbol(f"mu_{i + 1}", real=True)
                                                    for i in range(len(claim.variables))))
        fill["dual_gradient"] = tuple(sp.diff(claim.dual, m) for m in mus)
        fill["dual_variables"] = mus
    return replace(claim, **fill) if fill else claim


def _complete(claim: MirrorPotential, lf: LeafFlow, check) -> tuple:
    r"""The consistency proofs between the fields of ``claim`` (:math:`R` against :math:`\nabla R`,
    :math:`R(w_0) = 0`; :math:`Q` against :math:`\nabla Q`, :math:`Q(0) = 0`) and the claim with
    each missing gradient filled in from its potential, so the mirror identity is checked for
    whatever was stated."""
    proofs, fill = [], {}
    ws = tuple(claim.variables)
    if claim.potential is not None:
        R = sp.sympify(claim.potential)
        w0 = [o.xreplace(dict(zip(lf.params, lf.init))) for o in lf.outputs]
        if len(ws) != len(w0):
            raise IbcheckError(f"prove_potential: the potential is in {len(ws)} variables, the model "
                               f"(template) has {len(w0)} outputs")
        gradR = tuple(sp.diff(R, x) for x in ws)
        proofs.append(check([R.xreplace(dict(zip(ws, w0)))], r"R(w_0) = 0"))
        if claim.gradient is not None:
            if len(claim.gradient) != len(ws):
                raise IbcheckError(f"prove_potential: the gradient has {len(claim.gradient)} components "
                                   f"in {len(ws)} variables")
            proofs.append(check([g - sp.sympify(c) for g, c in zip(gradR, claim.gradient)],
                                r"\nabla R = \text{gradient}"))
        else:
            fill["gradient"] = gradR
    if claim.dual is not None:
        mus = tuple(claim.dual_variables) or lf.mus
        Q = sp.sympify(claim.dual)
        if len(mus) != len(lf.mus):
            raise IbcheckError(f"prove_potential: the dual is in {len(mus)} variables, the model "
                               f"(template) has {len(lf.mus)} outputs")
        gradQ = tuple(sp.diff(Q, m) for m in mus)
        proofs.append(check([Q.xreplace({m: 0 for m in mus})], r"Q(0) = 0"))
        if claim.dual_gradient is not None:
            if len(claim.dual_gradient) != len(mus):
                raise IbcheckError(f"prove_potential: the dual gradient has {len(claim.dual_gradient)} "
                                   f"components in {len(mus)} variables")
            proofs.append(check([_exp_to_T(g - sp.sympify(c), mus) for g, c in zip(gradQ, claim.dual_gradient)],
                                r"\nabla Q = \text{dual gradient}"))
        else:
            fill["dual_gradient"] = gradQ
            fill["dual_variables"] = mus
    return proofs, replace(claim, **fill) if fill else claim
