import pytest

pytest_plugins = ["pytester"]


def pytest_collection_modifyitems(items):
    # this repository's own tests are all ibcheck's: its pytest plugin applies the
    # quick/deep hypothesis profile to tests carrying the marker (and to no one else's)
    for item in items:
        item.add_marker("ibcheck")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    # with -n and no --dist of the caller's, work stealing instead of xdist's "load": under
    # "load" the deep profile's long property items, queued together, ran one after another on
    # one worker while the other sat idle (two deep runs); here an idle worker takes queued
    # tests from a busy one (pytest-xdist >= 3.2). Set in this suite only, not in addopts, so
    # that `-p no:xdist` keeps working.
    if config.getoption("dist") == "load" and not any(
            a == "-d" or a.startswith("--dist") for a in config.invocation_params.args):
        from xdist.scheduler import WorkStealingScheduling
        return WorkStealingScheduling(config, log)
    return None
