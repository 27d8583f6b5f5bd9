"""Whole numbers from a query string, checked before they reach the database.

A number too big for a database column would otherwise fail in the driver (a
500); here it is a 400 in Heat's shape that names the parameter.
"""

from __future__ import annotations

import re

from kiln.api.errors import ApiError

#: The largest whole number a query (or a body's ``timeout_mins``) may carry: what every
#: supported database's INTEGER column holds (a bigger one would fail in the driver, not
#: as a bad request).
MAX_QUERY_INTEGER = 2**31 - 1

_INTEGER = re.compile(r"[+-]?[0-9]+")


def int_param(name: str, value: str | None, default: int = 0) -> int:
    """A non-negative whole number from the query, or Heat's 400 saying what is wrong."""
    if value is None:
        return default
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise ApiError(400, "Invalid", f"Only integer is acceptable by '{name}'.")
    # Past Python's own digit limit a number is simply too big (or too small).
    number = (
        int(text) if len(text) < 4000 else (MAX_QUERY_INTEGER + 1) * (-1 if text[0] == "-" else 1)
    )
    if number < 0:
        raise ApiError(
            400,
            "Invalid",
            f"Value '{value}' is invalid for '{name}' which only accepts non-negative integer.",
        )
    if number > MAX_QUERY_INTEGER:
        raise ApiError(
            400,
            "Invalid",
            f"Value '{value}' is invalid for '{name}' which only accepts integers "
            f"up to {MAX_QUERY_INTEGER}.",
        )
    return number
