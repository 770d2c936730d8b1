"""Long report lists page on screen, keep their filters in the page links, and export whole."""

from datetime import datetime

from django.urls import reverse

from tests.factories import MedicationFactory, PrescriptionFactory, scheduled_dose


def _body(html: str) -> str:
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_the_exceptions_report_pages_on_screen_and_exports_every_row(nurse_client, resident):
    order = PrescriptionFactory(resident=resident, medication=MedicationFactory(name="Donepezil"))
    for day in range(1, 29):
        for hour in (8, 20):
            scheduled_dose(order, datetime(2026, 10, day, hour), state="missed")
    url = reverse("report_exceptions")
    period = {"start": "2026-10-01", "end": "2026-10-31"}

    first = nurse_client.get(url, period).text
    second = nurse_client.get(url, {**period, "page": 2}).text
    rows = nurse_client.get(url, {**period, "format": "csv"}).content.decode().splitlines()

    assert "Page 1 of 2 (56 in all)" in first
    assert "start=2026-10-01" in second.split('class="pagination"')[1]  # filters kept
    assert _body(first).count("<tr>") == 50 and _body(second).count("<tr>") == 6
    assert len(rows) == 1 + 56
