"""The README's code examples run as written (so the documentation cannot drift from the API)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_python_api_example_runs_and_refutes_the_wrong_factor(capsys):
    block = next(b for b in _python_blocks() if "verify(p, claim)" in b)
    exec(compile(block, "README:python-api", "exec"), {})
    out = capsys.readouterr().out
    assert "status='refuted'" in out and "passed=True" in out


def test_ci_property_example_runs():
    block = next(b for b in _python_blocks() if "@given" in b)
    ns = {}
    exec(compile(block, "README:property-test", "exec"), ns)
    # called directly, not collected: give it the profile the plugin gives it under pytest
    from numerics.plugin import apply_profile
    apply_profile(ns["test_uv_is_conserved"], "quick")
    ns["test_uv_is_conserved"](ibcheck_dps=30)
