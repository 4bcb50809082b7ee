"""Weight decay, numerics: segmented flows, decaying laws and R_{a_t} along the flow, limits that
depend on A_oo only, constant decay ending at a stationary point; each with a negative control."""
import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from numerics.cli import check_target, default_problem
from numerics.regularized.flows import cumulative, run_decayed, segmented_flow
from numerics.regularized.checks import check_decay_limit, check_decaying_law, check_stationary, check_time_mirror
from theory import derive
from theory.catalog import weightdecay as wd
from theory.parameterization import TIME as t
from theory.regularized import A, H0, DecayingLaw

VALUES = {"alpha": "1/2"}


@pytest.fixture(scope="module")
def mw_pot():
    return derive(wd.mw()).time_potential[0]


def _runs(schedule, seed=7, dps=30):
    p = wd.mw(schedule=schedule)
    prob = default_problem(p, VALUES, seed=seed, dps=dps)
    sf = segmented_flow(p, prob.X, prob.y, values=VALUES)
    return sf, run_decayed(sf, dps=dps)


def test_cumulative_decay_of_a_step_schedule():
    from theory.regularized import analyse_schedule
    A_ = cumulative(analyse_schedule(sp.Piecewise((2, t < sp.Rational(1, 4)), (0, True))))
    with mpmath.workdps(30):
        assert A_(mpmath.mpf(1) / 8) == mpmath.mpf(1) / 4 and A_(3) == mpmath.mpf(1) / 2


def test_decaying_law_and_time_potential_along_a_switched_off_flow(mw_pot):
    sf, runs = _runs(wd.SWITCH_OFF)
    law = DecayingLaw(sp.Symbol("m", real=True)**2 - sp.Symbol("w", real=True)**2, H0 * sp.exp(-4 * A),
                      coordinate=True)
    good = check_decaying_law(runs, law, sf.schedule)
    assert good.passed and good.digits >= 25
    for wrong in (H0 * sp.exp(-2 * A), H0 * sp.exp(-4 * A) + A / 10**6, H0):
        bad = check_decaying_law(runs, DecayingLaw(law.expr, wrong, coordinate=True), sf.schedule)
        assert not bad.passed and bad.details["status"] == "refuted"
    v = check_time_mirror(runs, mw_pot, sf.schedule)
    assert v.passed and v.digits >= 25
    frozen = mw_pot.at(0)   # the decay-free potential on the decayed flow
    assert check_time_mirror(runs, frozen, sf.schedule).details["status"] == "refuted"
    lim = check_decay_limit(runs, mw_pot, sf.schedule)
    assert lim.passed and lim.digits >= 20


def _schedule(kind, c):
    """A schedule with A_oo = 1/2 of the given kind and rate."""
    if kind == "step":
        return sp.Piecewise((c, t < 1 / (2 * c)), (0, True))
    if kind == "heaviside":
        return c * sp.Heaviside(1 / (2 * c) - t)
    if kind == "two-steps":
        return sp.Piecewise((c, t < 1 / (4 * c)), (c / 2, t < 3 / (4 * c)), (0, True))
    return c * sp.exp(-2 * c * t)


@settings(max_examples=3, deadline=None)
@given(kind=st.sampled_from(["step", "heaviside", "two-steps", "exp"]),
       c=st.sampled_from([sp.Rational(1, 4), sp.Rational(1, 2), sp.Integer(1), sp.Integer(2)]))
def test_equal_integral_schedules_reach_the_same_limit(mw_pot, kind, c):
    ref_sf, ref_runs = _runs(wd.SWITCH_OFF)
    sf, runs = _runs(_schedule(kind, c))
    assert sf.schedule.total == sp.Rational(1, 2)
    lim = check_decay_limit(runs, mw_pot, sf.schedule)
    assert lim.passed and lim.digits >= 20, lim
    D = len(runs.flow.params)
    with mpmath.workdps(30):
        out = sp.lambdify(runs.flow.params, runs.flow.outputs, "mpmath")
        wa, wb = out(*runs.lo.final[:D]), out(*ref_runs.lo.final[:D])
        assert max(abs(x - y) for x, y in zip(wa, wb)) < mpmath.mpf(10) ** -20


def test_a_different_integral_gives_a_different_limit(mw_pot):
    sf, runs = _runs(sp.Piecewise((1, t < 1), (0, True)))   # A_oo = 1
    wrong = check_decay_limit(runs, mw_pot.at(sp.Symbol("a", real=True)), sf.schedule.__class__(
        sf.schedule.expr, sf.schedule.segments, sf.schedule.cumulative, sp.Rational(1, 2), "off"))
    assert wrong.details["status"] == "refuted"
    assert check_decay_limit(runs, mw_pot, sf.schedule).passed


def test_constant_decay_ends_at_a_stationary_point_not_an_interpolant():
    sf, runs = _runs(sp.Rational(1, 10))
    v = check_stationary(runs, sf)
    assert v.passed and not v.details["interpolates"]
    assert float(v.details["interpolation_residual"]) > 1e-6
    # control: the decay-off flow does interpolate, so its end point is no stationary point of L + h/10
    sf2, runs2 = _runs(wd.SWITCH_OFF)
    sf_const = segmented_flow(wd.mw(schedule=sp.Rational(1, 10)), runs2.flow.X, runs2.flow.y, values=VALUES)
    assert check_stationary(runs2, sf_const).details["status"] == "refuted"


@pytest.mark.parametrize("name", ["mw-decay", "diagonal-quadratic-decay", "diagonal-power4-decay", "lora-decay"])
def test_check_passes_on_the_catalog_entry(name):
    vs = check_target(name, dps=30, seed=2024, sets={}, backend="fast", regimes=False, progress=lambda m: None)
    assert vs and all(v.passed for v in vs), [v for v in vs if not v.passed]
    assert any("as expected" in v.details.get("status", "") for v in vs)


def test_range_widens_for_power4_and_the_flow_leaves_the_decay_free_domain():
    vs = check_target("diagonal-power4-decay", dps=30, seed=2024, sets={}, backend="fast", regimes=False,
                      progress=lambda m: None)
    rng = [v for v in vs if v.claim.startswith("effect range") and "[" not in v.claim]
    assert rng and rng[0].passed and rng[0].details["verdict"] == "widening"
    assert rng[0].details["left_decay_free_domain"]
    shrink = [v for v in vs if "erratum" in v.claim and "range" in v.claim]
    assert shrink and shrink[0].details["status"] == "refuted as expected"


@pytest.mark.slow
def test_reproduce_weightdecay_quick(tmp_path):
    from numerics.reproduce import load
    rep = load("weightdecay").run(tmp_path, quick=True)
    assert rep.passed and (tmp_path / "table.md").exists()
    errs = [rep.figures[k] for k in sorted(rep.figures) if k.startswith("error(")]
    assert errs[0] > errs[-1]   # more cumulative decay, closer to the sparse target


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sensing-commuting-decay", "sensing-gaussian-decay"])
def test_check_passes_on_the_sensing_entries(name):
    vs = check_target(name, dps=30, seed=2024, sets={}, backend="fast", regimes=False, progress=lambda m: None)
    assert vs and all(v.passed for v in vs), [v for v in vs if not v.passed]
    if name == "sensing-gaussian-decay":
        assert any(v.kind == "no-mirror" for v in vs)
    else:
        assert any(v.kind == "limit" and v.digits >= 20 for v in vs)


SPEC = '''name = "{name}"
params = ["u", "v"]
constants = {{alpha = "positive"}}
map = ["u**2 - v**2"]
init = {{u = "alpha", v = "alpha"}}
regularizer = "u**2 + v**2"
schedule = "{schedule}"
separable = 2
'''


def test_cli_refuses_a_negative_schedule_with_one_line(tmp_path, capsys):
    from numerics.cli import main
    f = tmp_path / "bad.toml"
    f.write_text(SPEC.format(name="bad", schedule="-exp(-t)"))
    assert main(["check", str(f), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "negative" in err[0]


def test_cli_constant_decay_from_a_spec_confirms_the_stationary_point(tmp_path, capsys):
    from numerics.cli import main
    f = tmp_path / "const.toml"
    f.write_text(SPEC.format(name="const", schedule="1/10"))
    assert main(["check", str(f), "--quiet", "--json"]) == 0
    import json
    rec = json.loads(capsys.readouterr().out)
    st = [v for v in rec["verdicts"] if v["kind"] == "stationary"]
    assert st and st[0]["passed"] and not st[0]["details"]["interpolates"]


def test_type_effect_is_checked_on_the_given_potential(mw_pot):
    """The type effect uses the derivation's potential (mw-decay's parameter w is a reserved name:
    a second derivation of the unrenamed model was both wasted and in the engine's own names).
    Controls: the potential read at 2a (another convention) is refuted; no potential is refused."""
    from numerics.regularized.checks import check_effect
    from theory.errors import IbcheckError
    d = derive(wd.mw())
    eff = next(e for e, _ in d.effects if e.kind == "type")
    sf, runs = _runs(wd.SWITCH_OFF)
    assert check_effect(runs, eff, sf.schedule, d.parameterization, potential=mw_pot).passed
    wrong = mw_pot.at(2 * mw_pot.parameter)
    assert not check_effect(runs, eff, sf.schedule, d.parameterization, potential=wrong).passed
    with pytest.raises(IbcheckError, match="type effect needs"):
        check_effect(runs, eff, sf.schedule, d.parameterization)
