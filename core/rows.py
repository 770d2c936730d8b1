"""Model instances from rows that one statement returned as JSON (`json_agg(t)`), without the
ORM building a query per table: for the pages opened at every step of a med pass, where
building the SQL of a handful of querysets cost more than running it.

The instances are the models' own (`Model.from_db`), with every value of the row converted to
what the ORM would have given (aware datetimes, dates, times, Decimals, UUIDs, arrays of
them); columns a statement leaves out are deferred, as with `.only()`. Related objects and
prefetched lists are attached by the caller (`attach`, `attach_many`).
"""

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable
from functools import cache

from django.contrib.postgres.fields import ArrayField
from django.db import DEFAULT_DB_ALIAS, models
from django.utils.dateparse import parse_duration


def _same(value):
    return value


def _or_none(convert: Callable) -> Callable:
    return lambda value: None if value is None else convert(value)


def _decimal(value) -> decimal.Decimal:
    # JSON numbers arrive as int or float; a float's shortest repr is the column's digits.
    return decimal.Decimal(str(value))


def _converter(field: models.Field) -> Callable:
    if isinstance(field, ArrayField):
        base = _converter(field.base_field)
        return _or_none(lambda values: [base(value) for value in values])
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return _or_none(datetime.datetime.fromisoformat)
    if kind == "DateField":
        return _or_none(datetime.date.fromisoformat)
    if kind == "TimeField":
        return _or_none(datetime.time.fromisoformat)
    if kind == "DecimalField":
        return _or_none(_decimal)
    if kind == "UUIDField":
        return _or_none(uuid.UUID)
    if kind == "DurationField":
        return _or_none(parse_duration)
    return _same  # text, numbers, booleans, JSON (already parsed), foreign key ids


@cache
def _fields(model: type[models.Model]) -> tuple[tuple[str, str, Callable], ...]:
    return tuple((f.column, f.attname, _converter(f)) for f in model._meta.concrete_fields)


def instances(model: type[models.Model], rows: Iterable[dict] | None) -> list:
    """The rows (dicts keyed by column, as `row_to_json` writes them) as `model` instances."""
    fields = _fields(model)
    made = []
    for row in rows or ():
        names, values = [], []
        for column, attname, convert in fields:
            if column in row:
                names.append(attname)
                values.append(convert(row[column]))
        made.append(model.from_db(DEFAULT_DB_ALIAS, names, values))
    return made


def by_pk(objects: Iterable[models.Model]) -> dict:
    return {obj.pk: obj for obj in objects}


def attach(objects: Iterable[models.Model], name: str, related: dict) -> None:
    """Set the forward relation `name` of each object (a foreign key or one-to-one, or a
    reverse one-to-one) from `related` (pk -> instance; for a reverse one-to-one, the owner's
    pk -> instance), as select_related would: no query when it is read, and a missing reverse
    one-to-one raises DoesNotExist as usual."""
    objects = list(objects)
    if not objects:
        return
    descriptor = getattr(type(objects[0]), name)
    if hasattr(descriptor, "field"):  # forward: read the id column
        attname = descriptor.field.attname
        for obj in objects:
            descriptor.field.set_cached_value(obj, related.get(getattr(obj, attname)))
    else:  # reverse one-to-one
        for obj in objects:
            descriptor.related.set_cached_value(obj, related.get(obj.pk))


def attach_many(
    objects: Iterable[models.Model], name: str, children: Iterable[models.Model], key: str
) -> None:
    """Fill the reverse foreign key manager `name` of each object with `children` whose `key`
    (an id attribute) names it, in the children's order, as prefetch_related would."""
    grouped: dict = {}
    for child in children:
        grouped.setdefault(getattr(child, key), []).append(child)
    for obj in objects:
        manager = getattr(obj, name)
        queryset = manager.model._default_manager.none()
        queryset._result_cache = grouped.get(obj.pk, [])
        queryset._prefetch_done = True
        cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
        cache[manager.field.remote_field.cache_name] = queryset
