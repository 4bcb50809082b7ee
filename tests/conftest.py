pytest_plugins = ["pytester"]


def pytest_collection_modifyitems(items):
    # this repository's own tests are all ibcheck's: its pytest plugin applies the
    # quick/deep hypothesis profile to tests carrying the marker (and to no one else's)
    for item in items:
        item.add_marker("ibcheck")
