"""yaql for the ``yaql`` template function: parsing, limits, a deadline and safe messages.

Kept apart from the Function class so that the parts that touch threads and
the interpreter (a watchdog that interrupts a runaway evaluation) sit in one
place with a small interface. Every failure comes out as a
:class:`YaqlFailure` whose message never repeats template data, because the
data may hold hidden parameter values; the caller decides the error code
and the template path.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiln.config import TemplateLimits

__all__ = [
    "ParsedExpression",
    "YaqlFailure",
    "check_expression",
    "evaluate_yaql",
    "parse_expression",
]


class YaqlFailure(Exception):
    """An expression that cannot be parsed or evaluated, told in words safe to show.

    ``in_expression`` is true when the fault lies in the expression text
    itself (too long, not valid yaql), so the caller can point at it rather
    than at the whole call.
    """

    def __init__(self, message: str, *, in_expression: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.in_expression = in_expression


@dataclass(frozen=True)
class ParsedExpression:
    """A yaql statement that passed the length limit and parsed; opaque to callers."""

    statement: Any


#: Bytes yaql's memory quota allows per item of ``max_yaql_memory_items``
#: (a list slot is 8 bytes; the rest is room for the list's own overhead).
_BYTES_PER_ITEM = 16
_PARSE_LOCK = threading.Lock()


class _DeadlinePassed(BaseException):
    """Raised inside yaql at the deadline; not an Exception, so yaql cannot swallow it."""


@functools.cache
def _base_engine() -> Any:
    """Heat's single yaql engine: building the lexer and parser is the slow part."""
    import yaql

    return yaql.YaqlFactory().create()


@functools.lru_cache(maxsize=8)
def _engine(iterators: int, memory_quota: int) -> Any:
    """The engine with these limits; copies share the base engine's lexer and parser."""
    return _base_engine().copy({"yaql.limitIterators": iterators, "yaql.memoryQuota": memory_quota})


@functools.cache
def _root_context() -> Any:
    """yaql's standard library, as Heat uses it, with ``pow`` refusing results over the quota.

    yaql checks a function's result against the memory quota only after the
    call, and ``pow(10, 10**9)`` never returns: the guard estimates first.
    """
    import yaql
    from yaql.language import exceptions, specs, yaqltypes

    def bounded_pow(a: Any, b: Any, engine: Any, c: Any = None) -> Any:
        quota = engine.options.get("yaql.memoryQuota", -1)
        exact = isinstance(a, int) and isinstance(b, int) and c is None
        if exact and quota > 0 and abs(a) > 1 and b * abs(a).bit_length() > quota * 8:
            raise exceptions.MemoryQuotaExceededException()
        return pow(a, b, c)

    # yaql's decorators, applied innermost first (they are untyped, hence no @ syntax).
    definition: Any = bounded_pow
    for decorate in (
        specs.name("pow"),
        specs.inject("engine", yaqltypes.Engine()),
        specs.parameter("c", yaqltypes.Number(nullable=True)),
        specs.parameter("b", yaqltypes.Number()),
        specs.parameter("a", yaqltypes.Number()),
    ):
        definition = decorate(definition)
    context = yaql.create_context().create_child_context()
    context.register_function(definition)
    return context


def _interrupt(thread_id: int, exception: type[BaseException] | None) -> None:
    """Make ``exception`` pending in another thread (None withdraws a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


class _Watchdog:
    """Raises :class:`_DeadlinePassed` once in the evaluating thread when its timer fires.

    CPython delivers such an exception at the next bytecode boundary, so it
    stops any pure-Python loop, including the ones yaql runs without calling
    a function (``range(10**9).len()``). Once disarmed it never fires, and an
    exception fired but not delivered yet is withdrawn. The timer refers to
    the watchdog but not the reverse: no reference cycle keeps the timer's
    thread object for the garbage collector to finalize during a later
    evaluation, where the finalizer could swallow that evaluation's exception.
    """

    def __init__(self) -> None:
        self._target = threading.get_ident()
        self._lock = threading.Lock()
        self._armed = True
        self._fired = False

    def fire(self) -> None:
        with self._lock:
            if self._armed:
                self._fired = True
                _interrupt(self._target, _DeadlinePassed)

    def disarm(self) -> None:
        with self._lock:
            if self._armed:
                self._armed = False
                if self._fired:
                    _interrupt(self._target, None)


def _stop(watchdog: _Watchdog, timer: threading.Timer) -> None:
    """Idempotent; the one exception may interrupt a first call, never a second."""
    watchdog.disarm()
    timer.cancel()
    timer.join()


def _run_with_deadline(statement: Any, data: Any, seconds: float) -> Any:
    """Evaluate in the calling thread, stopped by a :class:`_Watchdog` at the deadline.

    Neither signals (main thread only, process-wide) nor running yaql in a
    thread of its own (which cannot be killed, so it would leak) would do.
    A C call that is already running (a regular expression backtracking, a
    huge arithmetic operation) is not interrupted until it returns; yaql's
    memory quota and :func:`_root_context`'s ``pow`` bound the arithmetic.
    """
    context = _root_context().create_child_context()
    watchdog = _Watchdog()
    timer = threading.Timer(seconds, watchdog.fire)
    timer.daemon = True
    timer.start()
    try:
        try:
            return statement.evaluate({"data": data}, context)
        finally:
            _stop(watchdog, timer)
    except _DeadlinePassed:
        _stop(watchdog, timer)
        raise


def _plain(value: Any, key: bool = False) -> Any:
    """yaql's output as template data: lists, dicts and scalars only."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if key:
        raise TypeError("a map key that is not a string or a number")
    if isinstance(value, Mapping):
        return {_plain(name, key=True): _plain(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [_plain(item) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    raise TypeError(f"a {type(value).__name__} value")


#: yaql errors whose text names only functions or limits, never data.
_SAFE_YAQL_ERRORS = (
    "FunctionResolutionError",
    "CollectionTooLargeException",
    "MemoryQuotaExceededException",
)


def parse_expression(
    text: str, limits: TemplateLimits, *, show_syntax_error: bool
) -> ParsedExpression:
    """Parse ``text`` within ``max_yaql_expression_length``.

    yaql's syntax error quotes the expression, so it is shown only when the
    expression is literal template text (``show_syntax_error``), never when
    it was computed from values that may be hidden.
    """
    from yaql.language import exceptions

    limit = limits.max_yaql_expression_length
    if len(text) > limit:
        message = f"the expression is {len(text)} characters long, more than the limit of {limit}"
        raise YaqlFailure(message, in_expression=True)
    quota = limits.max_yaql_memory_items
    engine = _engine(quota, quota * _BYTES_PER_ITEM)
    try:
        with _PARSE_LOCK:  # the engines share one stateful ply lexer and parser
            return ParsedExpression(engine(text))
    except exceptions.YaqlException as error:
        detail = f": {error}" if show_syntax_error else ""
        raise YaqlFailure(f"the expression is not valid yaql{detail}", in_expression=True) from None


def check_expression(text: str, limits: TemplateLimits) -> str | None:
    """The static check of a literal expression: why it cannot be used, or None."""
    try:
        parse_expression(text, limits, show_syntax_error=True)
    except YaqlFailure as failure:
        return failure.message
    return None


def evaluate_yaql(expression: ParsedExpression, data: Any, limits: TemplateLimits) -> Any:
    """Evaluate over ``$.data`` within ``max_yaql_seconds``, as plain template data."""
    seconds = limits.max_yaql_seconds
    try:
        result = _run_with_deadline(expression.statement, data, seconds)
    except _DeadlinePassed:
        raise YaqlFailure(f"the expression did not finish within {seconds} seconds") from None
    except RecursionError:
        raise YaqlFailure("the expression is nested too deeply") from None
    except Exception as error:  # yaql's functions raise any kind of Python exception
        raise YaqlFailure(_failure(error)) from None
    try:
        return _plain(result)
    except TypeError as error:
        raise YaqlFailure(f"the result holds {error}, which a template cannot use") from None
    except RecursionError:
        raise YaqlFailure("the result is nested too deeply") from None


def _failure(error: Exception) -> str:
    names = {cls.__name__ for cls in type(error).__mro__}
    if names.intersection(_SAFE_YAQL_ERRORS):
        return f"the expression failed: {error}"
    return f"the expression failed ({type(error).__name__})"
