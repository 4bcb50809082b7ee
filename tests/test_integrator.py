"""numerics.taylor.integrator: Taylor integration against exact solutions, mpmath.odefun and itself."""
import mpmath
import pytest
import sympy as sp

from numerics import FlowBlowUp, NotConverged, ODESystem, PrecisionTooLow
from numerics.errors import ProblemError, SingularInitialization
from numerics.taylor.decompose import decompose
from numerics.taylor.integrator import Speed, integrate

y, t, u, v = sp.symbols("y t u v")
EXP = ODESystem((y,), (y,), name="exp")


def _err(a, b, dps=80):
    with mpmath.workdps(dps):
        return abs(mpmath.mpf(a) - mpmath.mpf(b))


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("dps", [30, 60])
def test_exponential_to_requested_digits(backend, dps):
    tr = integrate(EXP, [1], 3, dps=dps, backend=backend)
    with mpmath.workdps(dps + 20):
        exact = mpmath.exp(3)
    rel = _err(tr.final[0], exact) / exact
    assert rel < mpmath.mpf(10) ** (-dps + 1)
    assert tr.error_estimate < mpmath.mpf(10) ** (-dps + 2)
    # negative control: e^{1.0001 t} is rejected far above the tolerance
    with mpmath.workdps(dps + 20):
        wrong = mpmath.exp(mpmath.mpf("3.0003"))
    assert _err(tr.final[0], wrong) / exact > mpmath.mpf(10) ** -5


def test_wrong_right_hand_side_is_detected():
    tr = integrate(ODESystem((y,), (y * sp.Rational(10001, 10000),)), [1], 3, dps=30)
    with mpmath.workdps(50):
        assert _err(tr.final[0], mpmath.exp(3)) > mpmath.mpf(10) ** -4


def test_blow_up_of_y_squared_at_t_1():
    with pytest.raises(FlowBlowUp, match=r"at t = (0\.99\d*|1\.0)\b") as exc:
        integrate(ODESystem((y,), (y ** 2,), name="riccati"), [1], 2, dps=30)
    assert "state y" in str(exc.value)


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_rotation_conserves_radius(backend):
    rot = ODESystem((u, v), (-v * sp.cos(t) ** 0, u))  # cos(t)**0 == 1: plain rotation
    tr = integrate(rot, [sp.Rational(3, 5), sp.Rational(4, 5)], 20, dps=40, backend=backend)
    with mpmath.workdps(60):
        for st in tr.states:
            assert abs(st[0] ** 2 + st[1] ** 2 - 1) < mpmath.mpf(10) ** -38
        c, s = mpmath.cos(20), mpmath.sin(20)
        assert abs(tr.final[0] - (c * mpmath.mpf(3) / 5 - s * mpmath.mpf(4) / 5)) < mpmath.mpf(10) ** -37
        # negative control: the conserved quantity of a wrong (non-isometric) field drifts
    bad = integrate(ODESystem((u, v), (-v, u * sp.Rational(101, 100))), [sp.Rational(3, 5), sp.Rational(4, 5)], 5, dps=40)
    assert max(abs(s[0] ** 2 + s[1] ** 2 - 1) for s in bad.states) > mpmath.mpf(10) ** -3


def test_sin_cos_nonlinear_pendulum_energy():
    pend = ODESystem((u, v), (v, -sp.sin(u)))
    tr = integrate(pend, [sp.Rational(1, 2), 0], 10, dps=30)
    E = lambda s: s[1] ** 2 / 2 - mpmath.cos(s[0])
    with mpmath.workdps(50):
        e0 = E(tr.states[0])
        assert max(abs(E(s) - e0) for s in tr.states) < mpmath.mpf(10) ** -28


def test_time_dependent():
    tr = integrate(ODESystem((y,), (t * y,), time=t), [1], 2, dps=30, t0=0)
    with mpmath.workdps(50):
        assert _err(tr.final[0], mpmath.exp(2)) < mpmath.mpf(10) ** -28
        assert _err(tr.final[0], mpmath.exp(2 * mpmath.mpf("1.0001"))) > mpmath.mpf(10) ** -4


def _power_net(n, m, power=2, den=4, name="diag"):
    """w = u^p - v^p on m rows of data X_ji = ((3i + 5j) mod 7 - 3)/den, y_j = (j + 1)/2, every
    state at 1/10 (den = 4: power-of-two denominators, the limb jet's exact shift)."""
    us, vs = sp.symbols(f"u0:{n}"), sp.symbols(f"v0:{n}")
    w, r, g = sp.symbols(f"w0:{n}"), sp.symbols(f"r0:{m}"), sp.symbols(f"g0:{n}")
    X = [[sp.Rational((3 * i + 5 * j) % 7 - 3, den) for i in range(n)] for j in range(m)]
    yy = [sp.Rational(j + 1, 2) for j in range(m)]
    inter = [(w[i], us[i] ** power - vs[i] ** power) for i in range(n)]
    inter += [(r[j], sum(X[j][i] * w[i] for i in range(n)) - yy[j]) for j in range(m)]
    inter += [(g[i], sum(X[j][i] * r[j] for j in range(m))) for i in range(n)]
    rhs = [-power * us[i] ** (power - 1) * g[i] for i in range(n)] + \
        [power * vs[i] ** (power - 1) * g[i] for i in range(n)]
    return ODESystem(us + vs, tuple(rhs), tuple(inter), name=f"{name}{n}"), [sp.Rational(1, 10)] * (2 * n)


def _diagonal_net(n, m):
    return _power_net(n, m)


def test_fast_and_reference_agree_on_a_diagonal_net():
    sysm, y0 = _diagonal_net(4, 2)
    a = integrate(sysm, y0, 3, dps=30, backend="fast")
    b = integrate(sysm, y0, 3, dps=30, backend="reference")
    assert a.orders == b.orders and len(a.times) == len(b.times)
    with mpmath.workdps(50):
        assert max(abs(p - q) for p, q in zip(a.final, b.final)) < mpmath.mpf(10) ** -29
        # conservation law u_i v_i of w = u^2 - v^2 (exactly conserved by the flow)
        assert max(abs(a.final[i] * a.final[i + 4] - mpmath.mpf(1) / 100) for i in range(4)) < mpmath.mpf(10) ** -29
        # negative control: u_i^2 v_i is not conserved
        assert max(abs(a.final[i] ** 2 * a.final[i + 4] - mpmath.mpf(1) / 1000) for i in range(4)) > mpmath.mpf(10) ** -6


def test_cross_check_with_mpmath_odefun():
    sysm = ODESystem((u, v), (-u * v + sp.exp(-u), u - v ** 2 / 2))
    tr = integrate(sysm, [sp.Rational(1, 2), sp.Rational(1, 3)], 1, dps=25)
    with mpmath.workdps(25):
        F = mpmath.odefun(lambda tt, z: [-z[0] * z[1] + mpmath.exp(-z[0]), z[0] - z[1] ** 2 / 2],
                          0, [mpmath.mpf(1) / 2, mpmath.mpf(1) / 3])
        ref = F(1)
    with mpmath.workdps(40):
        assert max(abs(p - q) for p, q in zip(tr.final, ref)) < mpmath.mpf(10) ** -22
        assert abs(tr.final[0] - ref[0] * mpmath.mpf("1.0001")) > mpmath.mpf(10) ** -6


def test_dense_output_matches_direct_integration():
    sysm, y0 = _diagonal_net(3, 2)
    full = integrate(sysm, y0, 4, dps=30)
    assert len(full.times) > 3
    tm = (full.times[1] + full.times[2]) / 2 + mpmath.mpf(1) / 1000  # strictly inside a step
    tm_exact = sp.Rational(str(mpmath.nstr(tm, 25)))
    direct = integrate(sysm, y0, tm_exact, dps=30)
    dense = full.at(tm_exact)
    with mpmath.workdps(50):
        assert max(abs(p - q) for p, q in zip(dense, direct.final)) < mpmath.mpf(10) ** -28
        # negative control: the state at a slightly different time differs
        off = full.at(tm_exact + sp.Rational(1, 1000))
        assert max(abs(p - q) for p, q in zip(off, direct.final)) > mpmath.mpf(10) ** -8
    assert len(full.sample([0, 1, 2])) == 3
    with pytest.raises(ProblemError, match="outside"):
        full.at(5)


def _mpmath_horner(traj, t, bump=0):
    """The dense output as mpmath evaluated it before (Horner on mpf at the work precision, then
    rounded to dps); ``bump`` adds that many units of the last place to the first coefficient."""
    with mpmath.workprec(traj._work_prec):
        t = mpmath.mpf(t)
        j = max(i for i, (t0, _) in enumerate(traj._steps) if traj._to_mpf(t0) <= t)
        t0, coeffs = traj._steps[j]
        t0 = traj._to_mpf(t0)
        rows = coeffs.mpf_rows() if hasattr(coeffs, "mpf_rows") else [[traj._to_mpf(x) for x in c] for c in coeffs]
        out = []
        for i, c in enumerate(rows):
            v = mpmath.mpf(0)
            for k in range(len(c) - 1, -1, -1):
                x = c[k]
                if i == 0 and k == 0 and bump:
                    x = mpmath.mpf(x) + bump * mpmath.ldexp(1, mpmath.mag(x) - traj._work_prec)
                v = v * (t - t0) + x
            out.append(v)
    with mpmath.workdps(traj.dps):
        return [+v for v in out]


@pytest.mark.parametrize("n,backend", [(3, "fast"), (12, "fast"), (3, "reference"), (0, "fast")])
def test_dense_output_is_mpmaths_horner_bit_for_bit(n, backend):
    """``Trajectory.at`` runs Horner in mpfr (rounding to nearest like mpmath): the same bits as
    mpmath's Horner on every jet's coefficients (mpz fixed point at n = 3, limbs at n = 12, mpfr
    code for a non-polynomial field (n = 0), the mpmath reference); a change of one coefficient
    in about its 28th digit is seen by the same comparison (control)."""
    if n:
        sysm, y0 = _diagonal_net(n, 2)
    else:
        y = sp.Symbol("y")
        sysm, y0 = ODESystem((y,), (-sp.exp(y) * y / 4,)), [sp.Rational(1, 2)]
    traj = integrate(sysm, y0, 2, dps=30, backend=backend)
    ts = [mpmath.mpf(2) * k / 37 for k in range(38)]
    assert all(traj.at(t) == _mpmath_horner(traj, t) for t in ts)
    assert any(traj.at(t) != _mpmath_horner(traj, t, bump=2 ** 40) for t in ts)


def test_stop_on_speed_and_until_converged():
    decay = ODESystem((y,), (-y,))
    tr = integrate(decay, [1], 100, dps=30, stop=Speed(sp.Rational(1, 10 ** 6)))
    assert tr.stopped and tr.final_speed < mpmath.mpf(10) ** -6
    assert mpmath.mpf(13) < tr.t_final < mpmath.mpf(100)
    with pytest.raises(NotConverged, match="speed"):
        integrate(decay, [1], 2, dps=30, stop=Speed(sp.Rational(1, 10 ** 6)), until_converged=True)
    tr2 = integrate(decay, [1], 100, dps=30, stop=lambda tt, z: z[0] < mpmath.mpf(1) / 2)
    assert tr2.stopped and tr2.final[0] < mpmath.mpf(1) / 2
    with pytest.raises(NotConverged, match="steps"):
        integrate(decay, [1], 100, dps=30, max_steps=2)


def test_bad_input_is_named():
    with pytest.raises(ProblemError, match="float"):
        integrate(EXP, [0.1], 1)
    with pytest.raises(PrecisionTooLow):
        integrate(EXP, [1], 1, dps=30, tol=sp.Rational(1, 10 ** 60))
    with pytest.raises(ProblemError, match="states"):
        integrate(EXP, [1, 2], 1)
    with pytest.raises(ProblemError, match="backend"):
        integrate(EXP, [1], 1, backend="nope")
    with pytest.raises(SingularInitialization):
        integrate(ODESystem((y,), (1 / y,)), [0], 1)


def test_precision_is_not_leaked():
    import gmpy2
    before = (mpmath.mp.prec, gmpy2.get_context().precision)
    integrate(EXP, [1], 1, dps=60)
    integrate(EXP, [1], 1, dps=60, backend="reference")
    assert (mpmath.mp.prec, gmpy2.get_context().precision) == before


# ---- the fixed-point jet (numerics.taylor.jet_fixed): integer mantissas, one exponent per order --------
@pytest.mark.parametrize("dps", [30, 60])
def test_fixed_point_jet_agrees_with_reference(dps):
    sysm, y0 = _diagonal_net(4, 2)
    a = integrate(sysm, y0, 3, dps=dps, backend="fixed")
    b = integrate(sysm, y0, 3, dps=dps, backend="reference")
    assert len(a.times) == len(b.times)
    with mpmath.workdps(dps + 20):
        assert max(abs(p - q) for p, q in zip(a.final, b.final)) < mpmath.mpf(10) ** -(dps - 1)
        # negative control: the reference at a slightly different time is far away
        c = integrate(sysm, y0, sp.Rational(3001, 1000), dps=dps, backend="reference")
        assert max(abs(p - q) for p, q in zip(a.final, c.final)) > mpmath.mpf(10) ** -8


@pytest.mark.parametrize("scale", [1, 10 ** 40])
def test_dense_block_of_the_fixed_jet_is_exact(scale, monkeypatch):
    """The rows of X run as one integer block (int64 limbs, or object arrays when the entries are
    too large for limbs); the result is floor(N a / d) exactly, for mantissas of either sign."""
    import random
    import numpy as np
    from gmpy2 import mpz
    from numerics.taylor import jet_fixed
    monkeypatch.setattr(jet_fixed, "BLOCK_MIN_ENTRIES", 1)   # a small block, for the test
    rng = random.Random(3)
    rows, cols = 5, 11
    a = [mpz(rng.randint(-2 ** 200, 2 ** 200)) for _ in range(cols)]
    coeffs = [[sp.Rational(rng.randint(-16, 16) * scale, 8) for _ in range(cols)] for _ in range(rows)]
    xs = sp.symbols(f"x0:{cols}")
    sysm = ODESystem(xs, tuple(sum(c * x for c, x in zip(r, xs)) + sp.Rational(1, 3) for r in coeffs[:rows])
                     + tuple(sp.Integer(0) for _ in range(cols - rows)))
    prog = decompose(sysm)
    jet = jet_fixed.FixedJet(prog, 150)
    step = next(s for s in jet.plan if s[0] == "block")
    assert (step[5] > 0) == (scale == 1)                     # limbs unless entries are huge
    assert list(step[2]) == list(jet.states)                 # the block's columns: x0 .. x10
    vec = np.empty(cols, dtype=object)
    vec[:] = a
    got = jet_fixed._block_apply(step, vec, 1)
    want = [sum(int(c * 8) * int(x) for c, x in zip(r, a)) // 8 for r in coeffs]
    assert [int(x) for x in got] == want
    # negative control: dropping the offset correction of the limb split changes the result
    if step[5]:
        broken = step[:6] + (step[6] * 0,) + step[7:]
        assert [int(x) for x in jet_fixed._block_apply(broken, vec, 1)] != want


def test_flow_through_dense_blocks_agrees_with_reference(monkeypatch):
    from numerics.taylor import jet_fixed
    monkeypatch.setattr(jet_fixed, "BLOCK_MIN_ENTRIES", 1)
    sysm, y0 = _diagonal_net(12, 3)     # r = Xw - y: 3 x 12; g = X^T r: 12 rows of <= 3 terms (no block)
    assert [s[0] for s in jet_fixed.FixedJet(decompose(sysm), 150).plan].count("block") == 1
    a = integrate(sysm, y0, 2, dps=30, backend="fixed")
    b = integrate(sysm, y0, 2, dps=30, backend="reference")
    with mpmath.workdps(50):
        assert max(abs(p - q) for p, q in zip(a.final, b.final)) < mpmath.mpf(10) ** -29
        c = integrate(sysm, [sp.Rational(11, 100)] + y0[1:], 2, dps=30, backend="fixed")
        assert max(abs(p - q) for p, q in zip(c.final, b.final)) > mpmath.mpf(10) ** -6


def test_fixed_point_jet_scales_and_time():
    # y' = t y: exp(t^2/2); large and small magnitudes (absolute below 1, relative above)
    ty = ODESystem((y,), (t * y,), time=t)
    for y0, t1 in ((1, 3), (sp.Integer(10) ** 12, 2), (sp.Rational(1, 10 ** 6), 2)):
        tr = integrate(ty, [y0], t1, dps=30, backend="fixed")
        with mpmath.workdps(60):
            exact = exact_y0 = mpmath.mpf(sp.N(y0, 70)) * mpmath.exp(mpmath.mpf(t1) ** 2 / 2)
            assert abs(tr.final[0] - exact) / max(1, abs(exact)) < mpmath.mpf(10) ** -28
            assert abs(tr.final[0] - exact_y0 * mpmath.mpf("1.000001")) / max(1, abs(exact)) > mpmath.mpf(10) ** -12
    # long steps (slow decay, radius of convergence >> 1) need the rescaled series
    dec = ODESystem((u, v), (-u * v / 100, -v / 100))
    tr = integrate(dec, [1, 1], 400, dps=30, backend="fixed")
    with mpmath.workdps(60):  # u = exp(-(1 - e^{-t/100})), v = e^{-t/100}
        ev = mpmath.exp(-4)
        assert abs(tr.final[1] - ev) < mpmath.mpf(10) ** -29
        assert abs(tr.final[0] - mpmath.exp(ev - 1)) < mpmath.mpf(10) ** -29
    assert len(tr.orders) < 40


def test_fixed_point_backend_refuses_non_polynomial_fields():
    with pytest.raises(ProblemError, match="polynomial.*exp"):
        integrate(ODESystem((y,), (sp.exp(y),)), [0], 1, backend="fixed")


@pytest.mark.parametrize("n, kind", [(2, "SmallJet"), (20, "LimbJet")])
def test_fast_backend_picks_its_jet_from_the_program_and_is_reproducible(n, kind):
    """Small polynomial programs run the generated fixed-point code (jet_small), product-rich ones the machine-word
    fixed-point jet; the choice is a function of the program, so repeated runs give the same
    digits, bit for bit."""
    from numerics.taylor.integrator import compile_system
    from numerics.taylor.jet_fast import prefers_limbs
    sysm, y0 = _diagonal_net(n, 2)
    a = integrate(sysm, y0, 2, dps=30, backend="fast")
    jet = compile_system(sysm, dps=30)[1]
    assert type(jet).__name__ == kind
    assert prefers_limbs(decompose(sysm)) == (kind == "LimbJet")
    b = integrate(sysm, y0, 2, dps=30, backend="fast")
    assert a.final == b.final and a.times == b.times          # reproducible, not just close
    c = integrate(sysm, y0, 2, dps=30, backend="reference")
    with mpmath.workdps(50):
        assert max(abs(p - q) for p, q in zip(a.final, c.final)) < mpmath.mpf(10) ** -29
        # negative control: a different initial state gives a different end point
        d = integrate(sysm, [sp.Rational(11, 100)] + y0[1:], 2, dps=30, backend="fast")
        assert max(abs(p - q) for p, q in zip(d.final, c.final)) > mpmath.mpf(10) ** -6
