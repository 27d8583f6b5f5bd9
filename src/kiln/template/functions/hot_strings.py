"""HOT's string functions: list_join, str_replace (and stricter forms), str_split, digest, make_url.

Heat changed several of these between template versions (``list_join`` took
several lists and JSON-encoded maps from 2015-10-15, ``str_replace`` started
JSON-encoding non-string values at the same time), and templates depend on
each version's exact output, so each generation is its own class and the
dialect tables pick one per version.

Functions that can multiply the size of their input check the result
against ``TemplateLimits.max_value_chars`` before building it, so a few
nested calls cannot exhaust memory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlunsplit

from kiln.errors import Diagnostic, TemplatePath
from kiln.template.functions.base import Function, Resolver, iter_functions
from kiln.template.functions.hot_core import argument_error

__all__ = [
    "DIGEST_ALGORITHMS",
    "URL_ARGUMENTS",
    "Digest",
    "ListJoin",
    "ListJoinMultiple",
    "MakeUrl",
    "StrReplace",
    "StrReplaceJson",
    "StrReplaceStrict",
    "StrReplaceVeryStrict",
    "StrSplit",
    "json_text",
]

#: A problem with a call's arguments: the message (without the function name) and where.
Problem = tuple[str, TemplatePath]


class _BadArgument(Exception):
    """An argument problem found deep in a helper; the call turns it into a diagnostic or error."""

    def __init__(self, message: str, at: TemplatePath) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def _diagnostic(function: Function, problem: Problem) -> Diagnostic:
    return function.diagnostic(problem[0], at=problem[1])


def _is_call(node: Any) -> bool:
    return isinstance(node, Function)


def _has_calls(node: Any) -> bool:
    return next(iter_functions(node), None) is not None


def _is_list(value: Any) -> bool:
    """A sequence that is not a string: what Heat accepts where it wants a list."""
    return isinstance(value, Sequence) and not isinstance(value, str)


def json_text(value: Any) -> str | None:
    """Heat's JSON text of a map or list (sorted keys, default separators), or None."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return None


def _check_length(function: Function, resolver: Resolver, length: int) -> None:
    limit = resolver.limits.max_value_chars
    if length > limit:
        raise function.error(
            f"the result would be {length} characters long, more than the limit of {limit}"
        )


def _joined(function: Function, resolver: Resolver, delimiter: str, texts: list[str]) -> str:
    length = sum(len(text) for text in texts) + len(delimiter) * max(len(texts) - 1, 0)
    _check_length(function, resolver, length)
    return delimiter.join(texts)


class ListJoin(Function):
    """``list_join: [delimiter, [string, ...]]`` before 2015-10-15: one list of strings only."""

    usage: ClassVar[str] = "[delimiter, [string, ...]]"

    def _count_allowed(self, count: int) -> bool:
        return count == 2

    def _problems(self, args: Any) -> Iterator[Problem]:
        """Problems with resolved or literal arguments; calls among literal ones are skipped."""
        if not isinstance(args, list) or not self._count_allowed(len(args)):
            yield f"the arguments must be a list {self.usage}", self.args_path
            return
        if not _is_call(args[0]) and not isinstance(args[0], str):
            yield "the delimiter must be a string", self.args_path / 0
        for position, strings in enumerate(args[1:], 1):
            if not _is_call(strings):
                yield from self._list_problems(strings, self.args_path / position)

    def _list_problems(self, strings: Any, at: TemplatePath) -> Iterator[Problem]:
        try:
            items = self._list_items(strings, at)
        except _BadArgument as bad:
            yield bad.message, bad.at
            return
        for index, item in enumerate(items):
            if _has_calls(item):
                continue
            try:
                self._item_text(item, at / index)
            except _BadArgument as bad:
                yield bad.message, bad.at

    def _list_items(self, strings: Any, at: TemplatePath) -> list[Any]:
        if strings is None:
            return []
        if not _is_list(strings):
            raise _BadArgument("the items to join must be given as a list", at)
        return list(strings)

    def _item_text(self, item: Any, at: TemplatePath) -> str:
        if item is None:
            return ""
        if isinstance(item, str):
            return item
        raise _BadArgument("the items to join must be strings", at)

    def check(self) -> Iterator[Diagnostic]:
        for problem in self._problems(self.args):
            yield _diagnostic(self, problem)

    def evaluate(self, resolver: Resolver) -> Any:
        if not isinstance(self.args, list):  # Heat takes only a list written out
            raise argument_error(self, f"the arguments must be a list {self.usage}")
        args = resolver.known(self.args)
        for problem in self._problems(args):
            raise argument_error(self, *problem)
        at = self.args_path
        texts = [
            self._item_text(item, at)
            for strings in args[1:]
            for item in self._list_items(strings, at)
        ]
        return _joined(self, resolver, args[0], texts)


class ListJoinMultiple(ListJoin):
    """``list_join`` from 2015-10-15: several lists, and map or list items become JSON.

    As in Heat, an empty or null list argument is skipped, and numbers and
    booleans are still refused as items.
    """

    usage = "[delimiter, [string, ...], ...]"

    def _count_allowed(self, count: int) -> bool:
        return count >= 2

    def _list_items(self, strings: Any, at: TemplatePath) -> list[Any]:
        if not _is_call(strings) and not strings:
            return []
        return super()._list_items(strings, at)

    def _item_text(self, item: Any, at: TemplatePath) -> str:
        if item is None:
            return ""
        if isinstance(item, str):
            return item
        if isinstance(item, (Mapping, Sequence)):
            text = json_text(item)
            if text is None:
                raise _BadArgument("a map or list item could not be serialised as JSON", at)
            return text
        raise _BadArgument("the items to join must be strings, maps or lists", at)


def _heat_order(keys: list[str]) -> list[str]:
    """Longest placeholder first, then alphabetical: the order Heat replaces in."""
    return sorted(keys, key=lambda key: (-len(key), key))


def _replacement_segments(
    template: str, replacements: Sequence[tuple[str, str]]
) -> tuple[list[str], set[str]]:
    """The pieces Heat's replacement concatenates, and the placeholders that occurred.

    Placeholders are applied in the given order to the parts of the template
    not yet replaced, so text that a replacement put in is never searched
    again and an earlier (longer) placeholder wins where two overlap. The
    pieces share the replacement strings, so measuring them costs no memory.
    """
    segments: list[tuple[str, bool]] = [(template, True)]
    found: set[str] = set()
    for placeholder, text in replacements:
        next_segments: list[tuple[str, bool]] = []
        for segment, searchable in segments:
            if not searchable or placeholder not in segment:
                next_segments.append((segment, searchable))
                continue
            found.add(placeholder)
            for index, piece in enumerate(segment.split(placeholder)):
                if index:
                    next_segments.append((text, False))
                if piece:
                    next_segments.append((piece, True))
        segments = next_segments
    return [segment for segment, _ in segments], found


class StrReplace(Function):
    """``str_replace: {template: ..., params: {...}}`` before 2015-10-15.

    Param values must be strings or numbers (null counts as ``''``); a map
    or list value is an error in these versions.
    """

    #: Every param must occur in the template (``str_replace_strict``).
    strict: ClassVar[bool] = False
    #: Null or empty param values are allowed (not in ``str_replace_vstrict``).
    allow_empty_values: ClassVar[bool] = True

    def _shape_problem(self) -> Problem | None:
        args = self.args
        if not isinstance(args, Mapping) or "template" not in args or "params" not in args:
            return (
                "the arguments must be a map with the keys 'template' and 'params'",
                self.args_path,
            )
        params = args["params"]
        if not _is_call(params) and not isinstance(params, Mapping):
            return "'params' must be a map", self.args_path / "params"
        return None

    def _problems(self, template: Any, params: Any) -> Iterator[Problem]:
        """Problems with resolved or literal arguments; calls among literal ones are skipped."""
        if not (_is_call(template) or isinstance(template, str)):
            yield "'template' must be a string", self.args_path / "template"
        if _is_call(params):
            return
        if not isinstance(params, Mapping):
            yield "'params' must be a map", self.args_path / "params"
            return
        for key, value in params.items():
            try:
                if not _is_call(key):
                    self._placeholder(key)
                    if not _has_calls(value):
                        self._replacement_text(value, key)
            except _BadArgument as bad:
                yield bad.message, bad.at
        placeholders = [key for key in params if isinstance(key, str) and key]
        if self.strict and isinstance(template, str) and len(placeholders) == len(params):
            yield from self._missing_placeholders(template, placeholders)

    def _missing_placeholders(self, template: str, keys: list[str]) -> Iterator[Problem]:
        """Heat's strict check: a placeholder only inside a longer one's match is missing too."""
        ordered = _heat_order(keys)
        _, found = _replacement_segments(template, [(key, "") for key in ordered])
        missing = [key for key in ordered if key not in found]
        if missing:
            yield (
                f"these params do not occur in the template: {','.join(missing)}",
                self.args_path / "params",
            )

    def check(self) -> Iterator[Diagnostic]:
        problem = self._shape_problem()
        if problem is not None:
            yield _diagnostic(self, problem)
            return
        for problem in self._problems(self.args["template"], self.args["params"]):
            yield _diagnostic(self, problem)

    def _placeholder(self, key: Any) -> str:
        params_path = self.args_path / "params"
        if not isinstance(key, str):
            raise _BadArgument("param placeholders must be strings", params_path)
        if not key:
            raise _BadArgument("param placeholders must not be empty", params_path / key)
        return key

    def _replacement_text(self, value: Any, key: str) -> str:
        if value is None:
            return ""
        if isinstance(value, (str, int, float, bool)):
            return str(value)
        raise _BadArgument(
            f"params must be strings or numbers; param {key!r} is not",
            self.args_path / "params" / key,
        )

    def evaluate(self, resolver: Resolver) -> Any:
        problem = self._shape_problem()
        if problem is not None:
            raise argument_error(self, *problem)
        template = resolver.known(self.args["template"])
        params = resolver.known(self.args["params"])
        for problem in self._problems(template, params):
            raise argument_error(self, *problem)
        keys = _heat_order(list(params))
        replacements = [(key, self._replacement_text(params[key], key)) for key in keys]
        segments, _ = _replacement_segments(template, replacements)
        _check_length(self, resolver, sum(len(segment) for segment in segments))
        return "".join(segments)


class StrReplaceJson(StrReplace):
    """``str_replace`` from 2015-10-15: map and list param values are put in as JSON.

    Numbers and booleans are put in as Python writes them (``True``, ``1.5``),
    as Heat does.
    """

    def _replacement_text(self, value: Any, key: str) -> str:
        at = self.args_path / "params" / key
        if value is None:
            if self.allow_empty_values:
                return ""
            raise self._empty_value(key)
        if isinstance(value, (str, int, float, bool)):
            text = str(value)
        elif isinstance(value, (Mapping, Sequence)):
            if not self.allow_empty_values and len(value) == 0:
                raise self._empty_value(key)
            serialised = json_text(value)
            if serialised is None:
                raise _BadArgument(f"param {key!r} could not be serialised as JSON", at)
            return serialised
        else:
            raise _BadArgument(
                f"params must be strings, numbers, lists or maps; param {key!r} is not", at
            )
        if not self.allow_empty_values and not text:
            raise self._empty_value(key)
        return text

    def _empty_value(self, key: str) -> _BadArgument:
        return _BadArgument(
            f"param {key!r} has an undefined or empty value; it must be a defined, non-empty value",
            self.args_path / "params" / key,
        )


class StrReplaceStrict(StrReplaceJson):
    """``str_replace_strict`` (2017-02-24): every param must occur in the template.

    A placeholder that occurs only inside an occurrence of a longer one does
    not count, because the longer one is replaced first.
    """

    strict = True


class StrReplaceVeryStrict(StrReplaceStrict):
    """``str_replace_vstrict`` (2017-09-01): params must also have non-empty values."""

    allow_empty_values = False


class StrSplit(Function):
    """``str_split: [delimiter, string]`` or ``[delimiter, string, index]``.

    Like Heat: a null string gives null, a null delimiter splits on runs of
    whitespace, a negative index counts from the end, and arguments after the
    index are ignored.
    """

    usage: ClassVar[str] = "[delimiter, string, (index)]"

    def _problems(self, args: Any) -> Iterator[Problem]:
        """Problems with resolved or literal arguments; calls among literal ones are skipped."""
        if _is_call(args):
            return
        if not isinstance(args, list) or len(args) < 2:
            yield f"the arguments must be a list {self.usage}", self.args_path
            return
        delimiter, text = args[0], args[1]
        if not (_is_call(delimiter) or delimiter is None or isinstance(delimiter, str)):
            yield "the delimiter must be a string", self.args_path / 0
        elif delimiter == "":
            yield "the delimiter must not be empty", self.args_path / 0
        if not (_is_call(text) or text is None or isinstance(text, str)):
            yield "the value to split must be a string", self.args_path / 1
        if len(args) > 2 and not _has_calls(args[2]) and _index(args[2]) is None:
            yield "the index must be an integer", self.args_path / 2

    def check(self) -> Iterator[Diagnostic]:
        for problem in self._problems(self.args):
            yield _diagnostic(self, problem)

    def evaluate(self, resolver: Resolver) -> Any:
        args = resolver.known(self.args)
        problems = list(self._problems(args))
        if isinstance(args, list) and len(args) >= 2 and args[1] is None:
            return None
        if problems:
            raise argument_error(self, *problems[0])
        pieces = args[1].split(args[0])
        if len(args) == 2:
            return pieces
        index = int(args[2])
        if not -len(pieces) <= index < len(pieces):
            message = f"the index is out of range; it must be between 0 and {len(pieces) - 1}"
            raise argument_error(self, message, self.args_path / 2)
        return pieces[index]


def _index(value: Any) -> int | None:
    """Python's ``int()`` of the value, as Heat applies it; None when that fails."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


#: Names listed to users; any other hash OpenSSL offers on the server is accepted too.
DIGEST_ALGORITHMS: tuple[str, ...] = tuple(
    sorted(name for name in hashlib.algorithms_guaranteed if not name.startswith("shake_"))
)
#: ``shake_*`` need an output length that ``digest`` has no way to give.
_AVAILABLE_ALGORITHMS = frozenset(
    name.lower() for name in hashlib.algorithms_available if not name.lower().startswith("shake_")
)


def _is_latin_1(text: str) -> bool:
    return all(ord(character) < 256 for character in text)


class Digest(Function):
    """``digest: [algorithm, value]``: the hex digest of the value.

    Heat hashes the value's Latin-1 bytes (its ``six.b``), so characters
    beyond Latin-1 cannot be digested and é hashes as one byte, not two.
    """

    def _problems(self, args: Any, show_algorithm: bool) -> Iterator[Problem]:
        """Problems with resolved or literal arguments; calls among literal ones are skipped."""
        if not isinstance(args, list) or not all(
            isinstance(item, str) or _is_call(item) for item in args
        ):
            yield "the arguments must be a list of strings [algorithm, value]", self.args_path
            return
        if len(args) != 2:
            yield "the arguments must be [algorithm, value]", self.args_path
            return
        algorithm, value = args
        if isinstance(algorithm, str) and algorithm.lower() not in _AVAILABLE_ALGORITHMS:
            shown = f" {algorithm!r}" if show_algorithm else ""
            yield (
                f"the algorithm{shown} is not supported; use one of {', '.join(DIGEST_ALGORITHMS)}",
                self.args_path / 0,
            )
        if isinstance(value, str) and not _is_latin_1(value):
            yield (
                "the value can only contain Latin-1 characters (Heat digests its Latin-1 bytes)",
                self.args_path / 1,
            )

    def check(self) -> Iterator[Diagnostic]:
        if _is_call(self.args):
            return
        for problem in self._problems(self.args, show_algorithm=True):
            yield _diagnostic(self, problem)

    def evaluate(self, resolver: Resolver) -> Any:
        args = resolver.known(self.args)
        literal = isinstance(self.args, list) and bool(self.args) and isinstance(self.args[0], str)
        for problem in self._problems(args, show_algorithm=literal):
            raise argument_error(self, *problem)
        algorithm, value = args
        try:
            digest = hashlib.new(algorithm.lower())
        except ValueError:
            raise self.error(
                "the algorithm is not available on this server", at=self.args_path / 0
            ) from None
        digest.update(value.encode("latin-1"))
        return digest.hexdigest()


URL_ARGUMENTS = ("scheme", "username", "password", "host", "port", "path", "query", "fragment")


def _query_text(query: Mapping[Any, Any]) -> str:
    """``urlencode(query)`` with Heat's one change: slashes stay readable."""
    return urlencode(query).replace("%2F", "/")


def _netloc(arguments: Mapping[str, Any]) -> str:
    """Heat's own netloc: quoted credentials, a bracketed IPv6 host, the port as written."""
    username = quote(arguments.get("username", ""), safe="")
    password = quote(arguments.get("password", ""), safe="")
    netloc = ""
    if username or password:
        netloc = username + (":" + password if password else "") + "@"
    host = arguments.get("host", "")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = quote(host, safe=":")
    netloc += f"[{host}]" if ":" in host else host
    port = arguments.get("port", "")
    if port:
        netloc += ":" + str(port)
    return netloc


class MakeUrl(Function):
    """``make_url: {scheme, username, password, host, port, path, query, fragment}``.

    Every part is escaped as Heat escapes it; an IPv6 host gets its brackets,
    and the port is written as given once it reads as 1-65535.
    """

    def _argument_problem(self, key: str, value: Any, show_port: bool) -> Problem | None:
        at = self.args_path / key
        if key == "query":
            return None if isinstance(value, Mapping) else ("'query' must be a map", at)
        if key == "port":
            port = value if isinstance(value, int) else _index(value)
            if port is None:
                return "the port must be an integer", at
            if not 0 < port <= 65535:
                shown = f" {port}" if show_port else ""
                return f"the port{shown} is out of range; it must be between 1 and 65535", at
            return None
        if not isinstance(value, str):
            return f"{key!r} must be a string", at
        if key == "scheme" and ":" in value:
            return "'scheme' must not contain ':'", at
        return None

    def _problems(self, arguments: Any, show_port: bool) -> Iterator[Problem]:
        """Problems with resolved or literal arguments; calls among literal ones are skipped."""
        if not isinstance(arguments, Mapping):
            yield "the arguments must be a map", self.args_path
            return
        for key, value in arguments.items():
            if key not in URL_ARGUMENTS:
                valid = ", ".join(URL_ARGUMENTS)
                yield (
                    f"unknown argument {key!r}; the arguments are {valid}",
                    self.args_path / str(key),
                )
            elif not _is_call(value):
                problem = self._argument_problem(key, value, show_port)
                if problem is not None:
                    yield problem

    def check(self) -> Iterator[Diagnostic]:
        for problem in self._problems(self.args, show_port=True):
            yield _diagnostic(self, problem)

    def evaluate(self, resolver: Resolver) -> Any:
        if not isinstance(self.args, Mapping):
            raise argument_error(self, "the arguments must be a map")
        arguments = resolver.known(self.args)
        literal_port = not _is_call(self.args.get("port"))
        for problem in self._problems(arguments, show_port=literal_port):
            raise argument_error(self, *problem)
        try:
            url = urlunsplit(
                (
                    arguments.get("scheme", ""),
                    _netloc(arguments),
                    quote(arguments.get("path", ""), safe="/"),
                    _query_text(arguments.get("query", {})),
                    quote(arguments.get("fragment", ""), safe="/"),
                )
            )
        except UnicodeEncodeError:
            raise argument_error(self, "the URL parts must be valid Unicode text") from None
        _check_length(self, resolver, len(url))
        return url
