r"""Limiting regularizers: the potential as the init scale :math:`\alpha \to 0` or :math:`\alpha\to\infty`.

Claim: :math:`\lim_{\alpha\to a}\varphi(\alpha)\,(R_\alpha(w) - R_\alpha(0)) = \ell(w)` for every
:math:`w \ne 0` (per coordinate). Routes (all verdicts by :func:`theory.proving.zero.check_identity`):

* **direct** (``potential.potential`` known): the limit of :math:`\varphi(R(w) - R(0))` at a
  positive and at a negative symbol :math:`w`, minus :math:`\ell(w)`;
* **gradient** (primal gradient known): :math:`\lim\varphi\nabla R_\alpha(w) = \ell'(w)` for
  :math:`w>0`, :math:`w<0`, and finite at :math:`w=0`, with :math:`\ell(0) = 0`. Sound because
  :math:`\nabla R_\alpha` is increasing (:math:`R` convex), so on :math:`[0,w]` the functions
  :math:`\varphi\nabla R_\alpha` are bounded by their (convergent) values at the ends, and dominated
  convergence gives :math:`\varphi(R(w)-R(0)) = \int_0^w \varphi\nabla R \to \int_0^w \ell'`;
* **dual** (only :math:`\nabla Q` known, e.g. depth :math:`D \ge 3`, Woodworth et al. 2020 Sec. 5):
  with :math:`y = \varphi\mu`, if the domain of :math:`y\mapsto\nabla Q(y/\varphi)` is
  :math:`(-c, c)` independent of :math:`\alpha` and :math:`\nabla Q(y/\varphi)\to0` for every fixed
  :math:`|y| < c`, then (:math:`\nabla Q` increasing, onto :math:`\mathbb R`) the preimage
  :math:`\varphi\nabla R(w)` of a fixed :math:`w \gtrless 0` tends to :math:`\pm c`, is bounded by
  :math:`c`, and :math:`\varphi(R(w) - R(0)) \to c|w|`.
"""
from __future__ import annotations

import sympy as sp

from .claims import LimitingRegularizer, MirrorPotential, Proof
from .errors import IbcheckError
from .mirror import MU, domain_constraints, reparametrize
from .parameterization import Parameterization
from .memo import memo
from .proving.zero import check_identity, factor_radicands

_INF = (sp.oo, -sp.oo, sp.zoo, sp.nan)


@memo(1024)
def _limit(e, x, point):
    """sympy limit; ``None`` when it cannot be computed (unevaluated, error, AccumBounds).

    Each negative symbol :math:`s` other than ``x`` is written :math:`-t` with :math:`t > 0` for the
    computation and put back in the result (an exact change of variables): odd functions then
    shed the sign at construction (``asinh(-t) = -asinh(t)``), which SymPy's series code handles
    faster than a negative argument."""
    flips = {s: sp.Dummy(s.name, positive=True) for s in e.free_symbols - {x} if s.is_negative}
    try:
        L = sp.limit(e.xreplace({s: -t for s, t in flips.items()}), x, point, "+" if point == 0 else "-")
    except (NotImplementedError, ValueError, TypeError, RecursionError, AttributeError):
        return None
    L = L.xreplace({t: -s for s, t in flips.items()})
    if L.has(sp.Limit) or isinstance(L, sp.AccumBounds) or L.has(sp.AccumBounds):
        return None
    # an infinite or undefined limit is returned as computed: every caller only rejects it (a
    # candidate factor, a route of the proof), and simplifying e.g. oo*sign(...) costs ~0.5 s
    return L if L.has(*_INF) else sp.simplify(L)


@memo(1024)
def _prep(e, sub):
    """Substitute the interval reparameterisation and let SymPy resolve the signs it now knows.
    Memoised (pure): the derivation and the proof of each limit prepare the same gradient."""
    e = sp.sympify(e).xreplace(sub)
    return sp.simplify(e) if sub else e


def _sides(var):
    """Positive and negative stand-ins for the variable (only positive for w > 0 domains)."""
    wp = sp.Symbol(var.name + "_p", positive=True)
    if var.is_positive or var.is_nonnegative:
        return (wp,)
    return wp, sp.Symbol(var.name + "_n", negative=True)


def _scalar(potential: MirrorPotential):
    if len(potential.variables) != 1:
        raise IbcheckError("limits: only per-coordinate (scalar) potentials are supported; "
                           f"got {len(potential.variables)} variables")
    return potential.variables[0]


def _candidates(scale, point):
    L = sp.log(1 / scale)
    pw = [sp.Rational(k, 2) for k in range(1, 9)]
    pw = pw if point == sp.oo else [-k for k in pw]
    return [sp.Integer(1), 1 / L] + [scale**k for k in pw] + [scale**k / L for k in pw]


def _growth(phi, scale):
    r"""``(p, q)`` with :math:`|\varphi| = c\,\alpha^p|\log\alpha|^q` (:math:`c \ne 0` free of
    :math:`\alpha`), or ``None`` when :math:`\varphi` is not of that form."""
    p = q = sp.Integer(0)
    for f in sp.Mul.make_args(sp.sympify(phi)):
        b, k = f.as_base_exp()
        if b == scale:
            p += k
        elif b in (sp.log(scale), sp.log(1 / scale)):
            q += k
        elif f.has(scale) or f == 0:
            return None
    return p, q


def _bounded(num, den, scale, point) -> bool:
    r"""Whether :math:`|num/den|` stays bounded as :math:`\alpha \to` ``point`` (0 or
    :math:`\infty`), decided from the exponents of :func:`_growth`; ``False`` when unknown."""
    a, b = _growth(num, scale), _growth(den, scale)
    if a is None or b is None or point not in (0, sp.oo):
        return False
    dp, dq = a[0] - b[0], a[1] - b[1]  # num/den = c alpha^dp |log alpha|^dq, |log alpha| -> oo
    if not (dp.is_Rational and dq.is_Rational):
        return False
    return bool((dp < 0 if point == sp.oo else dp > 0) or (dp == 0 and dq <= 0))


def _find_factor(g, var, scale, point, candidates=None):
    r"""(factor, {side: limit}) with finite limits, not all zero, else None (``candidates``: the
    normalising factors to try, default :func:`_candidates`).

    A candidate is not computed when an earlier one decides it (the same verdict, no SymPy
    limit): if :math:`\varphi_1 g \to 0` on every side and :math:`|\varphi_2/\varphi_1|` is
    bounded, then :math:`\varphi_2 g \to 0` on every side too (all zero: rejected); if
    :math:`|\varphi_1 g| \to \infty` on a side and :math:`|\varphi_1/\varphi_2|` is bounded, then
    :math:`|\varphi_2 g| \to \infty` there (rejected)."""
    sides = _sides(var)
    vanish, blow = [], []  # candidates with phi*g -> 0 on every side / |phi*g| -> oo on a side
    for phi in (_candidates(scale, point) if candidates is None else candidates):
        if any(_bounded(phi, z, scale, point) for z in vanish) or \
                any(_bounded(b, phi, scale, point) for b in blow):
            continue
        lims = {}
        for s in sides:
            L = _limit(phi * g.xreplace({var: s}), scale, point)
            if L is None or L.has(*_INF):
                if L in (sp.oo, -sp.oo, sp.zoo):
                    blow.append(phi)
                break
            lims[s] = L
        else:
            if any(L != 0 for L in lims.values()):
                return phi, lims
            vanish.append(phi)
    return None


def _glue(pieces, var):
    """One expression from the side-wise antiderivatives: even -> f(|w|), same -> f(w)."""
    if len(pieces) == 1:
        return next(iter(pieces.values())).xreplace({next(iter(pieces)): var})
    (wp, fp), (wn, fn) = pieces.items()
    t = sp.Symbol("t_", positive=True)
    plus, minus = fp.xreplace({wp: t}), fn.xreplace({wn: -t})
    if sp.simplify(plus - minus) == 0:
        return plus.xreplace({t: sp.Abs(var)})
    if sp.simplify(plus + minus) == 0 or sp.simplify(fp.xreplace({wp: var}) - fn.xreplace({wn: var})) == 0:
        return fp.xreplace({wp: var})
    return sp.Piecewise((fp.xreplace({wp: var}), var >= 0), (fn.xreplace({wn: var}), True))


def _dual_factor(potential, scale):
    r""":math:`\varphi = 1/\mu_+` where :math:`(-\mu_+, \mu_+)` is the domain of :math:`\nabla Q`
    (its poles), or ``None`` when the domain is not a symmetric bounded interval."""
    gq = sp.together(potential.dual_gradient[0])
    mu = potential.dual_variables[0] if potential.dual_variables else MU
    den = sp.denom(gq)
    try:
        poles = [r for r in sp.solve(den, mu) if r.is_real is not False]
    except NotImplementedError:
        return None
    pos = [r for r in poles if r.is_positive]
    neg = [r for r in poles if r.is_negative]
    if not pos or not neg:
        return None
    mp, mn = min(pos, key=lambda r: r.subs(scale, 1)), max(neg, key=lambda r: r.subs(scale, 1))
    if sp.simplify(mp + mn) != 0:
        return None
    return sp.simplify(1 / mp), mu, gq


def derive_limits(p: Parameterization, potential: MirrorPotential, scale=None, *,
                  points=((sp.Integer(0), "alpha->0"), (sp.oo, "alpha->oo")), candidates=None) -> tuple:
    r"""Limiting regularizers of ``potential`` as ``scale`` (default: the constant ``alpha``)
    goes to 0 and to :math:`\infty`: ``((LimitingRegularizer, Proof), ...)`` (only those found).

    Primal: the first factor :math:`\varphi` among :math:`1, 1/\log(1/\alpha), \alpha^{\pm k/2},
    \alpha^{\pm k/2}/\log(1/\alpha)` (or the given ``candidates``) for which :math:`\varphi\nabla R(w)` has finite limits, not all
    zero, at :math:`w > 0` and :math:`w < 0`; :math:`\ell = \int_0^w` of them.
    Dual only: :math:`\varphi = 1/\mu_+` (the end of the dual domain), :math:`\ell = |w|`
    (:math:`\alpha \to 0` only).
    """
    if scale is None:
        scale = next((c for c in p.constants if c.name == "alpha"), None)
        if scale is None:
            raise IbcheckError(f"{p.name}: no init scale constant 'alpha'; pass scale=")
    var = _scalar(potential)
    sub, _ = reparametrize(domain_constraints(p))
    back = {}
    for s, e in sub.items():
        rho = next(iter(e.free_symbols - {s}))
        back[rho] = sp.solve(sp.Eq(s, e), rho)[0]
    out = []
    if potential.has_primal:
        g = _prep(potential.gradient[0], sub)
        for point, name in points:
            found = _find_factor(g, var, scale, point, candidates)
            if found is None:
                continue
            phi, lims = found
            pieces = {}
            for s, L in lims.items():
                t = sp.Dummy("t", positive=s.is_positive, negative=s.is_negative)
                pieces[s] = sp.simplify(sp.integrate(L.xreplace({s: t}), (t, 0, s)))
            lead = sp.simplify(_glue(pieces, var).xreplace(back))
            claim = LimitingRegularizer(scale, point, phi, lead, var, origin="derived",
                                        coordinate=potential.coordinate, name=name)
            out.append((claim, prove_limit(p, claim, potential)))
    elif potential.has_dual:
        d = _dual_factor(potential, scale)
        point, name = points[0]
        if d is not None:
            phi = d[0]
            claim = LimitingRegularizer(scale, point, phi, sp.Abs(var), var, origin="derived",
                                        coordinate=potential.coordinate, name=name)
            out.append((claim, prove_limit(p, claim, potential, dual_any_point=True)))
    return tuple(out)


def _component(L, target):
    """L - target, or 1 (never zero) when the limit is infinite / unknown: the claim fails there."""
    if L is None:
        return None
    if L.has(*_INF):
        return sp.Integer(1)
    return L - target


def prove_limit(p: Parameterization, claim: LimitingRegularizer, potential: MirrorPotential, *,
                dual_any_point: bool = False) -> Proof:
    r"""Prove or refute :math:`\lim \varphi(R(w) - R(0)) = \ell(w)` (see the module doc for the
    three routes; ``dual_any_point`` lets the dual route take a point other than 0, e.g. the
    cumulative decay A -> oo, whose argument is the same). A refutation's witness is a value of :math:`w_p > 0` or :math:`w_n < 0` (and
    the constants) where the limit differs from the claimed leading term."""
    var = _scalar(potential)
    sub, cons = reparametrize(domain_constraints(p))
    a, point, phi = claim.scale, claim.point, sp.sympify(claim.factor)
    lead = sp.sympify(claim.leading).xreplace({claim.variable: var}).xreplace(sub)
    sides = _sides(var)
    comps, how = [], ""
    if potential.potential is not None:
        R = _prep(potential.potential, sub)
        R0 = R.xreplace({var: 0})
        if R0.has(*_INF) or R0.has(sp.log(0)):
            R0 = _limit(R, var, 0)
        direct = [] if R0 is None else [
            _component(_limit(phi * (R.xreplace({var: s}) - R0), a, point), lead.xreplace({var: s}))
            for s in sides]
        if direct and all(c is not None for c in direct):
            comps, how = direct, "direct limit of factor*(R(w) - R(0))"
    # an infinite direct limit is re-examined through the gradient (SymPy's limit of a difference
    # of large terms is the weaker computation); the gradient route's verdict is then used
    if (not comps or any(c == 1 for c in comps)) and potential.has_primal:
        direct_comps, comps = comps, []
        g = _prep(potential.gradient[0], sub)
        dlead = sp.diff(lead, var)
        grads = [_component(_limit(phi * g.xreplace({var: s}), a, point), dlead.xreplace({var: s}))
                 for s in sides]
        at0 = _limit(phi * g.xreplace({var: 0}), a, point) if len(sides) == 2 else sp.Integer(0)
        if all(c is not None for c in grads) and at0 is not None:
            comps = grads + [lead.xreplace({var: 0})] + ([sp.Integer(1)] if at0.has(*_INF) else [])
            how = "limit of factor*grad R at w > 0, w < 0 (bounded at 0; dominated convergence)"
        elif direct_comps:
            comps = direct_comps
    if not comps and potential.has_dual and not potential.has_primal:
        if point != 0 and not dual_any_point:
            return check_identity([sp.Symbol("undecided_dual_limit_at_oo")], "dual route covers alpha -> 0 only",
                                  points=0)
        d = _dual_factor(potential, a)
        if d is None:
            raise IbcheckError(f"{p.name}: the dual gradient's domain is not a symmetric interval; "
                               "no dual route for this limit")
        phi0, mu, gq = d
        y = sp.Symbol("y", real=True)
        cc = sp.simplify(phi / phi0)  # the y-domain is (-c, c), c = phi/phi0
        vanish = _limit(gq.xreplace({mu: y / phi}), a, point)
        comps = [sp.diff(cc, a), _component(vanish, 0)]
        comps += [lead.xreplace({var: s}) - cc * sp.Abs(s) for s in sides]
        how = "dual route: y-domain (-c, c) fixed, grad Q(y/factor) -> 0, so factor*grad R -> c sign(w)"
    if not comps:
        return check_identity([sp.Symbol("limit_not_computed")], "limit could not be computed", points=0)
    comps = [factor_radicands(c, square_roots_only=True) for c in comps]
    return check_identity(comps, f"lim_{{{a}->{point}}} {phi}*(R(w) - R(0)) = {claim.leading} [{how}]",
                          constraints=cons)
