r"""pytest plugin (entry point ``ibcheck``): precision and depth options for property tests.

Options (also as environment variables, for CI):

* ``--ibcheck-dps N`` / ``IBCHECK_DPS``: working digits of numeric checks (default 30);
* ``--ibcheck-profile quick|deep`` / ``IBCHECK_PROFILE``: the hypothesis profile. *quick* (default)
  runs few examples per property; *deep* runs many and also selects tests marked ``slow``.

Fixtures: ``ibcheck_dps`` (int) and ``ibcheck_profile`` (str). The hypothesis profiles
``ibcheck-quick`` and ``ibcheck-deep`` are registered here, so ``@given`` tests in a user's own
suite follow the same switch.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

PROFILES = {
    "quick": dict(max_examples=6, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
    "deep": dict(max_examples=200, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
}
for _name, _kw in PROFILES.items():
    settings.register_profile(f"ibcheck-{_name}", **_kw)


def pytest_addoption(parser):
    group = parser.getgroup("ibcheck")
    group.addoption("--ibcheck-dps", type=int, default=None,
                    help="working digits for ibcheck numeric checks (default 30, env IBCHECK_DPS)")
    group.addoption("--ibcheck-profile", choices=sorted(PROFILES), default=None,
                    help="hypothesis profile: quick (default) or deep (many examples, includes slow tests)")


def _profile(config) -> str:
    return config.getoption("--ibcheck-profile") or os.environ.get("IBCHECK_PROFILE", "quick")


def pytest_configure(config):
    prof = _profile(config)
    if prof not in PROFILES:
        raise pytest.UsageError(f"unknown ibcheck profile {prof!r}; choose one of {sorted(PROFILES)}")
    settings.load_profile(f"ibcheck-{prof}")
    if prof == "deep" and config.option.markexpr == "not slow":
        config.option.markexpr = ""  # the deep profile runs the slow tests too


def pytest_report_header(config):
    return f"ibcheck: profile={_profile(config)} dps={_dps(config)}"


def _dps(config) -> int:
    v = config.getoption("--ibcheck-dps") or os.environ.get("IBCHECK_DPS") or 30
    try:
        v = int(v)
    except ValueError:
        raise pytest.UsageError(f"IBCHECK_DPS must be an integer, got {v!r}") from None
    if v < 15:
        raise pytest.UsageError(f"--ibcheck-dps {v} is too low: ibcheck's checks need at least 15 digits")
    return v


@pytest.fixture(scope="session")
def ibcheck_dps(request) -> int:
    """Working digits chosen with --ibcheck-dps / IBCHECK_DPS."""
    return _dps(request.config)


@pytest.fixture(scope="session")
def ibcheck_profile(request) -> str:
    """'quick' or 'deep'."""
    return _profile(request.config)
