r"""Python source of the Taylor recurrences of a :class:`~numerics.taylor.decompose.Program`.

The generated function ``taylor(Y, T0, K, C, Z, ONE, INV, KN)`` computes every node's order-0
value in straight-line code, then loops over the orders :math:`k = 1..K-1` (the loop is not
unrolled, so the source grows linearly with the program, not with the order).  Per node and
order it keeps the current coefficient in a local ``c<i>`` and, where a later recurrence needs
the history, the list ``s<i>`` of all coefficients so far; ``D<i>`` holds :math:`j x_j` (the
coefficients of :math:`t\,x'(t)`) for nodes fed to exp/sin/cos/pow/...  Convolutions are
``fsum(map(mul, a, b))`` (one correctly rounded dot product in MPFR).  Linear nodes sharing the
same argument tuple (rows of :math:`X` in :math:`r = Xw - y`) are evaluated as one block.

``C`` is the list of constants at working precision; :func:`generate` returns the source and
the exact SymPy values of ``C`` (numbers, tuples of numbers for rows, tuples of tuples for
blocks).  Recurrences as in :mod:`numerics.taylor.jet_reference`.
"""
from __future__ import annotations

import re
from collections import Counter

from .decompose import DINT, Program

_NAME = re.compile(r"\bc\d+\b")
_SMALL_LIN = 6     # linear nodes with at most this many terms are written out term by term
_F0 = {"exp": "exp", "tanh": "tanh", "log": "log", "atan": "atan", "asinh": "asinh",
       "asin": "asin", "atanh": "atanh"}


#: node kinds whose history list is filled ahead (longer than the orders computed so far)
_PREFILLED = ("const", "time")

#: node kinds whose recurrence reads their own earlier coefficients
_SELF = {"div", "pow", "sqrt", "exp", "sin", "cos", "sinh", "cosh", "tanh"}


def _needs(program: Program):
    """(nodes that need their coefficient history, nodes that need j*x_j).

    A history list is kept only for nodes whose past coefficients some recurrence reads (the
    arguments of non-linear nodes and the self-referencing kinds): products feeding only sums
    need their current coefficient alone."""
    series, deriv = set(program.states), set()
    for i, n in enumerate(program.nodes):
        if n.op in ("lin", "state", "const", "time"):
            continue
        if n.op in _SELF or n.op in DINT:
            series.add(i)
        series.update(n.args)
        if n.op in ("exp", "sin", "cos", "sinh", "cosh", "tanh", "pow"):
            deriv.add(n.args[0])
        if n.op in DINT or n.op == "pow":
            deriv.add(i)
        if n.partner is not None:
            series.add(n.partner)
    return series, deriv


def generate(program: Program) -> tuple[str, list, tuple]:
    """(source of ``taylor``, exact constants ``C``, indices in ``C`` of the output scales c
    whose tables ``SC[j][k] = c/(k+1)`` the caller passes)."""
    nodes = program.nodes
    series, deriv = _needs(program)
    consts: list = []

    def const(v) -> str:
        consts.append(v)
        return f"C[{len(consts) - 1}]"

    # blocks of linear nodes with one argument tuple: emitted together at the first member
    groups: dict = {}
    for i, n in enumerate(nodes):
        if n.op == "lin" and len(n.args) > _SMALL_LIN:
            groups.setdefault(n.args, []).append(i)
    block_of = {i: g for g in groups.values() if len(g) > 1 for i in g}

    folded = {}  # state node -> (output node, its single argument) for outputs f_i = c * x
    for st, out in zip(program.states, program.outputs):
        n = nodes[out]
        if n.op == "lin" and len(n.args) == 1 and n.value == 0 and out not in block_of:
            folded[st] = n.args[0]
    live = _live(program, [folded.get(st, out) for st, out in zip(program.states, program.outputs)])

    init, loop = [], []
    state_of = {st: j for j, st in enumerate(program.states)}
    done_blocks = set()
    for i, n in enumerate(nodes):
        if i not in live:
            continue
        op, a = n.op, (n.args[0] if n.args else None)
        b = n.args[1] if len(n.args) > 1 else None
        if op == "state":
            init.append(f"c{i} = Y[{state_of[i]}]")
            init.append(f"s{i} = [c{i}]")
            loop.append(f"c{i} = s{i}[k]")
        elif op == "time":
            init.append(f"c{i} = T0")
            init.append(f"s{i} = [T0, ONE] + [Z] * K")
            loop.append(f"c{i} = s{i}[k]")
        elif op == "const":
            init.append(f"c{i} = {const(n.value)}")
            init.append(f"s{i} = [c{i}] + [Z] * K")
            loop.append(f"c{i} = Z")
        elif op == "lin":
            if i in block_of:
                if i in done_blocks:
                    continue
                members = block_of[i]
                done_blocks.update(members)
                outs = ", ".join(f"c{j}" for j in members) + ","
                args = "(" + ", ".join(f"c{j}" for j in n.args) + ",)"
                rows = const(tuple(nodes[j].coeffs for j in members))
                c0 = const(tuple(nodes[j].value for j in members))
                init.append(f"_v = {args}")
                init.append(f"{outs} = [fsum(map(mul, _r, _v)) + _c for _r, _c in zip({rows}, {c0})]")
                loop.append(f"_v = {args}")
                loop.append(f"{outs} = [fsum(map(mul, _r, _v)) for _r in {rows}]")
                for j in members:
                    for lines, order in ((init, "0"), (loop, "k")):
                        _after(lines, j, series, deriv, order)
                continue
            expr = _lin_expr(n, const)
            c0 = "" if n.value == 0 else f" + {const(n.value)}"
            init.append(f"c{i} = {expr}{c0}")
            loop.append(f"c{i} = {expr}")
        elif op == "mul":
            init.append(f"c{i} = c{a} * c{b}")
            if nodes[a].op in _PREFILLED or nodes[b].op in _PREFILLED:
                loop.append(f"c{i} = fsum(map(mul, s{a}[:k + 1], s{b}[k::-1]))")
            else:  # both histories hold exactly orders 0..k: no slice copies
                loop.append(f"c{i} = fsum(map(mul, s{a}, reversed(s{b})))")
        elif op == "sq":
            init.append(f"c{i} = c{a} * c{a}")
            # symmetric half of the convolution; h2 = ceil(k/2), mid = k/2 (k even) set per order
            loop.append(f"c{i} = fsum(map(mul, s{a}[:h2], s{a}[k:k - h2:-1]))")
            loop.append(f"c{i} = c{i} + c{i} if odd else c{i} + c{i} + s{a}[mid] * s{a}[mid]")
        elif op == "div":
            init.append(f"r{i} = ONE / c{b}")
            init.append(f"c{i} = c{a} * r{i}")
            loop.append(f"c{i} = (c{a} - fsum(map(mul, s{b}[1:k + 1], s{i}[k - 1::-1]))) * r{i}")
        elif op == "pow":
            al = const(n.value)
            init.append(f"r{i} = ONE / c{a}")
            init.append(f"c{i} = c{a} ** {al}")
            loop.append(f"c{i} = ({al} * fsum(map(mul, D{a}[k:0:-1], s{i}[:k])) - "
                        f"fsum(map(mul, D{i}[1:k], s{a}[k - 1:0:-1]))) * INV[k] * r{i}")
        elif op == "sqrt":
            init.append(f"c{i} = sqrt(c{a})")
            init.append(f"r{i} = ONE / (c{i} + c{i})")
            loop.append(f"c{i} = (c{a} - fsum(map(mul, s{i}[1:k], s{i}[k - 1:0:-1]))) * r{i}")
        elif op == "exp":
            init.append(f"c{i} = exp(c{a})")
            loop.append(f"c{i} = fsum(map(mul, D{a}[1:k + 1], s{i}[k - 1::-1])) * INV[k]")
        elif op in ("sin", "sinh"):
            p = n.partner
            init.append(f"c{i}, c{p} = {op}_{'cos' if op == 'sin' else 'cosh'}(c{a})")
            loop.append(f"c{i} = fsum(map(mul, D{a}[1:k + 1], s{p}[k - 1::-1])) * INV[k]")
        elif op in ("cos", "cosh"):
            p = n.partner
            sign = "-" if op == "cos" else ""
            loop.append(f"c{i} = {sign}(fsum(map(mul, D{a}[1:k + 1], s{p}[k - 1::-1])) * INV[k])")
        elif op == "tanh":
            init.append(f"c{i} = tanh(c{a})")
            init.append(f"W{i} = [ONE - c{i} * c{i}]")
            loop.append(f"c{i} = fsum(map(mul, D{a}[1:k + 1], W{i}[k - 1::-1])) * INV[k]")
            loop.append(f"s{i}.append(c{i})")
            loop.append(f"W{i}.append(-_sq(s{i}, k))")
            init.append(f"s{i} = [c{i}]")
            if i in deriv:
                init.append(f"D{i} = [Z]")
                loop.append(f"D{i}.append(c{i} * KN[k])")
            continue
        elif op in DINT:
            init.append(f"c{i} = {_F0[op]}(c{a})")
            init.append(f"r{i} = ONE / c{b}")
            loop.append(f"c{i} = (c{a} - fsum(map(mul, D{i}[1:k], s{b}[k - 1:0:-1])) * INV[k]) * r{i}")
        else:
            raise AssertionError(f"no code for node kind {op}")
        _after(init, i, series, deriv, "0", op in ("state", "time", "const"))
        _after(loop, i, series, deriv, "k", op in ("state", "time", "const"))
    scales: dict = {}   # output scale c -> index of its table c/(k+1), k = 0..K-1 (cached per K)
    for st, out in zip(program.states, program.outputs):
        n = nodes[out]
        if st in folded:
            # f_i = c * x (e.g. -2 u g): y_{k+1} = x_k * (c/(k+1)), from a table built once per K
            j = scales.setdefault(len(consts), len(scales))
            const(n.coeffs[0])
            init.append(f"s{st}.append(c{n.args[0]} * SC[{j}][0])")
            loop.append(f"s{st}.append(c{n.args[0]} * SC[{j}][k])")
        else:
            init.append(f"s{st}.append(c{out})")
            loop.append(f"s{st}.append(c{out} * INV[k + 1])")
    # a state's current coefficient is read into c<i> only if the loop uses c<i>
    uses = Counter(_NAME.findall("\n".join(loop)))
    loop = [ln for ln in loop if not _unused_read(ln, uses)]
    body = ["def taylor(Y, T0, K, C, Z, ONE, INV, KN, SC):"]
    body += ["    " + line for line in init]
    body.append("    for k in range(1, K):")
    body.append("        h2, odd, mid = (k + 1) >> 1, k & 1, k >> 1")
    body += ["        " + line for line in loop] or ["        pass"]
    body.append("    return [" + ", ".join(f"s{st}" for st in program.states) + "]")
    return "\n".join(body) + "\n", consts, tuple(sorted(scales, key=scales.get))


def _unused_read(line: str, uses: Counter) -> bool:
    """``c<i> = s<i>[k]`` whose c<i> appears nowhere else in the loop (``uses``: how often
    each name occurs in the loop, counted once for all lines -- linear in the program)."""
    name = line.split(" = ")[0]
    return line == f"{name} = s{name[1:]}[k]" and uses[name] == 1


def _live(program: Program, roots) -> set:
    """Nodes the outputs depend on (states always live: they are returned)."""
    live, todo = set(program.states), list(roots)
    while todo:
        i = todo.pop()
        if i in live and program.nodes[i].op != "state":
            continue
        live.add(i)
        n = program.nodes[i]
        todo.extend(j for j in n.args if j not in live)
        if n.partner is not None and n.partner not in live:
            todo.append(n.partner)
    return live


def _after(lines, i, series, deriv, order, has_series=False):
    """Record node i's new coefficient in its history / derivative lists where needed."""
    if order == "0":
        if i in series and not has_series:
            lines.append(f"s{i} = [c{i}]")
        if i in deriv:
            lines.append(f"D{i} = [Z]")
    else:
        if i in series and not has_series:
            lines.append(f"s{i}.append(c{i})")
        if i in deriv:
            lines.append(f"D{i}.append(c{i} * KN[k])")


def _lin_expr(n, const) -> str:
    if len(n.args) > _SMALL_LIN:
        return f"fsum(map(mul, {const(n.coeffs)}, (" + ", ".join(f"c{j}" for j in n.args) + ",)))"
    out = []
    for c, j in zip(n.coeffs, n.args):
        if c == 1:
            out.append(f"+ c{j}")
        elif c == -1:
            out.append(f"- c{j}")
        else:
            out.append(f"+ {const(c)} * c{j}")
    s = " ".join(out)
    return s[2:] if s.startswith("+ ") else "-" + s[2:]
