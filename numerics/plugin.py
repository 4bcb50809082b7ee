r"""pytest plugin (entry point ``ibcheck``): precision and depth options for property tests.

Options (also as environment variables, for CI):

* ``--ibcheck-dps N`` / ``IBCHECK_DPS``: working digits of numeric checks (default 30);
* ``--ibcheck-max-steps N`` / ``IBCHECK_MAX_STEPS``: the step budget of one integration in a
  property test (default :data:`MAX_STEPS`); it bounds each example's time and memory (every step's
  Taylor polynomial is kept). A flow that does not converge within it is judged on a fixed horizon
  (counted as a hypothesis event); raise it to let slower flows reach their limit;
* ``--ibcheck-profile quick|deep`` / ``IBCHECK_PROFILE``: the hypothesis profile. *quick* (default)
  runs few examples per property and does not shrink (a failing property reports its first
  counterexample within seconds); *deep* runs many, shrinks, and also selects tests marked ``slow``.

Fixtures: ``ibcheck_dps`` (int), ``ibcheck_max_steps`` (int) and ``ibcheck_profile`` (str);
marker ``ibcheck``.

The profile applies **only** to ibcheck's own tests: hypothesis tests that use one of these
fixtures, carry the ``ibcheck`` marker, or live in a module that uses
:mod:`numerics.strategies`. Every other hypothesis test in the session keeps its own settings
(no global profile is loaded). Settings a test states itself (``@settings(...)``) win over the
profile's.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

PROFILES = {
    # no shrink phase: a wrong claim fails on its first counterexample, reported at once
    # (shrinking a slow numeric property took minutes); the deep profile shrinks
    "quick": dict(max_examples=6, deadline=None, derandomize=True,
                  phases=(Phase.explicit, Phase.reuse, Phase.generate),
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
    "deep": dict(max_examples=200, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
}
#: the default step budget of a property test's integration (--ibcheck-max-steps): at 30 digits a
#: step of a 9-state depth-4 flow costs ~4 ms and ~20-25 kB, so an example stays within ~30 s of CPU
#: and ~300 MB (both runs); converging flows took up to 4 915 steps in a seeded deep run
MAX_STEPS = 5000

for _name, _kw in PROFILES.items():  # registered for users who want them globally; never loaded here
    settings.register_profile(f"ibcheck-{_name}", **_kw)


def pytest_addoption(parser):
    group = parser.getgroup("ibcheck")
    group.addoption("--ibcheck-dps", type=int, default=None,
                    help="working digits for ibcheck numeric checks (default 30, env IBCHECK_DPS)")
    group.addoption("--ibcheck-max-steps", type=int, default=None,
                    help=f"step budget of one integration in a property test (default {MAX_STEPS}, "
                         "env IBCHECK_MAX_STEPS); slower flows are judged on a fixed horizon")
    group.addoption("--ibcheck-profile", choices=sorted(PROFILES), default=None,
                    help="hypothesis profile: quick (default) or deep (many examples, includes slow tests)")


def _profile(config) -> str:
    return config.getoption("--ibcheck-profile") or os.environ.get("IBCHECK_PROFILE", "quick")


def pytest_configure(config):
    prof = _profile(config)
    if prof not in PROFILES:
        raise pytest.UsageError(f"unknown ibcheck profile {prof!r}; choose one of {sorted(PROFILES)}")
    config.addinivalue_line("markers", "ibcheck: run this hypothesis test under ibcheck's profile "
                                       "(--ibcheck-profile)")
    _max_steps(config)  # a bad budget is a usage error at once, not in every test
    if prof == "deep" and config.option.markexpr == "not slow":
        config.option.markexpr = ""  # the deep profile runs the slow tests too


FIXTURES = ("ibcheck_dps", "ibcheck_max_steps", "ibcheck_profile")


def _uses_ibcheck(item) -> bool:
    """A test of ibcheck's: one of its fixtures, its marker, or its strategies in the module."""
    if any(f in getattr(item, "fixturenames", ()) for f in FIXTURES):
        return True
    if item.get_closest_marker("ibcheck") is not None:
        return True
    mod = getattr(item, "module", None)
    if mod is None:
        return False
    from . import strategies

    names = {n for n in dir(strategies) if not n.startswith("_")}
    for v in vars(mod).values():
        if v is strategies or (getattr(v, "__module__", None) == strategies.__name__
                               and getattr(v, "__name__", None) in names):
            return True
    return False


def apply_profile(test, profile: str) -> None:
    """Give a ``@given`` test the profile's settings, keeping those it states itself."""
    current = getattr(test, "_hypothesis_internal_use_settings", None)
    base = settings.default
    kw = dict(PROFILES[profile])
    if current is not None and current is not base:  # explicit @settings: they win
        kw = {k: v for k, v in kw.items() if getattr(current, k) == getattr(base, k)}
    test._hypothesis_internal_use_settings = settings(current, **kw) if current is not None \
        else settings(**kw)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    prof = _profile(config)
    done = set()
    for item in items:
        fn = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if fn is None or not hasattr(fn, "hypothesis") or id(fn) in done:
            continue
        if _uses_ibcheck(item):
            apply_profile(fn, prof)
            done.add(id(fn))


def pytest_report_header(config):
    return f"ibcheck: profile={_profile(config)} dps={_dps(config)} max_steps={_max_steps(config)}"


def _dps(config) -> int:
    return _int_option(config, "--ibcheck-dps", "IBCHECK_DPS", 30, 15,
                       "is too low: ibcheck's checks need at least 15 digits")


def _max_steps(config) -> int:
    return _int_option(config, "--ibcheck-max-steps", "IBCHECK_MAX_STEPS", MAX_STEPS, 1,
                       "is too low: the step budget must be at least 1")


def _int_option(config, option: str, env: str, default: int, minimum: int, why: str) -> int:
    """The option's value, else the environment variable's, else ``default``; an integer of at
    least ``minimum`` or a usage error naming it (an explicit 0 is refused, not replaced)."""
    v = config.getoption(option)
    if v is None:
        v = os.environ.get(env) or default
    try:
        v = int(v)
    except ValueError:
        raise pytest.UsageError(f"{env} must be an integer, got {v!r}") from None
    if v < minimum:
        raise pytest.UsageError(f"{option} {v} {why}")
    return v


@pytest.fixture(scope="session")
def ibcheck_max_steps(request) -> int:
    """Step budget of one integration, chosen with --ibcheck-max-steps / IBCHECK_MAX_STEPS."""
    return _max_steps(request.config)


@pytest.fixture(scope="session")
def ibcheck_dps(request) -> int:
    """Working digits chosen with --ibcheck-dps / IBCHECK_DPS."""
    return _dps(request.config)


@pytest.fixture(scope="session")
def ibcheck_profile(request) -> str:
    """'quick' or 'deep'."""
    return _profile(request.config)
