"""Audit tracking shared by every domain model: who, when, what, before and after.

Triggers (django-pghistory) record inserts, updates and deletes, so bulk updates and raw SQL are
captured too; HistoryMiddleware attaches the acting user and the URL as context, and automatic
work names itself with `automatic("dose engine")`.

`audit_rows` turns recorded events into what a surveyor reads: the person's name (or the
automatic work), the model's and the fields' names in words, choices by their labels, related
rows by their names, instants in the facility's zone. Domain-free: it reads the models' own
metadata; a model whose JSON field holds another model's values says so in `audit_json_keys`
(field name -> "app.Model" whose fields the keys are, or a Choices class naming the keys).
"""

import datetime
import decimal
import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pghistory
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone

from . import time as facility_time


def track(*, exclude: list[str] | None = None, inserts: bool = True, per_statement: bool = False):
    """Decorator for a domain model: snapshot every insert, update and delete.

    `inserts=False` is for rows the machine derives in bulk (scheduled doses): their creation is
    reproducible from the order, and tracking it would double the cost of every generation run.

    `per_statement=True` is for rows that sweeps change a thousand at a time (doses, alerts):
    the trigger runs once per statement and writes all its events in one INSERT ... SELECT
    from the statement's transition tables, instead of once per row. The events are the same.
    """
    trackers = [pghistory.UpdateEvent(), pghistory.DeleteEvent()]
    if inserts:
        trackers.insert(0, pghistory.InsertEvent())
    level = pghistory.Statement if per_statement else pghistory.Row
    return pghistory.track(*trackers, exclude=exclude, level=level)


def automatic(work: str) -> AbstractContextManager:
    """Name the automatic work whose writes follow ("dose engine", "alert sweep"): the audit
    trail shows these words where no person's name is (inside a request the person is named)."""
    return pghistory.context(work=work)


def automatic_work(work: str):
    """Decorator: the function's writes are `automatic(work)`, whoever calls it (the beat, a
    management command, the demo's history)."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with automatic(work):
                return function(*args, **kwargs)

        return wrapper

    return decorate


# Reading the trail -----------------------------------------------------------------------------

ACTIONS = {"insert": "added", "update": "changed", "delete": "removed"}
EMPTY = "—"
# Never worth a surveyor's time: keys, one-time form keys, secrets.
_HIDDEN = {"id", "password", "pin", "last_login", "idempotency_key"}
_PATH_DEPTH = 2  # related rows' names are read with their own related rows, this deep


@dataclass
class AuditChange:
    label: str  # the field in words: "Administered at"
    before: str
    after: str


@dataclass
class AuditRow:
    at: datetime.datetime  # aware; pages show it with |instant in the facility's zone
    who: str  # "Mary Poppins", or the automatic work: "dose engine"
    what: str  # the kind of record in words: "Administration"
    subject: str  # the record by its name: "Lisinopril 10 mg tablet given to Ann Lee …"
    action: str  # added / changed / removed
    changes: list[AuditChange] = field(default_factory=list)
    url: str = ""  # the page it was done on (CSV only)
    stamp: str = ""  # `at` in the facility's style, for CSV


def audit_kinds() -> list[tuple[str, str]]:
    """What a trail can be filtered by: each app with tracked models, (app label, its name)."""
    labels = {
        model.pgh_tracked_model._meta.app_label
        for model in apps.get_models()
        if getattr(model, "pgh_tracked_model", None) is not None
    }
    configs = [apps.get_app_config(label) for label in labels]
    return sorted(
        ((c.label, str(c.verbose_name)) for c in configs), key=lambda kind: kind[1].lower()
    )


@functools.cache
def _fields(model) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


@functools.cache
def _choices(f: models.Field) -> dict:
    return dict(f.flatchoices)


def _fetch(wanted: dict) -> dict:
    """Rows by model and primary key (as text), with the rows their names read: the rows
    `wanted` ({model: {pk, ...}}), the rows they point at, and the rows those point at
    (`_PATH_DEPTH`), in one query whatever the kinds of rows (each row is read as JSON and made
    back into a model instance; each one's foreign keys are then answered from what was read).
    """
    quote = connection.ops.quote_name
    ctes, params, read = [], [], []  # read: the model of each CTE, by position
    level: dict = {}  # model -> its CTE at the current depth
    for model, pks in wanted.items():
        keys = _keys(model, pks)
        if model is None or not keys:
            continue
        pk = model._meta.pk
        name = f"_rows{len(read)}"
        ctes.append(
            f"{name} AS (SELECT * FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(pk.column)} = ANY(%s::{pk.db_type(connection)}[]))"
        )
        params.append(keys)
        read.append(model)
        level[model] = name
    if not ctes:
        return {}
    for _depth in range(_PATH_DEPTH):
        pointed: dict = defaultdict(list)
        for model, name in level.items():
            for f in _foreign_keys(model):
                pointed[f.related_model].append(f"SELECT {quote(f.column)} FROM {name}")
        level = {}
        for model, sources in pointed.items():
            name = f"_rows{len(read)}"
            ctes.append(
                f"{name} AS (SELECT * FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(model._meta.pk.column)} IN ({' UNION '.join(sources)}))"
            )
            read.append(model)
            level[model] = name
    selects = [f"SELECT {i}, to_jsonb(_rows{i})::text FROM _rows{i}" for i in range(len(read))]
    rows: dict = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)}\n" + "\nUNION ALL\n".join(selects), params)
        for index, text in cursor.fetchall():
            model = read[index]
            data = json.loads(text, parse_float=decimal.Decimal)
            key = str(data[model._meta.pk.column])
            if key not in rows[model]:
                rows[model][key] = _instance(model, data)
    for model, by_pk in rows.items():
        for f in _foreign_keys(model):
            targets = rows.get(f.related_model, {})
            for row in by_pk.values():
                value = getattr(row, f.attname)
                if value is not None and str(value) in targets:
                    f.set_cached_value(row, targets[str(value)])
    return rows


def _keys(model, pks) -> list:
    """The values that can be keys of the model (another value reads as "a removed ...")."""
    if model is None:
        return []
    pk, keys = model._meta.pk, []
    for value in pks:
        try:
            keys.append(pk.get_db_prep_value(pk.to_python(value), connection))
        except (ValidationError, TypeError, ValueError):
            continue
    return keys


@functools.cache
def _foreign_keys(model) -> list:
    """The model's foreign keys (and one-to-ones) to another row's primary key."""
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation
        and (f.many_to_one or f.one_to_one)
        and f.target_field == f.related_model._meta.pk
    ]


def _instance(model, data: dict):
    attnames, converters = _converters(model)
    values = [
        None if (value := data.get(column)) is None else convert(value)
        for column, convert in converters
    ]
    return model.from_db(connection.alias, attnames, values)


@functools.cache
def _converters(model) -> tuple[list[str], list[tuple]]:
    """The model's fields' names, and per column how its JSON value becomes the field's."""
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], [(f.column, _converter(f)) for f in fields]


@functools.cache
def _converter(f: models.Field):
    """How a column's JSON value (not null) becomes the field's value."""
    if isinstance(f, models.JSONField):
        return _floats
    if isinstance(f, models.BinaryField):
        return lambda value: bytes.fromhex(value[2:]) if isinstance(value, str) else value
    base = getattr(f, "base_field", None)
    if base is not None:
        inner = _converter(base)
        return lambda value: (
            [None if item is None else inner(item) for item in value]
            if isinstance(value, list)
            else f.to_python(value)
        )
    for kind, parse in (
        (models.DateTimeField, datetime.datetime.fromisoformat),
        (models.DateField, datetime.date.fromisoformat),
        (models.TimeField, datetime.time.fromisoformat),
    ):
        if isinstance(f, kind):
            return functools.partial(_iso, parse, f)
    return f.to_python


def _iso(parse, f: models.Field, value):
    try:
        return parse(value)
    except (TypeError, ValueError):
        return f.to_python(value)


def _floats(value):
    """JSON read with exact decimals holds them as floats again (as a JSON field reads)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    return value


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _words(name: str) -> str:
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


class _Reader:
    """Formats the values of a page of events; related rows are fetched once per model."""

    def __init__(self, events: list, tz: ZoneInfo):
        self.tz = tz
        wanted: dict = defaultdict(set)
        self.users = set()
        for event in events:
            context = event.pgh_context or {}
            if context.get("user") is not None:
                self.users.add(context["user"])
            model = _model(event.pgh_obj_model)
            if model is None:
                continue
            if event.pgh_obj_id:
                wanted[model].add(str(event.pgh_obj_id))
            fields = _fields(model)
            for key, (before, after) in (event.pgh_diff or {}).items():
                self._want(wanted, fields.get(key), before)
                self._want(wanted, fields.get(key), after)
            for key, value in (event.pgh_data or {}).items():
                self._want(wanted, fields.get(key), value)
        user_model = get_user_model()
        wanted[user_model] |= {str(pk) for pk in self.users}
        self.rows = _fetch(wanted)
        self.names: dict = {}

    @staticmethod
    def _want(wanted, f, value):
        if f is not None and f.is_relation and value not in (None, ""):
            wanted[f.related_model].add(str(value))

    def who(self, context: dict | None) -> str:
        context = context or {}
        if context.get("user") is not None:
            user = self.rows.get(get_user_model(), {}).get(str(context["user"]))
            return self.name(user) if user is not None else "a removed account"
        # A command's context holds the automatic work it ran: the command is what was done.
        if context.get("command"):
            return f"the “{_words(context['command']).lower()}” command"
        if context.get("work"):
            return str(context["work"])
        return "automatic work"

    def value(self, f: models.Field | None, value, *, model=None) -> str:
        if value is None or value == "" or value == [] or value == {}:
            return EMPTY
        if f is None:
            return str(value)
        if f.is_relation:
            row = self.rows.get(f.related_model, {}).get(str(value))
            return (
                self.name(row)
                if row is not None
                else f"a removed {f.related_model._meta.verbose_name}"
            )
        if f.choices:
            return str(_choices(f).get(value, value))
        if isinstance(f, models.BooleanField):
            return "yes" if value else "no"
        if isinstance(f, models.DateTimeField):
            moment = _parse(datetime.datetime.fromisoformat, value)
            if moment is None:
                return str(value)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=datetime.UTC)
            return facility_time.local_stamp(moment, self.tz)
        if isinstance(f, models.DateField):
            day = _parse(datetime.date.fromisoformat, str(value)[:10])
            return day.strftime(facility_time.DATE_FORMAT) if day else str(value)
        if isinstance(f, models.TimeField):
            moment = _parse(datetime.time.fromisoformat, value)
            return moment.strftime(facility_time.CLOCK_FORMAT) if moment else str(value)
        if isinstance(f, models.DecimalField):
            number = _parse(decimal.Decimal, str(value))
            return f"{number.normalize():f}" if number is not None else str(value)
        base = getattr(f, "base_field", None)
        if base is not None and isinstance(value, list):
            return ", ".join(self.value(base, item) for item in value)
        if isinstance(f, models.JSONField):
            return self.json(f, value, model=model)
        return str(value)

    def json(self, f, value, *, model) -> str:
        if not isinstance(value, dict):
            return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        keys = getattr(model, "audit_json_keys", {}).get(f.name)
        described = _model(keys) if isinstance(keys, str) else None
        fields = _fields(described) if described is not None else {}
        names = dict(keys.choices) if hasattr(keys, "choices") else {}
        parts = []
        for key, item in value.items():
            inner = fields.get(key) or fields.get(f"{key}_id")
            label = _label(inner) if inner is not None else names.get(key) or _words(key)
            parts.append(f"{label}: {self.value(inner, item)}")
        return "; ".join(parts)

    def subject(self, event, model) -> str:
        row = self.rows.get(model, {}).get(str(event.pgh_obj_id))
        return self.name(row) if row is not None else ""

    def name(self, row) -> str:
        """The row's name, read once (a page names the same people and orders many times)."""
        key = (type(row), row.pk)
        if key not in self.names:
            self.names[key] = str(row)
        return self.names[key]


def _parse(parse, value):
    try:
        return parse(value)
    except (TypeError, ValueError, decimal.InvalidOperation):
        return None


@functools.cache
def _label(f: models.Field) -> str:
    return _words(f.verbose_name)


def _shown(f: models.Field | None, key: str) -> bool:
    if key in _HIDDEN or key.startswith("pgh_"):
        return False
    return not isinstance(f, models.UUIDField)


def audit_rows(events: Iterable, tz: ZoneInfo) -> list[AuditRow]:
    """A page of recorded events (pghistory `Events` rows, or `audit_events.TrailEvent`s) as a
    surveyor reads them.

    Queries: one (the people, the records and the rows their fields name, with the rows those
    point at), whatever the number of events and the kinds of rows they name.
    """
    with timezone.override(tz):  # names that hold a time read it in the facility's zone
        return _rows(list(events), tz)


def _rows(events: list, tz: ZoneInfo) -> list[AuditRow]:
    reader = _Reader(events, tz)
    result = []
    for event in events:
        model = _model(event.pgh_obj_model)
        context = event.pgh_context or {}
        what = _words(model._meta.verbose_name) if model is not None else "Record"
        fields = _fields(model) if model is not None else {}
        changes = []
        if event.pgh_diff:
            pairs = [(key, before, after) for key, (before, after) in event.pgh_diff.items()]
        elif event.pgh_label == "insert":
            pairs = [(key, None, value) for key, value in (event.pgh_data or {}).items()]
            pairs = [(k, b, a) for k, b, a in pairs if a not in (None, "", [], {})]
        elif event.pgh_label == "update":
            # The first recorded change of a row whose creation is not recorded has nothing to
            # compare with: its states (the fields with choices) say where it now stands.
            pairs = [
                (key, None, value)
                for key, value in (event.pgh_data or {}).items()
                if key in fields and fields[key].choices and value not in (None, "")
            ]
        else:
            pairs = []
        for key, before, after in pairs:
            f = fields.get(key)
            if not _shown(f, key):
                continue
            label = _label(f) if f is not None else _words(key)
            changes.append(
                AuditChange(
                    label,
                    "" if before is None else reader.value(f, before, model=model),
                    reader.value(f, after, model=model),
                )
            )
        result.append(
            AuditRow(
                at=event.pgh_created_at,
                who=reader.who(context),
                what=what,
                subject=reader.subject(event, model) if model is not None else "",
                action=ACTIONS.get(event.pgh_label, _words(event.pgh_label).lower()),
                changes=changes,
                url=context.get("url", "") or "",
                stamp=facility_time.local_stamp(event.pgh_created_at, tz),
            )
        )
    return result


def audit_kind(request) -> str:
    """The kind of record in ?kind= (an app label of `audit_kinds`), else "" for every kind."""
    kind = (request.GET.get("kind") or "").strip()
    return kind if kind in dict(audit_kinds()) else ""


def audit_page(request, events, tz: ZoneInfo, per_page: int = 50):
    """One page of a trail (?page=), its events read as `AuditRow`s."""
    from .views import paginate

    page = paginate(request, events, per_page=per_page)
    page.object_list = audit_rows(page.object_list, tz)
    return page
