"""Weight decay in the mirror flow, theory side: admissibility, decaying laws, time-dependent
potentials, schedules; every derived claim proved, every negative control refuted."""
import pytest
import sympy as sp

from theory import derive, verify
from theory.catalog import weightdecay as wd
from theory.errors import IbcheckError
from theory.parameterization import TIME as t, Coordinate, separable
from theory.regularized import (A, H0, DecayingLaw, Erratum, ScheduleError, TimePotential,
                                analyse_schedule)
from theory.regularized.admissibility import admissibility, matched_regularizer

up, vp = sp.symbols("u v", positive=True)
alpha = sp.Symbol("alpha", positive=True)


@pytest.fixture(scope="module")
def mw():
    p = wd.mw()
    return p, derive(p)


def test_mw_admissible_law_decays_as_exp_minus_4A_and_potential_is_proved(mw):
    p, d = mw
    assert d.admissibility.admissible
    (law, pr), = d.decaying
    assert sp.simplify(law.expr - (sp.Symbol("m", real=True)**2 - sp.Symbol("w", real=True)**2)) == 0
    assert sp.simplify(law.closed_form - H0 * sp.exp(-4 * A)) == 0 and pr.proved
    pot, prp = d.time_potential
    assert prp.proved and pot.has_primal and pot.has_dual


def test_mw_literature_controls_and_errata(mw):
    p, _ = mw
    lit = wd.mw_literature()
    for c in lit:
        pr = verify(p, c)
        assert pr.refuted if isinstance(c, Erratum) else pr.proved, (c, pr)
    for c in wd.mw_controls():
        pr = verify(p, c)
        assert pr.refuted and pr.witness, (c, pr)


def test_power4_ordinary_decay_is_not_admissible_and_the_matched_one_is_named():
    c = Coordinate(params=(up, vp), output=up**4 - vp**4, init=(alpha, alpha), regularizer=up**2 + vp**2)
    p = separable(c, 2, "p4-l2", constants=(alpha,), schedule=sp.Rational(1, 2) * sp.Heaviside(1 - t))
    adm = admissibility(p)
    assert not adm.admissible and adm.pair == ("G_1", "h") and adm.point
    assert sp.expand(adm.matched - (up**4 + vp**4)) == 0
    assert "u**4 + v**4" in adm.reason and "not admissible" in adm.reason
    d = derive(p)
    assert not isinstance(d.time_potential, tuple) and d.time_potential.bracket is not None
    # the control: ordinary weight decay declared admissible for u^4 - v^4 is refuted with a witness
    pr = verify(wd.power(), wd.power_controls()[0])
    assert pr.refuted and pr.witness


def test_matched_regularizer_is_the_signed_sum_of_parts():
    assert sp.expand(matched_regularizer(up**6 - vp**6, (up, vp)) - (up**6 + vp**6)) == 0
    assert matched_regularizer(up * vp, (up, vp)) is None


def test_power4_decaying_law_is_affine_in_A_and_dual_potential_is_proved():
    p = wd.power()
    d = derive(p)
    (law, pr), = d.decaying
    assert pr.proved and sp.expand(law.closed_form - (H0 + 16 * A)) == 0
    pot, prp = d.time_potential
    assert prp.proved and pot.has_dual and not pot.has_primal
    for c in wd.power_literature():
        pr = verify(p, c)
        assert pr.refuted if isinstance(c, Erratum) else pr.proved, (c, pr)
    wrong = DecayingLaw(law.expr, H0 + 8 * A, coordinate=True)
    assert verify(p, wrong).refuted


def test_quadratic_decay_equals_smaller_init():
    p = wd.quadratic()
    for c in wd.quadratic_literature():
        assert verify(p, c).proved
    # the decay-free potential (a frozen at 0) is refuted on the decayed model
    frozen = TimePotential(variables=(sp.Symbol("w", real=True),),
                           gradient=(sp.asinh(sp.Symbol("w", real=True) / (2 * alpha**2)) / 4,), coordinate=True)
    assert verify(p, frozen).refuted


@pytest.mark.parametrize("expr,why", [
    (-sp.exp(-t), "negative"),
    (1 / (1 + t), "infinite integral"),
    (sp.Piecewise((1, t < 2), (-1, True)), "negative"),
])
def test_bad_schedules_are_refused_up_front(expr, why):
    with pytest.raises(ScheduleError, match=why):
        analyse_schedule(expr)
    c = Coordinate(params=(up, vp), output=up**2 - vp**2, init=(alpha, alpha), regularizer=up**2 + vp**2)
    with pytest.raises(IbcheckError, match=why):
        derive(separable(c, 1, "bad", constants=(alpha,), schedule=expr))


def test_schedule_segments_and_cumulative_decay():
    s = analyse_schedule(sp.Piecewise((1, t < 1), (sp.Rational(1, 3), t < 4), (0, True)))
    assert [seg[:2] for seg in s.segments] == [(0, 1), (1, 4), (4, sp.oo)]
    assert s.total == 2 and s.tail == "off" and s.A(3) == sp.Rational(5, 3)
    h = analyse_schedule(sp.Rational(1, 2) * sp.Heaviside(2 - t))
    assert h.total == 1 and h.breakpoints == (2,)
    c = analyse_schedule(sp.Rational(1, 5))
    assert c.tail == "constant" and c.total == sp.oo and c.rate == sp.Rational(1, 5)
    e = analyse_schedule(sp.exp(-2 * t))
    assert e.tail == "integrable" and e.total == sp.Rational(1, 2)


def test_log_u0_over_v0_is_the_engines_arcsinh():
    u0, v0 = 1, alpha
    x0 = (u0**2 - v0**2) / 2
    z = x0 / (u0 * v0)
    arg = sp.cancel(z + sp.sqrt(sp.factor(z**2 + 1)))   # arcsinh(z) = log(z + sqrt(z^2 + 1))
    assert sp.cancel(arg - u0 / v0) == 0


def test_diagonal_attention_reduces_to_mw():
    """diag(K)^T diag(Q) with decay on both: the same decaying laws and, coordinate by coordinate,
    the same time-dependent potential as mw-decay (proved on the attention model itself)."""
    p = wd.diagonal_attention(n=2)
    d = derive(p)
    assert d.admissibility.admissible
    k1, q1 = sp.symbols("k_1 q_1", real=True)
    laws = {sp.expand(l.expr): l.closed_form for l, pr in d.decaying if pr.proved}
    assert any(sp.expand(e - (k1**2 - q1**2)) == 0 or sp.expand(e + k1**2 - q1**2) == 0 for e in laws)
    assert all(sp.simplify(F - H0 * sp.exp(-4 * A)) == 0 for F in laws.values())
    # the mw potential, written for each output of the attention model, is proved on it
    mw_pot = derive(wd.mw()).time_potential[0]
    ws = p.output_symbols()
    mus = sp.symbols("mu_1 mu_2", real=True)
    q = mw_pot.dual_gradient[0]
    claim = TimePotential(variables=ws, dual_variables=mus,
                          dual_gradient=tuple(q.xreplace({mw_pot.dual_variables[0]: m_}) for m_ in mus))
    assert verify(p, claim).proved
    wrong = TimePotential(variables=ws, dual_variables=mus,
                          dual_gradient=tuple(q.xreplace({mw_pot.dual_variables[0]: m_, sp.Symbol("a", real=True): 0})
                                              for m_ in mus))
    assert verify(p, wrong).refuted
