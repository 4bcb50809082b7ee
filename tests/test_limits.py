"""Limiting regularizers (alpha -> 0, alpha -> oo): derivations, the literature's limits, and
negative controls (wrong factor, w vs |w|, wrong constant, missing log) refuted."""
import pytest
import sympy as sp

from theory.catalog import diagonal as d
from theory.claims import LimitingRegularizer, MirrorPotential
from theory.limits import derive_limits, prove_limit
from theory.mirror import derive_potential

alpha, s, w = d.alpha, d.shape, d.w
L = sp.log(1 / alpha)


@pytest.fixture(scope="module")
def quad():
    p = d.quadratic(1)
    return p, derive_potential(p)[0]


def _by_point(lims):
    return {c.point: (c, pr) for c, pr in lims}


def test_quadratic_limits_derived(quad):
    p, pot = quad
    lims = _by_point(derive_limits(p, pot))
    c0, pr0 = lims[0]
    assert pr0.proved and sp.simplify(c0.factor - 1 / L) == 0
    assert sp.simplify(c0.leading - sp.Abs(c0.variable) / 2) == 0
    coo, proo = lims[sp.oo]
    assert proo.proved and coo.factor == alpha**2
    assert sp.simplify(coo.leading - c0.variable**2 / 16) == 0


def test_quadratic_literature_limits_proved(quad):
    p, pot = quad
    lit = d.quadratic_literature()
    for claim in (c for c in lit if isinstance(c, LimitingRegularizer)):
        assert prove_limit(p, claim, pot).proved
        # the same limits against the literature potential itself (direct route)
        assert prove_limit(p, claim, lit[1]).proved


@pytest.mark.parametrize("claim", [
    LimitingRegularizer(alpha, sp.oo, alpha, w**2 / 16, w),            # factor alpha, not alpha^2
    LimitingRegularizer(alpha, 0, 1 / L, w / 2, w),                    # w instead of |w|
    LimitingRegularizer(alpha, 0, 1 / L, sp.Abs(w), w),                # |w| instead of |w|/2
    LimitingRegularizer(alpha, 0, sp.Integer(1), sp.Abs(w) / 2, w),    # no log factor
    LimitingRegularizer(alpha, sp.oo, alpha**2, w**2 / 8, w),          # wrong constant
])
def test_quadratic_wrong_limits_refuted(quad, claim):
    p, pot = quad
    pr = prove_limit(p, claim, pot)
    assert pr.refuted, pr
    assert pr.witness is not None


def test_gradient_route_when_no_potential(quad):
    p, pot = quad
    grad_only = MirrorPotential(variables=pot.variables, gradient=pot.gradient, coordinate=True)
    good = LimitingRegularizer(alpha, 0, 1 / L, sp.Abs(w) / 2, w)
    bad = LimitingRegularizer(alpha, 0, 1 / L, w / 2, w)
    assert prove_limit(p, good, grad_only).proved
    assert prove_limit(p, bad, grad_only).refuted


@pytest.mark.parametrize("D", [3, 4])
def test_depth_limit_through_dual(D):
    p = d.depth(D, 1)
    pot = derive_potential(p)[0]
    (claim, pr), = derive_limits(p, pot)
    kappa = D * (D - 2) * alpha ** (D - 2)
    assert pr.proved and claim.point == 0
    assert sp.simplify(claim.factor - kappa) == 0 and claim.leading == sp.Abs(claim.variable)
    lit = [c for c in d.depth_literature(D) if isinstance(c, LimitingRegularizer)][0]
    assert prove_limit(p, lit, pot).proved
    # negative controls: |w|/2, w, a log factor, the wrong power of alpha
    for bad in (LimitingRegularizer(alpha, 0, kappa, sp.Abs(w) / 2, w),
                LimitingRegularizer(alpha, 0, kappa, w, w),
                LimitingRegularizer(alpha, 0, kappa / L, sp.Abs(w), w),
                LimitingRegularizer(alpha, 0, kappa * alpha, sp.Abs(w), w)):
        assert prove_limit(p, bad, pot).refuted, bad


def test_squared_l1_limit():
    p = d.squared(1)
    pot = derive_potential(p)[0]
    lims = _by_point(derive_limits(p, pot))
    c0, pr0 = lims[0]
    assert pr0.proved and sp.simplify(c0.leading - c0.variable / 2) == 0
    lit = [c for c in d.squared_literature() if isinstance(c, LimitingRegularizer)][0]
    assert prove_limit(p, lit, pot).proved
    wp = lit.variable
    assert prove_limit(p, LimitingRegularizer(alpha, 0, 1 / L, wp, wp), pot).refuted


@pytest.mark.slow
def test_product_pm_limits():
    p = d.product_pm(1)
    pot = derive_potential(p)[0]
    lims = _by_point(derive_limits(p, pot))
    c0, pr0 = lims[0]
    assert pr0.proved and sp.simplify(c0.leading - sp.Abs(c0.variable) / 2) == 0
    coo, proo = lims[sp.oo]
    assert proo.proved and coo.factor == alpha
    assert sp.simplify(coo.leading - c0.variable**2 * (1 - s**2) / (8 * (1 + s**2))) == 0
    bad = LimitingRegularizer(alpha, sp.oo, alpha, w**2 * (1 + s**2) / (8 * (1 - s**2)), w)
    assert prove_limit(p, bad, pot).refuted


@pytest.mark.slow
def test_product_single_branch_l1_at_fixed_shape():
    p = d.product(1)
    pot = derive_potential(p)[0]
    lims = _by_point(derive_limits(p, pot))
    c0, pr0 = lims[0]
    assert pr0.proved and sp.simplify(c0.leading - sp.Abs(c0.variable) / 2) == 0


def test_candidate_skipping_keeps_the_factor_and_saves_limits(monkeypatch):
    """_find_factor skips candidates an earlier limit decides (0 on every side, or infinite on a
    side); the factor and the limits found are those of the exhaustive search, with fewer limits."""
    import theory.limits as TL
    from theory.memo import clear

    wv = sp.Symbol("w", real=True)
    g = sp.asinh(wv / (2 * alpha**2)) / 4  # grad R of u*u - v*v: 1/L at alpha -> 0, alpha^2 at oo

    def search(skip):
        clear()
        calls = []
        real = TL._limit.uncached

        def counted(e, x, point):
            calls.append(e)
            return real(e, x, point)
        monkeypatch.setattr(TL, "_limit", counted)
        if not skip:
            monkeypatch.setattr(TL, "_bounded", lambda *a: False)
        out = [TL._find_factor(g, wv, alpha, pt) for pt in (sp.Integer(0), sp.oo)]
        monkeypatch.undo()
        return out, len(calls)

    fast, n_fast = search(True)
    full, n_full = search(False)
    assert fast == full
    assert fast[0][0] == 1 / L and fast[1][0] == alpha**2
    assert n_fast < n_full


@pytest.mark.parametrize("num, den, point, bounded", [
    (1 / L, sp.Integer(1), 0, True),          # 1/log(1/alpha) -> 0
    (sp.Integer(1), 1 / L, 0, False),         # control: the inverse ratio grows
    (alpha**2, alpha, 0, True),
    (alpha**2, alpha, sp.oo, False),          # control: the same ratio at the other end
    (alpha / L, alpha, sp.oo, True),
    (alpha**-1, alpha**sp.Rational(-1, 2) / L, 0, False),
    (3 * alpha, alpha, sp.oo, True),          # a constant factor does not matter
    (1 / (1 + alpha), sp.Integer(1), sp.oo, False),  # not a monomial: never decided
    (alpha, sp.Integer(1), sp.Integer(2), False),    # a finite point: never decided
])
def test_bounded_ratio(num, den, point, bounded):
    from theory.limits import _bounded
    assert _bounded(num, den, alpha, point) is bounded


def test_an_infinite_limit_is_returned_unsimplified_and_still_rejects(monkeypatch):
    """Simplifying oo*sign(...) cost ~0.5 s a call and only fed a rejection; the limit comes back
    as computed. Control: a finite limit is still simplified."""
    import theory.limits as TL
    x, c = sp.Symbol("x", positive=True), sp.Symbol("c", real=True)
    calls = []
    real = TL.sp.simplify
    monkeypatch.setattr(TL.sp, "simplify", lambda e, *a, **k: calls.append(e) or real(e, *a, **k))
    L = TL._limit.uncached(sp.sign(c) / x, x, 0)
    assert L.has(sp.oo) and not calls
    assert TL._component(L, sp.Integer(0)) == 1      # the route fails there, as before
    assert TL._limit.uncached(sp.sin(x) / x, x, 0) == 1 and len(calls) == 1
