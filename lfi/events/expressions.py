"""A small, safe expression language for cuts and observables, evaluated with NumPy on all events at once.

The grammar, the object names and the rule for missing objects are in ``docs/selections.md``. The text is
parsed with :func:`ast.parse` (``mode="eval"``) and compiled by a walk that accepts only the node types,
operators, names and functions of that grammar; nothing of the text is ever executed as Python. Every refusal
is an :class:`ExpressionError`: one line that names the expression and the column of the bad token, e.g.
``cut "pt(j1) > 30 andd m_jj > 500": unknown name 'andd' at column 13``.

Values are float64 arrays of shape (N,) ("numbers", momenta and energies in GeV, angles in rad) or bool arrays
of shape (N,) ("conditions"). Inside the condition of ``n(collection, condition)`` they have shape (N, P),
one value per object slot.
"""

from __future__ import annotations

import ast
import difflib
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from lfi import objects
from lfi.errors import OptionError
from lfi.events.object_names import COLLECTIONS, OWN_QUANTITIES, EventObjects, parse_object_name

__all__ = ["Expression", "ExpressionError", "parse_expression", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH",
           "MAX_EXPONENT"]

MAX_LENGTH = 1000
"""Longest expression accepted, in characters."""
MAX_DEPTH = 64
"""Deepest nesting of the syntax tree accepted."""
MAX_EXPONENT = 16
"""Largest |exponent| of ``**``."""

_MATH = {"abs": (np.abs, 1, 1), "sqrt": (np.sqrt, 1, 1),
         "min": (lambda *v: functools.reduce(np.minimum, v), 2, None),
         "max": (lambda *v: functools.reduce(np.maximum, v), 2, None)}
_KINEMATICS = {  # name → (function of the summed four-momenta of each group, number of groups; None: one group of 1+)
    **{name: (function, None) for name, function in OWN_QUANTITIES.items()},
    "delta_phi": (lambda a, b: objects.delta_phi(objects.phi(a), objects.phi(b)), 2),
    "delta_eta": (lambda a, b: objects.eta(a) - objects.eta(b), 2),
    "delta_r": (objects.delta_r, 2),
}
FUNCTIONS = (*_MATH, *_KINEMATICS, "n")
"""Names of the functions an expression may call."""

_ARITHMETIC = {ast.Add: (np.add, "+"), ast.Sub: (np.subtract, "-"), ast.Mult: (np.multiply, "*"),
               ast.Div: (np.divide, "/"), ast.Pow: (np.power, "**")}
_COMPARISONS = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
                ast.Eq: np.equal, ast.NotEq: np.not_equal}
_SYMBOLS = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
            ast.BitAnd: "&", ast.BitXor: "^", ast.Invert: "~", ast.In: "in", ast.NotIn: "not in", ast.Is: "is",
            ast.IsNot: "is not"}
_REFUSED = {ast.Attribute: "attributes (x.y)", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
            ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
            ast.GeneratorExp: "comprehensions", ast.JoinedStr: "f-strings", ast.NamedExpr: "assignments (:=)",
            ast.Starred: "starred arguments", ast.IfExp: "conditional expressions (x if c else y)",
            ast.List: "lists", ast.Tuple: "tuples", ast.Set: "sets", ast.Dict: "dicts", ast.Slice: "slices"}
_KEYWORDS = ("and", "or", "not")


class ExpressionError(OptionError):
    """An expression that breaks the grammar; one line naming the expression and the column of the bad token.

    Attributes
    ----------
    column : int or None
        1-based column of the bad token in the expression's text.
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class _Node:
    """A compiled piece of an expression: ``run(context)`` gives its values."""

    run: Callable[["_Context"], Any]
    kind: str  # "number" or "condition"
    constant: float | None = None  # the value of a number that depends on no event


class _Context:
    """What the compiled nodes read from one sample."""

    def __init__(self, sample) -> None:
        self.sample = sample
        self._objects: EventObjects | None = None

    @property
    def objects(self) -> EventObjects:
        if self._objects is None:
            self._objects = EventObjects(self.sample.momenta, self.sample.types)
        return self._objects

    def stored(self, name: str) -> np.ndarray | None:
        """A stored observable or global, float64 of shape (N,); None if the sample has neither."""
        if name in self.sample.observables:
            return np.asarray(self.sample.observables[name], dtype=np.float64)
        if name in self.sample.global_names:
            return np.asarray(self.sample.globals_[:, self.sample.global_names.index(name)], dtype=np.float64)
        return None


@dataclass(frozen=True)
class Expression:
    """A parsed expression; :meth:`evaluate` computes it on every event of a sample.

    Attributes
    ----------
    text : str
        The expression as written.
    names : tuple of str
        The stored observables and globals it reads, sorted.
    is_condition : bool
        True for a condition (bool values, e.g. a cut), False for a number.
    """

    text: str
    names: tuple[str, ...]
    is_condition: bool
    _root: _Node = field(repr=False, compare=False)

    def evaluate(self, sample) -> np.ndarray:
        """Values on every event of ``sample`` (an :class:`lfi.events.EventSample`).

        Returns
        -------
        ndarray, shape (N,)
            bool for a condition, float64 for a number (GeV for momenta, energies and masses, rad for angles);
            NaN where an object the expression names is missing (a comparison with NaN is False).

        Raises
        ------
        ExpressionError
            A name that is neither an observable nor a global of the sample, or a non-constant exponent beyond
            ±:data:`MAX_EXPONENT`.
        """
        with np.errstate(all="ignore"):
            value = self._root.run(_Context(sample))
        dtype = bool if self.is_condition else np.float64
        return np.broadcast_to(np.asarray(value, dtype=dtype), (len(sample),)).copy()


def parse_expression(text: str, names: Iterable[str] | None = None, what: str = "expression") -> Expression:
    """Parse and check an expression of the grammar of ``docs/selections.md``; nothing of it is executed.

    Parameters
    ----------
    text : str
        E.g. ``"pt(j1) > 30 and m(j1, j2) > 500"`` or ``"abs(delta_eta(j1, j2))"``.
    names : iterable of str, optional
        The stored observables and globals that exist (e.g. a sample's); any other name is refused here.
        Without it, unknown names are refused by :meth:`Expression.evaluate`.
    what : str
        What the expression is, for the error messages (``"cut"``, ``"observable m_ll"``).

    Raises
    ------
    ExpressionError
        One line naming the expression and the column of the bad token.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"{what}: expected the text of an expression, got {type(text).__name__}")
    return _Compiler(text, names, what).expression()


class _Compiler:
    """Checks a syntax tree against the grammar and turns it into :class:`_Node` s."""

    def __init__(self, text: str, names: Iterable[str] | None, what: str) -> None:
        self.text, self.what = text, what
        self.known = None if names is None else set(names)
        self.lead = len(text) - len(text.lstrip(" "))
        self.used: set[str] = set()

    # ------------------------------------------------------------------ errors
    def error(self, why: str, column: int | None) -> ExpressionError:
        shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        where = f" at column {column}" if column is not None else ""
        return ExpressionError(f'{self.what} "{shown}": {why}{where}', column)

    def column(self, node: ast.AST) -> int:
        """1-based column of a node in the text."""
        return self.column_at(getattr(node, "col_offset", 0))

    def column_at(self, offset: int) -> int:
        """1-based column of an ast offset (ast offsets count UTF-8 bytes after the stripped indent)."""
        return self.lead + len(self.text[self.lead:].encode()[:offset].decode(errors="ignore")) + 1

    def fail(self, why: str, node: ast.AST) -> None:
        raise self.error(why, self.column(node))

    # ------------------------------------------------------------------ the whole expression
    def expression(self) -> Expression:
        text = self.text
        if len(text) > MAX_LENGTH:
            raise self.error(f"{len(text)} characters, more than the {MAX_LENGTH} an expression may have", None)
        if not text.strip():
            raise self.error("empty expression", None)
        bad = next((i for i, ch in enumerate(text) if not ch.isprintable()), None)
        if bad is not None:
            raise self.error(f"unexpected character {text[bad]!r} (an expression is one line)", bad + 1)
        try:
            tree = ast.parse(text[self.lead:], mode="eval")
        except SyntaxError as err:
            raise self.syntax_error(err) from None
        except (RecursionError, MemoryError):
            raise self.error(f"nested deeper than {MAX_DEPTH} levels", None) from None
        self.check_depth(tree.body)
        root = self.compile(tree.body, "event")
        return Expression(text, tuple(sorted(self.used)), root.kind == "condition", root)

    def syntax_error(self, err: SyntaxError) -> ExpressionError:
        body = self.text[self.lead:]
        if not err.offset or err.offset > len(body):
            return self.error("incomplete expression", len(self.text) + 1)
        token = body[err.offset - 1 : (err.end_offset or err.offset + 1) - 1]
        column = self.lead + err.offset
        if token.isidentifier() and self.known is not None and not self.is_word(token):
            return self.error(f"unknown name {token!r}{self.suggestion(token)}", column)
        near = f" near {token!r}" if token.strip() and token not in err.msg else ""
        return self.error(f"{err.msg.split('. ')[0]}{near}", column)

    def check_depth(self, root: ast.AST) -> None:
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                self.fail(f"nested deeper than {MAX_DEPTH} levels", node)
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))

    # ------------------------------------------------------------------ names
    def is_word(self, name: str) -> bool:
        """Whether ``name`` means something in the grammar or the sample."""
        return (name in _KEYWORDS or name in FUNCTIONS or name in COLLECTIONS or name in OWN_QUANTITIES
                or parse_object_name(name) is not None or (self.known is not None and name in self.known))

    def suggestion(self, name: str) -> str:
        words = [*_KEYWORDS, *FUNCTIONS, *COLLECTIONS, *sorted(self.known or ())]
        close = difflib.get_close_matches(name, words, n=1)
        return f" (did you mean {close[0]!r}?)" if close else ""

    def name(self, node: ast.Name, scope: str) -> _Node:
        name = node.id
        if scope == "object" and name in OWN_QUANTITIES:
            return _Node(lambda ctx: ctx.objects.own(name), "number")
        if name in (self.known or ()) or self.known is None and not self.is_word(name):
            return self.per_event(self.stored(name, node), scope)
        if parse_object_name(name) is not None:
            self.fail(f"{name!r} is an object: use it in a function, e.g. pt({name})", node)
        if name in FUNCTIONS:
            inside = f"; a bare {name} is each object's own {name} inside n(collection, condition)" \
                if name in OWN_QUANTITIES else ""
            self.fail(f"{name!r} is a function: call it, e.g. {name}(...){inside}", node)
        if name in COLLECTIONS:
            self.fail(f"{name!r} is a collection: count it with n({name}) or n({name}, pt > 30)", node)
        self.fail(f"unknown name {name!r}{self.suggestion(name)}", node)

    def stored(self, name: str, node: ast.Name) -> _Node:
        self.used.add(name)
        missing = functools.partial(self.error, f"the sample has no observable or global {name!r}", self.column(node))

        def run(ctx: _Context) -> np.ndarray:
            value = ctx.stored(name)
            if value is None:
                raise missing()
            return value

        return _Node(run, "number")

    @staticmethod
    def per_event(node: _Node, scope: str) -> _Node:
        """An event-level value, broadcast over the object slots inside the condition of ``n()``."""
        if scope == "event":
            return node
        return _Node(lambda ctx: node.run(ctx)[:, None], node.kind)

    # ------------------------------------------------------------------ the walk
    def compile(self, node: ast.AST, scope: str) -> _Node:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node, scope)
        if isinstance(node, ast.BinOp):
            return self.arithmetic(node, scope)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, scope)
        if isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            parts = [self.typed(value, scope, "condition", f"'{word}'") for value in node.values]
            reduce = np.logical_and if word == "and" else np.logical_or
            return _combine(lambda *v: functools.reduce(reduce, v), parts, "condition")
        if isinstance(node, ast.Compare):
            return self.comparison(node, scope)
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        self.refuse(node)

    def refuse(self, node: ast.AST) -> None:
        what = _REFUSED.get(type(node), f"'{type(node).__name__}' expressions")
        if isinstance(node, ast.Attribute):  # point at the attribute's name, not at the object before it
            raise self.error(f"{what} are not allowed", self.column_at(node.end_col_offset - len(node.attr.encode())))
        self.fail(f"{what} are not allowed", node)

    def unsupported(self, op: ast.AST, left: ast.AST, right: ast.AST) -> None:
        """Refuse an operator, pointing at it in the text between its operands."""
        symbol = _SYMBOLS.get(type(op), type(op).__name__)
        body = self.text[self.lead:].encode()
        gap = body[left.end_col_offset : right.col_offset].decode(errors="ignore")
        at = gap.find(symbol.split()[0])
        column = self.column_at(left.end_col_offset + len(gap[: max(at, 0)].encode()))
        raise self.error(f"operator '{symbol}' is not supported", column)

    def typed(self, node: ast.AST, scope: str, kind: str, user: str) -> _Node:
        compiled = self.compile(node, scope)
        if compiled.kind != kind:
            got = "a condition" if compiled.kind == "condition" else "a number"
            self.fail(f"{user} needs {'numbers' if kind == 'number' else 'conditions'}, got {got}", node)
        return compiled

    def constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, str):
            self.fail("strings are not allowed", node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"the constant {value!r} is not allowed (only numbers)", node)
        try:
            number = float(value)
        except OverflowError:
            self.fail("number too large", node)
        return _Node(lambda ctx: number, "number", number)

    def arithmetic(self, node: ast.BinOp, scope: str) -> _Node:
        if type(node.op) not in _ARITHMETIC:
            self.unsupported(node.op, node.left, node.right)
        function, symbol = _ARITHMETIC[type(node.op)]
        left = self.typed(node.left, scope, "number", f"'{symbol}'")
        right = self.typed(node.right, scope, "number", f"'{symbol}'")
        if function is np.power:
            right = self.exponent(right, node.right)
        return _combine(function, [left, right], "number")

    def exponent(self, exponent: _Node, node: ast.AST) -> _Node:
        why = f"exponent beyond ±{MAX_EXPONENT}"
        if exponent.constant is not None:
            if not abs(exponent.constant) <= MAX_EXPONENT:
                self.fail(f"{why} ({exponent.constant:g})", node)
            return exponent
        too_large = functools.partial(self.error, why, self.column(node))

        def run(ctx: _Context) -> np.ndarray:
            values = exponent.run(ctx)
            if np.any(np.abs(values) > MAX_EXPONENT):
                raise too_large()
            return values

        return _Node(run, "number")

    def unary(self, node: ast.UnaryOp, scope: str) -> _Node:
        if isinstance(node.op, ast.Not):
            return _combine(np.logical_not, [self.typed(node.operand, scope, "condition", "'not'")], "condition")
        if isinstance(node.op, ast.Invert):
            self.fail("operator '~' is not supported", node)
        operand = self.typed(node.operand, scope, "number", "unary '-'" if isinstance(node.op, ast.USub) else "'+'")
        return _combine(np.negative if isinstance(node.op, ast.USub) else np.positive, [operand], "number")

    def comparison(self, node: ast.Compare, scope: str) -> _Node:
        for op, left, right in zip(node.ops, [node.left, *node.comparators], node.comparators):
            if type(op) not in _COMPARISONS:
                self.unsupported(op, left, right)
        operators = [_COMPARISONS[type(op)] for op in node.ops]
        operands = [self.typed(value, scope, "number", "a comparison") for value in [node.left, *node.comparators]]

        def chain(*values):
            return functools.reduce(np.logical_and, (op(a, b) for op, a, b in zip(operators, values, values[1:])))

        return _combine(chain, operands, "condition")

    # ------------------------------------------------------------------ calls
    def call(self, node: ast.Call, scope: str) -> _Node:
        if not isinstance(node.func, ast.Name):
            if type(node.func) in _REFUSED:
                self.refuse(node.func)
            self.fail("only the functions of the grammar can be called", node)
        name = node.func.id
        if name not in FUNCTIONS:
            self.fail(f"unknown function {name!r} (functions: {', '.join(FUNCTIONS)})", node)
        if node.keywords:
            self.fail("keyword arguments are not allowed", node.keywords[0])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.refuse(arg)
        if name in _MATH:
            function, low, high = _MATH[name]
            self.count(node, low, high)
            return _combine(function, [self.typed(a, scope, "number", f"{name}()") for a in node.args], "number")
        if name == "n":
            return self.count_objects(node, scope)
        function, groups = _KINEMATICS[name]
        self.count(node, groups or 1, groups)
        refs = [self.object_ref(name, arg) for arg in node.args]
        return self.per_event(_kinematics(function, [refs] if groups is None else [[r] for r in refs]), scope)

    def count(self, node: ast.Call, low: int, high: int | None) -> None:
        n = len(node.args)
        if low <= n and (high is None or n <= high):
            return
        wanted = f"at least {low}" if high is None else str(low) if low == high else f"{low} or {high}"
        self.fail(f"{node.func.id}() takes {wanted} argument{'s' if (high or low) > 1 else ''}, got {n}", node)

    def object_ref(self, function: str, node: ast.AST) -> tuple[str, int]:
        if type(node) in _REFUSED:
            self.refuse(node)
        ref = parse_object_name(node.id) if isinstance(node, ast.Name) else None
        if ref is None:
            hint = f"; count a collection with n({node.id})" if getattr(node, "id", None) in COLLECTIONS else ""
            self.fail(f"{function}() takes objects such as j1, b1, l1, e1, mu1, a1{hint}", node)
        if ref[1] < 1:
            self.fail(f"objects are numbered from 1, e.g. {node.id[:-1]}1", node)
        return ref

    def count_objects(self, node: ast.Call, scope: str) -> _Node:
        if scope == "object":
            self.fail("n() cannot be used inside the condition of another n()", node)
        self.count(node, 1, 2)
        first = node.args[0]
        if not (isinstance(first, ast.Name) and first.id in COLLECTIONS):
            self.fail(f"n() counts a collection: {', '.join(COLLECTIONS)}", first)
        collection = first.id
        condition = self.typed(node.args[1], "object", "condition", "the second argument of n()") \
            if len(node.args) == 2 else None

        def run(ctx: _Context) -> np.ndarray:
            members = ctx.objects.members(collection)
            if condition is not None:
                members = members & np.broadcast_to(condition.run(ctx), members.shape)
            return members.sum(axis=1).astype(np.float64)

        return _Node(run, "number")


def _combine(function: Callable[..., Any], parts: list[_Node], kind: str) -> _Node:
    """A node applying ``function`` to the values of ``parts``; folded to a constant when all parts are numbers
    that depend on no event."""
    if kind == "number" and all(part.constant is not None for part in parts):
        with np.errstate(all="ignore"):
            value = float(function(*(part.constant for part in parts)))
        return _Node(lambda ctx: value, kind, value)
    runs = [part.run for part in parts]
    return _Node(lambda ctx: function(*(run(ctx) for run in runs)), kind)


def _kinematics(function: Callable[..., np.ndarray], groups: list[list[tuple[str, int]]]) -> _Node:
    """A node applying ``function`` to the summed four-momenta of each group of objects; NaN in the events that
    lack one of the objects."""

    def run(ctx: _Context) -> np.ndarray:
        momenta, present = [], np.ones(len(ctx.sample), dtype=bool)
        for group in groups:
            total = np.zeros((len(ctx.sample), 4))
            for collection, rank in group:
                p, here = ctx.objects.nth(collection, rank)
                total, present = total + p, present & here
            momenta.append(total)
        return np.where(present, function(*momenta), np.nan)

    return _Node(run, "number")
