"""The soundness contract: ``proved`` only for what was proved.

* the adversarial corpus (``tests/soundness_corpus.py``): every false claim comes back refuted,
  undecided or refused, never proved; every true claim stays proved; and each false claim's
  numeric twin is never confirmed;
* the three reproductions of issue #10 (a potential whose R was never checked, a regularizer the
  derivation ignored, labels borrowed from a cache);
* one invariant across the two halves: no record is symbolically proved and numerically refuted.
"""
import pickle
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import soundness_corpus as corpus  # noqa: E402

from numerics.confirm import confirm  # noqa: E402
from numerics.verdict import flag_inconsistency  # noqa: E402
from numerics.problems import Problem  # noqa: E402
from numerics.verdict import Verdict  # noqa: E402
from theory import Coordinate, derive, separable, verify  # noqa: E402
from theory.claims import ConservedQuantity, Derivation, LimitingRegularizer, MirrorPotential, Proof  # noqa: E402
from theory.errors import UnsupportedModel  # noqa: E402

CASES = corpus.cases()
FALSE = [c for c in CASES if not c.true]
TRUE = [c for c in CASES if c.true]
u, v, w, a = corpus.u, corpus.v, corpus.w, corpus.a


def test_the_corpus_is_large_enough():
    assert len(FALSE) >= 40 and len(TRUE) >= 10


@pytest.mark.parametrize("case", FALSE, ids=[c.label for c in FALSE])
def test_a_false_claim_is_never_proved(case):
    assert corpus.judge(case) in {"refuted", "undecided", "refused"}


@pytest.mark.parametrize("case", TRUE, ids=[c.label for c in TRUE])
def test_a_true_claim_is_proved(case):
    assert corpus.judge(case) == "proved"


# ---- numeric twins ------------------------------------------------------------------------------
def _problem(p, values):
    X = tuple(tuple(sp.Rational(k + 2 * j + 1, 3) * (-1) ** (j + k) for k in range(p.n_outputs))
              for j in range(p.n_outputs - 1))
    y = tuple(sp.Rational(1 + j, 2) for j in range(len(X)))
    return Problem(X=X, y=y, values=values, dps=30)


def _numeric_statuses(model: str, cases, monkeypatch) -> dict:
    """Case label -> numeric statuses of the case's claim, checked by the pipeline behind
    ``ibcheck check`` (laws on one flow, potentials on one converged flow); a flow that cannot
    run gives ``error`` for its claims."""
    import numerics.confirm.pipeline as nc

    p = corpus.MODELS[model]()
    names = {id(c.claim): c.label for c in cases}
    monkeypatch.setattr(nc, "_claim_label", lambda claim, origin: names[id(claim)])
    out = {c.label: [] for c in cases}
    for group in ([c for c in cases if isinstance(c.claim, ConservedQuantity)],
                  [c for c in cases if not isinstance(c.claim, ConservedQuantity)]):
        if not group:
            continue
        claims = [(c.claim, Proof("undecided", "not proved here")) for c in group]
        verdicts = confirm(Derivation(parameterization=p, law_count=None),
                           _problem(p, {k: v for k, v in {"alpha": sp.Rational(1, 2), "s": sp.Rational(1, 3)}.items()
                                        if k in {c.name for c in p.constants}}),
                           extra_claims=claims, regimes=False)
        for c in group:
            out[c.label] = [vd.details.get("status") for vd in verdicts
                            if vd.claim == c.label or vd.claim.startswith(c.label + ": ")] \
                or [vd.details.get("status") for vd in verdicts if vd.claim == "flow"]
    return out


TWIN_MODELS = ["quadratic", "quadratic-rates", "quadratic-decay", "product", "depth3"]


@pytest.mark.parametrize("model", TWIN_MODELS)
def test_the_numeric_twin_of_a_false_claim_is_never_confirmed(model, monkeypatch):
    cases = [c for c in FALSE if c.model == model and c.numeric
             and not isinstance(c.claim, LimitingRegularizer)]
    if model != "quadratic-decay":
        cases = [c for c in cases if corpus.judge(c) != "undecided"]  # unknown symbols: no flow value
    assert cases
    statuses = _numeric_statuses(model, cases, monkeypatch)
    for c in cases:
        seen = statuses[c.label]
        # a claim is confirmed only when every row of it is (a potential has up to three)
        assert seen and set(seen) != {"confirmed"}, (c.label, seen)


def test_the_numeric_twin_of_a_true_claim_is_confirmed(monkeypatch):
    """The control of the control: the same machinery confirms true claims."""
    cases = [c for c in TRUE if c.model == "quadratic" and not isinstance(c.claim, LimitingRegularizer)]
    statuses = _numeric_statuses("quadratic", cases, monkeypatch)
    for c in cases:
        assert statuses[c.label] and set(statuses[c.label]) == {"confirmed"}, (c.label, statuses[c.label])


# ---- the issue's three reproductions -------------------------------------------------------------
def _issue_model():
    return separable(Coordinate((u, v), u**2 - v**2, (a, a)), 2, "m", constants=(a,))


def test_issue_potential_field_is_checked():
    p = _issue_model()
    bad = MirrorPotential(variables=(w,), potential=w**7 * sp.log(1 / a),
                          gradient=(sp.asinh(w / (2 * a**2)) / 4,), coordinate=True)
    pr = verify(p, bad, use_cache=False)
    assert pr.refuted and r"\nabla R = \text{gradient}" in pr.identity
    lim = LimitingRegularizer(a, 0, 1 / sp.log(1 / a), w**7, w)
    assert verify(p, lim, potential=bad, use_cache=False).status != "proved"
    # a claim that states only R, as papers do, is checked (not rejected)
    R = derive(p).potential.potential
    assert verify(p, MirrorPotential(variables=(w,), potential=R, coordinate=True), use_cache=False).proved


def test_issue_regularizer_is_never_ignored():
    """The issue's u^3 - v^3 with h = u^2 + v^2: the decay-free law 1/u + 1/v is not a law of the
    regularized flow (refuted, with a point); said of the decay-free flow (DecayOff) it is proved;
    the derivation labels its decay-free laws as such."""
    from theory.regularized import DecayOff

    up, vp = corpus.up, corpus.vp
    p = separable(Coordinate((up, vp), up**3 - vp**3, (a, a), regularizer=up**2 + vp**2), 2, "reg",
                  constants=(a,))
    law = ConservedQuantity(1 / up + 1 / vp, coordinate=True)
    assert verify(p, law, use_cache=False).refuted
    assert verify(p, DecayOff(law), use_cache=False).proved
    d = derive(p, use_cache=False)
    assert all(isinstance(c, DecayOff) for c, _ in d.claims if not hasattr(c, "closed_form")
               and isinstance(getattr(c, "claim", c), ConservedQuantity))
    assert any("decay-free" in n for n in d.notes)
    pot = MirrorPotential(variables=(w,), gradient=(sp.asinh(w / (2 * a**2)) / 4,), coordinate=True)
    assert verify(p, pot, use_cache=False).status == "undecided"


def test_issue_regularizer_law_is_refuted_numerically():
    """The numeric side integrates the model as stated: the law of the unregularized model
    drifts on the regularized flow (the issue measured a residual of 0.82)."""
    up, vp = corpus.up, corpus.vp
    p = separable(Coordinate((up, vp), up**3 - vp**3, (a, a), regularizer=up**2 + vp**2), 2, "reg",
                  constants=(a,))
    claims = [(ConservedQuantity(1 / up + 1 / vp, coordinate=True), Proof("undecided", "refused"))]
    vd = confirm(Derivation(parameterization=p, law_count=None), _problem(p, {"alpha": 1}),
                 extra_claims=claims, regimes=False)
    assert [x.details["status"] for x in vd] == ["refuted"]


def test_issue_cached_labels_are_never_borrowed(tmp_path, monkeypatch):
    monkeypatch.setenv("IBCHECK_CACHE", str(tmp_path))
    p = _issue_model()
    q = replace(p, name="second-name", source="Someone 2026, eq. 1")
    dp, dq = derive(p), derive(q)
    assert dq.parameterization.name == "second-name" and dq.parameterization.source == "Someone 2026, eq. 1"
    assert "second-name" in dq.mirror[1].identity and "second-name" not in dp.mirror[1].identity
    assert derive(q).parameterization == q  # from the cache, same labels


def test_a_foreign_or_corrupt_cache_file_is_recomputed_never_trusted(tmp_path, monkeypatch):
    from theory import cache

    monkeypatch.setenv("IBCHECK_CACHE", str(tmp_path))
    p = _issue_model()
    d = derive(p)
    files = list(tmp_path.glob("derivation-*.pickle"))
    assert files

    class Evil:
        def __reduce__(self):
            return (exec, ("import pathlib; pathlib.Path(%r).write_text('pwned')" % str(tmp_path / "pwned"),))

    def same(e):
        return e.claims == d.claims and e.notes == d.notes and e.parameterization == p

    for f in files:
        f.write_bytes(pickle.dumps(Evil()))
    assert same(derive(p)) and not (tmp_path / "pwned").exists()
    for f in tmp_path.glob("derivation-*.pickle"):
        f.write_bytes(b"\x80\x04garbage")
    assert same(derive(p))
    # a well-formed file stored under another key is not taken for this one
    key = f"{p.fingerprint()}-1"
    other = replace(d, notes=("forged",))
    with open(cache._path(key), "wb") as fh:
        pickle.dump(("another-key", other), fh)
    assert derive(p).notes != ("forged",)


def test_reserved_names_are_renamed_in_and_out():
    mu_, w_ = sp.symbols("mu w", real=True)
    p = separable(Coordinate((mu_, w_), mu_**2 - w_**2, (a, a)), 2, "named", constants=(a,))
    d = derive(p)
    assert d.laws and d.laws[0][0].expr == mu_ * w_ and d.laws[0][1].proved
    assert d.mirror[1].proved
    assert verify(p, ConservedQuantity(mu_ * w_, coordinate=True)).proved
    assert verify(p, ConservedQuantity(mu_ + w_, coordinate=True)).refuted


def test_a_template_that_is_not_the_model_is_refused():
    p = _issue_model()
    lying = replace(p, coordinate=Coordinate((u, v), u * v, (a, a)))
    with pytest.raises(UnsupportedModel, match="template"):
        derive(lying)


def test_exact_constants_are_decided():
    from theory.proving.zero import check_identity

    assert check_identity([sp.asinh(sp.Rational(3, 4)) - sp.log(2)], "c").proved
    assert check_identity([sp.sqrt(2) * sp.sqrt(3) - sp.sqrt(6)], "c").proved
    assert check_identity([sp.asinh(sp.Rational(3, 4)) - sp.log(2) + sp.Rational(1, 10**40)], "c").refuted


# ---- one invariant across the two halves ---------------------------------------------------------
def test_proved_and_refuted_is_flagged_as_an_internal_inconsistency():
    v1 = Verdict(model="m", claim="law", kind="law", passed=False, residual=1.0, tolerance=1e-25, dps=30,
                 error_estimate=1e-30, symbolic="proved", details={"status": "refuted"})
    flagged = flag_inconsistency(v1)
    assert not flagged.passed and flagged.details["status"] == "inconsistent"
    for sym, status in (("refuted", "refuted"), ("proved", "confirmed"), ("undecided", "refuted")):
        v2 = replace(v1, symbolic=sym, details={"status": status})
        assert flag_inconsistency(v2) == v2


def _no_inconsistency(records):
    bad = [(r.model, r.claim) for r in records
           if r.symbolic == "proved" and r.details.get("status") in {"refuted", "inconsistent"}]
    assert not bad, bad


@pytest.mark.parametrize("name", ["diagonal-quadratic", "shared-hidden-unit"])
def test_catalog_rows_are_never_proved_and_refuted(name):
    from numerics.cli import check_target

    _no_inconsistency(check_target(name, dps=30, seed=2024, sets={}, backend="fast", regimes=False,
                                   progress=lambda m: None))


@pytest.mark.slow
def test_whole_catalog_rows_are_never_proved_and_refuted():
    from numerics.cli import check_target
    from theory.catalog import CATALOG

    for name in CATALOG:
        _no_inconsistency(check_target(name, dps=30, seed=2024, sets={}, backend="fast", regimes=True,
                                       progress=lambda m: None))


def _doc_specs():
    root = Path(__file__).resolve().parents[1]
    import re
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        for block in re.findall(r"```toml\n(.*?)```", doc.read_text(), flags=re.S):
            if "map" in block and "params" in block:
                yield doc.name, block


@pytest.mark.parametrize("doc,block", list(_doc_specs()))
def test_spec_examples_in_the_docs_are_never_proved_and_refuted(doc, block, tmp_path):
    from numerics.cli import check_target

    f = tmp_path / "model.toml"
    f.write_text(block)
    _no_inconsistency(check_target(str(f), dps=30, seed=2024, sets={}, backend="fast", regimes=False,
                                   progress=lambda m: None))


_up, _vp = sp.symbols("u v", positive=True)


@settings(max_examples=3, deadline=None, derandomize=True)
@given(k=st.integers(2, 4), c=st.sampled_from([1, 2, sp.Rational(1, 2)]),
       init=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_drawn_models_are_never_proved_and_refuted(k, c, init):
    """Drawn separable models w = u^k - c v^k: derived claims and their numeric checks agree."""
    p = separable(Coordinate((_up, _vp), _up**k - c * _vp**k, tuple(sp.Rational(i, 2) for i in init)),
                  2, f"drawn-{k}", constants=())
    d = derive(p, limits=False)
    _no_inconsistency(confirm(d, _problem(p, {}), regimes=False))
