"""`ibcheck check/derive/list/reproduce` on the function-space entries."""
import json

import pytest

from numerics.cli import main
from theory.catalog import CATALOG


def test_catalog_lists_the_entries_with_sources(capsys):
    assert main(["list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    for name in ("relu-spline-uniform", "relu-spline-gaussian", "relu-spline-rademacher"):
        assert "Jin" in rows[name]["source"] and CATALOG[name].kind == "function-space"


def test_check_rademacher_passes_and_rejects_its_controls(capsys):
    assert main(["check", "relu-spline-rademacher", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    recs = doc["verdicts"]
    assert doc["failed"] == 0 and len(recs) >= 8
    controls = [r for r in recs if r["claim"].startswith("negative control")]
    assert controls and all(r["status"] == "rejected" and r["residual"] > r["tolerance"] for r in controls)
    held = [r for r in recs if not r["claim"].startswith("negative control")]
    assert all(r["status"] == "confirmed" and r["residual"] <= r["tolerance"] for r in held)
    agree = next(r for r in recs if r["kind"] == "agreement" and r["symbolic"] == "proved")
    assert agree["details"]["v"] == "-27/14" and agree["details"]["ols_v"] == "11/10"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["relu-spline-uniform", "relu-spline-gaussian"])
def test_check_passes(name, capsys):
    assert main(["check", name, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == 0 and doc["seconds"] < 120


def test_check_pipeline_rejects_a_wrong_literature_claim(monkeypatch, capsys):
    """A wrong closed form stated as holding makes `check` fail (exit 1)."""
    import theory.catalog as catalog
    from theory.catalog import widenets as wn
    from theory.function_space.claims import CurvatureWeight

    e = catalog.CATALOG["relu-spline-rademacher"]
    wrong = lambda: (CurvatureWeight(((-wn.a_b, wn.a_b, 1 / (4 * wn.a_b)),), "wrong: 1/(4 a_b)"),)
    from dataclasses import replace
    monkeypatch.setitem(catalog.CATALOG, "relu-spline-rademacher", replace(e, literature=wrong))
    assert main(["check", "relu-spline-rademacher"]) == 1
    assert "FAILED relu-spline-rademacher: wrong: 1/(4 a_b)" in capsys.readouterr().out


def test_derive_text_json_and_latex(capsys):
    assert main(["derive", "relu-spline-rademacher"]) == 0
    out = capsys.readouterr().out
    assert "1/(2*a_b)" in out and "v = -27/14" in out
    assert main(["derive", "relu-spline-uniform", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["energy"] == "3072/7" and rec["kernel_equals_spline"] == "proved"
    assert main(["derive", "relu-spline-rademacher", "--latex"]) == 0
    tex = capsys.readouterr().out
    assert tex.startswith(r"\documentclass") and r"\zeta(x)" in tex


def test_reproduce_is_listed(capsys):
    assert main(["reproduce", "--list"]) == 0
    assert "widenets" in capsys.readouterr().out


@pytest.mark.slow
def test_reproduce_quick(tmp_path, capsys):
    assert main(["reproduce", "widenets", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "table.md").exists()


def test_bad_input_through_the_cli_exits_2(capsys):
    """zeta vanishing on the data range, an unknown constant: one-line errors, exit 2."""
    assert main(["check", "relu-spline-rademacher", "--set", "a_b=1"]) == 2
    assert "zeta vanishes on (-2, -1)" in capsys.readouterr().err
    assert main(["check", "relu-spline-rademacher", "--set", "foo=1"]) == 2
    assert "no constant 'foo'" in capsys.readouterr().err
    assert main(["check", "relu-spline-rademacher", "--set", "a_b=-1"]) == 2
    assert "positive rational" in capsys.readouterr().err
