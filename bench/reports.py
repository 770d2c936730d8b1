"""Benchmark the supervisor's reports at the demo's size and at ten times it (prints; never fails).

    .venv/bin/python bench/reports.py          # DATABASE_URL defaults to .../medtech_bench_reports
    .venv/bin/python bench/reports.py --reuse  # measure again on the databases a run built
    .venv/bin/python bench/reports.py --csv    # and each 10x report's CSV export, once

Targets (issue "Fast at the cart and at scale"): the error-rate report of one month <= 300 ms on
the demo and <= 1 s at ten times the demo; the exceptions, controlled-drug log, stock, PRN and
staff audit (one person's changes) pages <= 1 s each at ten times the demo.

The demo is `seed_demo` (Maple Grove: 40 residents, 35 days of med passes). The ten-times world
is the same demo with Maple Grove's residents copied nine times in SQL (INSERT ... SELECT over
generate_series, the copies' keys shifted by a fixed offset), with their orders, doses,
administrations, amendments, follow-ups, vitals, alerts, stock items, ledgers and count lines.
The audit trail of the rows people write (administrations, amendments, follow-ups, vitals,
allergies, the stock ledger) is then written as the triggers would have in production: one
event per row at its own time, in the name of the person who wrote it (an audit context per
person and hour), so a staff member's trail is as long as a month of their work.

Each page is requested through its view, in-process with Django's test Client logged in as the
demo nurse: the median of REQUESTS requests after a warm-up, beside a trivial logged-in page
(the facility picker) and the same page anonymous (a redirect to the login). Settings:
`medtech.settings.local` with DEBUG=false (DJANGO_SETTINGS_MODULE and DEBUG can say otherwise).

The database named in DATABASE_URL is dropped and recreated (the demo multiplied), and beside it
`<name>_1x` (the demo as seeded); --reuse measures the two a previous run left.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_reports")

import django  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

MAPLE = "Maple Grove Assisted Living"
COPIES = 9  # Maple Grove's residents and all they hold, nine more times: ten times the demo
OFFSET = 10_000_000  # copy k's keys are the original's + k * OFFSET
WARMUP, REQUESTS = 1, 5
# Rows people write, whose trail is rebuilt in their names: (model, who wrote it, when).
WRITTEN = [
    ("mar.Administration", "recorded_by_id", "recorded_at"),
    ("mar.Amendment", "amended_by_id", "amended_at"),
    ("mar.PrnFollowUp", "recorded_by_id", "recorded_at"),
    ("vitals.VitalReading", "taken_by_id", "taken_at"),
    ("inventory.StockMovement", "by_id", "at"),
    ("residents.Allergy", "recorded_by_id", "recorded_at"),
]


def _admin():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    )


def _exists(admin, name: str) -> bool:
    return bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def use_database(name: str) -> None:
    """Point Django's connection at another database (the next query opens it)."""
    from django.db import connection

    connection.close()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name


def build(name: str) -> None:
    """The demo in `name`_1x and the demo multiplied in `name`."""
    from django.core.management import call_command
    from django.db import connection

    admin = _admin()
    for db in (name, f"{name}_1x"):
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    use_database(name)
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    # Verifying an order queues a generation task on commit; there is no broker to ask here.
    settings.DOSE_GENERATION_QUEUE = "tests.seams.remember_generation"
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", "--force", stdout=quiet)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"demo seeded in {time.perf_counter() - start:.0f} s")
    connection.close()
    admin.execute(f'CREATE DATABASE "{name}_1x" TEMPLATE "{name}"')
    admin.close()
    start = time.perf_counter()
    multiply()
    print(f"multiplied by {COPIES + 1} in SQL in {time.perf_counter() - start:.0f} s")


# The ten-times world ---------------------------------------------------------------------------

# What is copied: (model, which of its rows: a condition on the row `t` given Maple Grove's id).
COPIED = [
    ("residents.Resident", "t.facility_id = %(maple)s"),
    ("residents.Allergy", "t.resident_id IN (SELECT id FROM _residents)"),
    ("residents.ResidentStatusChange", "t.resident_id IN (SELECT id FROM _residents)"),
    ("meds.Prescription", "t.resident_id IN (SELECT id FROM _residents)"),
    ("meds.HoldParameter", "t.prescription_id IN (SELECT id FROM _orders)"),
    ("meds.PrescriptionStatusChange", "t.prescription_id IN (SELECT id FROM _orders)"),
    ("mar.ScheduledDose", "t.resident_id IN (SELECT id FROM _residents)"),
    ("mar.Administration", "t.resident_id IN (SELECT id FROM _residents)"),
    ("mar.Amendment", "t.administration_id IN (SELECT id FROM _records)"),
    ("mar.PrnFollowUp", "t.administration_id IN (SELECT id FROM _records)"),
    ("vitals.VitalReading", "t.resident_id IN (SELECT id FROM _residents)"),
    # The records' links to their readings (`Administration.readings`).
    ("mar.Administration_readings", "t.administration_id IN (SELECT id FROM _records)"),
    ("mar.Alert", "t.resident_id IN (SELECT id FROM _residents)"),
    # House stock stays one per facility and medication: the residents' own supply is copied.
    ("inventory.StockItem", "t.resident_id IN (SELECT id FROM _residents)"),
    ("inventory.StockMovement", "t.item_id IN (SELECT id FROM _items)"),
    ("inventory.ControlledCountLine", "t.item_id IN (SELECT id FROM _items)"),
]
# Columns that are not foreign keys but must differ (or follow) in each copy.
SPECIAL = {
    ("residents_resident", "last_name"): "t.last_name || ' ' || k",
    ("residents_resident", "wristband_code"): "t.wristband_code || '-' || k",
    ("mar_administration", "idempotency_key"): "gen_random_uuid()",
    ("inventory_stockmovement", "administration_id"): f"t.administration_id + k * {OFFSET}",
    # Alert subjects name the rows they are about ("dose:123", "refusals:4:56").
    ("mar_alert", "subject"): (
        "(SELECT string_agg(CASE WHEN part ~ '^[0-9]+$' "
        f"THEN (part::bigint + k * {OFFSET})::text ELSE part END, ':' ORDER BY n) "
        "FROM unnest(string_to_array(t.subject, ':')) WITH ORDINALITY AS p(part, n))"
    ),
}


def multiply() -> None:
    """Copy Maple Grove's residents and everything they hold COPIES times, in SQL, with the
    triggers off (the audit trail of the written rows is then built by `write_trail`)."""
    from django.apps import apps
    from django.db import connection, transaction

    from accounts.models import Facility

    maple = Facility.objects.get(name=MAPLE).pk
    copied = {apps.get_model(label) for label, _ in COPIED}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no triggers, no FKs
        cursor.execute(
            "CREATE TEMP TABLE _residents ON COMMIT DROP AS "
            "SELECT id FROM residents_resident WHERE facility_id = %s",
            [maple],
        )
        cursor.execute(
            "CREATE TEMP TABLE _orders ON COMMIT DROP AS SELECT id FROM meds_prescription "
            "WHERE resident_id IN (SELECT id FROM _residents)"
        )
        cursor.execute(
            "CREATE TEMP TABLE _records ON COMMIT DROP AS SELECT id FROM mar_administration "
            "WHERE resident_id IN (SELECT id FROM _residents)"
        )
        cursor.execute(
            "CREATE TEMP TABLE _items ON COMMIT DROP AS SELECT id FROM inventory_stockitem "
            "WHERE resident_id IN (SELECT id FROM _residents)"
        )
        for label, which in COPIED:
            model = apps.get_model(label)
            table = model._meta.db_table
            columns, values = [], []
            for f in model._meta.concrete_fields:
                columns.append(f'"{f.column}"')
                if f.primary_key or (f.is_relation and f.related_model in copied):
                    values.append(f't."{f.column}" + k * {OFFSET}')
                else:
                    values.append(SPECIAL.get((table, f.column), f't."{f.column}"'))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {', '.join(values)} FROM {table} t "
                f"CROSS JOIN generate_series(1, {COPIES}) AS k WHERE {which % {'maple': maple}}"
            )
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        write_trail(cursor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def write_trail(cursor) -> None:
    """The events of the rows people write, one per row at its time, in its writer's name: one
    audit context per person and hour (as a request would have made them, in fewer rows)."""
    from django.apps import apps

    hours = " UNION ".join(
        f"SELECT {who} AS user_id, date_trunc('hour', {at}) AS hour "
        f"FROM {apps.get_model(label)._meta.db_table} WHERE {who} IS NOT NULL"
        for label, who, at in WRITTEN
    )
    cursor.execute(
        "CREATE TEMP TABLE _contexts ON COMMIT DROP AS "
        f"SELECT gen_random_uuid() AS id, user_id, hour FROM ({hours}) AS h"
    )
    cursor.execute(
        "INSERT INTO pghistory_context (id, metadata, created_at, updated_at) "
        "SELECT id, jsonb_build_object('user', user_id, 'url', '/medpass/'), hour, hour "
        "FROM _contexts"
    )
    for label, who, at in WRITTEN:
        model = apps.get_model(label)
        event_model = next(
            m
            for m in apps.get_models()
            if getattr(m, "pgh_tracked_model", None) is model and not m._meta.proxy
        )
        columns = [
            f.column for f in event_model._meta.concrete_fields if not f.column.startswith("pgh_")
        ]
        quoted = ", ".join(f'"{c}"' for c in columns)
        cursor.execute(f"TRUNCATE {event_model._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {event_model._meta.db_table} "
            f"(pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, {quoted}) "
            f"SELECT t.{at}, 'insert', t.id, c.id, {', '.join(f't.{c}' for c in columns)} "
            f"FROM {model._meta.db_table} t LEFT JOIN _contexts c "
            f"ON c.user_id = t.{who} AND c.hour = date_trunc('hour', t.{at})"
        )


# Measuring ------------------------------------------------------------------------------------


def measure(
    client, url: str, expect: int = 200, *, warmup: int = WARMUP, requests: int = REQUESTS
) -> tuple[float, int, int]:
    """Median server time in ms over `requests` requests after `warmup`, the query count and
    the size of the page (a streamed response is read whole: its time is the whole export's)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        assert response.status_code == expect, (url, response.status_code)
        return response.getvalue()

    for _ in range(warmup):
        get()
    with CaptureQueriesContext(connection) as captured:
        body = get()
    queries = len(captured)  # read now: the next request empties the connection's log
    times = []
    for _ in range(requests - 1):
        start = time.perf_counter()
        body = get()
        times.append(time.perf_counter() - start)
    if not times:  # one request: the one that counted the queries (a little slower)
        start = time.perf_counter()
        body = get()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, queries, len(body)


def nurse_client():
    from django.test import Client

    from accounts.models import User

    client = Client(HTTP_HOST="localhost")  # local settings' ALLOWED_HOSTS has no "testserver"
    nurse = User.objects.get(username="nurse")
    client.force_login(nurse, backend="accounts.backends.StaffBackend")
    return client


def world() -> dict:
    """What the report addresses need: the period, last month, the busiest staff member."""
    from django.db.models import Count
    from django.urls import reverse

    from accounts.models import Facility
    from mar.models import Administration, ScheduledDose
    from residents.models import Resident

    maple = Facility.objects.get(name=MAPLE)
    today = maple.local_today()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    period = f"start={(today - timedelta(days=29)).isoformat()}&end={today.isoformat()}"
    busiest = (
        Administration.objects.filter(facility=maple)
        .values("recorded_by")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()["recorded_by"]
    )
    return {
        "summary": (
            f"{Resident.objects.filter(facility=maple).count()} residents, "
            f"{ScheduledDose.objects.filter(facility=maple).count()} doses, "
            f"{Administration.objects.filter(facility=maple).count()} administrations"
        ),
        "error_rate": f"{reverse('report_error_rate')}?month={last_month}",
        "exceptions": f"{reverse('report_exceptions')}?{period}",
        "controlled": f"{reverse('report_controlled')}?{period}",
        "stock": reverse("stock_list"),
        "prn": f"{reverse('report_prn')}?{period}",
        "staff_audit": f"{reverse('report_audit_staff', args=[busiest])}?{period}",
        "month": last_month,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="measure the databases left")
    parser.add_argument(
        "--csv", action="store_true", help="also each 10x report's CSV export (once each)"
    )
    args = parser.parse_args()
    django.setup()
    from django.test import Client
    from django.urls import reverse

    name = settings.DATABASES["default"]["NAME"]
    admin = _admin()
    reuse = args.reuse and _exists(admin, name) and _exists(admin, f"{name}_1x")
    admin.close()
    if not reuse:
        build(name)
    rows = []  # (figure, goal ms or None, ms, queries, bytes)

    use_database(f"{name}_1x")
    client, links = nurse_client(), world()
    print(f"1x: {links['summary']}; error rate of {links['month']}")
    trivial = measure(client, reverse("facility_select"))
    rows.append(("trivial logged-in page (facility picker)", None, *trivial))
    anonymous = measure(Client(HTTP_HOST="localhost"), reverse("facility_select"), expect=302)
    rows.append(("the same page anonymous (redirect to login)", None, *anonymous))
    rows.append(("error rate, one month, demo (1x)", 300, *measure(client, links["error_rate"])))

    use_database(name)
    client, links = nurse_client(), world()
    print(f"10x: {links['summary']}")
    for figure, key in [
        ("error rate, one month, 10x", "error_rate"),
        ("exceptions, 30 days, 10x", "exceptions"),
        ("controlled-drug log, 30 days, 10x", "controlled"),
        ("stock, 10x", "stock"),
        ("PRN, 30 days, 10x", "prn"),
        ("staff audit, one person, 30 days, 10x", "staff_audit"),
    ]:
        rows.append((figure, 1000, *measure(client, links[key])))
    if args.csv:
        for figure, key in [
            ("CSV: error rate, one month, 10x", "error_rate"),
            ("CSV: exceptions, 30 days, 10x", "exceptions"),
            ("CSV: controlled-drug log, 30 days, 10x", "controlled"),
            ("CSV: PRN, 30 days, 10x", "prn"),
            ("CSV: staff audit, 30 days, 10x", "staff_audit"),
        ]:
            url = f"{links[key]}&format=csv" if "?" in links[key] else f"{links[key]}?format=csv"
            rows.append((figure, None, *measure(client, url, warmup=0, requests=1)))

    base = rows[0][2]
    print(
        f"\nmedian of {REQUESTS} requests after {WARMUP} warm-up (a CSV: one request), "
        "in-process test Client, "
        f"{os.environ['DJANGO_SETTINGS_MODULE']} with DEBUG={settings.DEBUG}"
    )
    print(
        f"{'figure':<44} {'goal':>8} {'measured':>10} {'ratio':>6} {'x trivial':>9} "
        f"{'queries':>7} {'KB':>6}"
    )
    for figure, goal, ms, queries, size in rows:
        goal_text = f"{goal} ms" if goal else "-"
        ratio = f"{ms / goal:.2f}" if goal else "-"
        verdict = "" if goal is None else ("meets" if ms <= goal else "MISSES")
        print(
            f"{figure:<44} {goal_text:>8} {ms:7.1f} ms {ratio:>6} {ms / base:8.1f}x "
            f"{queries:7d} {size / 1024:6.0f} {verdict}"
        )


if __name__ == "__main__":
    main()
