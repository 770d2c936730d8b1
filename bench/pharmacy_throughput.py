"""Benchmark the pharmacy interface's MLLP listener (prints; never fails CI).

    .venv/bin/python bench/pharmacy_throughput.py   # DATABASE_URL defaults to .../medtech_bench_hl7

1,000 RDE^O11 order messages sent back to back over one connection with python-hl7's asyncio
client (`open_hl7_connection`) to `manage.py hl7_listen`, run as its own process as `make run`
runs it: each message is sent when the previous one's ACK has arrived. Prints messages per
second and the ACK latency (p50 / p95 / max, from the client's send to its ACK read), then checks
that every message was stored (and acknowledged AA). The listener stores each frame in its own
committed transaction before it writes the ACK, and asks a worker to process it after the commit
(the Celery task is published to REDIS_URL; no worker runs here, the queue is left to expire).
The database named in DATABASE_URL is dropped and recreated.
"""

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_hl7")

import django  # noqa: E402

MESSAGES = 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build() -> None:
    from datetime import date

    from django.utils import timezone

    from accounts.models import Facility, Unit
    from meds.models import Medication
    from pharmacy.models import PatientLink, PharmacyInterface
    from residents.models import Resident

    facility = Facility.objects.create(name="Bench Grove", timezone="America/New_York")
    unit = Unit.objects.create(facility=facility, name="North")
    interface = PharmacyInterface.objects.create(
        facility=facility, sending_application="MAPLE_RX", sending_facility="MAPLE_GROVE"
    )
    Medication.objects.create(
        name="Metoprolol tartrate", strength="25 mg", form="tablet", ndc="0378-0018-01"
    )
    for number in range(10):
        resident = Resident.objects.create(
            facility=facility,
            unit=unit,
            room=str(100 + number),
            first_name=f"Pat{number}",
            last_name="Bench",
            date_of_birth=date(1940, 1, 1),
            admission_date=date(2024, 1, 1),
            present_since=timezone.now(),
        )
        PatientLink.objects.create(
            interface=interface,
            pharmacy_patient_id=f"RX{number:04d}",
            resident=resident,
            linked_at=timezone.now(),
        )


def order(number: int) -> str:
    return (
        "\r".join(
            [
                "MSH|^~\\&|MAPLE_RX|MAPLE_GROVE|MEDTECH_EMAR|BENCH|20261204120000||RDE^O11^RDE_O11|"
                f"BENCH{number:05d}|P|2.5.1||||||UNICODE UTF-8",
                f"PID|1||RX{number % 10:04d}^^^MAPLE_RX^MR||Bench^Pat{number % 10}||19400101|F",
                f"ORC|NW|P{number}|F{number}||||||20261204115500|||1234^Smith^John^^^Dr",
                "TQ1|1||BID|0800~2000|||20261205",
                f"RXE|^1^BID|00378001801^Metoprolol tartrate 25 mg tablet^NDC|1||TAB^tablet|TAB|"
                f"^Take with food||||60|TAB|||RXF{number}",
                "RXR|PO^oral^HL70162",
            ]
        )
        + "\r"
    )


async def exchange(port: int) -> tuple[float, list[float], list[str]]:
    import hl7
    from hl7.mllp import open_hl7_connection

    reader, writer = await open_hl7_connection("127.0.0.1", port, encoding="utf-8")
    latencies, codes = [], []
    started = time.perf_counter()
    for number in range(MESSAGES):
        sent = time.perf_counter()
        writer.writemessage(hl7.parse(order(number)))
        await writer.drain()
        ack = await asyncio.wait_for(reader.readmessage(), 10)
        latencies.append(time.perf_counter() - sent)
        codes.append(str(ack.segment("MSA")[1]))
    elapsed = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    return elapsed, latencies, codes


def main() -> None:
    from bench.pages import recreate_database

    django.setup()
    recreate_database()
    from django.core.management import call_command
    from django.db import connection

    print("migrating a scratch database…", flush=True)
    call_command("migrate", verbosity=0)
    build()
    connection.close()
    port = free_port()
    listener = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "hl7_listen", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = listener.stdout.readline()
        assert "HL7 listener on" in line, line
        elapsed, latencies, codes = asyncio.run(exchange(port))
    finally:
        listener.terminate()
        listener.wait(timeout=30)

    from pharmacy.models import InboundMessage

    stored = InboundMessage.objects.filter(control_id__startswith="BENCH").count()
    ms = sorted(1000 * latency for latency in latencies)
    percentile = statistics.quantiles(ms, n=100)
    print(f"\n{MESSAGES} RDE^O11 messages back to back over one connection (MLLP, loopback)")
    print(f"  throughput        {MESSAGES / elapsed:8.1f} messages/s ({elapsed:.2f} s in all)")
    print(f"  ACK latency p50   {statistics.median(ms):8.2f} ms")
    print(f"  ACK latency p95   {percentile[94]:8.2f} ms")
    print(f"  ACK latency max   {ms[-1]:8.2f} ms")
    print(f"  acknowledged AA   {codes.count('AA'):8d} of {MESSAGES}")
    print(f"  stored            {stored:8d} of {MESSAGES}")
    print("goal: every message stored and acknowledged; each ACK within one second")


if __name__ == "__main__":
    main()
