r"""Python source of the fixed-point Taylor recurrences of a small polynomial program.

The number model is :mod:`numerics.taylor.jet_fixed`'s: node x at order k is an integer
mantissa (gmpy2 ``mpz``) with

.. math:: x_k H^k \approx A_k\, 2^{-F},\qquad H = 2^s,

so a Cauchy product is an exact integer dot product and one floor shift,
:math:`\lfloor 2^{-F} \sum_j A_j B_{k-j} \rfloor`, and the state update
:math:`y_{k+1} = f_k/(k+1)` is :math:`\lfloor 2^s F_k/(k+1) \rfloor`.  What this module adds is
straight-line code (like :mod:`numerics.taylor._codegen`) instead of NumPy object arrays, and
two ways of doing fewer Python-level operations per term, since a dot product of ``mpz`` costs
about 140 ns per term whatever the size of the integers up to ~1000 bits:

- **packed products**: the products that share a factor h (:math:`u_i g_i`, :math:`v_i g_i`;
  factors seen through a scaling :math:`g = \gamma r`, :math:`\gamma` rational) form one group;
  their other factors are packed into one integer per order, :math:`O_j = \sum_p o_{p,j}\,2^{pW}`,
  and one dot product :math:`\sum_j O_j h_{k-j} = \sum_p c_p 2^{pW}` gives every product of the
  group exactly, provided :math:`|c_p| < 2^{W-1}`.  Slots are read with a bias
  :math:`\sum_p 2^{pW + W - 1}` that makes every slot nonnegative (no borrows), so each is a
  shift, a mask and a subtraction.  The width W is chosen at run time from a bound
  :math:`2^B` on the mantissas of the packed and hub histories, :math:`W = 2B + \lceil\log_2 (K+1)\rceil + 2`;
  the caller checks the bound after the call and recomputes with a larger B when it failed;
- **exact linear nodes**: rational coefficients with a common denominator d are integer
  multiplications and one floor division by d (a shift when d is a power of two, nothing
  when d = 1); the constant term enters exactly at order 0.  Non-rational coefficients get
  Q = F + extra fractional bits, as in jet_fixed.

Squares use the symmetric half of the convolution (the squared series also keeps its history
reversed, so one slice per order instead of two).  Every stored mantissa is one floor of an
exactly computed integer (products, squares, rational linear nodes, the scaled products feeding
a state: :math:`\lfloor \gamma\, 2^{s}\,c/((k+1)\,2^F) \rfloor` in one division), so each node
and order adds one rounding error in :math:`[0, 2^{-F})`; a non-rational linear coefficient
adds its own :math:`|A|\,2^{-Q}`.

The generated ``taylor(Y, T0, T1, K, C, G)`` returns the state histories (lists of mpz) and the
histories whose bound the caller checks (:meth:`Plan.watched`); ``G`` holds the per-call tables
(packing shifts, masks and biases for W; the output divisors for K and s).
"""
from __future__ import annotations

import math
import re
from collections import Counter

import mpmath
import sympy as sp
from gmpy2 import mpz

from .decompose import Program
from .jet_fixed import POLYNOMIAL
from .jets import exact_to_mpf

_NAME = re.compile(r"\bc\d+\b")


def supports(program: Program) -> bool:
    """True when every node is polynomial (states, constants, time, linear nodes, products)."""
    return all(n.op in POLYNOMIAL for n in program.nodes)


def _rational(c) -> bool:
    return sp.sympify(c).is_Rational


def _scale_of(nodes, i):
    """(j, gamma) when node i is ``gamma * x_j`` with rational gamma (a scaling lin node), else (i, 1)."""
    n = nodes[i]
    if n.op == "lin" and len(n.args) == 1 and n.value == 0 and _rational(n.coeffs[0]):
        return n.args[0], sp.Rational(n.coeffs[0])
    return i, sp.Integer(1)


class Plan:
    """What the generator decided: product groups (hub, members) and the output folds."""

    def __init__(self, program: Program):
        nodes = program.nodes
        self.program = program
        # products as gamma * conv(x, y), seen through scalings of their factors
        prods, self.plain = {}, set()
        for i, n in enumerate(nodes):
            if n.op == "mul":
                if any(nodes[j].op in ("const", "time") for j in n.args):
                    self.plain.add(i)      # a prefilled history (longer than k + 1): plain slices
                    continue
                (x, gx), (y, gy) = _scale_of(nodes, n.args[0]), _scale_of(nodes, n.args[1])
                prods[i] = (x, y, gx * gy)
        # outputs f = gamma * x folded into the state update (x the raw product when x is one)
        self.folded = {}
        for st, out in zip(program.states, program.outputs):
            n = nodes[out]
            if n.op == "lin" and len(n.args) == 1 and n.value == 0 and _rational(n.coeffs[0]):
                self.folded[st] = (n.args[0], sp.Rational(n.coeffs[0]))
        roots = [self.folded[st][0] if st in self.folded else out
                 for st, out in zip(program.states, program.outputs)]
        self.live = _live_products(program, prods, roots)
        prods = {i: p for i, p in prods.items() if i in self.live}
        # hub of each product: its factor used by the most products (ties: the later node)
        uses = Counter(f for x, y, _ in prods.values() for f in {x, y})
        self.groups = {}     # first member -> (hub, [(member, other, gamma)])
        open_group = {}      # hub -> first member of its group still open
        for i in sorted(prods):
            x, y, g = prods[i]
            hub, other = (x, y) if (uses[x], x) >= (uses[y], y) else (y, x)
            first = open_group.get(hub)
            if first is not None and other < first:
                self.groups[first][1].append((i, other, g))
            else:
                open_group[hub] = i
                self.groups[i] = (hub, [(i, other, g)])
        self.member = {m: f for f, (_, ms) in self.groups.items() for m, _, _ in ms}
        # a product whose only use is one folded output: its raw slot goes straight to the state
        users = Counter()
        for i in self.live:
            n = nodes[i]
            if n.op == "lin" or n.op == "sq":
                users.update(n.args)
            elif n.op == "mul":
                users.update(prods[i][:2] if i in prods else n.args)
        users.update(out for st, out in zip(program.states, program.outputs) if st not in self.folded)
        self.raw_out = {st: x for st, (x, _) in self.folded.items()
                        if x in self.member and users[x] == 0 and
                        sum(1 for s2, (x2, _) in self.folded.items() if x2 == x) == 1}
        self.prods = prods

    @property
    def packed(self) -> list:
        """Groups of two or more products: (hub, [others])."""
        return [(h, [o for _, o, _ in ms]) for h, ms in self.groups.values() if len(ms) > 1]

    def watched(self) -> list:
        """Nodes whose mantissas bound the packed slots: hubs and packed factors."""
        return sorted({f for h, os in self.packed for f in (h, *os)})


def _live_products(program: Program, prods, roots) -> set:
    """Live nodes when products read their factors through scalings."""
    nodes = program.nodes
    live, todo = set(program.states), list(roots)
    while todo:
        i = todo.pop()
        if i in live and nodes[i].op != "state":
            continue
        live.add(i)
        args = prods[i][:2] if i in prods else nodes[i].args
        todo.extend(j for j in args if j not in live)
    return live


def generate(program: Program, F: int, mantissa) -> tuple[str, list, "Plan"]:
    """(source of ``taylor``, constants ``C`` (mpz), the plan).  ``mantissa(c, bits)`` gives
    :math:`\\lfloor c\\,2^{bits} \\rfloor` of an exact constant (mpz)."""
    plan = Plan(program)
    nodes = program.nodes
    live = plan.live
    consts: list = []

    def const(v) -> str:
        consts.append(mpz(int(v)))
        return f"C[{len(consts) - 1}]"

    # nodes whose history some recurrence reads
    series = set(program.states)
    for i in live:
        if i in plan.prods:
            series.update(plan.prods[i][:2])
        elif nodes[i].op == "sq" or i in plan.plain:
            series.update(nodes[i].args)
    state_of = {st: j for j, st in enumerate(program.states)}
    init, loop = [], []
    raw = set(plan.raw_out.values())

    # squared nodes also keep their history reversed (r<i>[j] = x_{k-j}): one slice less per order
    rev = {nodes[i].args[0] for i in live if nodes[i].op == "sq"}

    def record(i):
        if i in series:
            init.append(f"s{i} = [c{i}]")
            loop.append(f"s{i}.append(c{i})")
        if i in rev:
            init.append(f"r{i} = [c{i}]")
            loop.append(f"r{i}.insert(0, c{i})")

    for i in sorted(live):
        n = nodes[i]
        op = n.op
        if op == "state":
            init.append(f"c{i} = Y[{state_of[i]}]")
            init.append(f"s{i} = [c{i}]")
            init.append(f"a{i} = s{i}.append")
            if i in rev:
                init.append(f"r{i} = [c{i}]")
                init.append(f"i{i} = r{i}.insert")
            loop.append(f"c{i} = s{i}[k]")
        elif op == "time":
            init.append(f"c{i} = T0")
            init.append(f"s{i} = [T0, T1] + [Z] * K")
            loop.append(f"c{i} = s{i}[k]")
        elif op == "const":
            init.append(f"c{i} = {const(mantissa(n.value, F))}")
            init.append(f"s{i} = [c{i}] + [Z] * K")
            loop.append(f"c{i} = Z")
        elif op == "lin":
            _emit_lin(n, i, init, loop, const, mantissa, F)
            record(i)
        elif op == "sq":
            a = n.args[0]
            init.append(f"c{i} = (c{a} * c{a}) >> {F}")
            loop.append(f"_v = sum(map(mul, s{a}[:h2], r{a}))")
            # odd k: floor(2 v / 2^F) = floor(v / 2^(F-1)), one addition less
            loop.append(f"c{i} = (_v >> {F - 1}) if odd else ((_v + _v + s{a}[mid] * s{a}[mid]) >> {F})")
            record(i)
        elif i in plan.plain:
            a, b = n.args
            init.append(f"c{i} = (c{a} * c{b}) >> {F}")
            loop.append(f"c{i} = sum(map(mul, s{a}[:k + 1], s{b}[k::-1])) >> {F}")
            record(i)
        elif i in plan.groups:   # the whole group at its first member
            _emit_group(plan, i, init, loop, F, raw)
            for m, _, _ in plan.groups[i][1]:
                if m not in raw:
                    record(m)
        elif i not in plan.member:  # pragma: no cover (supports() refuses)
            raise AssertionError(f"no fixed-point code for node kind {op}")
    # the state updates y_{k+1} = f_k 2^s / (k+1), one floor division (tables D, T per K, s)
    dens, rdens, updates = {1}, set(), []
    for st, out in zip(program.states, program.outputs):
        if st in plan.raw_out:
            # floor(g e 2^s / ((k+1) 2^F)) with g = odd 2^a / den: e // T[k] (times odd), where
            # T[k] = sign den (k+1) 2^(F - s - a) carries the sign, the shift and the divisor
            x = plan.raw_out[st]
            g = plan.folded[st][1] * plan.prods[x][2]
            num, den = int(g.p), int(g.q)
            a = min((abs(num) & -abs(num)).bit_length() - 1, 32)
            odd = abs(num) >> a
            key = (den, a, 1 if num > 0 else -1)
            rdens.add(key)
            tab = f"T{den}_{a}_{'p' if num > 0 else 'm'}"
            expr = f"{_times(odd, f'e{x}')} // {tab}[k]"
        elif st in plan.folded:
            x, g = plan.folded[st]
            dens.add(int(g.q))
            expr = f"({_times(int(g.p), f'c{x}')} << SH) // D{int(g.q)}[k]"
        else:
            expr = f"(c{out} << SH) // D1[k]"
        updates.append((st, expr))
    # the new coefficient goes straight into c<st> (the next order's value, no read s<st>[k])
    # unless an update reads a state's current coefficient (f_i = c y_j)
    direct = not any(re.search(rf"\bc{st}\b", e) for st in program.states for _, e in updates)
    for st, expr in updates:
        tmp = f"c{st}" if direct else "_n"
        lines = [f"{tmp} = {expr}", f"a{st}({tmp})"] + ([f"i{st}(0, {tmp})"] if st in rev else [])
        init.extend(ln.replace("[k]", "[0]") for ln in lines)
        loop.extend(lines)
    if direct:
        loop = [ln for ln in loop if not any(ln == f"c{st} = s{st}[k]" for st in program.states)]
    plan.dens, plan.rdens = sorted(dens), sorted(rdens)
    uses = Counter(_NAME.findall("\n".join(loop)))
    loop = [ln for ln in loop if not _unused_read(ln, uses)]
    sizes = sorted({len(ms) for _, ms in plan.groups.values() if len(ms) > 1})
    slots = range(1, max(sizes, default=1))
    body = ["def taylor(Y, T0, T1, K, C, G):",
            "    Z, SH, MASK, HALF = G['Z'], G['SH'], G['MASK'], G['HALF']"]
    body += [f"    D{d} = G['D'][{d}]" for d in plan.dens]
    body += [f"    T{d}_{a}_{'p' if sg > 0 else 'm'} = G['T'][{d}, {a}, {sg}]" for d, a, sg in plan.rdens]
    body += [f"    S{p} = G['S'][{p}]" for p in slots]
    body += [f"    B{m} = G['B'][{m}]" for m in sizes]
    body += ["    " + line for line in init]
    body.append("    for k in range(1, K):")
    body.append("        h2, odd, mid = (k + 1) >> 1, k & 1, k >> 1")
    body += ["        " + line for line in loop] or ["        pass"]
    body.append("    return [" + ", ".join(f"s{st}" for st in program.states) + "], ["
                + ", ".join(f"s{i}" for i in plan.watched()) + "]")
    plan.sizes = sizes
    return "\n".join(body) + "\n", consts, plan


def _times(num: int, x: str) -> str:
    if num == 1:
        return x
    if num == -1:
        return f"-{x}"
    return f"{num} * {x}"


def _emit_group(plan, first, init, loop, F, raw):
    """Products sharing a hub: one packed dot product (two or more members) or a plain one.
    Raw slots ``e<m>`` hold the exact convolution (scale 2^-2F); ``c<m>`` the rounded value."""
    hub, members = plan.groups[first]
    mm = len(members)
    lines = []
    if mm == 1:
        m, o, g = members[0]
        init.append(f"e{m} = c{o} * c{hub}")
        loop.append(f"e{m} = sum(map(mul, s{o}, reversed(s{hub})))")
    else:
        pk = f"p{first}"
        packed = " + ".join([f"c{members[0][1]}"] + [f"(c{o} << S{p})" for p, (_, o, _) in enumerate(members) if p])
        init.append(f"{pk} = [{packed}]")
        loop.append(f"{pk}.append({packed})")
        init.append(f"_y = c{hub} * {pk}[0] + B{mm}")
        loop.append(f"_y = sum(map(mul, {pk}, reversed(s{hub}))) + B{mm}")
        for p, (m, o, g) in enumerate(members):
            sh = f"(_y >> S{p})" if p else "_y"
            lines.append(f"e{m} = ({sh} & MASK) - HALF" if p < mm - 1 else f"e{m} = {sh} - HALF")
    for m, o, g in members:
        if m in raw:
            continue
        num, den = int(g.p), int(g.q)
        if den == 1:
            lines.append(f"c{m} = {_times(num, f'e{m}')} >> {F}")
        else:
            lines.append(f"c{m} = {_times(num, f'e{m}')} // {den << F}")
    init.extend(lines)
    loop.extend(lines)


def _emit_lin(n, i, init, loop, const, mantissa, F):
    coeffs = [sp.sympify(c) for c in n.coeffs]
    value = sp.sympify(n.value)
    if all(c.is_Rational for c in coeffs) and value.is_Rational:
        d = math.lcm(*(int(c.q) for c in coeffs + [value]))
        terms = " ".join(_term(int(c * d), f"c{j}", const) for c, j in zip(coeffs, n.args))
        terms = terms[2:] if terms.startswith("+ ") else "-" + terms[2:]
        div = "" if d == 1 else (f" >> {d.bit_length() - 1}" if d & (d - 1) == 0 else f" // {d}")
        if value == 0:
            init.append(f"c{i} = ({terms}){div}" if div else f"c{i} = {terms}")
        else:
            c0 = const(sp.Integer(value * d) * 2 ** F)
            init.append(f"c{i} = ({terms} + {c0}){div}")
        loop.append(f"c{i} = ({terms}){div}" if div else f"c{i} = {terms}")
        return
    # non-rational coefficients: Q fractional bits, Q = F + (bits to keep F significant bits)
    # (binary exponents from 64-bit values: no float underflow for tiny coefficients)
    exps = [int(mpmath.floor(mpmath.log(abs(exact_to_mpf(c, 64)), 2))) for c in coeffs if c != 0]
    Q = F + max([0] + [-e for e in exps])
    terms = " + ".join(f"{const(mantissa(c, Q))} * c{j}" for c, j in zip(coeffs, n.args))
    c0 = "" if value == 0 else f" + {const(mantissa(value, F + Q))}"
    init.append(f"c{i} = ({terms}{c0}) >> {Q}")
    loop.append(f"c{i} = ({terms}) >> {Q}")


def _term(c: int, x: str, const) -> str:
    if c == 1:
        return f"+ {x}"
    if c == -1:
        return f"- {x}"
    if c == 0:
        return "+ 0"
    if abs(c) < 2 ** 62:
        return f"+ {c} * {x}" if c > 0 else f"- {-c} * {x}"
    return f"+ {const(sp.Integer(c))} * {x}"


def _unused_read(line: str, uses: Counter) -> bool:
    name = line.split(" = ")[0]
    return line == f"{name} = s{name[1:]}[k]" and uses[name] == 1
