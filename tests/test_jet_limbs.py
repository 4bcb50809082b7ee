"""The machine-word fixed-point jet (numerics.taylor.jet_limbs): limbs in float64, BLAS products.

Cross-checked against the mpmath reference jet and against the mpz fixed-point jet, at 30, 60
and 120 digits; the negative controls (a limb too wide for exact float64 sums, a dropped carry)
show that the same comparisons fail when the arithmetic is not exact."""
import gmpy2
import mpmath
import pytest
import sympy as sp

from numerics import ODESystem
from numerics.errors import ProblemError
from numerics.taylor import jet_fixed, jet_limbs
from numerics.taylor.decompose import decompose
from numerics.taylor.integrator import _work_prec, integrate
from numerics.taylor.jet_reference import _ReferenceJet
from numerics.taylor.jet_fast import mpf_to_mpfr
from numerics.taylor.jets import exact_to_mpf

from test_integrator import _diagonal_net, _power_net

y, t = sp.symbols("y t")


def _jets(sysm, y0, dps, K, hint, **kw):
    """(limb coefficients, reference coefficients, unit) at the working precision of ``dps``."""
    prog = decompose(sysm)
    P = _work_prec(dps)
    with gmpy2.context(gmpy2.get_context(), precision=P), mpmath.workprec(P):
        x0 = [gmpy2.mpfr(0)] + [jet_fast_mpfr(exact_to_mpf(v, P)) for v in y0]
        lj = jet_limbs.LimbJet(prog, P, **kw)
        s = int(gmpy2.ceil(gmpy2.log2(gmpy2.mpfr(hint)))) + 1     # the unit 2^s of LimbJet.__call__
        lj.unit = gmpy2.mul_2exp(gmpy2.mpfr(1), s)
        got = _ok(lj._run([x0[0]], [x0[1:]], K, [s])[0])   # the limb arithmetic, without the fallback
        rows = None if got is None else got.mpf_rows()
        ref = _ReferenceJet(prog, P + 40)
    with mpmath.workprec(P + 40):
        want = ref(mpmath.mpf(0), [exact_to_mpf(v, P + 40) for v in y0], K)
    return rows, want, mpmath.mpf(lj.unit), P


def _ok(r):
    """A series of LimbJet._run, None for a flow that outgrew the limbs."""
    return None if isinstance(r, jet_limbs._Outgrew) else r


def jet_fast_mpfr(x):
    from numerics.taylor.jet_fast import mpf_to_mpfr
    return mpf_to_mpfr(x)


def _worst(rows, want, H, P):
    r"""Largest error of the rescaled coefficients :math:`x_k H^k`, in units of :math:`2^{-P}`
    (absolute below 1, relative above, like the integrator's error control)."""
    with mpmath.workprec(P + 40):
        worst = mpmath.mpf(0)
        for a, b in zip(rows, want):
            for k, (p, q) in enumerate(zip(a, b)):
                e = abs(p - q) * H ** k / max(1, abs(q) * H ** k)
                worst = max(worst, e * mpmath.mpf(2) ** P)
        return worst


def _diagonal_net_thirds(n, m):
    """_diagonal_net with X / 3: denominators 9, not powers of two (the constant-product path of
    the linear stages instead of the exact shift)."""
    return _power_net(n, m, den=3, name="diag3")


NETS = {"pow2": _diagonal_net, "thirds": _diagonal_net_thirds}


def test_both_linear_stage_paths_are_exercised():
    """The nets of the tests reach the shift (power-of-two denominators) and the constant product."""
    paths = set()
    for net in NETS.values():
        lj = jet_limbs.LimbJet(decompose(net(4, 2)[0]), 137)
        lay = lj._layout(20)
        paths |= {"shift" if t.get("shift") else "constant" for t in lay["stages"] if t}
    assert paths == {"shift", "constant"}


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # the broken controls
@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("dps", [30, 60, pytest.param(120, marks=pytest.mark.slow)])
def test_limb_jet_agrees_with_the_mpmath_reference_and_controls_fail(dps, net):
    sysm, y0 = NETS[net](4, 2)
    K = 2 * dps // 3
    rows, want, H, P = _jets(sysm, y0, dps, K, "0.005")
    assert rows is not None
    # fixed point with F >= P + 2 fractional bits and < 3 units of 2^-F per operation:
    # the rounding stays below one unit of 2^-P per order (measured: 0.05 units at every dps)
    assert _worst(rows, want, H, P) < K
    # negative controls: a dropped carry, a limb too wide for exact float64 sums -- each is
    # either caught by the overflow check or far off the reference
    for kw in ({"rounds": 0}, {"limb": 30}):
        bad, _, _, _ = _jets(sysm, y0, dps, K, "0.005", **kw)
        assert bad is None or _worst(bad, want, H, P) > 2 ** 40


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("dps", [30, 60, pytest.param(120, marks=pytest.mark.slow)])
def test_limb_backend_integrates_like_the_reference_and_the_mpz_jet(dps, net):
    sysm, y0 = NETS[net](4, 2)
    a = integrate(sysm, y0, 2, dps=dps, backend="limbs")
    f = integrate(sysm, y0, 2, dps=dps, backend="fixed")
    b = integrate(sysm, y0, 2, dps=dps, backend="reference")
    assert a.orders == f.orders
    with mpmath.workdps(dps + 20):
        assert max(abs(p - q) for p, q in zip(a.final, b.final)) < mpmath.mpf(10) ** -(dps - 1)
        assert max(abs(p - q) for p, q in zip(a.final, f.final)) < mpmath.mpf(10) ** -(dps - 1)
        # dense output between step points, against the reference's
        tm = a.times[len(a.times) // 2] + mpmath.mpf(1) / 1000
        assert max(abs(p - q) for p, q in zip(a.at(tm), b.at(tm))) < mpmath.mpf(10) ** -(dps - 1)
        # negative control: a slightly different initial state lands elsewhere
        c = integrate(sysm, [sp.Rational(101, 1000)] + y0[1:], 2, dps=dps, backend="limbs")
        assert max(abs(p - q) for p, q in zip(c.final, b.final)) > mpmath.mpf(10) ** -8


def test_values_too_large_for_the_limbs_fall_back_to_the_mpz_jet():
    # y' = t y from 10^12: the state outgrows the integer limb, the call falls back
    ty = ODESystem((y,), (t * y,), time=t)
    y0 = sp.Integer(10) ** 12
    tr = integrate(ty, [y0], 2, dps=30, backend="limbs")
    with mpmath.workdps(60):
        exact = mpmath.mpf(10) ** 12 * mpmath.exp(2)
        assert abs(tr.final[0] - exact) / exact < mpmath.mpf(10) ** -28
        assert abs(tr.final[0] - exact * mpmath.mpf("1.000001")) / exact > mpmath.mpf(10) ** -12
    prog = decompose(ty)
    P = _work_prec(30)
    with gmpy2.context(gmpy2.get_context(), precision=P):
        out = jet_limbs.LimbJet(prog, P)(gmpy2.mpfr(0), [gmpy2.mpfr(10) ** 12], 20, gmpy2.mpfr("0.1"))
    assert isinstance(out, jet_fixed.FixedSeries)


def test_limb_backend_refuses_irrational_linear_coefficients():
    sysm = ODESystem((y,), (sp.sqrt(2) * y * y - y,))
    assert not jet_limbs.supports(decompose(sysm))
    with pytest.raises(ProblemError, match="rational"):
        integrate(sysm, [1], 1, backend="limbs")
    # the fast backend still integrates it (mpfr code)
    assert integrate(sysm, [sp.Rational(1, 2)], 1, backend="fast").final


# ---- batched flows (numerics.taylor.batch): shared jet calls, per-flow steps, same digits ------
def test_batched_flows_are_identical_to_single_runs_digit_for_digit():
    from numerics.taylor.batch import integrate_batch
    from numerics.taylor.integrator import compile_system
    sysm, y0 = _diagonal_net(8, 3)
    assert type(compile_system(sysm, dps=30)[1]).__name__ == "LimbJet"
    y0s = [[v * sp.Rational(j + 5, 8) for v in y0] for j in range(5)]
    y0s[2] = [sp.Rational(7, 10)] + y0s[2][1:]          # a flow with other steps and units
    singles = [integrate(sysm, y, 3, dps=30) for y in y0s]
    batch = integrate_batch(sysm, y0s, 3, dps=30)
    assert len({a.times[1] for a in singles}) == len(singles)  # the flows take different steps
    for a, b in zip(singles, batch):
        assert a.orders == b.orders and a.times == b.times and a.final == b.final
        assert a.step_errors == b.step_errors
    # negative control: the batch does not hand one flow's trajectory to another
    assert batch[0].final != batch[1].final


@pytest.mark.parametrize("L, nl", [(21, 9), (20, 10), (24, 3), (12, 40)])
def test_unsigned_limbs_packed_in_one_integer_are_those_of_the_general_path(L, nl):
    """to_limbs of many integers in [0, 2^(L nl)) reads the limbs off one packed integer
    (_to_limbs_unsigned): the same limbs as the number-by-number path (one number per call),
    the largest and smallest values included.  Controls: a value just past 2^(L nl) takes the
    general path and keeps its clipped top limb 2^L; another field width gives other limbs."""
    import random
    import numpy as np
    rng = random.Random(L * nl)
    M = [gmpy2.mpz(rng.getrandbits(rng.randint(0, L * nl))) for _ in range(200)]
    M[:3] = [gmpy2.mpz(0), gmpy2.mpz(1), gmpy2.mpz((1 << (L * nl)) - 1)]
    packed = jet_limbs.to_limbs(M, L, nl)
    one_by_one = np.vstack([jet_limbs.to_limbs(M[i:i + 1], L, nl) for i in range(len(M))])
    assert np.array_equal(packed, one_by_one)
    over = jet_limbs.to_limbs(M[:9] + [gmpy2.mpz(1) << (L * nl)], L, nl)
    assert over[-1, -1] == 2.0 ** L and np.array_equal(over[:9], packed[:9])
    assert not np.array_equal(jet_limbs._to_limbs_unsigned(M, L - 1, nl), packed)


def test_shared_norms_and_stacked_evaluations_are_those_of_each_series_alone():
    """A batch call's series share their norms (_SharedNorms) and several end points are one
    stacked product (LimbSeries.evaluate_many): the same numbers as series computed alone,
    flow by flow, for flows with different units and steps."""
    sysm, y0 = _diagonal_net(8, 3)
    prec = _work_prec(30)
    jet = jet_limbs.LimbJet(decompose(sysm), prec)
    with gmpy2.context(precision=prec), mpmath.workprec(prec):
        ys = [[mpf_to_mpfr(exact_to_mpf(v * sp.Rational(j + 5, 8), prec)) for v in y0] for j in range(3)]
        hints = [None, gmpy2.mpfr("0.01"), gmpy2.mpfr("0.1")]
        many = jet.batch([(gmpy2.mpfr(0), y, 20, h) for y, h in zip(ys, hints)])
        alone = [jet(gmpy2.mpfr(0), y, 20, h) for y, h in zip(ys, hints)]
        assert all(m.shared is not None for m in many) and all(a.shared is None for a in alone)
        assert len({m.s for m in many}) == 3                  # three units
        for m, a in zip(many, alone):
            assert [m.norm(k) for k in (1, 19, 20)] == [a.norm(k) for k in (1, 19, 20)]
        hs = [gmpy2.mpfr("0.001"), gmpy2.mpfr("0.005"), gmpy2.mpfr("0.1")]
        stacked = jet_limbs.LimbSeries.evaluate_many(list(zip(many, hs)))
        assert stacked == [a.evaluate(h) for a, h in zip(alone, hs)]
        # negative controls: another flow's norms, another step
        assert many[0].norm(20) != alone[1].norm(20)
        assert jet_limbs.LimbSeries.evaluate_many([(many[0], hs[1])])[0] != stacked[0]


def test_a_batch_split_into_jet_calls_of_bounded_size_is_the_same(monkeypatch):
    """Batches larger than BATCH_BYTES run as several jet calls (numerics.taylor.batch._chunk):
    the trajectories are those of the single runs, and the calls did have the bounded size."""
    import numerics.taylor.batch as nb
    from numerics.taylor.integrator import compile_system
    sysm, y0 = _diagonal_net(8, 3)
    jet = compile_system(sysm, dps=30)[1]
    y0s = [[v * sp.Rational(j + 5, 8) for v in y0] for j in range(5)]
    monkeypatch.setattr(nb, "BATCH_BYTES", 2 * jet.flow_bytes(36))   # two flows per call at order 36
    sizes = []
    real = nb._chunk
    monkeypatch.setattr(nb, "_chunk", lambda j, reqs: sizes.append(real(j, reqs)) or sizes[-1])
    batch = nb.integrate_batch(sysm, y0s, 3, dps=30)
    singles = [integrate(sysm, y, 3, dps=30) for y in y0s]
    assert max(sizes) == 2 and min(sizes) >= 1
    for a, b in zip(singles, batch):
        assert a.orders == b.orders and a.times == b.times and a.final == b.final
    assert batch[0].final != batch[1].final


def test_batched_flows_with_a_stop_condition_and_other_jets():
    from numerics.taylor.batch import integrate_batch
    from numerics.taylor.integrator import Speed
    sysm, y0 = _diagonal_net(2, 1)                      # a small program: the mpfr code, no batch
    y0s = [y0, [v * 2 for v in y0]]
    stop = Speed("1e-12")
    singles = [integrate(sysm, y, 10 ** 4, dps=30, stop=stop, until_converged=True) for y in y0s]
    batch = integrate_batch(sysm, y0s, 10 ** 4, dps=30, stop=stop, until_converged=True)
    for a, b in zip(singles, batch):
        assert a.stopped and b.stopped and a.times == b.times and a.final == b.final
    with pytest.raises(ProblemError, match="initial values"):
        integrate_batch(sysm, [y0[:1]], 1)


def test_a_batch_of_four_or_more_small_flows_runs_on_the_limb_jet():
    """Under backend "fast", a batch of BATCH_LIMBS_FROM flows or more runs on the limb jet even
    for a program whose single runs use the generated small jet: each trajectory is that of
    integrate(..., backend="limbs") digit for digit, and agrees with the default single run to
    the working digits; a smaller batch keeps the single-run jet and its digits.  Control: the
    same comparison rejects a flow started elsewhere."""
    from numerics.taylor.batch import integrate_batch
    from numerics.taylor.integrator import compile_system
    from numerics.taylor.jet_fast import BATCH_LIMBS_FROM
    sysm, y0 = _diagonal_net(3, 1)
    assert type(compile_system(sysm, dps=30)[1]).__name__ == "SmallJet"
    y0s = [[v * sp.Rational(j + 5, 8) for v in y0] for j in range(BATCH_LIMBS_FROM)]
    batch = integrate_batch(sysm, y0s, 2, dps=30)
    limbs = [integrate(sysm, y, 2, dps=30, backend="limbs") for y in y0s]
    small = [integrate(sysm, y, 2, dps=30) for y in y0s]
    assert {b.backend for b in batch} == {"limbs"} and {a.backend for a in small} == {"fast"}
    for b, a, c in zip(batch, limbs, small):
        assert b.times == a.times and b.final == a.final
        with mpmath.workdps(40):
            assert max(abs(p - q) for p, q in zip(b.final, c.final)) < mpmath.mpf(10) ** -29
    with mpmath.workdps(40):
        assert max(abs(p - q) for p, q in zip(batch[1].final, small[0].final)) > mpmath.mpf(10) ** -8
    few = integrate_batch(sysm, y0s[:BATCH_LIMBS_FROM - 1], 2, dps=30)
    assert [f.final for f in few] == [c.final for c in small[:BATCH_LIMBS_FROM - 1]]


def test_a_batch_the_limb_jet_cannot_take_keeps_the_single_run_jet():
    """A coefficient too large for exact limb products: the limb jet refuses the program
    (ValueError), so a batch of four under "fast" runs on the single-run jet, with its digits;
    asked for the limb backend explicitly, the batch refuses as integrate does."""
    from numerics.taylor.batch import integrate_batch
    u, w = sp.symbols("u w")
    sysm = ODESystem((u, w), (sp.Rational(10 ** 30, 7) * w * w - u * w, -w), name="big")
    y0s = [[sp.Rational(j + 1, 4), sp.Rational(1, 10 ** 20)] for j in range(4)]
    batch = integrate_batch(sysm, y0s, 1, dps=30)
    assert [b.final for b in batch] == [integrate(sysm, y, 1, dps=30).final for y in y0s]
    assert {b.backend for b in batch} == {"fast"}
    with pytest.raises(ValueError, match="too large"):
        integrate_batch(sysm, y0s, 1, dps=30, backend="limbs")


def test_run_many_gives_the_run_pairs_of_run():
    """numerics.checks.run_many: flows of one program batched at both precisions, the same
    RunPairs as one run per flow (and a mirror check on them gives the same verdict)."""
    from numerics.checks import run, run_many
    from numerics.flows import gradient_flow
    from numerics.problems import random_problem
    from theory.catalog import diagonal
    p = diagonal.quadratic(8)
    pr = random_problem(8, 4, seed=3)
    flows = [gradient_flow(p, pr.X, pr.y, values={"alpha": sp.Rational(j, 10)}, duals=False) for j in (2, 3, 5)]
    assert len({f.system for f in flows}) == 1
    many = run_many(flows, dps=30, t_end=2)
    for f, m in zip(flows, many):
        one = run(f, dps=30, t_end=2)
        assert m.flow is f and m.lo.final == one.lo.final and m.hi.final == one.hi.final
        assert m.lo.times == one.lo.times and m.hi.times == one.hi.times
    assert many[0].lo.final != many[1].lo.final


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # the dropped carry
@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("dps", [30, 60])
def test_single_flow_recurrence_is_the_general_one_digit_for_digit(dps, net, monkeypatch):
    """The flat single-flow loop (LimbJet._orders) and the batch loop (_orders_general) do the
    same exact arithmetic: identical limbs at every order; with a dropped carry (negative
    control) the flat loop is caught too (overflow check or far off the reference)."""
    sysm, y0 = NETS[net](4, 2)
    K = 2 * dps // 3
    fast, want, H, P = _jets(sysm, y0, dps, K, "0.005")
    monkeypatch.setattr(jet_limbs.LimbJet, "_orders",
                        lambda self, S, K, lay, ss, work=None: self._orders_general(S, K, lay, ss, len(ss)))
    general, _, _, _ = _jets(sysm, y0, dps, K, "0.005")
    monkeypatch.undo()
    assert fast is not None and fast == general
    bad, _, _, _ = _jets(sysm, y0, dps, K, "0.005", rounds=0)
    assert bad is None or _worst(bad, want, H, P) > 2 ** 40


def test_catalog_flow_broadcasts_its_shared_operand_and_keeps_the_digits(monkeypatch):
    """A catalog diagonal net (states interleaved u0, v0, u1, ...: each g_i repeated) takes the
    broadcast product of the single-flow loop; its coefficients equal the general loop's."""
    from numerics.flows import gradient_flow
    from numerics.problems import random_problem
    from theory.catalog import diagonal
    pr = random_problem(5, 3, seed=2)
    f = gradient_flow(diagonal.quadratic(5), pr.X, pr.y, values={"alpha": sp.Rational(1, 10)}, duals=False)
    lj = jet_limbs.LimbJet(decompose(f.system), _work_prec(30))
    modes = {p[3][1:] for p in lj._plan(lj._layout(20), 1) if p[0] == 0}
    assert ((5, 2, 1), (5, 1, 1)) in modes    # u_i g_i, v_i g_i: g broadcast, not gathered
    y0 = [v for v in f.y0]
    fast, want, H, P = _jets(f.system, y0, 30, 20, "0.01")
    monkeypatch.setattr(jet_limbs.LimbJet, "_orders",
                        lambda self, S, K, lay, ss, work=None: self._orders_general(S, K, lay, ss, len(ss)))
    general, _, _, _ = _jets(f.system, y0, 30, 20, "0.01")
    assert fast is not None and fast == general
    assert _worst(fast, want, H, P) < 20


def test_limb_conversions_and_exact_norm():
    """to_limbs / from_limbs round-trip (low limbs in [0, 2^L), signed top limb); the norm's
    float prefilter returns the exact maximum, also for near-ties and cancelling limbs."""
    import random
    import numpy as np
    rng = random.Random(5)
    L, nl = 21, 8
    M = [rng.randrange(-2 ** (L * nl - 1), 2 ** (L * nl - 1)) for _ in range(40)]
    M += [0, -1, 1, 2 ** (L * (nl - 1)), -(2 ** (L * (nl - 1))) + 1]
    A = jet_limbs.to_limbs(M, L, nl)
    assert A[:, :-1].min() >= 0 and A[:, :-1].max() < 2 ** L
    assert [int(x) for x in jet_limbs.from_limbs(A, L)] == M
    for trial in range(20):
        base = rng.randrange(2 ** (L * nl - 3))
        vals = [base + rng.randrange(-3, 4) for _ in range(6)] + [-(base + rng.randrange(4))]
        vals += [rng.randrange(-8, 8) - 2 ** (L * (nl - 1)) * rng.randrange(2) for _ in range(5)]
        C = jet_limbs.to_limbs(vals, L, nl).T[:, :, None]            # (nl, states, 1 order)
        ser = jet_limbs.LimbSeries(C.copy(), 0, 0, L, nl - 1)
        with gmpy2.context(gmpy2.get_context(), precision=L * nl + 8):
            assert ser.norm(0) == max(abs(v) for v in vals)
    # negative control: the float estimate alone misses the exact maximum of a near-tie
    v = [2 ** 160 + 1, 2 ** 160]
    est = np.abs(jet_limbs._powers(L, nl) @ jet_limbs.to_limbs(v, L, nl).T)
    assert est[0] == est[1]


# ---- the buffered loop (LimbJet._orders_buffered): preallocated arrays, out= products ----------
def _depth3_net(n, m):
    """u^3 - v^3 (two product levels before the linear stage)."""
    return _power_net(n, m, power=3, name="d3")


def _limbs_of(sysm, y0s, dps, K, hint, loop, monkeypatch, **kw):
    """Limb arrays C of every flow of one _run call (units 2^s, 2^(s+1) alternately), by the
    buffered loop, the flat loop (BUFFERED off) or the general loop."""
    prog = decompose(sysm)
    P = _work_prec(dps)
    with monkeypatch.context() as mp, gmpy2.context(gmpy2.get_context(), precision=P), mpmath.workprec(P):
        if loop != "buffered":
            mp.setattr(jet_limbs, "BUFFERED", False)
        if loop == "general":
            mp.setattr(jet_limbs.LimbJet, "_orders", lambda self, S, K, lay, ss, work=None:
                       self._orders_general(S, K, lay, ss, len(ss)))
        lj = jet_limbs.LimbJet(prog, P, **kw)
        s = int(gmpy2.ceil(gmpy2.log2(gmpy2.mpfr(hint)))) + 1
        ys = [[jet_fast_mpfr(exact_to_mpf(v, P)) for v in y0] for y0 in y0s]
        ss = [s + (j % 2) for j in range(len(ys))]   # flows 0, 2, ... and 1, 3, ...: two units
        out = [[_ok(r) for r in lj._run([gmpy2.mpfr(0)] * len(ys), ys, K, ss)] for _ in range(2)]  # buffers reused
        used = isinstance(lj._layouts[K].get(("work", len(ys))), jet_limbs._Work)
    # the second call (reused buffers, no zeroing) gives the same limbs as the first
    assert all((a is None and b is None) or (a.C == b.C).all() for a, b in zip(*out))
    return [None if r is None else r.C for r in out[1]], used


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # the broken controls
@pytest.mark.parametrize("net", ["pow2", "depth3", "catalog", "time"])
@pytest.mark.parametrize("dps", [30, 60])
@pytest.mark.parametrize("flows", [1, 3])
def test_buffered_loop_is_the_flat_and_the_general_loop_digit_for_digit(net, dps, flows, monkeypatch):
    """The buffered loop does the same exact arithmetic on preallocated arrays: identical limbs
    to the flat and the general loop at every order, for one flow and for a batch (flows with two
    units: the column groups of the step constants), on a diagonal
    net (products of a block with a gathered operand), a depth-3 net (two product levels) and a
    catalog net (the broadcast operand); negative controls: a dropped carry and a carry that
    keeps one bit too few are caught (overflow check, far off the reference, or other limbs)."""
    import numpy as np
    if net == "catalog":
        from numerics.flows import gradient_flow
        from numerics.problems import random_problem
        from theory.catalog import diagonal
        pr = random_problem(5, 3, seed=2)
        f = gradient_flow(diagonal.quadratic(5), pr.X, pr.y, values={"alpha": sp.Rational(1, 10)}, duals=False)
        sysm, y0 = f.system, list(f.y0)
    elif net == "time":  # the time row, two products read by the step (fused, 2 rows -> 1)
        sysm, y0 = ODESystem((y,), (t * y + y * y,), time=t), [sp.Rational(1, 4)]
    else:
        sysm, y0 = (_diagonal_net if net == "pow2" else _depth3_net)(4, 2)
    y0s = [[v * sp.Rational(j + 4, 5) for v in y0] for j in range(flows)]
    K = 2 * dps // 3
    buf, used = _limbs_of(sysm, y0s, dps, K, "0.005", "buffered", monkeypatch)
    assert used                                     # the buffered loop ran
    flat, used_flat = _limbs_of(sysm, y0s, dps, K, "0.005", "flat", monkeypatch)
    gen, _ = _limbs_of(sysm, y0s, dps, K, "0.005", "general", monkeypatch)
    assert not used_flat and all(c is not None for c in buf)
    for a, b, c in zip(buf, flat, gen):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    if flows == 1:  # and against the reference (the same bound as the other loops)
        rows, want, H, P = _jets(sysm, y0, dps, K, "0.005")
        assert _worst(rows, want, H, P) < K
    # negative controls: no carry rounds; a carry whose mask drops the limb's top bit
    bad, _ = _limbs_of(sysm, y0s, dps, K, "0.005", "buffered", monkeypatch, rounds=0)
    assert any(c is None or not np.array_equal(c, a) for c, a in zip(bad, buf))
    if flows == 1:
        rows_bad, want, H, P = _jets(sysm, y0, dps, K, "0.005", rounds=0)
        assert rows_bad is None or _worst(rows_bad, want, H, P) > 2 ** 40
    with monkeypatch.context() as mp:
        mp.setattr(jet_limbs, "_and", lambda x, m, out: np.bitwise_and(x, m >> 1, out=out))
        broken, used = _limbs_of(sysm, y0s, dps, K, "0.005", "buffered", monkeypatch)
    assert used and any(c is None or not np.array_equal(c, a) for c, a in zip(broken, buf))


def test_a_first_call_that_outgrows_the_limbs_runs_again_with_a_smaller_unit(monkeypatch):
    """A call without a step hint (unit 1) whose coefficients grow past the limbs runs again on
    the limbs with the unit its exact low orders ask for (_unit_shift), not on the mpz jet; the
    coefficients agree with the reference interpreter to the rounding bound. Controls: without
    the shift the call falls back to the mpz jet; the same comparison rejects a nearby state."""
    sysm, y0 = _diagonal_net(8, 3)
    y0 = [4 * v for v in y0]
    prog, P, K = decompose(sysm), _work_prec(30), 36
    with gmpy2.context(gmpy2.get_context(), precision=P), mpmath.workprec(P):
        x0 = [jet_fast_mpfr(exact_to_mpf(v, P)) for v in y0]
        lj = jet_limbs.LimbJet(prog, P)
        first = lj._run([gmpy2.mpfr(0)], [x0], K, [0])[0]
        assert isinstance(first, jet_limbs._Outgrew) and first.shift >= 2
        got = lj(gmpy2.mpfr(0), x0, K)
        assert isinstance(got, jet_limbs.LimbSeries) and got.s == -first.shift
        rows = got.mpf_rows()
    ref = _ReferenceJet(prog, P + 40)
    with mpmath.workprec(P + 40):
        want = ref(mpmath.mpf(0), [exact_to_mpf(v, P + 40) for v in y0], K)
        near = ref(mpmath.mpf(0), [exact_to_mpf(v * (1 + sp.Rational(1, 10 ** 20)), P + 40) for v in y0], K)
    H = mpmath.mpf(2) ** got.s
    assert _worst(rows, want, H, P) < K
    assert _worst(rows, near, H, P) > 2 ** 20                       # control: another state
    monkeypatch.setattr(jet_limbs, "_unit_shift", lambda *a: None)   # control: no shift, mpz jet
    with gmpy2.context(gmpy2.get_context(), precision=P):
        assert isinstance(jet_limbs.LimbJet(prog, P)(gmpy2.mpfr(0), x0, K), jet_fixed.FixedSeries)


def test_tiny_states_keep_their_relative_accuracy_on_the_limbs(monkeypatch):
    """As for the small jet (test_codegen_small): u' = -u - u v, v' = -v from u0 = 10^-60 / 2;
    the limb jet adds fractional bits for states far below 1 (jet_fixed.extra_bits) and
    carries u with its relative digits, alone and in a batch.  Negative control: without the
    extra bits (an absolute 2^-F) u is lost."""
    from numerics.taylor import integrator
    from numerics.taylor.batch import integrate_batch
    from test_codegen_small import tiny_flow
    sysm, y0, rel = tiny_flow()
    assert rel(integrate(sysm, y0, 1, dps=30, backend="limbs")) < mpmath.mpf(10) ** -29
    batch = integrate_batch(sysm, [y0, [sp.Rational(1, 4), sp.Rational(1, 3)]], 1, dps=30, backend="limbs")
    assert rel(batch[0]) < mpmath.mpf(10) ** -29
    monkeypatch.setattr(jet_fixed, "extra_bits", lambda y0, guard: 0)
    monkeypatch.setattr(integrator, "_JETS", integrator._LRU(64))   # jets compiled afresh
    assert rel(integrate(sysm, y0, 1, dps=30, backend="limbs")) > mpmath.mpf(10) ** -10


@pytest.mark.parametrize("ss", [[-6, 3], [-6, -6, 3], [-6, 3, -6]])
def test_buffered_step_of_flows_with_units_of_different_lengths(monkeypatch, ss):
    """Flows with units 2^3 and 2^-6 in one call: the step constants 2^s/((k+1)d) of the two
    units have different numbers of limb rows at low orders, and the buffered loop writes each
    unit's product on its columns with zero rows above the shorter one, whatever the reused
    buffer held before: the limbs are those of the general loop -- for flows sorted by unit
    (each unit a block of columns, as LimbJet.batch passes them) and interleaved (column
    lists). Control: without the zero rows, what the buffer held leaks into the result."""
    import numpy as np
    sysm, y0 = _diagonal_net(4, 2)
    prog, P, K = decompose(sysm), _work_prec(30), 20
    ys = [[jet_fast_mpfr(exact_to_mpf(v / (100 + b), P)) for v in y0] for b in range(len(ss))]

    def limbs(ss, mutate=False):
        with gmpy2.context(gmpy2.get_context(), precision=P), mpmath.workprec(P), monkeypatch.context() as mp:
            lj = jet_limbs.LimbJet(prog, P)
            lay = lj._layout(K)
            assert lj._steps(lay, 3, K)[1][2].shape[0] > lj._steps(lay, -6, K)[1][2].shape[0]
            lj._run([gmpy2.mpfr(0)] * len(ss), ys, K, ss)
            w = lay.get(("work", len(ss)))
            if w:  # what an earlier call could have left in the step's buffers
                for cr in w._ycarries.values():
                    cr[0][...] = 7.0
            if mutate:  # control: the zero rows above the shorter constant not written
                mp.setattr(jet_limbs, "_ZERO_ROWS", False)
            out = lj._run([gmpy2.mpfr(0)] * len(ss), ys, K, ss)
            return [r.C if isinstance(r, jet_limbs.LimbSeries) else None for r in out]

    buffered = limbs(ss)
    with monkeypatch.context() as mp:
        mp.setattr(jet_limbs.LimbJet, "_orders", lambda self, S, K, lay, ss, work=None:
                   self._orders_general(S, K, lay, ss, len(ss)))
        general = limbs(ss)
    assert all(a is not None and np.array_equal(a, b) for a, b in zip(buffered, general))
    stale = limbs(ss, mutate=True)
    assert not all(a is not None and np.array_equal(a, b) for a, b in zip(stale, general))


def test_buffered_loop_does_not_depend_on_the_previous_call():
    """The buffers are reused without zeroing: a call after one that outgrew the limbs gives
    the limbs of a call on a fresh jet (and the overflowing call is still caught)."""
    import numpy as np
    ty = ODESystem((y,), (t * y + y * y,), time=t)
    prog = decompose(ty)
    P = _work_prec(30)
    with gmpy2.context(gmpy2.get_context(), precision=P):
        big, small = [gmpy2.mpfr(10) ** 12], [gmpy2.mpfr("0.25")]
        lj = jet_limbs.LimbJet(prog, P)
        assert _ok(lj._run([gmpy2.mpfr(0)], [big], 20, [0])[0]) is None
        assert isinstance(lj._layouts[20][("work", 1)], jet_limbs._Work)
        after = _ok(lj._run([gmpy2.mpfr(0)], [small], 20, [0])[0])
        fresh = _ok(jet_limbs.LimbJet(prog, P)._run([gmpy2.mpfr(0)], [small], 20, [0])[0])
        assert after is not None and np.array_equal(after.C, fresh.C)
        assert _ok(lj._run([gmpy2.mpfr(0)], [big], 20, [0])[0]) is None   # caught again


def test_a_step_constant_with_fewer_limbs_than_a_state():
    """Regression (deep profile, 2026-12-06): a depth-4 flow at alpha = 2 reached an order whose
    step constant 2^s/((k+1)d) had fewer limbs than a state, and the store read past it (a
    shape error reported as a singular field). Now it integrates, and agrees with the reference
    interpreter; the same comparison rejects a wrong data point (control)."""
    import mpmath
    from numerics.flows import gradient_flow
    from numerics.taylor.integrator import integrate
    from theory.catalog import CATALOG
    Q = sp.Rational
    G = CATALOG["diagonal-depth4"].parameterization()
    flow = gradient_flow(G, ((4, 4, Q(7, 2)),), (12,), values={"alpha": 2})
    wrong = gradient_flow(G, ((4, 4, Q(7, 2)),), (13,), values={"alpha": 2})
    # the old code failed at t ~ 6e-6 (second step); to t = 1 the flow takes ~6 000 steps of
    # ~1.6e-4 (stiff at alpha = 2), which took the reference interpreter minutes: 1/1000 suffices
    T = Q(1, 1000)
    a = integrate(flow.system, flow.y0, T, dps=30)
    assert len(a.times) > 3
    b = integrate(flow.system, flow.y0, T, dps=30, backend="reference")
    c = integrate(wrong.system, wrong.y0, T, dps=30, backend="reference")
    with mpmath.workdps(40):
        assert max(abs(u - v) for u, v in zip(a.states[-1], b.states[-1])) < mpmath.mpf(10) ** -27
        assert max(abs(u - v) for u, v in zip(a.states[-1], c.states[-1])) > mpmath.mpf(10) ** -4
