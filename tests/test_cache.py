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


def test_verified_claims_are_cached_by_content(tmp_path, monkeypatch):
    """A literature claim's proof is reused, but a claim that differs in any expression (here
    the sign of the law) gets its own entry and its own, failing, proof."""
    import sympy as sp
    from theory import verify
    from theory.claims import ConservedQuantity
    monkeypatch.setenv("IBCHECK_CACHE", str(tmp_path))
    p = CATALOG["diagonal-quadratic"].parameterization()
    u, v = p.coordinate.params
    good, bad = ConservedQuantity(u * v, coordinate=True), ConservedQuantity(u * v + u, coordinate=True)
    assert verify(p, good).status == "proved"
    assert len(list(tmp_path.glob("*verify-*.pickle"))) == 1
    assert verify(p, good).status == "proved"                 # served from the cache
    assert verify(p, bad).status == "refuted"                 # negative control: not the cached proof
    assert len(list(tmp_path.glob("*verify-*.pickle"))) == 2
    assert sp.srepr(good.expr) != sp.srepr(bad.expr)
