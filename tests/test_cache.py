"""The derivation cache: reused when nothing changed, bypassed when disabled, keyed on code too."""
from theory import cache, derive
from theory.catalog import CATALOG


def test_cache_round_trip_and_off_switch(tmp_path, monkeypatch):
    monkeypatch.setenv("IBCHECK_CACHE", str(tmp_path))
    p = CATALOG["shared-hidden-unit"].parameterization()
    d1 = derive(p)
    files = list(tmp_path.glob("derivation-*.pickle"))
    assert len(files) == 1 and cache.VERSION in files[0].name
    assert derive(p).laws == d1.laws
    monkeypatch.setenv("IBCHECK_CACHE", "off")
    assert cache.cache_dir() is None
    assert derive(p).laws == d1.laws


def test_a_corrupt_cache_entry_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("IBCHECK_CACHE", str(tmp_path))
    p = CATALOG["shared-hidden-unit"].parameterization()
    derive(p)
    for f in tmp_path.glob("derivation-*.pickle"):
        f.write_bytes(b"not a pickle")
    assert derive(p).law_count.laws == 1
