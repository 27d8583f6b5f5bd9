"""Heat-style stack list queries: filters, sort keys, limit and marker.

Semantics follow Heat's ``stack_get_all``: filters are exact matches (a list
means "any of"), ``tags`` needs all the tags, ``tags_any`` one of them,
``not_tags`` excludes stacks that carry all of them and ``not_tags_any``
those that carry any. Sort keys Heat does not know are ignored, as Heat
ignores them; with no usable key the list is newest first. The id is always
the last sort key, so pages are stable, and ``marker`` is the id of the last
stack of the previous page (an unknown marker is ignored, as in Heat).

Pagination is keyset-based ("rows after the marker's sort values"), which
stays correct while stacks are being created. By ``updated_at`` a stack never
updated sorts by its creation time (when it last changed) on every backend,
instead of wherever each backend happens to put NULLs.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from kiln.persistence.errors import InvalidListRequest
from kiln.persistence.models import StackRow, StackTagRow


class SortKey(enum.StrEnum):
    NAME = "name"
    STATUS = "status"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class SortDirection(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


#: Heat API spellings of the sort keys, accepted as well as Kiln's own.
HEAT_SORT_KEYS = {
    "stack_name": SortKey.NAME,
    "stack_status": SortKey.STATUS,
    "creation_time": SortKey.CREATED_AT,
    "updated_time": SortKey.UPDATED_AT,
}


@dataclass(frozen=True)
class StackFilters:
    """What to list; an empty collection means "no condition"."""

    names: Collection[str] = ()
    statuses: Collection[str] = ()
    actions: Collection[str] = ()
    tags: Collection[str] = ()
    tags_any: Collection[str] = ()
    not_tags: Collection[str] = ()
    not_tags_any: Collection[str] = ()
    show_deleted: bool = False
    show_nested: bool = False


NO_FILTERS = StackFilters()


@dataclass(frozen=True)
class ListRequest:
    filters: StackFilters = NO_FILTERS
    sort_keys: Sequence[str] = ()
    sort_dir: str | None = None
    limit: int | None = None
    marker: str | None = None


def stack_query(project_id: str | None, filters: StackFilters) -> Select[Any]:
    """Stacks of ``project_id`` (of every project for None) matching ``filters``, unordered."""
    query = select(StackRow)
    if project_id is not None:
        query = query.where(StackRow.project_id == project_id)
    if not filters.show_deleted:
        query = query.where(StackRow.deleted_at.is_(None))
    if not filters.show_nested:
        query = query.where(StackRow.parent_id.is_(None))
    for column, wanted in (
        (StackRow.name, filters.names),
        (StackRow.status, filters.statuses),
        (StackRow.action, filters.actions),
    ):
        values = _as_values(wanted)
        if values:
            query = query.where(column.in_(values))
    for condition in _tag_conditions(filters):
        query = query.where(condition)
    return query


#: What a stack list shows: the definition columns (templates, files, ...) stay unread.
SUMMARY_COLUMNS = (
    StackRow.id,
    StackRow.project_id,
    StackRow.name,
    StackRow.action,
    StackRow.status,
    StackRow.status_reason,
    StackRow.timeout_mins,
    StackRow.disable_rollback,
    StackRow.parent_id,
    StackRow.parent_resource,
    StackRow.nesting_depth,
    StackRow.created_at,
    StackRow.updated_at,
    StackRow.deleted_at,
)


def page(session: Session, project_id: str | None, request: ListRequest) -> list[StackRow]:
    """One page of rows for ``request``."""
    return list(session.scalars(_page_query(session, project_id, request)))


def summary_page(session: Session, project_id: str | None, request: ListRequest) -> list[Any]:
    """One page for ``request`` as plain rows of :data:`SUMMARY_COLUMNS` (no ORM objects:
    a list of a thousand stacks is read in a few milliseconds)."""
    query = _page_query(session, project_id, request).with_only_columns(*SUMMARY_COLUMNS)
    return list(session.connection().execute(query).all())


def _page_query(session: Session, project_id: str | None, request: ListRequest) -> Select[Any]:
    if request.limit is not None and request.limit < 0:
        raise InvalidListRequest(f"limit must not be negative, not {request.limit}")
    keys = _sort_keys(request.sort_keys)
    direction = _direction(request.sort_dir, explicit_keys=bool(keys))
    order = [_sort_expression(key) for key in keys or [SortKey.CREATED_AT]] + [StackRow.id]
    query = stack_query(project_id, request.filters)
    if request.marker is not None:
        after = _after_marker(session, project_id, request.marker, order, direction)
        if after is not None:
            query = query.where(after)
    ascending = direction is SortDirection.ASC
    query = query.order_by(*(item.asc() if ascending else item.desc() for item in order))
    if request.limit is not None:
        query = query.limit(request.limit)
    return query


def _as_values(wanted: Collection[str]) -> list[str]:
    """A lone string means one value, not its characters."""
    if isinstance(wanted, str):
        return [wanted]
    return list(wanted)


def _has_tag(tag: str) -> ColumnElement[bool]:
    return exists().where(StackTagRow.stack_id == StackRow.id, StackTagRow.tag == tag)


def _has_any_tag(tags: list[str]) -> ColumnElement[bool]:
    return exists().where(StackTagRow.stack_id == StackRow.id, StackTagRow.tag.in_(tags))


def _tag_conditions(filters: StackFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    all_of = _as_values(filters.tags)
    if all_of:
        conditions.append(and_(*(_has_tag(tag) for tag in all_of)))
    any_of = _as_values(filters.tags_any)
    if any_of:
        conditions.append(_has_any_tag(any_of))
    not_all_of = _as_values(filters.not_tags)
    if not_all_of:
        conditions.append(~and_(*(_has_tag(tag) for tag in not_all_of)))
    none_of = _as_values(filters.not_tags_any)
    if none_of:
        conditions.append(~_has_any_tag(none_of))
    return conditions


def _sort_keys(requested: Sequence[str]) -> list[SortKey]:
    keys: list[SortKey] = []
    for name in _as_values(requested):
        key = HEAT_SORT_KEYS.get(name) or _known_key(name)
        if key is not None and key not in keys:
            keys.append(key)
    return keys


def _known_key(name: str) -> SortKey | None:
    try:
        return SortKey(name)
    except ValueError:
        return None


def _direction(sort_dir: str | None, explicit_keys: bool) -> SortDirection:
    """Heat's defaults: newest first without sort keys, ascending with them."""
    if sort_dir is None:
        return SortDirection.ASC if explicit_keys else SortDirection.DESC
    try:
        return SortDirection(sort_dir.lower())
    except ValueError:
        raise InvalidListRequest(
            f"sort direction must be 'asc' or 'desc', not {sort_dir!r}"
        ) from None


def _sort_expression(key: SortKey) -> SQLColumnExpression[Any]:
    if key is SortKey.NAME:
        return StackRow.name
    if key is SortKey.STATUS:
        return StackRow.status
    if key is SortKey.CREATED_AT:
        return StackRow.created_at
    return func.coalesce(StackRow.updated_at, StackRow.created_at)


def _after_marker(
    session: Session,
    project_id: str | None,
    marker: str,
    order: list[SQLColumnExpression[Any]],
    direction: SortDirection,
) -> ColumnElement[bool] | None:
    """Rows strictly after the marker row in ``order``; None when there is no such marker."""
    marker_query = select(*order).where(StackRow.id == marker)
    if project_id is not None:
        marker_query = marker_query.where(StackRow.project_id == project_id)
    values = session.execute(marker_query).first()
    if values is None:
        return None
    ascending = direction is SortDirection.ASC
    alternatives: list[ColumnElement[bool]] = []
    for index, expression in enumerate(order):
        equal_before = [order[earlier] == values[earlier] for earlier in range(index)]
        beyond = expression > values[index] if ascending else expression < values[index]
        alternatives.append(and_(*equal_before, beyond))
    return or_(*alternatives) if alternatives else false()
