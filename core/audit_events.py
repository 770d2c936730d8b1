"""The recorded events of an audit trail, read from the event tables in one query a page.

pghistory's `Events` unions every event table in a CTE that computes each event's data and diff
before anything is filtered or paged, and takes the rows it follows as one model at a time: a
trail that follows rows of several kinds (a resident's orders, doses and stock) had to ask once
per kind. Here a trail is a list of `TrailPart`s, each an event table and the SQL condition its
rows meet; whatever the parts, counting a trail is one query, and a page of it (or the whole
trail, for a CSV) is one query that computes the data and the diff of that page's events only.

The events read as pghistory's do (`pgh_data` and `pgh_diff` with the keys in the same order,
the context's metadata), so `core.audit.audit_rows` reads either.
"""

import datetime
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, models

ALIAS = "_event"  # how a part's condition names its event table's row


@dataclass(frozen=True)
class TrailPart:
    """The rows of one event table that belong to a trail: `condition` is SQL over the table
    aliased `_event`, with `%s` placeholders for `params`."""

    event_model: type[models.Model]
    condition: str
    params: tuple = ()


@dataclass
class TrailEvent:
    """One recorded event, with the attributes of pghistory's `Events` rows."""

    pgh_slug: str
    pgh_id: int
    pgh_created_at: datetime.datetime
    pgh_label: str
    pgh_obj_model: str
    pgh_obj_id: str | None
    pgh_data: dict
    pgh_diff: dict | None
    pgh_context: dict | None


def event_models(kind: str = "") -> list[type[models.Model]]:
    """The event tables of every tracked model, or of one app's (`kind`, an app label)."""
    from pghistory.core import event_models as every

    found = [m for m in every() if getattr(m, "pgh_tracked_model", None) is not None]
    if kind:
        found = [m for m in found if m.pgh_tracked_model._meta.app_label == kind]
    return sorted(found, key=lambda m: m._meta.label)


def pointing_at(
    target: type[models.Model], rows_sql: str, params: Iterable, among: Iterable
) -> list[TrailPart]:
    """Parts for the events (of the tables `among`) of rows that point at the `target` rows
    selected by `rows_sql` (a subquery of their keys, or a `%s` for one key): any foreign key
    of the event table to `target` counts, the tracked row's own key (`pgh_obj`) included."""
    parts = []
    for event_model in among:
        columns = [
            f.column
            for f in event_model._meta.concrete_fields
            if f.is_relation and f.related_model._meta.concrete_model is target
        ]
        if columns:
            condition = " OR ".join(f"{ALIAS}.{_quote(c)} IN ({rows_sql})" for c in columns)
            parts.append(TrailPart(event_model, f"({condition})", tuple(params) * len(columns)))
    return parts


def merged(parts: Iterable[TrailPart]) -> list[TrailPart]:
    """One part per event table: the conditions of the same table's parts joined by OR."""
    by_model: dict = {}
    for part in parts:
        by_model.setdefault(part.event_model, []).append(part)
    return [
        TrailPart(
            model,
            "(" + " OR ".join(p.condition for p in same) + ")",
            tuple(param for p in same for param in p.params),
        )
        for model, same in by_model.items()
    ]


def by_user(user_pk, *, until: datetime.datetime | None = None) -> tuple[str, tuple]:
    """The condition of the events written in the person's name (the audit context's user):
    their contexts found by the index of the context's user (migration reports 0002), then
    each table's events by its index of contexts."""
    contexts = "SELECT id FROM pghistory_context WHERE metadata->>'user' = %s"
    params = [str(user_pk)]
    if until is not None:  # a context is written before the first of its events
        contexts += " AND created_at < %s"
        params.append(until)
    return f"{ALIAS}.pgh_context_id = ANY(ARRAY({contexts}))", tuple(params)


class Trail:
    """The events of `parts` from `since` (included) to `until` (excluded), newest first: a
    sequence Django's Paginator pages with one query to count and one to read the page;
    iterating reads all of it in one query, `chunks` a part at a time."""

    def __init__(self, parts: Iterable[TrailPart], *, since=None, until=None):
        self.parts = list(parts)
        self.since, self.until = since, until

    def _picked(self) -> tuple[str, list]:
        """Which events, as (part index, pgh_id, pgh_created_at) rows."""
        selects, params = [], []
        for index, part in enumerate(self.parts):
            where, values = [part.condition], list(part.params)
            if self.since is not None:
                where.append(f"{ALIAS}.pgh_created_at >= %s")
                values.append(self.since)
            if self.until is not None:
                where.append(f"{ALIAS}.pgh_created_at < %s")
                values.append(self.until)
            table = _quote(part.event_model._meta.db_table)
            selects.append(
                f"SELECT {index} AS part, {ALIAS}.pgh_id, {ALIAS}.pgh_created_at "
                f"FROM {table} {ALIAS} WHERE " + " AND ".join(where)
            )
            params += values
        return "\nUNION ALL\n".join(selects), params

    def count(self) -> int:
        if not self.parts:
            return 0
        picked, params = self._picked()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({picked}) AS picked", params)
            return cursor.fetchone()[0]

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[TrailEvent]:
        return iter(self._read())

    def __getitem__(self, key):
        if isinstance(key, slice):
            if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop or 0) < 0:
                raise ValueError("A trail is sliced forwards, from a start to a stop.")
            start = key.start or 0
            limit = None if key.stop is None else max(key.stop - start, 0)
            return self._read(offset=start, limit=limit)
        found = self._read(offset=key, limit=1)
        if not found:
            raise IndexError(key)
        return found[0]

    def chunks(self, size: int) -> Iterator[list[TrailEvent]]:
        """The whole trail, `size` events at a time (an export that streams): one query for
        which events, in order, then one for each chunk."""
        if not self.parts:
            return
        picked, params = self._picked()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT part, pgh_id FROM ({picked}) AS picked "
                "ORDER BY pgh_created_at DESC, pgh_id DESC, part DESC",
                params,
            )
            keys = cursor.fetchall()
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            yield self._events(
                "SELECT * FROM unnest(%s::int[], %s::bigint[]) AS keys(part, pgh_id)",
                [[part for part, _ in chunk], [pgh_id for _, pgh_id in chunk]],
            )

    def _read(self, *, offset: int = 0, limit: int | None = None) -> list[TrailEvent]:
        if not self.parts or limit == 0:
            return []
        picked, params = self._picked()
        page = f"LIMIT {int(limit)} " if limit is not None else ""
        page += f"OFFSET {int(offset)}" if offset else ""
        return self._events(
            f"SELECT part, pgh_id FROM ({picked}) AS picked "
            f"ORDER BY pgh_created_at DESC, pgh_id DESC, part DESC {page}",
            params,
        )

    def _events(self, page: str, params: list) -> list[TrailEvent]:
        """The events `page` selects (SQL of (part, pgh_id) rows), newest first."""
        # Each event's previous one (of the same row, in the same table) gives its diff, as
        # pghistory's Events computes it; the JSON goes through jsonb for the same key order.
        reads = []
        for index, part in enumerate(self.parts):
            table = _quote(part.event_model._meta.db_table)
            columns = {f.attname for f in part.event_model._meta.concrete_fields}
            previous = "NULL"
            if "pgh_obj_id" in columns:
                previous = (
                    f"(SELECT to_jsonb(_prev)::text FROM {table} _prev "
                    f"WHERE _prev.pgh_obj_id = {ALIAS}.pgh_obj_id "
                    f"AND _prev.pgh_id < {ALIAS}.pgh_id "
                    "ORDER BY _prev.pgh_id DESC LIMIT 1)"
                )
            context = "NULL"
            if "pgh_context_id" in columns:
                context = (
                    "(SELECT metadata::text FROM pghistory_context "
                    f"WHERE id = {ALIAS}.pgh_context_id)"
                )
            reads.append(
                f"SELECT page.part, page.pgh_id, {ALIAS}.pgh_created_at, "
                f"to_jsonb({ALIAS})::text, {previous}, {context} "
                f"FROM page JOIN {table} {ALIAS} ON {ALIAS}.pgh_id = page.pgh_id "
                f"WHERE page.part = {index}"
            )
        sql = f"WITH page AS MATERIALIZED ({page})\n" + "\nUNION ALL\n".join(reads)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        found.sort(key=lambda row: (row[2], row[1], row[0]), reverse=True)
        return [self._event(*row) for row in found]

    def _event(self, part: int, pgh_id: int, at, current: str, previous, context) -> TrailEvent:
        event_model = self.parts[part].event_model
        row = json.loads(current)
        data = {k: v for k, v in row.items() if not k.startswith("pgh_")}
        diff = None
        if previous is not None:
            before = json.loads(previous)
            diff = {k: [before[k], v] for k, v in data.items() if k in before and before[k] != v}
            diff = diff or None
        obj_id = row.get("pgh_obj_id")
        return TrailEvent(
            pgh_slug=f"{event_model._meta.label}:{pgh_id}",
            pgh_id=pgh_id,
            pgh_created_at=at,
            pgh_label=row["pgh_label"],
            pgh_obj_model=event_model.pgh_tracked_model._meta.label,
            pgh_obj_id=None if obj_id is None else str(obj_id),
            pgh_data=data,
            pgh_diff=diff,
            pgh_context=json.loads(context) if context is not None else None,
        )


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
