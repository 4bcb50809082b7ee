"""The ibcheck command: list, derive, check; stable JSON; exit codes on failure and bad input."""
import json

import pytest

from numerics.cli import main

FIELDS = {"model", "claim", "kind", "symbolic", "passed", "status", "residual", "tolerance",
          "error_estimate", "digits", "dps", "seconds", "details"}


def test_list_names_every_entry_with_its_source(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"diagonal-quadratic", "linear-net-2x2x2", "shared-hidden-unit"}
    assert all(r["source"] for r in rows)


def test_derive_json_and_latex(capsys):
    assert main(["derive", "diagonal-quadratic", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["law_count"]["laws"] == 1 and rec["laws"][0]["expr"] == "u*v"
    assert rec["mirror"]["exists"] and rec["mirror"]["proof"] == "proved"
    assert {l["leading"] for l in rec["limits"]} == {"Abs(w)/2", "w**2/16"}
    assert main(["derive", "diagonal-quadratic", "--latex"]) == 0
    assert capsys.readouterr().out.lstrip().startswith("\\documentclass")


def test_derive_of_a_non_commuting_model_reports_the_witness(capsys):
    assert main(["derive", "shared-hidden-unit", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["mirror"]["exists"] is False and "do not commute" in rec["mirror"]["reason"]


def test_check_json_records_have_the_documented_fields(capsys):
    assert main(["check", "shared-hidden-unit", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == 0 and doc["passed"] == len(doc["verdicts"]) >= 2
    for r in doc["verdicts"]:
        assert set(r) == FIELDS


def test_check_of_a_users_spec_file_and_a_bad_constant(tmp_path, capsys):
    spec = tmp_path / "mine.toml"
    spec.write_text('name = "mine"\nparams = ["u", "v"]\nconstants = {alpha = "positive"}\n'
                    'map = ["u**2 - v**2"]\ninit = {u = "alpha", v = "alpha"}\nseparable = 2\n')
    assert main(["check", str(spec), "--no-regimes", "--set", "alpha=1/3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == 0 and any(r["kind"] == "mirror" for r in doc["verdicts"])
    assert main(["check", str(spec), "--set", "beta=1"]) == 2
    assert "no constant named beta" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["check", "no-such-model"], "neither a catalog entry"),
    (["check"], "needs a catalog name"),
    (["check", "diagonal-quadratic", "--set", "alpha"], "NAME=VALUE"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_check_exits_1_when_a_claim_fails(monkeypatch, capsys):
    import numerics.confirm as confirm_mod
    from numerics.verdict import Verdict

    failing = Verdict(model="m", claim="law h", kind="law", passed=False, residual=1.0, tolerance=1e-25,
                      dps=30, error_estimate=1e-31, details={"status": "refuted"})
    monkeypatch.setattr(confirm_mod, "confirm", lambda *a, **k: [failing])
    assert main(["check", "shared-hidden-unit"]) == 1
    assert "FAILED m: law h" in capsys.readouterr().out


def test_check_all_in_parallel_gives_the_serial_records(monkeypatch, capsys):
    """``--jobs 2`` runs entries in separate processes; the records (residuals included: the
    integrator is deterministic) are those of the serial run, in catalog order."""
    import theory.catalog as catalog

    few = {k: catalog.CATALOG[k] for k in ("shared-hidden-unit", "diagonal-quadratic")}
    monkeypatch.setattr(catalog, "CATALOG", few)
    docs = []
    for jobs in ("1", "2"):
        assert main(["check", "--all", "--no-regimes", "--json", "--jobs", jobs]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in d["verdicts"]] for d in docs]
    assert strip[0] == strip[1] and len(strip[0]) >= 4
    assert [r["model"] for r in strip[0]][0] != [r["model"] for r in strip[0]][-1]
    assert main(["check", "--all", "--jobs", "-1"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
