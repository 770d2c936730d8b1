"""Benchmark the med pass over HTTP, served by gunicorn on production settings (prints; never
fails CI).

    .venv/bin/python bench/med_pass.py [--reuse] [--seconds 20] [--clients 20]
    # DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/medtech_bench_http

The world is bench/pages.py's: the demo (40 residents in Maple Grove) plus one resident with
12 orders, at 08:05 New York time on a morning med pass; gunicorn (2 sync workers, DEBUG off,
bench/settings.py = the production settings plus three reference views) serves it with its
clock at that moment. Every figure is a ratio to a reference measured in the same run:

- the floor: a constant view logged in / the same view anonymous (goal <= 2x);
- the med pass pages (board, its htmx refresh, the 12-order resident page) / a blank page in
  the product's layout, logged in (goal <= 3x); the median of 200 sequential requests each;
- mixed load: N clients each loop over the board, a resident's page and recording one of that
  resident's open doses (htmx POST); its requests per second / the one-query anonymous view's
  under the same N clients (goal >= 25%), its p95 (goal <= 100 ms), errors (goal 0), and the
  records in the database afterwards (one per POST).

The database is dropped and rebuilt (about 15 minutes), and a copy of it kept as
<name>_built; --reuse starts from that copy instead, so every run records the same doses.
"""

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_http")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

# A month of history behind the pass, as a facility has (the resident page reads its recent part).
os.environ.setdefault("DEMO_HISTORY_DAYS", "35")
from bench import pages  # noqa: E402  (sets up the environment for the build)

HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", "8765"))
SEQUENTIAL = 200
PASSWORD = "medtech-demo"


# A small HTTP client: one connection per request (gunicorn's sync workers close each one).


class Session:
    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
        sent = {"Host": HOST, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        connection.close()
        return response.status, content

    def login(self, username: str) -> None:
        status, page = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        status, _ = self.request(
            "POST",
            "/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert status == 302 and "sessionid" in self.cookies, f"login failed ({status})"


def timed(session: Session, path: str, headers=None) -> float:
    start = time.perf_counter()
    status, _ = session.request("GET", path, headers=headers)
    elapsed = time.perf_counter() - start
    assert status == 200, f"{path}: {status}"
    return elapsed


def median_ms(session: Session, path: str, headers=None) -> float:
    for _ in range(10):
        timed(session, path, headers)
    return statistics.median(timed(session, path, headers) for _ in range(SEQUENTIAL)) * 1000


# The world ----------------------------------------------------------------------------------


def _server():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    server = psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    )
    return server, db["NAME"]


def build_or_reuse(reuse: bool) -> None:
    """Build the world once and keep a copy of it (`<name>_built`); --reuse starts each run from
    that copy, so every run has the same open doses to record."""
    import django
    from django.core.management import call_command
    from django.db import connections

    if reuse:
        server, name = _server()
        if server.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [f"{name}_built"]
        ).fetchone():
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{name}_built"')
            server.close()
            django.setup()
            call_command("migrate", verbosity=0)  # the code may have moved on since
            print("reusing the built database")
            return
        server.close()
    pages.recreate_database()
    django.setup()
    import time_machine

    call_command("migrate", verbosity=0)
    with time_machine.travel(pages.NOW, tick=True):
        start = time.perf_counter()
        pages.build_demo()
        print(
            f"built the demo at {pages.NOW:%Y-%m-%d %H:%M} UTC "
            f"in {time.perf_counter() - start:.0f} s"
        )
    connections.close_all()
    server, name = _server()
    server.execute(f'DROP DATABASE IF EXISTS "{name}_built" WITH (FORCE)')
    server.execute(f'CREATE DATABASE "{name}_built" TEMPLATE "{name}"')
    server.close()


def open_doses() -> dict[int, list[int]]:
    """Maple Grove's doses open at NOW that a med tech records with one tap (no vitals to take,
    no witness), by resident."""
    from mar.models import ScheduledDose

    doses = ScheduledDose.objects.filter(
        facility__name="Maple Grove Assisted Living",
        state__in=["due", "overdue"],
        window_opens_at__lte=pages.NOW,
        window_closes_at__gte=pages.NOW,
        prescription__hold_parameters__isnull=True,
        prescription__medication__controlled_schedule="",
    ).values_list("resident_id", "pk")
    by_resident: dict[int, list[int]] = {}
    for resident_id, dose_id in doses:
        by_resident.setdefault(resident_id, []).append(dose_id)
    return by_resident


def records_count() -> int:
    from mar.models import Administration

    return Administration.objects.count()


# The server ---------------------------------------------------------------------------------


def start_gunicorn() -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-not-a-secret",
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "BENCH_NOW": pages.NOW.isoformat(),
        "BENCH_BIND": f"{HOST}:{PORT}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "bench/gunicorn_conf.py", "medtech.wsgi"],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            Session().request("GET", "/bench/constant")
            return server
        except OSError:
            time.sleep(0.1)  # waiting for the port to open, not for a result
    server.terminate()
    raise SystemExit("gunicorn did not start")


# Load ---------------------------------------------------------------------------------------


def load(signed_in: bool, clients: int, seconds: float, work) -> tuple[int, list[float], int]:
    """Run `work(session, latencies)` in a loop on `clients` threads for `seconds`; return the
    requests made, their latencies and the errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    # Each client is a med tech signed in before the clock starts (signing in hashes a
    # password, deliberately slow).
    sessions = [Session() for _ in range(clients)]
    for session in sessions:
        if signed_in:
            session.login("medtech")

    def client(number: int) -> None:
        session = sessions[number]
        mine: list[float] = []
        while time.perf_counter() < stop:
            try:
                if not work(session, mine, number):
                    break
            except Exception:  # counted: an error is a figure here
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    stop = start + seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, errors[0]


def p95(latencies: list[float]) -> float:
    if len(latencies) < 2:
        return float("nan")
    return statistics.quantiles(latencies, n=20)[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    build_or_reuse(args.reuse)
    from residents.models import Resident

    twelve = Resident.objects.get(first_name="Twelve", last_name="Orders")
    doses = open_doses()
    server = start_gunicorn()
    try:
        anonymous, medtech = Session(), Session()
        medtech.login("medtech")
        htmx = {"HX-Request": "true"}
        constant_anon = median_ms(anonymous, "/bench/constant")
        constant_in = median_ms(medtech, "/bench/constant")
        blank = median_ms(medtech, "/bench/blank")
        board = median_ms(medtech, "/medpass/")
        board_htmx = median_ms(medtech, "/medpass/?poll=1", htmx)
        resident = median_ms(medtech, f"/medpass/residents/{twelve.pk}/")

        def one_query(session, latencies, number):
            start = time.perf_counter()
            status, _ = session.request("GET", "/bench/one-query")
            latencies.append(time.perf_counter() - start)
            return status == 200

        reference_rps, _, reference_errors = load(False, args.clients, args.seconds, one_query)

        queue = [(resident_id, dose) for resident_id, ids in doses.items() for dose in ids]
        random.Random(1).shuffle(queue)
        queue_lock = threading.Lock()
        posts = [0]
        before = records_count()

        def med_pass(session, latencies, number):
            with queue_lock:
                if not queue:
                    return False
                resident_id, dose = queue.pop()
            for path in ("/medpass/", f"/medpass/residents/{resident_id}/"):
                start = time.perf_counter()
                status, _ = session.request("GET", path)
                latencies.append(time.perf_counter() - start)
                assert status == 200, (path, status)
            start = time.perf_counter()
            status, _ = session.request(
                "POST",
                f"/medpass/doses/{dose}/record/",
                {"status": "given", "key": str(uuid.uuid4())},
                headers=htmx,
            )
            latencies.append(time.perf_counter() - start)
            assert status == 200, ("record", status)
            with queue_lock:
                posts[0] += 1
            return True

        mixed_rps, mixed_latencies, mixed_errors = load(True, args.clients, args.seconds, med_pass)
        records = records_count() - before
    finally:
        server.terminate()
        server.wait()

    rows = [
        ("constant view, anonymous", constant_anon, None, ""),
        ("constant view, logged in / anonymous", constant_in, constant_in / constant_anon, 2.0),
        ("blank page in the layout, logged in", blank, None, ""),
        ("med pass board (40 residents) / blank", board, board / blank, 3.0),
        ("board htmx refresh / blank", board_htmx, board_htmx / blank, 3.0),
        ("resident med pass (12 orders) / blank", resident, resident / blank, 3.0),
    ]
    print(f"\ngunicorn, 2 sync workers, production settings; median of {SEQUENTIAL} requests")
    print(f"{'figure':<42} {'median':>9} {'ratio':>7} {'goal':>7}")
    for label, ms, ratio, goal in rows:
        shown = f"{ratio:6.2f}x" if ratio else ""
        verdict = "" if not goal else ("OK" if ratio <= goal else "SLOW")
        goal_text = f"<= {goal:g}x" if goal else ""
        print(f"{label:<42} {ms:6.2f} ms {shown:>7} {goal_text:>7} {verdict}")
    share = mixed_rps / reference_rps if reference_rps else 0.0
    print(f"\nmixed med pass, {args.clients} clients, up to {args.seconds:g} s:")
    print(f"  one-query view, anonymous: {reference_rps:7.1f} req/s ({reference_errors} errors)")
    print(
        f"  med pass (board, resident page, record): {mixed_rps:7.1f} req/s = {share:.0%} "
        f"(goal >= 25%) {'OK' if share >= 0.25 else 'SLOW'}"
    )
    print(
        f"  p95 {p95(mixed_latencies):.0f} ms (goal <= 100 ms) "
        f"{'OK' if p95(mixed_latencies) <= 100 else 'SLOW'}; errors {mixed_errors} (goal 0); "
        f"{posts[0]} posts, {records} records"
    )


if __name__ == "__main__":
    main()
