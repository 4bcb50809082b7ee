"""LaTeX rendering: snippet contents, negative controls (a different claim renders differently),
escaping, and compilation of every catalog document with pdflatex."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import sympy as sp

from theory.catalog import CATALOG, FLOWS
from theory.claims import (ConservedQuantity, Derivation, LawCount, LimitingRegularizer, MirrorPotential,
                           NoMirror, Proof)
from theory.errors import IbcheckError
from theory.latex import escape_text, latex_claim, latex_document, latex_expr, latex_proof, latex_snippets
from theory.proving.zero import check_identity

alpha = sp.Symbol("alpha", positive=True)
w = sp.Symbol("w", real=True)


# ---- derivation records built by hand from the catalog ---------------------------------------
def _law_proof(p, h: ConservedQuantity) -> Proof:
    r"""The law identity :math:`J_G M \nabla h = 0` (per coordinate for template laws)."""
    if h.coordinate:
        c = p.coordinate
        rates = c.rates or (1,) * len(c.params)
        comp = sum(r * sp.diff(c.output, s) * sp.diff(h.expr, s) for r, s in zip(rates, c.params))
        return check_identity([comp], r"\nabla g^\top M \nabla h = 0")
    J, M = p.jacobian(), p.metric_matrix()
    comps = list(J * M * sp.Matrix([sp.diff(h.expr, s) for s in p.params]))
    return check_identity(comps, r"J_G M \nabla h = 0")


def _bracket(p):
    """[grad G_1, grad G_2] of a two-output model and a point where it is nonzero."""
    f1, f2 = (sp.Matrix([sp.diff(e, s) for s in p.params]) for e in p.outputs[:2])
    X = sp.Matrix(p.params)
    br = tuple(sp.expand(e) for e in f2.jacobian(X) * f1 - f1.jacobian(X) * f2)
    return br, {s: sp.Integer(k + 1) for k, s in enumerate(p.params)}


def _derivation(name: str) -> Derivation:
    entry = CATALOG[name]
    p = entry.parameterization()
    lit = entry.literature()
    laws = tuple((c, _law_proof(p, c)) for c in lit if isinstance(c, ConservedQuantity))
    pots = [c for c in lit if isinstance(c, MirrorPotential)]
    if pots:
        mirror = (pots[0], Proof("undecided", "∇²R(w)·(J M Jᵀ)(x) = I on the leaf", method="hand-made record"))
    elif not entry.mirror:
        br, pt = _bracket(p)
        mirror = NoMirror("the fields of w_1 and w_2 do not commute", pair=(0, 1), bracket=br, point=pt)
    else:
        mirror = None
    lims = tuple((c, Proof("proved", r"\lim \phi(\alpha) R_\alpha = \ell", method="hand-made record"))
                 for c in lit if isinstance(c, LimitingRegularizer))
    per = p.coordinate is not None
    D = len(p.coordinate.params) if per else p.dim
    count = LawCount(dimension=D, lie_dimension=D - len(laws), laws=len(laws), per_coordinate=per)
    return Derivation(p, count, laws, mirror, lims, notes=("hand-built record for test_latex",))


# ---- snippets ----------------------------------------------------------------------------
def test_quadratic_snippets():
    s = latex_snippets(_derivation("diagonal-quadratic"))
    assert s["map"].startswith(r"w_{i} = u_{i}^{2} - v_{i}^{2}")
    assert r"i = 1, \dots, 3" in s["map"]
    assert r"u_{i}(0) = \alpha" in s["init"]
    assert s["constants"] == r"\alpha > 0"
    assert r"K = D - \dim \operatorname{Lie}(V)(x) = 2 - 1 = 1" in s["law_count"]
    assert "per coordinate" in s["law_count"]
    assert r"h_{1} &= u_{i} v_{i}" in s["laws"] and r"\text{(proved)}" in s["laws"]
    pot = s["potential"]
    assert r"\operatorname{arcsinh}" in pot and r"\alpha" in pot
    assert "asinh" not in pot.replace("arcsinh", "") and "arsinh" not in pot
    assert r"R(w) = \sum_{i=1}^{3} r(w_{i})" in pot and r"r'(w_{0}) = 0" in pot and "w_{0} = 0" in pot
    assert r"\text{(undecided)}" in pot
    lim = s["limits"]
    assert r"\lim_{\alpha \to 0} \frac{r_{\alpha}(w) - r_{\alpha}(0)}{\log{\left(\frac{1}{\alpha} \right)}}" in lim
    assert r"\frac{\left|{w}\right|}{2}" in lim and r"(\ell_{1})" in lim
    assert r"\lim_{\alpha \to \infty} \alpha^{2} \bigl(r_{\alpha}(w) - r_{\alpha}(0)\bigr) = \frac{w^{2}}{16}" in lim
    assert "no_mirror" not in s and "metric" not in s


def test_other_potential_renders_differently():
    """Negative control: 1/2 instead of 1/4 in front of Woodworth's Q, and a wrong exponent."""
    d = _derivation("diagonal-quadratic")
    good = latex_snippets(d)["potential"]
    claim, proof = d.mirror
    for wrong_R in (claim.potential * 2, claim.potential.subs(alpha**2, alpha)):
        wrong = MirrorPotential(variables=(w,), potential=wrong_R, gradient=(sp.diff(wrong_R, w),),
                                coordinate=True)
        bad = latex_snippets(Derivation(d.parameterization, d.law_count, d.laws, (wrong, proof)))["potential"]
        assert bad != good
    assert latex_claim(claim, d.parameterization) != latex_claim(
        MirrorPotential(variables=(w,), gradient=(sp.asinh(w / alpha**2) / 4,), coordinate=True),
        d.parameterization)


def test_limit_negative_control():
    lim = LimitingRegularizer(alpha, 0, 1 / sp.log(1 / alpha), sp.Abs(w) / 2, w, name="l1")
    wrong = LimitingRegularizer(alpha, 0, 1 / sp.log(1 / alpha), w / 2, w, name="l1")
    assert r"\left|{w}\right|" in latex_claim(lim) and r"\left|{w}\right|" not in latex_claim(wrong)
    assert latex_claim(LimitingRegularizer(alpha, sp.oo, alpha**2, w**2 / 16, w)).startswith(
        r"\lim_{\alpha \to \infty} \alpha^{2}")


def test_dual_only_potential():
    s = latex_snippets(_derivation("diagonal-depth3"))["potential"]
    assert r"Q(\mu) = \sum_{i=1}^{3} q(\mu_{i})" in s and r"q'(0) = w_{0}" in s
    assert "r'(w_{0})" not in s  # no primal gradient was claimed
    lim = latex_snippets(_derivation("diagonal-depth3"))["limits"]
    assert r"3 \alpha \bigl(r_{\alpha}(w) - r_{\alpha}(0)\bigr) = \left|{w}\right|" in lim
    assert r"\log" not in lim


def test_matrix_model_snippets():
    s = latex_snippets(_derivation("linear-net-2x3x2x2"))
    assert s["map"].startswith("W = U_{3} U_{2} U_{1}")
    assert r"U_{1} \in \mathbb{R}^{3 \times 2}" in s["map"]
    assert r"U_{1}(0) = \begin{pmatrix}" in s["init"]
    assert "(U_{1})_{11}" in s["laws"] and s["laws"].count(r"\\") == 8  # 9 laws, 8 line breaks
    assert s["law_count"].endswith("= 16 - 7 = 9")
    assert r"\nabla G_{1}, \nabla G_{2}" in s["no_mirror"] and "potential" not in s


def test_product_form_is_not_claimed_when_wrong():
    """Negative control for W = U_2 U_1: a model whose output is U_1 U_2 (different) and one with an
    extra term must not be displayed as U_2 U_1."""
    from theory.parameterization import from_matrices, matrix_symbols
    A, B = matrix_symbols("A", 2, 2), matrix_symbols("B", 2, 2)
    init = [sp.eye(2), sp.eye(2)]
    assert latex_snippets(Derivation(from_matrices("ab", [("A", A), ("B", B)], B * A, init), None)
                          )["map"].startswith("W = B A")
    assert latex_snippets(Derivation(from_matrices("ba", [("A", A), ("B", B)], A * B, init), None)
                          )["map"].startswith("W = A B")
    other = latex_snippets(Derivation(from_matrices("x", [("A", A), ("B", B)], B * A + A, init), None))["map"]
    assert other.startswith(r"W = \begin{pmatrix}")


def test_no_mirror_snippet_with_witness():
    d = _derivation("shared-hidden-unit")
    s = latex_snippets(d)
    assert s["map"] == r"\begin{aligned} w_{1} &= a c \\ w_{2} &= b c \end{aligned}"
    nm = s["no_mirror"]
    assert r"\left[\nabla G_{1}, \nabla G_{2}\right](x) = \begin{pmatrix} - b \\ a \\ 0 \end{pmatrix} \neq 0" in nm
    assert r"a = 1, b = 2, c = 3" in nm and r"\begin{pmatrix} -2 \\ 1 \\ 0 \end{pmatrix}" in nm


def test_metric_regularizer_and_rates():
    from theory.parameterization import Coordinate, Parameterization, separable
    u, v = sp.symbols("u v", real=True)
    t = sp.Symbol("t", nonnegative=True)
    c = Coordinate((u, v), u**2 - v**2, (alpha, alpha), rates=(1, 2), regularizer=u**2 + v**2)
    p = separable(c, 2, "wd", constants=(alpha,), schedule=1 / (1 + t))
    s = latex_snippets(Derivation(p, None))
    assert r"\eta_{u_{i}} = 1" in s["metric"] and r"\eta_{v_{i}} = 2" in s["metric"]
    assert r"h(x) = \sum_{i=1}^{2} \left(u_{i}^{2} + v_{i}^{2}\right)" in s["regularizer"]
    assert r"\lambda(t) = \frac{1}{t + 1}" in s["regularizer"]
    q = Parameterization("m", (u, v), (u * v,), (0, 1), metric=sp.Matrix([[1, u], [u, 1]]))
    assert latex_snippets(Derivation(q, None))["metric"] == (
        r"M(x) = \begin{pmatrix} 1 & u \\ u & 1 \end{pmatrix}")


# ---- proofs and claims -------------------------------------------------------------------
def test_refuted_law_renders_witness():
    """A wrong law (u + v is not conserved by u^2 - v^2) is refuted and shown as such."""
    d = _derivation("diagonal-quadratic")
    u, v = d.parameterization.coordinate.params
    wrong = ConservedQuantity(u + v, coordinate=True)
    proof = _law_proof(d.parameterization, wrong)
    assert proof.refuted
    text = latex_proof(proof)
    assert text.startswith(r"\textbf{refuted}: $\nabla g^\top M \nabla h = 0$")
    assert "remainder $" in text and "nonzero at $" in text and "value $" in text
    snip = latex_snippets(Derivation(d.parameterization, d.law_count, ((wrong, proof),)))["laws"]
    assert r"\text{(refuted)}" in snip and r"\text{(proved)}" not in snip
    good = latex_proof(d.laws[0][1])
    assert good.startswith(r"\textbf{proved}") and "remainder" not in good


def test_latex_claim_law_and_errors():
    d = _derivation("diagonal-quadratic")
    law = d.laws[0][0]
    assert latex_claim(law, d.parameterization) == r"h = u_{i} v_{i}, \quad i = 1, \dots, 3"
    assert latex_claim(law) == r"h = u v \quad \text{(per coordinate)}"
    with pytest.raises(IbcheckError, match="cannot render a str"):
        latex_claim("u*v")
    with pytest.raises(IbcheckError, match="expected a Proof"):
        latex_proof("proved")
    with pytest.raises(IbcheckError, match="neither"):
        latex_claim(MirrorPotential(variables=(w,)))


def test_identity_text_is_escaped_unless_safe_math():
    unsafe = latex_proof(Proof("proved", r"\input{/etc/passwd} = 0"))
    assert r"\input" not in unsafe and r"\textbackslash{}input" in unsafe
    safe = latex_proof(Proof("proved", r"\frac{d}{dt} h(x) = 0"))
    assert r"$\frac{d}{dt} h(x) = 0$" in safe
    plain = latex_proof(Proof("proved", "J_G M grad h = 0 & 100%"))
    assert r"J\_G" in plain and r"\&" in plain and r"\%" in plain


def test_escape_text():
    assert escape_text("a_b & 50% #1 $x$ {y} ~^\\") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \~{}\^{}\textbackslash{}")
    assert escape_text("Peyré") == r"Peyr\'{e}"
    assert escape_text("∇²R") == r"\ensuremath{\nabla}\ensuremath{^{2}}R"
    assert escape_text("α → 0") == r"\ensuremath{\alpha} \ensuremath{\to} 0"
    assert escape_text("中") == "(U+4E2D)"
    assert escape_text("x_1") != "x_1"  # negative control: an unescaped underscore would not compile


def test_latex_expr_conventions():
    assert latex_expr(sp.asinh(w)) == r"\operatorname{arcsinh}{\left(w \right)}"
    assert latex_expr(sp.asinh(w) ** 2) == r"\operatorname{arcsinh}^{2}{\left(w \right)}"
    assert latex_expr(sp.asin(w)) == r"\arcsin{\left(w \right)}"
    assert latex_expr(sp.Symbol("u_1")) == "u_{1}"
    assert latex_expr(alpha) == r"\alpha"


def test_document_structure_and_escaping():
    d = _derivation("diagonal-quadratic")
    p = d.parameterization
    from dataclasses import replace
    nasty = replace(d, parameterization=replace(p, name="my_model #2", source="A & B, 100% (eq. 3_b) — Peyré"))
    doc = latex_document(nasty, title="Q_alpha & co")
    assert doc.isascii()
    assert r"\title{Q\_alpha \& co}" in doc
    assert r"my\_model \#2" in doc and r"A \& B, 100\% (eq. 3\_b) --- Peyr\'{e}" in doc
    for section in ("Model", "Conservation laws", "Mirror potential", "Limiting regularizers",
                    "How each claim was checked"):
        assert f"\\section{{{section}}}" in doc
    assert doc.count(r"\item ") >= 4  # law, potential, two limits (+ note)
    assert r"\usepackage{amsmath}" in doc and r"\usepackage{amssymb}" in doc
    assert doc.count(r"\usepackage") == 2


# ---- compilation -------------------------------------------------------------------------
def _engine():
    for name in ("pdflatex", "latex"):
        path = shutil.which(name)
        if path:
            return name, path
    if os.environ.get("CI", "").lower() == "true":  # CI installs texlive (.ci/run): must compile
        pytest.fail("no LaTeX engine (pdflatex/latex) found on CI: install texlive-latex-base "
                    "(apt-get install texlive-latex-base)")
    pytest.skip("skipped: no LaTeX engine (pdflatex/latex) on this machine; the documents were "
                "generated and checked as text, only compiling them needs texlive-latex-base "
                "(CI=true makes this a failure)")


def _compile(tex: str, tmp_path, stem: str):
    name, path = _engine()
    (tmp_path / f"{stem}.tex").write_text(tex, encoding="ascii")
    r = subprocess.run([path, "-interaction=nonstopmode", "-halt-on-error", f"{stem}.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = tmp_path / (f"{stem}.pdf" if name == "pdflatex" else f"{stem}.dvi")
    return r, out


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_catalog_document_compiles(name, tmp_path):
    r, out = _compile(latex_document(_derivation(name)), tmp_path, "doc")
    assert r.returncode == 0, r.stdout[-3000:]
    assert out.exists() and out.stat().st_size > 0


def test_nasty_document_compiles(tmp_path):
    d = _derivation("shared-hidden-unit")
    from dataclasses import replace
    p = replace(d.parameterization, name="a_b&c%d#e$f{g}~h^i\\j", source="Peyré — “quoted” ∇²R ⊙ 中 <x> |y|")
    d = replace(d, parameterization=p, notes=("100% & #1 _x_ ∞",))
    r, out = _compile(latex_document(d, title="T_{1} & $"), tmp_path, "nasty")
    assert r.returncode == 0, r.stdout[-3000:]
    assert out.exists()


def test_compile_check_can_fail(tmp_path):
    """Negative control for the compile harness: an unescaped underscore in text is an error."""
    bad = latex_document(_derivation("shared-hidden-unit")).replace(r"\section{Model}", r"\section{Model_x}")
    r, out = _compile(bad, tmp_path, "bad")
    assert r.returncode != 0


def test_missing_engine_fails_on_ci_and_skips_with_the_reason_elsewhere(monkeypatch):
    """Without pdflatex/latex the compile tests fail on CI (CI=true: .ci/run installs the engine),
    naming texlive-latex-base, and are skipped with that reason on any other machine."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="texlive-latex-base"):
        _engine()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="texlive-latex-base"):
        _engine()


def test_non_separable_potential_and_refuted_document(tmp_path):
    """A vector potential on a non-separable model; a refuted potential shows its witness; compiles."""
    from theory.parameterization import Parameterization
    u1, v1, u2, v2 = sp.symbols("u_1 v_1 u_2 v_2", real=True)
    w1, w2 = sp.symbols("w_1 w_2", real=True)
    p = Parameterization("two", (u1, v1, u2, v2), (u1**2 - v1**2, u2**2 - v2**2), (alpha,) * 4,
                         constants=(alpha,), source="hand-made")
    grad = tuple(sp.asinh(x / (2 * alpha**2)) / 4 for x in (w1, w2))
    claim = MirrorPotential(variables=(w1, w2), gradient=grad)
    wrong = Proof("refuted", r"\nabla R(G(x)) - \mu = 0", remainder=w1 / 2, witness={w1: sp.Rational(1, 3)},
                  witness_value=sp.asinh(sp.Rational(1, 3)), method="hand-made record")
    d = Derivation(p, None, (), (claim, wrong))
    s = latex_snippets(d)["potential"]
    assert r"\nabla R(w) = \begin{pmatrix} \frac{\operatorname{arcsinh}{\left(\frac{w_{1}}{2 \alpha^{2}} \right)}}{4}" in s
    assert r"\nabla R(w_{0}) = 0, \quad w_{0} = \begin{pmatrix} 0 \\ 0 \end{pmatrix}" in s
    assert r"\text{(refuted)}" in s
    text = latex_proof(wrong)
    assert r"nonzero at $w_{1} = \frac{1}{3}$ (value $\approx 0.32745015$)" in text
    r, out = _compile(latex_document(d), tmp_path, "two")
    assert r.returncode == 0, r.stdout[-3000:]


def test_no_raw_sympy_text_in_a_document():
    """A limit proof's statement is typeset as math, not SymPy's text
    (``lim_{alpha->0} 3*alpha*(R(w) - R(0)) = Abs(w)`` was printed verbatim)."""
    from theory import derive
    from theory.latex import latex_document

    doc = latex_document(derive(CATALOG["diagonal-depth3"].parameterization()))
    assert "Abs(" not in doc and "**" not in doc and "lim_{alpha" not in doc
    assert r"\lim_{\alpha \to 0}" in doc


def test_notebook_display_of_derivations_proofs_and_verdicts():
    from numerics.verdict import Verdict, Verdicts, skipped
    from theory import derive, display

    d = derive(CATALOG["diagonal-quadratic"].parameterization())
    tex = display.derivation_latex(d)
    assert tex.startswith("$$") and tex.endswith("$$") and "Abs(" not in tex and r"\aligned" not in tex
    assert "Mirror potential" in tex and "Conservation laws" in tex
    assert d._repr_latex_() == tex and d.laws[0][1]._repr_latex_().startswith(r"\textbf{proved}")
    v = Verdict(model="m<1>", claim="law u*v & co", kind="law", passed=True, residual=1e-30,
                tolerance=1e-25, dps=30, error_estimate=1e-31, symbolic="proved")
    html = Verdicts([v, skipped("m", "KKT", "limit", 30, "one output")])._repr_html_()
    assert html.count("<tr>") == 3 and "m&lt;1&gt;" in html and "&amp; co" in html and "skipped" in html
