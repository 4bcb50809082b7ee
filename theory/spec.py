r"""Spec files: a user's model as TOML or JSON, read into a :class:`~theory.Parameterization`.

The format is documented in ``docs/spec-format.md``. Parsing is exact and closed:

* expressions are parsed by SymPy with a namespace holding only the declared symbols and a
  fixed list of elementary functions; any other name is refused by name *before* anything is
  evaluated (no attribute access, no strings, no keywords);
* decimal numbers become the rationals of their decimal text (``0.1`` → ``1/10``), both inside
  expression strings and as TOML/JSON numbers (read with ``parse_float=Decimal``), never
  through a binary double.

:func:`dump_spec` writes a parameterization without matrix blocks back as TOML, so that
``load_spec(dump_spec(p)) == p``.
"""
from __future__ import annotations

import difflib
import io
import json
import keyword
import os
import sys
import tokenize
from decimal import Decimal
from pathlib import Path

import sympy as sp
from sympy.parsing.sympy_parser import auto_number, convert_xor, parse_expr, rationalize

from . import bounds
from .errors import InvalidParameterization
from .parameterization import TIME, Coordinate, Parameterization, separable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["SpecError", "load_spec", "parse_spec", "dump_spec", "parse_expression", "DOMAINS", "KEYS"]


class SpecError(InvalidParameterization):
    """A spec file (or text) cannot be read: syntax, missing/unknown keys, wrong types."""


#: parameter/constant domains a spec may declare; every symbol is real
DOMAINS = ("real", "positive", "negative", "nonnegative", "nonpositive", "nonzero")
REQUIRED = ("name", "params", "map", "init")
OPTIONAL = ("source", "description", "constants", "rates", "metric", "regularizer", "schedule",
            "separable")
KEYS = REQUIRED + OPTIONAL

#: the functions and constants an expression may use besides the declared symbols
FUNCTIONS = {
    "sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "ln": sp.log,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "asinh": sp.asinh, "acosh": sp.acosh,
    "atanh": sp.atanh, "arcsinh": sp.asinh, "arccosh": sp.acosh, "arctanh": sp.atanh,
    "Abs": sp.Abs, "abs": sp.Abs, "sign": sp.sign, "Min": sp.Min, "Max": sp.Max,
    "pi": sp.pi, "E": sp.E,
    "Heaviside": sp.Heaviside,   # schedules that switch decay off: lam*Heaviside(T - t)
}
# the transformations: numbers become Integer/Rational (rationalize turns decimal literals into
# Rational('0.1'), exact), ^ means power; no auto_symbol, so unknown names are never created
_TRANSFORMS = (auto_number, convert_xor, rationalize)
#: names the parser itself uses (numbers become Integer/Rational calls)
_RESERVED = frozenset({"Integer", "Float", "Rational"})
_ALLOWED_OPS = {"+", "-", "*", "/", "**", "^", "(", ")", ","}


# ---- expressions -----------------------------------------------------------------------------
#: what a schedule may use beyond :data:`FUNCTIONS`: switch-offs and steps in time
SCHEDULE_FUNCTIONS = {"Piecewise": sp.Piecewise, "Heaviside": sp.Heaviside, "True": sp.true}
_SCHEDULE_OPS = {"<", ">", "<=", ">="}


def parse_expression(text, symbols: dict, where: str, *, schedule: bool = False) -> sp.Expr:
    """Parse one expression (a string, an int or a Decimal) exactly, using only ``symbols``
    (name → Symbol) and :data:`FUNCTIONS` (with ``schedule``, also :data:`SCHEDULE_FUNCTIONS` and
    comparisons, for piecewise schedules). ``where`` names the field in error messages."""
    if isinstance(text, bool):
        raise SpecError(f"{where}: expected an expression, got the boolean {text!r}")
    if isinstance(text, int):
        return sp.Integer(text)
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise SpecError(f"{where}: {text} is not a finite number")
        num, den = text.as_integer_ratio()
        return sp.Rational(num, den)
    if isinstance(text, float):  # only reachable from Python callers; use the shortest decimal text
        return sp.Rational(repr(text))
    if not isinstance(text, str):
        raise SpecError(f"{where}: expected an expression string, got {type(text).__name__} {text!r}")
    if not text.strip():
        raise SpecError(f"{where}: empty expression")
    extra = SCHEDULE_FUNCTIONS if schedule else {}
    _check_tokens(text, {**symbols, **extra}, where, _SCHEDULE_OPS if schedule else set())
    bounds.check_text(text, where)  # sized before evaluation: u**9**9**9 never reaches SymPy
    namespace = dict(FUNCTIONS)
    namespace.update(extra)
    namespace.update(symbols)
    glob = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "__builtins__": {}}
    try:
        e = parse_expr(text, local_dict=namespace, global_dict=glob, transformations=_TRANSFORMS,
                       evaluate=True)
    except (SyntaxError, TypeError, ValueError, ZeroDivisionError, AttributeError, NameError) as exc:
        raise SpecError(f"{where}: cannot parse {text!r}: {exc}") from None
    except (RecursionError, MemoryError, OverflowError):
        raise SpecError(f"{where}: {text[:60]!r} is too large or too deeply nested to parse") from None
    if not isinstance(e, sp.Expr):
        raise SpecError(f"{where}: {text!r} is not a scalar expression")
    if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise SpecError(f"{where}: {text!r} is not finite")
    if e.has(sp.I):  # sqrt(-1), log(-2), sqrt(-alpha) with alpha > 0: every quantity is real
        raise SpecError(f"{where}: {text!r} is a complex number ({e}); every quantity must be real")
    return e


def _check_tokens(text: str, symbols: dict, where: str, more_ops=frozenset()) -> None:
    """Refuse anything but numbers, declared names, known functions and arithmetic."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise SpecError(f"{where}: cannot parse {text!r}: {exc}") from None
    for tok in toks:
        if tok.type == tokenize.NAME:
            if tok.string not in symbols and tok.string not in FUNCTIONS:
                raise SpecError(
                    f"{where} uses unknown symbol {tok.string!r} in {text!r}; declared: "
                    f"{', '.join(symbols) or '(none)'}" + _suggest(tok.string, list(symbols)))
        elif tok.type == tokenize.OP:
            if tok.string not in _ALLOWED_OPS and tok.string not in more_ops:
                raise SpecError(f"{where}: operator {tok.string!r} is not allowed in {text!r} "
                                f"(use + - * / ** ^ and parentheses)")
        elif tok.type == tokenize.NUMBER:
            if tok.string[-1:] in "jJ":
                raise SpecError(f"{where}: complex number {tok.string!r} in {text!r}")
            _check_number(tok.string, where)
        elif tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT,
                          tokenize.DEDENT):
            continue
        else:
            raise SpecError(f"{where}: unexpected {tok.string!r} in {text!r}")


_MAX_NUMBER_CHARS = 80
_MAX_DECIMAL_EXPONENT = 400


def _check_number(num: str, where: str) -> None:
    """A number literal is read exactly (``1e400`` is the integer 10**400): bound its size so
    that ``1e999999999`` is refused instead of building a billion-digit integer."""
    if len(num) > _MAX_NUMBER_CHARS:
        raise SpecError(f"{where}: the number {num[:20]}... has more than {_MAX_NUMBER_CHARS} characters")
    low = num.lower()
    if not low.startswith(("0x", "0o", "0b")) and "e" in low:
        try:
            exp = int(low.split("e", 1)[1].replace("_", ""))
        except ValueError:
            return
        if abs(exp) > _MAX_DECIMAL_EXPONENT:
            raise SpecError(f"{where}: the number {num} is out of range (decimal exponent beyond "
                            f"+-{_MAX_DECIMAL_EXPONENT})")


#: names ibcheck uses internally (time of schedules, outputs w_i, duals mu_i, mirror variables,
#: data y): a user symbol with one of them would be confused with the internal one
RESERVED_NAMES = {"t": "the time variable of schedules", "w": "ibcheck's output variable",
                  "mu": "ibcheck's dual (mirror) variable", "T": "an internal time horizon",
                  "T_mu": "an internal time horizon", "y": "the least-squares data"}
_RESERVED_PREFIXES = ("w_", "mu_", "y_", "rho_", "_")
#: parameter names the derivation renames on the way in and back on the way out
#: (theory.support.reserved_renaming), so a model x = m*w reads as written
_RENAMED_PARAMS = {"w", "mu"}


def reserved_reason(name: str) -> str | None:
    """Why a user symbol name is reserved (None when it is free)."""
    if name in RESERVED_NAMES:
        return RESERVED_NAMES[name]
    if name.startswith(_RESERVED_PREFIXES):
        return f"names starting with {name.split('_')[0] + '_'!r} are ibcheck's internal symbols"
    return None


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---- symbols ---------------------------------------------------------------------------------
def _symbols(decl, what: str, *, required: bool) -> dict:
    """``["u", "v"]`` or ``{u = "positive", v = "real"}`` → ordered name → Symbol."""
    if decl is None:
        if required:
            raise SpecError(f"missing key {what!r}")
        return {}
    if isinstance(decl, (list, tuple)):
        items = [(n, "real") for n in decl]
    elif isinstance(decl, dict):
        items = list(decl.items())
    else:
        raise SpecError(f"{what!r} must be a list of names or a table name = domain, "
                        f"got {type(decl).__name__}")
    if required and not items:
        raise SpecError(f"{what!r} is empty")
    out = {}
    for name, dom in items:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise SpecError(f"{what}: {name!r} is not a valid symbol name (letters, digits, _)")
        if name in FUNCTIONS or name in _RESERVED:
            raise SpecError(f"{what}: the name {name!r} is reserved (a function or constant of the "
                            "expression language)")
        why = reserved_reason(name)
        if why and not (what == "params" and name in _RENAMED_PARAMS):
            raise SpecError(f"{what}: the name {name!r} is reserved ({why}); please rename it")
        if name in out:
            raise SpecError(f"{what}: {name!r} is declared twice")
        if dom not in DOMAINS:
            raise SpecError(f"{what}: domain of {name!r} is {dom!r}; use one of {', '.join(DOMAINS)}"
                            + _suggest(str(dom), DOMAINS))
        out[name] = sp.Symbol(name, **{dom: True})
    return out


def _domain(s: sp.Symbol) -> str:
    """The spec domain of a symbol; raises when its assumptions are not expressible."""
    for dom in DOMAINS[1:] + ("real",):
        if s.assumptions0.get(dom) and sp.Symbol(s.name, **{dom: True}) == s:
            return dom
    raise SpecError(f"symbol {s.name!r} is not declared with exactly one of the spec domains "
                    f"({', '.join(DOMAINS)}), so a spec cannot express it")


# ---- reading ---------------------------------------------------------------------------------
def load_spec(path_or_text) -> Parameterization:
    """Read a spec from a file (``.toml``/``.json`` by extension, else by content) or from text
    (JSON if it starts with ``{``, else TOML) and build the :class:`Parameterization`."""
    origin, text, fmt = _read(path_or_text)
    try:
        data = _decode(text, fmt)
    except SpecError as e:
        raise SpecError(f"{origin}: {e}") from None
    try:
        return parse_spec(data)
    except InvalidParameterization as e:
        raise type(e)(f"{origin}: {e}") from None


def _read(path_or_text):
    if isinstance(path_or_text, os.PathLike):
        path = Path(path_or_text)
    elif isinstance(path_or_text, str):
        s = path_or_text
        looks_like_path = "\n" not in s and "=" not in s and not s.lstrip().startswith("{")
        if not looks_like_path:
            return "spec", s, "json" if s.lstrip().startswith("{") else "toml"
        path = Path(s)
    else:
        raise SpecError(f"load_spec expects a path or the spec text, got {type(path_or_text).__name__}")
    if not path.is_file():
        raise SpecError(f"spec file {str(path)!r} not found")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpecError(f"spec file {str(path)!r} cannot be read: {e.strerror or e}") from None
    if b"\x00" in raw[:8192]:
        raise SpecError(f"{str(path)!r} is a binary file, not a TOML/JSON spec")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"{str(path)!r} is not UTF-8 text (byte {e.start}): not a TOML/JSON spec") from None
    ext = path.suffix.lower()
    fmt = {".toml": "toml", ".json": "json"}.get(ext)
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "toml"
    return str(path), text, fmt


def _decode(text: str, fmt: str) -> dict:
    if fmt == "json":
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as e:
            raise SpecError(f"invalid JSON: {e.msg} (at line {e.lineno}, column {e.colno})") from None
        if not isinstance(data, dict):
            raise SpecError(f"invalid spec: the JSON top level must be an object, got {type(data).__name__}")
        return data
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"invalid TOML: {e}") from None


def parse_spec(data: dict) -> Parameterization:
    """Build the parameterization from an already-decoded spec table (see module doc)."""
    if not isinstance(data, dict):
        raise SpecError(f"a spec is a table of keys, got {type(data).__name__}")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        k = unknown[0]
        raise SpecError(f"unknown key {k!r}{_suggest(k, KEYS)}; allowed keys: {', '.join(KEYS)}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise SpecError(f"missing key {missing[0]!r} (required: {', '.join(REQUIRED)})")
    name = _string(data, "name", required=True)
    source = _string(data, "source")
    description = _string(data, "description")
    params = _symbols(data["params"], "params", required=True)
    consts = _symbols(data.get("constants"), "constants", required=False)
    clash = [n for n in params if n in consts]
    if clash:
        raise SpecError(f"{clash[0]!r} is declared both in params and in constants")
    both = {**consts, **params}

    outputs = data["map"]
    if isinstance(outputs, str):
        outputs = [outputs]
    if not isinstance(outputs, list) or not outputs:
        raise SpecError("'map' must be a non-empty list of expression strings (one per output)")
    _check_counts(params, outputs, data.get("separable"))
    outputs = [parse_expression(e, both, f"map[{k}]" if len(outputs) > 1 else "map")
               for k, e in enumerate(outputs)]

    init = _per_param(data["init"], "init", params, consts, required=True)
    rates = _per_param(data.get("rates"), "rates", params, both, required=False)
    metric = _metric(data.get("metric"), params, both)
    if rates is not None and metric is not None:
        raise SpecError("give either 'rates' (a diagonal metric) or 'metric', not both")
    reg = data.get("regularizer")
    reg = None if reg is None else parse_expression(reg, both, "regularizer")
    sched = data.get("schedule")
    if sched is not None:
        if reg is None:
            raise SpecError("'schedule' was given but no 'regularizer' (the schedule weights it)")
        sched = parse_expression(sched, {**consts, "t": TIME}, "schedule", schedule=True)

    n = data.get("separable")
    plist, ilist = list(params.values()), [init[s] for s in params.values()]
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise SpecError(f"'separable' must be a positive integer (the number of coordinates), got {n!r}")
        if len(outputs) != 1:
            raise SpecError(f"'separable' needs exactly one map entry (the coordinate template), "
                            f"got {len(outputs)}")
        if metric is not None:
            raise SpecError("a separable spec takes per-parameter 'rates', not a 'metric'")
        coord = Coordinate(params=tuple(plist), output=outputs[0], init=tuple(ilist),
                           rates=None if rates is None else tuple(rates[s] for s in plist),
                           regularizer=reg)
        return separable(coord, n, name, constants=tuple(consts.values()), source=source,
                         description=description, schedule=sched)
    if rates is not None:
        metric = sp.diag(*[rates[s] for s in plist])
    return Parameterization(name=name, params=tuple(plist), outputs=tuple(outputs), init=tuple(ilist),
                            constants=tuple(consts.values()), metric=metric, regularizer=reg,
                            schedule=sched, source=source, description=description)


def _check_counts(params: dict, outputs: list, n) -> None:
    """Parameter and output counts within the limits, before any model is built (a
    ``separable = 1000000000`` must not build a billion symbols)."""
    lim = bounds.limits()
    reps = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1
    D = len(params) * reps
    if D > lim.max_params:
        raise bounds._over("the number of scalar parameters", D, "max_params", lim)
    if len(outputs) * reps > lim.max_params:
        raise bounds._over("the number of outputs", len(outputs) * reps, "max_params", lim)


def _string(data, key, required=False) -> str:
    v = data.get(key)
    if v is None:
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise SpecError(f"{key!r} must be a non-empty string, got {v!r}")
    return v


def _per_param(table, key, params: dict, symbols: dict, *, required: bool):
    """``{u = "alpha", v = "1/10"}`` → {Symbol: expr}, every parameter exactly once."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SpecError(f"{key!r} must be a table parameter = value, got {type(table).__name__}")
    extra = [k for k in table if k not in params]
    if extra:
        raise SpecError(f"{key} given for unknown parameter {extra[0]!r}{_suggest(extra[0], params)}; "
                        f"parameters: {', '.join(params)}")
    absent = [k for k in params if k not in table]
    if absent:
        raise SpecError(f"missing {key} for parameter {absent[0]!r}" + (
            "" if required else f" ({key} must be given for every parameter or not at all)"))
    where = "init of {}" if key == "init" else key + " of {}"
    return {params[k]: parse_expression(v, symbols, where.format(k)) for k, v in table.items()}


def _metric(rows, params: dict, symbols: dict):
    if rows is None:
        return None
    D = len(params)
    if (not isinstance(rows, list) or len(rows) != D
            or not all(isinstance(r, list) and len(r) == D for r in rows)):
        raise SpecError(f"'metric' must be a {D} x {D} list of rows (one per parameter)")
    return sp.Matrix(D, D, lambda a, b: parse_expression(rows[a][b], symbols, f"metric[{a}][{b}]"))


# ---- writing ---------------------------------------------------------------------------------
def _q(s: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(str(s), ensure_ascii=False)


def _e(expr) -> str:
    return _q(sp.sstr(sp.sympify(expr), order="none"))


def _decl(symbols) -> str:
    doms = [(s.name, _domain(s)) for s in symbols]
    return "{" + ", ".join(f"{n} = {_q(d)}" for n, d in doms) + "}"


def dump_spec(p: Parameterization) -> str:
    """``p`` as spec TOML (models without matrix blocks), such that ``load_spec`` gives it back."""
    if p.blocks or p.output_blocks:
        raise SpecError(f"{p.name}: models with matrix blocks cannot be written as a spec "
                        "(build them with theory.from_matrices)")
    lines = [f"name = {_q(p.name)}"]
    if p.source:
        lines.append(f"source = {_q(p.source)}")
    if p.description:
        lines.append(f"description = {_q(p.description)}")
    c = p.coordinate
    params = c.params if c is not None else p.params
    lines.append(f"params = {_decl(params)}")
    if p.constants:
        lines.append(f"constants = {_decl(p.constants)}")
    if c is not None:
        lines.append(f"map = [{_e(c.output)}]")
        init, rates, reg = c.init, c.rates, c.regularizer
        if reg is None and p.regularizer is not None:
            raise SpecError(f"{p.name}: separable model with a regularizer not given per coordinate")
    else:
        lines.append("map = [" + ", ".join(_e(e) for e in p.outputs) + "]")
        init, reg, rates = p.init, p.regularizer, None
        if p.metric is not None:
            M = sp.Matrix(p.metric)
            if M.is_diagonal():
                rates = [M[k, k] for k in range(M.rows)]
            else:
                lines.append("metric = [" + ", ".join(
                    "[" + ", ".join(_e(M[a, b]) for b in range(M.cols)) + "]" for a in range(M.rows)) + "]")
    lines.append("init = {" + ", ".join(f"{s.name} = {_e(v)}" for s, v in zip(params, init)) + "}")
    if rates is not None:
        lines.append("rates = {" + ", ".join(f"{s.name} = {_e(r)}" for s, r in zip(params, rates)) + "}")
    if reg is not None:
        lines.append(f"regularizer = {_e(reg)}")
    if p.schedule is not None:
        lines.append(f"schedule = {_e(p.schedule)}")
    if c is not None:
        lines.append(f"separable = {p.n_outputs}")
    return "\n".join(lines) + "\n"
