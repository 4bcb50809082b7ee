"""Weight normalization (Chou, Rauhut, Ward): laws found by the engine, leaf identities, bad input."""
import pytest
import sympy as sp

from theory import IbcheckError
from theory.catalog import CATALOG
from theory.catalog import weightnorm as W
from theory.derive import derive
from theory.laws import law_summary, laws_equivalent, prove_law
from theory.laws.leaf import LeafIdentity
from theory.laws.lie import lie_count

NAMES = ["weightnorm-L2", "weightnorm-L3", "weightnorm-nonneg", "weightnorm-separate", "weightnorm-exp"]
COUNTS = {"weightnorm-L2": 3, "weightnorm-L3": 3, "weightnorm-nonneg": 1, "weightnorm-separate": 2,
          "weightnorm-exp": 1}


@pytest.mark.parametrize("name", NAMES)
def test_every_counted_law_is_found_proved_and_matches_the_paper(name):
    e = CATALOG[name]
    p = e.parameterization()
    d = derive(p)  # the derivation cache serves the check tests too
    count = d.law_count
    found = [h for h, pr in d.laws if not isinstance(h, LeafIdentity)]
    assert count.laws == COUNTS[name]
    assert law_summary(found, count) == f"found {count.laws} of {count.laws} laws"
    assert all(prove_law(p, h.expr).proved for h in found)
    lit = [c.expr for c in e.literature()]
    assert laws_equivalent(p, found, lit)


def test_leaf_identity_is_not_a_law_but_holds_on_the_leaf():
    p = CATALOG["weightnorm-L2"].parameterization()
    d = derive(p)
    leaf = [(h, pr) for h, pr in d.laws if isinstance(h, LeafIdentity)]
    assert leaf and all(pr.proved for _, pr in leaf)
    h = leaf[0][0]
    assert h.scope == "leaf" and h.as_law == "refuted"
    pr = prove_law(p, h.expr)
    assert pr.refuted and pr.witness is not None          # not conserved from every start
    assert prove_law(p, h.law).proved                     # its law form is
    (q, q0), = h.frozen
    assert sp.simplify(h.expr - h.law.xreplace({q: q0})) == 0
    assert q0 == 4                                        # ||s(0)||^2 = 2n with s(0) = 1, n = 2


def test_separate_radii_lose_the_per_coordinate_laws():
    p = W.separate(2, 2)
    assert lie_count(p).laws == 2
    ru, rv, a1, a2, b1, b2 = p.params
    S = a1**2 + a2**2 + b1**2 + b2**2
    # the signed model's law, transplanted with r^2 = r_u^2 + r_v^2: refuted with a point
    for r2 in (ru**2 + rv**2, ru**2, rv**2):
        pr = prove_law(p, sp.log(a1 * b1 / S) + W.eta_s * r2 / (W.eta_r * S))
        assert pr.refuted and pr.witness is not None
    pr = prove_law(p, a1 * b1 / (a2 * b2))
    assert pr.refuted and pr.witness is not None


def test_negative_controls_of_the_paper_forms():
    p = W.signed(2, 2)
    r, a1, a2, b1, b2 = p.params
    S = a1**2 + a2**2 + b1**2 + b2**2
    good = sp.log(a1 * b1 / S) + W.eta_s * r**2 / (W.eta_r * S)
    assert prove_law(p, good).proved
    for bad in (sp.log(a1 * b1 / S) - W.eta_s * r**2 / (W.eta_r * S),       # sign of the exponent
                sp.log(a1 * b1 / S) + W.eta_s * r**2 / (2 * W.eta_r * S),   # rho/2 for rho
                sp.log(a1 * b1 / S) + W.eta_s * r**2 / (W.eta_r * 4)):      # ||s(0)||^2 frozen
        assert prove_law(p, bad).refuted


@pytest.mark.parametrize("call, match", [
    (lambda: W.signed(1, 2), "L >= 2"),
    (lambda: W.signed(sp.Rational(5, 2), 2), "L >= 2"),
    (lambda: W.nonneg(0, 2), "L >= 2"),
    (lambda: W.signed(2, 0), "positive integer"),
    (lambda: W.signed(2, 1, s0=[0, 0]), "zero"),
    (lambda: W.signed(2, 1, s0=[1, 2, 3]), "2 entries"),
    (lambda: W.check_scales(alpha_value=0), "alpha must be > 0"),
    (lambda: W.check_scales(alpha_value="-1/2"), "alpha must be > 0"),
    (lambda: W.check_scales(rho=0), "rho must be > 0"),
    (lambda: W.check_scales(rho=-3), "rho must be > 0"),
])
def test_bad_input_is_a_one_line_error(call, match):
    with pytest.raises(IbcheckError, match=match):
        call()


def test_check_rows_include_the_law_count(tmp_path):
    from numerics.cli import check_target
    vs = check_target("weightnorm-L2", dps=30, seed=2024, sets={}, backend="fast", regimes=False,
                      progress=lambda m: None)
    assert all(v.passed for v in vs)
    row = [v for v in vs if v.kind == "law-count"]
    assert len(row) == 1 and row[0].claim == "laws: found 3 of 3"
    assert any(v.claim.startswith("leaf identity") for v in vs)


def test_exponential_wn_is_plain_flow_at_rate_norm_squared_exactly_when_eta_s_is_eta_norm_s_squared():
    r"""w = e^c s/||s||: J M J^T = ||w||^2 [eta_c z z^T + (eta_s/||s||^2)(I - z z^T)] (proved), so
    J M J^T = eta ||w||^2 I iff eta_c = eta and eta_s = eta ||s||^2: with equal rates, iff ||s|| = 1
    (a law, so iff ||s(0)|| = 1)."""
    from theory.proving.zero import check_identity
    p = W.exponential(2)
    c, s1, s2 = p.params
    S = s1**2 + s2**2
    w = sp.Matrix([sp.exp(c) * s1 / sp.sqrt(S), sp.exp(c) * s2 / sp.sqrt(S)])
    z = w / sp.exp(c)
    K = p.output_metric()
    nw2 = sp.exp(2 * c)
    formula = nw2 * (W.eta_r * z * z.T + W.eta_s / S * (sp.eye(2) - z * z.T))
    assert check_identity(list(K - formula), "output metric").proved
    eta = sp.Symbol("eta", positive=True)
    plain = nw2 * eta * sp.eye(2)
    on = {W.eta_r: eta, W.eta_s: eta * S}                 # the condition
    assert check_identity(list((K - plain).xreplace(on)), "plain at rate ||w||^2").proved
    off = {W.eta_r: eta, W.eta_s: eta}                    # equal rates, ||s|| free
    pr = check_identity(list((K - plain).xreplace(off)), "plain at rate ||w||^2")
    assert pr.refuted and pr.witness is not None
    at_unit = {s2: sp.sqrt(1 - s1**2)}                   # equal rates on ||s|| = 1
    assert check_identity([sp.simplify(e) for e in (K - plain).xreplace(off).xreplace(at_unit)],
                          "on ||s|| = 1", constraints=[s1**2 < 1]).proved


@pytest.mark.parametrize("argv, message", [
    (["check", "weightnorm-L2", "--set", "eta_s=0"], "eta_s is declared positive"),      # rho = 0
    (["check", "weightnorm-L3", "--set", "eta_r=-1"], "eta_r is declared positive"),     # rho < 0
    (["check", "weightnorm-L2", "--set", "alpha=0"], "alpha is declared positive"),
    (["check", "weightnorm-separate", "--set", "alpha=-1/10"], "alpha is declared positive"),
    (["check", "deepproduct-nonneg-L3", "--set", "alpha=0"], "alpha is declared positive"),
])
def test_cli_bad_scales_exit_2_with_one_line(argv, message, capsys):
    from numerics.cli import main
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
