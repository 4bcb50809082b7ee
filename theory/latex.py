r"""LaTeX for derivations: snippets to paste into a paper and standalone documents.

Printing only: every formula shown here was established elsewhere (``theory.derive``, the
catalog, a user); this module decides how it looks, never whether it holds.

* :func:`latex_snippets` -- one math-mode snippet per object (no ``$``/``\[`` delimiters;
  amsmath environments such as ``aligned``/``gathered``/``pmatrix`` may appear);
* :func:`latex_document` -- a standalone ``article`` using only amsmath/amssymb (compiles with
  Debian's texlive-latex-base); all text is escaped to plain ASCII LaTeX;
* :func:`latex_claim`, :func:`latex_proof` -- one claim (math mode) / one proof (text mode).

Conventions of the rendering: separable models are written once with index :math:`i`
(template symbol ``u`` shown as :math:`u_i`); a per-coordinate potential is
:math:`R(w) = \sum_i r(w_i)`, a per-coordinate dual :math:`Q(\mu) = \sum_i q(\mu_i)`;
entries of a matrix parameter ``U1`` are shown as :math:`(U_1)_{ab}`; inverse hyperbolic
functions as :math:`\operatorname{arcsinh}`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import sympy as sp
from sympy.printing.latex import LatexPrinter

from .claims import (ConservedQuantity, Derivation, LawCount, LimitingRegularizer, MirrorPotential,
                     NoMirror, Proof)
from .errors import IbcheckError

__all__ = ["latex_snippets", "latex_document", "latex_claim", "latex_proof", "latex_expr",
           "escape_text"]

#: a remainder (or other formula) longer than this many characters is summarised, not printed
MAX_FORMULA_CHARS = 3000

_INDEX = "i"


# ---- the printer --------------------------------------------------------------------------
class _Printer(LatexPrinter):
    r"""SymPy's LaTeX printer with the inverse hyperbolic functions papers use
    (:math:`\operatorname{arcsinh}`, not SymPy's ``asinh``/ISO ``arsinh``)."""

    def _inverse_hyperbolic(self, name, expr, exp):
        arg = self._print(expr.args[0])
        head = rf"\operatorname{{{name}}}" + ("" if exp is None else f"^{{{exp}}}")
        return rf"{head}{{\left({arg} \right)}}"

    def _print_asinh(self, expr, exp=None):
        return self._inverse_hyperbolic("arcsinh", expr, exp)

    def _print_acosh(self, expr, exp=None):
        return self._inverse_hyperbolic("arccosh", expr, exp)

    def _print_atanh(self, expr, exp=None):
        return self._inverse_hyperbolic("arctanh", expr, exp)


def latex_expr(expr, names: dict | None = None) -> str:
    r"""``expr`` (SymPy, or a number) as LaTeX: ``alpha`` → ``\alpha``, ``u_1`` → ``u_{1}``,
    ``asin`` → ``\arcsin``, ``asinh`` → ``\operatorname{arcsinh}``; ``names`` maps symbols to
    LaTeX (overrides)."""
    settings = dict(inv_trig_style="full", ln_notation=False)
    if names:
        settings["symbol_names"] = names
    return _Printer(settings).doprint(sp.sympify(expr))


def _long(tex: str) -> str:
    if len(tex) <= MAX_FORMULA_CHARS:
        return tex
    return rf"\text{{(a formula of {len(tex)} characters, not shown)}}"


# ---- text escaping --------------------------------------------------------------------------
_TEXT_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
    "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "|": r"\textbar{}",
}
_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~",
            "\u0327": "c", "\u030c": "v", "\u030a": "r", "\u0304": "=", "\u0306": "u",
            "\u030b": "H", "\u0307": "."}
_UNICODE_TEXT = {
    "ß": r"\ss{}", "ø": r"\o{}", "Ø": r"\O{}", "æ": r"\ae{}", "Æ": r"\AE{}", "œ": r"\oe{}",
    "Œ": r"\OE{}", "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}", "–": "--", "—": "---", "‘": "`",
    "’": "'", "“": "``", "”": "''", "…": r"\ldots{}", "\u00a0": "~", "§": r"\S{}",
}
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
          "rho sigma tau upsilon phi chi psi omega").split()
_UNICODE_MATH = {
    "∇": r"\nabla", "⊙": r"\odot", "∑": r"\sum", "∫": r"\int", "≤": r"\le", "≥": r"\ge",
    "≠": r"\neq", "→": r"\to", "∞": r"\infty", "≡": r"\equiv", "∈": r"\in", "∂": r"\partial",
    "√": r"\surd", "±": r"\pm", "∘": r"\circ", "⊤": r"^{\top}", "ᵀ": r"^{\top}", "×": r"\times",
    "·": r"\cdot", "⋅": r"\cdot", "≈": r"\approx", "−": "-", "∀": r"\forall", "∃": r"\exists",
    "⁻": "^{-}", "ℓ": r"\ell", "ℝ": r"\mathbb{R}", "⟨": r"\langle", "⟩": r"\rangle",
    "⇔": r"\Leftrightarrow", "⇒": r"\Rightarrow", "∝": r"\propto", "∼": r"\sim", "ε": r"\varepsilon",
}
_UNICODE_MATH.update({chr(0x3B1 + k): "\\" + g for k, g in enumerate(_GREEK) if g != "omicron"})
_UNICODE_MATH.update({chr(0x391 + k): "\\" + g.capitalize() for k, g in enumerate(_GREEK)
                      if g.capitalize() in ("Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
                                            "Upsilon", "Phi", "Psi", "Omega")})
_UNICODE_MATH["ς"] = r"\varsigma"
_UNICODE_MATH.pop(chr(0x3A2), None)  # no capital final sigma
for _k, _c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹"):
    _UNICODE_MATH[_c] = f"^{{{_k}}}"
for _k, _c in enumerate("₀₁₂₃₄₅₆₇₈₉"):
    _UNICODE_MATH[_c] = f"_{{{_k}}}"


def escape_text(s: str) -> str:
    r"""Plain text → ASCII LaTeX text: specials escaped (``_ & % # $ { } ~ ^ \ < > |``),
    accented letters as accents (``é`` → ``\'{e}``), common math symbols (``∇ α ² ⊙``) in
    ``\ensuremath``; any other non-ASCII character is shown as its code point."""
    out = []
    for ch in str(s):
        if ch in _TEXT_SPECIAL:
            out.append(_TEXT_SPECIAL[ch])
        elif ch.isascii():
            out.append(ch if ch.isprintable() or ch in "\n" else " ")
        elif ch in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[ch])
        elif ch in _UNICODE_MATH:
            out.append(rf"\ensuremath{{{_UNICODE_MATH[ch]}}}")
        else:
            out.append(_accented(ch))
    return "".join(out)


def _accented(ch: str) -> str:
    parts = unicodedata.normalize("NFD", ch)
    base, marks = parts[0], parts[1:]
    if base.isascii() and base.isalpha() and marks and all(m in _ACCENTS for m in marks):
        tex = base if base not in "ij" else "\\" + base  # dotless i/j under accents
        for m in marks:
            tex = f"\\{_ACCENTS[m]}{{{tex}}}"
        return tex
    return f"(U+{ord(ch):04X})"


#: commands a Proof.identity may use to be typeset as math (all defined by LaTeX/amsmath/amssymb)
_SAFE_COMMANDS = frozenset(_GREEK + [g.capitalize() for g in _GREEK] + """
    nabla cdot partial frac tfrac dfrac sqrt log exp ln sum prod int operatorname mathrm mathbf
    mathbb mathcal top odot circ equiv neq ne le ge leq geq to infty left right bigl bigr Bigl Bigr
    quad qquad mid dot ddot langle rangle det dim lim times pm mp in text ldots cdots hat tilde
    bar varepsilon varphi vartheta ell sinh cosh tanh sin cos tan arcsin arccos arctan approx
    boldsymbol top mathsf otimes oplus forall exists max min sup inf lvert rvert lVert rVert
    vert Vert colon
""".split())


_LIMIT_TEXT = re.compile(r"^lim_\{(\w+)->(\w+)\}\s*(.+?)\*\(R\(w\) - R\(0\)\)\s*=\s*(.+?)"
                         r"(?:\s*\[(.*)\])?$")
_PLAIN_MATH = re.compile(r"^[\w\s*+\-/().,^]+$")


def _sympy_text(s: str):
    """A SymPy expression from SymPy's own text (``Abs(w)/2``, ``alpha**2``), parsed without
    evaluation of anything but the known functions; None when it is not such text."""
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    from .spec import FUNCTIONS

    if not _PLAIN_MATH.match(s) or "__" in s or len(s) > 400:
        return None
    names = {n: sp.Symbol(n) for n in re.findall(r"[A-Za-z_]\w*", s) if n not in FUNCTIONS}
    try:
        e = parse_expr(s, local_dict=names, global_dict={"__builtins__": {}, **FUNCTIONS,
                                                         "Integer": sp.Integer, "Float": sp.Float,
                                                         "Rational": sp.Rational, "Symbol": sp.Symbol},
                       transformations=standard_transformations)
    except Exception:  # any failure: not plain SymPy text, the caller escapes it as prose
        return None
    return e if isinstance(e, sp.Expr) else None


def _sympy_identity_tex(s: str) -> str | None:
    """SymPy-text statements (``lim_{alpha->0} 3*alpha*(R(w) - R(0)) = Abs(w) [how]``,
    ``A = B``) typeset as math, so that no raw SymPy text reaches a document."""
    m = _LIMIT_TEXT.match(s)
    if m:
        a, point, phi, lead, how = m.groups()
        pa, pphi, plead = _sympy_text(a), _sympy_text(phi), _sympy_text(lead)
        if None not in (pa, pphi, plead):
            pt = r"\infty" if point in ("oo", "inf") else escape_text(point)
            out = (rf"$\lim_{{{latex_expr(pa)} \to {pt}}} {latex_expr(pphi)}\,\bigl(R(w) - R(0)\bigr)"
                   rf" = {latex_expr(plead)}$")
            return out + (f" [{_prose_tex(how)}]" if how else "")
    if s.count("=") == 1 and "\\" not in s:
        lhs, rhs = (x.strip() for x in s.split("="))
        el, er = _sympy_text(lhs), _sympy_text(rhs)
        if el is not None and er is not None:
            return f"${latex_expr(el)} = {latex_expr(er)}$"
    return None


def _prose_tex(s: str) -> str:
    """Prose with embedded SymPy words: escaped, with ``grad`` written out (no raw ``**``)."""
    s = s.replace("**", "^").replace("*", " ")
    return escape_text(s).replace(r"-\textgreater{}", r"$\to$")


def _identity_tex(s: str) -> str:
    """The statement a proof checked, as text-mode LaTeX: ``$...$`` strings are trusted math;
    ASCII strings using only known LaTeX commands are typeset as math; SymPy's own text
    (``lim_{alpha->0} ... = Abs(w)``) is parsed and typeset; anything else is escaped."""
    s = str(s).strip()
    if len(s) > 1 and s.startswith("$") and s.endswith("$") and s.count("$") == 2:
        return s
    sym = _sympy_identity_tex(s)
    if sym is not None:
        return sym
    cmds = re.findall(r"\\([A-Za-z]+)", s)
    if (cmds and s.isascii() and not re.search(r"[&%#$~]", s) and _balanced(s)
            and all(c in _SAFE_COMMANDS for c in cmds) and not re.search(r"\\[^A-Za-z,;!{} ]", s)):
        return f"${s}$"
    return escape_text(s)


def _balanced(s: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", s):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


# ---- how a parameterization's symbols look ------------------------------------------------
@dataclass(frozen=True)
class _View:
    """Display conventions derived from a parameterization (names of symbols, index, size)."""

    names: dict = field(default_factory=dict)   # symbol -> LaTeX (block entries)
    template: dict = field(default_factory=dict)  # template symbol name -> LaTeX with index i
    n: int | None = None
    separable: bool = False

    def tex(self, expr, *, indexed: bool = False) -> str:
        """``expr`` in LaTeX; with ``indexed`` template symbols get the index ``i``."""
        e = sp.sympify(expr)
        names = dict(self.names)
        if indexed and self.template:
            for s in e.free_symbols:
                if s.name in self.template:
                    names[s] = self.template[s.name]
        return _long(latex_expr(e, names))


def _view(p) -> _View:
    if p is None:
        return _View()
    names = {}
    for b in getattr(p, "blocks", ()):
        head = latex_expr(sp.Symbol(b.name))
        rows, cols = b.shape
        sep = "" if rows < 10 and cols < 10 else ","
        for k, s in enumerate(b.symbols):
            a, c = divmod(k, cols)
            names[s] = rf"({head})_{{{a + 1}{sep}{c + 1}}}"
    template = {}
    if p.coordinate is not None:
        for s in p.coordinate.params:
            head = latex_expr(s)
            template[s.name] = (f"{head}_{{{_INDEX}}}" if "_" not in head and "^" not in head
                                else f"{{{head}}}_{{{_INDEX}}}")
    return _View(names, template, p.n_outputs, p.coordinate is not None)


def _status(proof) -> str:
    return "not checked" if proof is None else str(proof.status)


def _status_tex(proof) -> str:
    return rf"\text{{({escape_text(_status(proof))})}}"


def _column(items) -> str:
    return r"\begin{pmatrix} " + r" \\ ".join(items) + r" \end{pmatrix}"


def _matrix(rows) -> str:
    return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{pmatrix}"


def _lines(lines) -> str:
    """One or more display lines: several go into a ``gathered`` environment."""
    lines = [ln for ln in lines if ln]
    if len(lines) == 1:
        return lines[0]
    return r"\begin{gathered} " + r" \\ ".join(lines) + r" \end{gathered}"


def _range(view: _View) -> str:
    return rf"{_INDEX} = 1, \dots, {view.n}" if view.n is not None else rf"\text{{each }} {_INDEX}"


# ---- model snippets --------------------------------------------------------------------------
def _block_matrix(b) -> sp.Matrix:
    rows, cols = b.shape
    return sp.Matrix(rows, cols, list(b.symbols))


def _product_form(p):
    r"""``W = U_L \cdots U_1`` (or ``U_1 \cdots U_L``) when the outputs are that product."""
    if not p.blocks or len(p.output_blocks) != 1:
        return None
    ob = p.output_blocks[0]
    target = sp.Matrix(ob.shape[0], ob.shape[1], list(p.outputs))
    mats = [(b, _block_matrix(b)) for b in p.blocks]
    for order in (list(reversed(mats)), mats):
        try:
            prod = order[0][1]
            for _, m in order[1:]:
                prod = prod * m
        except sp.ShapeError:
            continue
        if prod.shape == target.shape and (prod - target).expand().is_zero_matrix:
            return [b for b, _ in order]
    return None


def _map_tex(p, view: _View) -> str:
    if p.coordinate is not None:
        return (rf"w_{{{_INDEX}}} = {view.tex(p.coordinate.output, indexed=True)}, \qquad "
                + _range(view))
    if p.output_blocks:
        ob = p.output_blocks[0]
        lhs = latex_expr(sp.Symbol(ob.name))
        order = _product_form(p)
        shapes = r",\ ".join(rf"{latex_expr(sp.Symbol(b.name))} \in \mathbb{{R}}^{{{b.shape[0]} \times {b.shape[1]}}}"
                              for b in p.blocks)
        if order is not None:
            rhs = " ".join(latex_expr(sp.Symbol(b.name)) for b in order)
        else:
            rows, cols = ob.shape
            rhs = _matrix([[view.tex(p.outputs[a * cols + c]) for c in range(cols)] for a in range(rows)])
        return rf"{lhs} = {rhs}, \qquad {shapes}"
    ws = [rf"w_{{{k + 1}}} = {view.tex(e)}" for k, e in enumerate(p.outputs)]
    if len(ws) == 1:
        return ws[0]
    return r"\begin{aligned} " + r" \\ ".join(w.replace(" = ", " &= ", 1) for w in ws) + r" \end{aligned}"


def _init_tex(p, view: _View) -> str:
    if p.coordinate is not None:
        items = [rf"{view.tex(s, indexed=True)}(0) = {view.tex(v)}"
                 for s, v in zip(p.coordinate.params, p.coordinate.init)]
        return r", \quad ".join(items) + r", \qquad " + _range(view)
    if p.blocks:
        at0 = p.init_map
        parts = []
        for b in p.blocks:
            rows, cols = b.shape
            m = [[view.tex(at0[b.symbols[a * cols + c]]) for c in range(cols)] for a in range(rows)]
            parts.append(rf"{latex_expr(sp.Symbol(b.name))}(0) = {_matrix(m)}")
        return r", \quad ".join(parts)
    return r", \quad ".join(rf"{view.tex(s)}(0) = {view.tex(v)}" for s, v in zip(p.params, p.init))


_DOMAINS = (("positive", "> 0"), ("negative", "< 0"), ("nonnegative", r"\ge 0"),
            ("nonpositive", r"\le 0"), ("nonzero", r"\neq 0"))


def _domain_tex(s) -> str:
    a = s.assumptions0
    for flag, rel in _DOMAINS:
        if a.get(flag):
            return f"{latex_expr(s)} {rel}"
    if a.get("real"):
        return rf"{latex_expr(s)} \in \mathbb{{R}}"
    return latex_expr(s)


def _metric_tex(p, view: _View) -> str | None:
    if p.coordinate is not None and p.coordinate.rates is not None:
        items = [rf"\eta_{{{view.tex(s, indexed=True)}}} = {view.tex(r)}"
                 for s, r in zip(p.coordinate.params, p.coordinate.rates)]
        return (r", \quad ".join(items)
                + r", \qquad M = \operatorname{diag}(\eta) \ \text{(learning rates)}")
    if p.metric is None:
        return None
    M = sp.Matrix(p.metric)
    if M.is_diagonal():
        return (r"M(x) = \operatorname{diag}\left(" + ", ".join(view.tex(M[k, k]) for k in range(M.rows))
                + r"\right)")
    return "M(x) = " + _matrix([[view.tex(M[a, c]) for c in range(M.cols)] for a in range(M.rows)])


def _regularizer_tex(p, view: _View) -> str | None:
    if p.regularizer is None:
        return None
    if p.coordinate is not None and p.coordinate.regularizer is not None:
        h = (rf"h(x) = \sum_{{{_INDEX}=1}}^{{{view.n}}} \left({view.tex(p.coordinate.regularizer, indexed=True)}"
             r"\right)")
    else:
        h = f"h(x) = {view.tex(p.regularizer)}"
    if p.schedule is not None:
        h += rf", \qquad \lambda(t) = {view.tex(p.schedule)}"
    return h


def _flow_tex(p) -> str:
    reg = r" + \lambda(t)\,\nabla h(x)" if p.regularizer is not None else ""
    lam = "" if p.schedule is not None or p.regularizer is None else r", \quad \lambda \equiv 1"
    return rf"\dot x = -M(x)\,\bigl(J_G(x)^\top \nabla L(G(x)){reg}\bigr){lam}"


# ---- claim snippets --------------------------------------------------------------------------
def _law_rhs(claim: ConservedQuantity, view: _View) -> str:
    return view.tex(claim.expr, indexed=claim.coordinate)


def _law_count_tex(c: LawCount) -> str:
    per = r" \quad \text{(per coordinate)}" if c.per_coordinate else ""
    return (rf"K = D - \dim \operatorname{{Lie}}(V)(x) = {c.dimension} - {c.lie_dimension}"
            rf" = {c.laws}{per}")


def _laws_tex(laws, view: _View) -> str:
    rows = []
    for k, (claim, proof) in enumerate(laws, 1):
        idx = rf", \ {_range(view)}" if claim.coordinate and view.separable else (
            r" \ \text{(per coordinate)}" if claim.coordinate else "")
        rows.append(rf"h_{{{k}}} &= {_law_rhs(claim, view)}{idx} && {_status_tex(proof)}")
    return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


def _w0(p, claim: MirrorPotential):
    """w_0 = G(x_0) (per coordinate when the claim is), for stating the normalisation."""
    if p is None:
        return None
    if claim.coordinate and p.coordinate is not None:
        c = p.coordinate
        return [c.output.xreplace(dict(zip(c.params, c.init)))]
    if claim.coordinate:
        return None
    return [e.xreplace(p.init_map) for e in p.outputs]


def _potential_lines(claim: MirrorPotential, view: _View, p=None) -> list:
    w0 = _w0(p, claim)
    lines = []
    if claim.coordinate:
        (w,) = claim.variables if claim.variables else (sp.Symbol("w"),)
        wt, wi = latex_expr(w), rf"{latex_expr(w)}_{{{_INDEX}}}"
        total = rf"\sum_{{{_INDEX}=1}}^{{{view.n}}}" if view.n else rf"\sum_{{{_INDEX}}}"
        w0t = "" if w0 is None else rf", \quad w_{{0}} = {view.tex(w0[0])}"
        if claim.potential is not None or claim.gradient is not None:
            head = rf"R({latex_expr(sp.Symbol('w'))}) = {total} r({wi})"
            if claim.potential is not None:
                head += rf", \qquad r({wt}) = {view.tex(claim.potential)}"
            lines.append(head)
            if claim.gradient is not None:
                lines.append(rf"r'({wt}) = {view.tex(claim.gradient[0])}")
                lines.append(rf"r'(w_{{0}}) = 0{w0t}")
        if claim.dual_gradient is not None:
            (mu,) = claim.dual_variables if claim.dual_variables else (sp.Symbol("mu"),)
            mt, mi = latex_expr(mu), rf"{latex_expr(mu)}_{{{_INDEX}}}"
            head = rf"Q(\mu) = {total} q({mi})"
            if claim.dual is not None:
                head += rf", \qquad q({mt}) = {view.tex(claim.dual)}"
            lines.append(head)
            lines.append(rf"q'({mt}) = {view.tex(claim.dual_gradient[0])}, \qquad {mt} = r'({wt})")
            lines.append(rf"q'(0) = w_{{0}}{w0t}")
        return lines
    wvec = _column([view.tex(v) for v in claim.variables]) if claim.variables else "w"
    w0t = "" if w0 is None else r", \quad w_{0} = " + _column([view.tex(e) for e in w0])
    if claim.potential is not None:
        lines.append(rf"R(w) = {view.tex(claim.potential)}, \qquad w = {wvec}")
    if claim.gradient is not None:
        lines.append(r"\nabla R(w) = " + _column([view.tex(g) for g in claim.gradient]))
        lines.append(rf"\nabla R(w_{{0}}) = 0{w0t}")
    if claim.dual_gradient is not None:
        mvec = _column([view.tex(m) for m in claim.dual_variables]) if claim.dual_variables else r"\mu"
        if claim.dual is not None:
            lines.append(rf"Q(\mu) = {view.tex(claim.dual)}, \qquad \mu = {mvec}")
        lines.append(r"\nabla Q(\mu) = " + _column([view.tex(g) for g in claim.dual_gradient]))
        lines.append(rf"\nabla Q(0) = w_{{0}}{w0t}")
    return lines


def _limit_tex(claim: LimitingRegularizer, view: _View) -> str:
    s = latex_expr(claim.scale)
    pt = latex_expr(claim.point)
    fn = "r" if claim.coordinate else "R"
    var = latex_expr(claim.variable)
    diff = rf"{fn}_{{{s}}}({var}) - {fn}_{{{s}}}(0)"
    num, den = sp.fraction(sp.together(sp.sympify(claim.factor)))
    if num == 1 and den != 1:
        body = rf"\frac{{{diff}}}{{{latex_expr(den)}}}"
    elif claim.factor == 1:
        body = rf"\bigl({diff}\bigr)"
    else:
        body = rf"{latex_expr(claim.factor)} \bigl({diff}\bigr)"
    tag = ""
    if claim.name:
        m = re.fullmatch(r"l(\d+|inf)", claim.name)
        sub = None if m is None else (r"\infty" if m.group(1) == "inf" else m.group(1))
        tag = (rf" \quad (\ell_{{{sub}}})" if m else rf" \quad \text{{({escape_text(claim.name)})}}")
    return rf"\lim_{{{s} \to {pt}}} {body} = {view.tex(claim.leading)}{tag}"


def _bracket_tex(nm: NoMirror, p=None) -> str:
    view = _view(p)
    if nm.bracket is None:
        return rf"\text{{{escape_text(_short(nm.reason))}}}"
    i, j = _pair(nm.pair, p)
    fields = r"M \nabla G" if p is None or p.metric is not None else r"\nabla G"
    lhs = (rf"\left[{fields}_{{{i}}}, {fields}_{{{j}}}\right](x)" if i is not None
           else r"\left[\cdot, \cdot\right](x)")
    br = tuple(nm.bracket) if isinstance(nm.bracket, (tuple, list, sp.MatrixBase)) else (nm.bracket,)
    out = rf"{lhs} = {_column([view.tex(b) for b in br])} \neq 0"
    if nm.point:
        pt = ", ".join(rf"{view.tex(k)} = {view.tex(v)}" for k, v in nm.point.items())
        vals = _column([view.tex(sp.sympify(b).xreplace(nm.point)) for b in br])
        out += rf", \qquad \text{{at }} {pt}: \ {vals}"
    return out


def _pair(pair, p):
    """Display indices (1-based) of the non-commuting outputs: Python pairs are 0-based, but a
    pair reaching ``n`` can only be 1-based."""
    if not pair or len(pair) != 2 or not all(isinstance(k, int) for k in pair):
        return None, None
    n = p.n_outputs if p is not None else None
    one_based = 0 not in pair and n is not None and max(pair) == n
    return tuple(k if one_based else k + 1 for k in pair)


def _short(s: str, limit: int = 300) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


# ---- public API ------------------------------------------------------------------------------
def latex_claim(claim, p=None) -> str:
    """One claim record as a math-mode snippet (no proof status). ``p`` (the parameterization)
    adds the coordinate index, matrix-entry names and the normalisation point :math:`w_0`."""
    view = _view(p)
    if isinstance(claim, ConservedQuantity):
        idx = rf", \quad {_range(view)}" if claim.coordinate and view.separable else (
            r" \quad \text{(per coordinate)}" if claim.coordinate else "")
        return rf"h = {_law_rhs(claim, view)}{idx}"
    if isinstance(claim, MirrorPotential):
        lines = _potential_lines(claim, view, p)
        if not lines:
            raise IbcheckError("mirror potential claim has neither a gradient, a potential nor a dual")
        if getattr(claim, "leaf", ""):  # derived on the leaf through x0: say so where it is read
            lines = lines + [r"\text{on the leaf through } x_0 \text{ only, not for every start}"]
        return _lines(lines)
    if isinstance(claim, LimitingRegularizer):
        return _limit_tex(claim, view)
    if isinstance(claim, LawCount):
        return _law_count_tex(claim)
    if isinstance(claim, NoMirror):
        return _bracket_tex(claim, p)
    raise IbcheckError(f"latex_claim: cannot render a {type(claim).__name__}; expected a "
                       "ConservedQuantity, MirrorPotential, LimitingRegularizer, LawCount or NoMirror")


def latex_proof(proof: Proof, p=None) -> str:
    """One proof as text-mode LaTeX: status, the identity checked, how; for a refuted claim the
    remainder, the witness point and the value there."""
    if not isinstance(proof, Proof):
        raise IbcheckError(f"latex_proof: expected a Proof, got {type(proof).__name__}")
    view = _view(p)
    out = rf"\textbf{{{escape_text(proof.status)}}}: {_identity_tex(proof.identity)}"
    if proof.method:
        out += f" ({escape_text(proof.method)})"
    if proof.status != "proved":
        rem = proof.remainder
        rems = rem if isinstance(rem, (tuple, list)) else (rem,)
        if any(sp.sympify(r) != 0 for r in rems):
            out += r"; remainder $" + ", ".join(view.tex(r) for r in rems) + "$"
    if proof.witness:
        pt = ", ".join(rf"{view.tex(k)} = {view.tex(v)}" for k, v in proof.witness.items())
        out += rf", nonzero at ${pt}$"
        if proof.witness_value is not None:
            val = sp.sympify(proof.witness_value)
            shown = (r"\approx " + latex_expr(sp.N(val, 8)) if val.is_number and val.is_real
                     and not val.is_Rational else view.tex(val))
            out += rf" (value ${shown}$)"
    return out + "."


def latex_snippets(d: Derivation) -> dict:
    """Math-mode snippets of a derivation, keyed ``map``, ``init``, ``constants``, ``metric``,
    ``regularizer``, ``law_count``, ``laws``, ``potential``, ``limits``, ``no_mirror`` (only
    the keys that apply). Paste each into ``\\[ ... \\]`` (amsmath)."""
    p = d.parameterization
    view = _view(p)
    out = {"map": _map_tex(p, view), "init": _init_tex(p, view)}
    if p.constants:
        out["constants"] = r", \quad ".join(_domain_tex(c) for c in p.constants)
    metric = _metric_tex(p, view)
    if metric:
        out["metric"] = metric
    reg = _regularizer_tex(p, view)
    if reg:
        out["regularizer"] = reg
    if d.law_count is not None:
        out["law_count"] = _law_count_tex(d.law_count)
    if d.laws:
        out["laws"] = _laws_tex(d.laws, view)
    if isinstance(d.mirror, tuple):
        claim, proof = d.mirror
        lines = _potential_lines(claim, view, p)
        lines[-1] += rf" \qquad {_status_tex(proof)}"
        out["potential"] = _lines(lines)
    elif isinstance(d.mirror, NoMirror):
        out["no_mirror"] = _bracket_tex(d.mirror, p)
    if d.limits:
        rows = [rf"{_limit_tex(c, view)} \qquad {_status_tex(pr)}" for c, pr in d.limits]
        out["limits"] = _lines(rows)
    return out


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath}
\usepackage{amssymb}
\allowdisplaybreaks
\title{%s}
\author{ibcheck}
\date{}
\begin{document}
\maketitle
"""


def latex_document(d: Derivation, *, title: str | None = None) -> str:
    """A standalone LaTeX document (article; amsmath and amssymb only; pure ASCII) reporting a
    derivation: model and source, laws, mirror potential (or why none), limits, how checked."""
    p = d.parameterization
    snip = latex_snippets(d)
    disp = lambda s: f"\\[\n{s}\n\\]\n"
    doc = [_PREAMBLE % escape_text(title if title is not None else f"ibcheck report: {p.name}")]

    doc.append("\\section{Model}\n")
    doc.append(f"\\textbf{{Model:}} \\texttt{{{escape_text(p.name)}}}")
    doc.append(f" --- {escape_text(p.description)}.\n\n" if p.description else ".\n\n")
    doc.append(f"\\textbf{{Source:}} {escape_text(p.source) if p.source else 'none given'}.\n\n")
    doc.append("Gradient flow on the parameters $x \\in \\mathbb{R}^{%d}$ "
               "(output $w = G(x) \\in \\mathbb{R}^{%d}$):\n" % (p.dim, p.n_outputs))
    doc.append(disp(_flow_tex(p)))
    doc.append("Map and initialization:\n" + disp(snip["map"]) + disp(snip["init"]))
    for key, label in (("constants", "Constants"), ("metric", "Metric (learning rates)"),
                       ("regularizer", "Explicit regularizer")):
        if key in snip:
            doc.append(f"{label}:\n" + disp(snip[key]))

    doc.append("\\section{Conservation laws}\n")
    if "law_count" in snip:
        c = d.law_count
        where = " per coordinate" if c.per_coordinate else ""
        doc.append(f"Number of independent laws{where} (exact rank of the Lie algebra generated by the "
                   "fields $M\\nabla G_i$; Marcotte, Gribonval, Peyr\\'{e} 2023, Thm 3.3):\n"
                   + disp(snip["law_count"]))
    else:
        doc.append("The number of laws was not computed.\n\n")
    if d.laws:
        doc.append(f"{len(d.laws)} law{'s' if len(d.laws) != 1 else ''} listed, each conserved along "
                   "the flow for every loss $L$:\n" + disp(snip["laws"]))
    else:
        doc.append("No conservation law is listed.\n\n")

    doc.append("\\section{Mirror potential}\n")
    if "potential" in snip:
        doc.append("Along the flow $\\frac{d}{dt}\\nabla R(w) = -\\nabla L(w)$; normalised so that "
                   "$\\nabla R(w_0) = 0$, equivalently $\\nabla Q(0) = w_0$ with $\\nabla Q = "
                   "(\\nabla R)^{-1}$.\n" + disp(snip["potential"]))
    elif isinstance(d.mirror, NoMirror):
        doc.append(f"No mirror potential: {escape_text(_short(d.mirror.reason, 600))}\n\n")
        if d.mirror.bracket is not None:
            doc.append("A mirror flow for every loss needs commuting fields (Li, Wang, Lee, Arora et al., "
                       "NeurIPS 2022, Thm 4.10); a nonzero bracket:\n" + disp(snip["no_mirror"]))
    else:
        doc.append("Not derived.\n\n")

    doc.append("\\section{Limiting regularizers}\n")
    if d.limits:
        doc.append("As the initialization scale tends to a limit, the normalised potential tends to:\n"
                   + disp(snip["limits"]))
    else:
        doc.append("None derived.\n\n")

    doc.append("\\section{How each claim was checked}\n")
    items = []
    for k, (claim, proof) in enumerate(d.laws, 1):
        items.append((f"Law $h_{{{k}}}$", proof))
    if isinstance(d.mirror, tuple):
        items.append(("Mirror potential", d.mirror[1]))
    for claim, proof in d.limits:
        items.append((f"Limit as ${latex_expr(claim.scale)} \\to {latex_expr(claim.point)}$", proof))
    if items:
        doc.append("\\begin{enumerate}\n")
        for label, proof in items:
            body = "not checked." if proof is None else latex_proof(proof, p)
            doc.append(f"\\item {label}: {body}\n")
        doc.append("\\end{enumerate}\n")
    else:
        doc.append("No claims to check.\n\n")
    if d.notes:
        doc.append("\\paragraph{Notes.}\n\\begin{itemize}\n")
        doc.extend(f"\\item {escape_text(n)}\n" for n in d.notes)
        doc.append("\\end{itemize}\n")
    doc.append("\\end{document}\n")
    return "".join(doc)
