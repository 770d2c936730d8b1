"""The med pass on the cart: a refused submit stays at its card (htmx in place, or
POST/redirect/GET without JavaScript), one banner says why a dose cannot be given, and the board
passes a unit, a cart or the med tech's residents for the shift."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import Role
from core.errors import DomainError
from core.shifts import shift_at, shift_on
from mar import services
from mar.models import Administration, ScheduledDose
from residents import services as resident_services
from residents.models import Cart, ShiftAssignment
from tests.factories import (
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
)

NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # 08:05 in New York: the day shift
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _aide_certified(medtech_user):
    CertificationFactory(user=medtech_user, issued=date(2025, 1, 1), expires=date(2027, 1, 1))


@pytest.fixture
def order(resident):
    order = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Lisinopril", strength="10 mg")
    )
    services.doses_generate(now=NOW - timedelta(hours=5))
    return order


@pytest.fixture
def dose(order):
    return ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    )


@pytest.fixture
def prn(resident):
    return PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Painaway", strength="500 mg"),
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=4,
        indication="Pain",
    )


def _pass_url(resident, anchor=""):
    return reverse("resident_pass", args=[resident.pk]) + (f"#{anchor}" if anchor else "")


# A refused submit stays at its card --------------------------------------------------------


def test_refused_with_htmx_answers_the_card_alone_with_the_message_beside_the_reason(
    medtech_client, dose
):
    key = uuid.uuid4()
    response = medtech_client.post(
        reverse("dose_record", args=[dose.pk]),
        {"key": str(key), "status": "refused", "other_code": "asleep"},
        **HTMX,
    )
    card = response.content.decode()
    assert response.status_code == 200
    assert card.lstrip().startswith(
        f'<article class="dose card state-due has-error" id="dose-{dose.pk}"'
    )
    assert "<html" not in card
    reason_field = card[card.index(f'id="r-{dose.pk}"') :]
    assert reason_field.index("Enter the reason the dose was refused.") < reason_field.index(
        "</div>"
    )
    assert f'value="{key}"' in card  # the refused form keeps its one-time key
    assert '<option value="asleep" selected>' in card
    assert not Administration.objects.exists()
    # The same key then records once: the first record wins.
    for _ in range(2):
        medtech_client.post(
            reverse("dose_record", args=[dose.pk]),
            {"key": str(key), "status": "refused", "reason": "Asleep"},
            **HTMX,
        )
    assert Administration.objects.get().reason == "Asleep"


def test_refused_with_htmx_keeps_the_witness_name_but_never_the_password(
    medtech_client, resident, facility
):
    order = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Oxycodone", controlled_schedule="II")
    )
    services.doses_generate(now=NOW - timedelta(hours=5))
    dose = ScheduledDose.objects.get(prescription=order, due_at=NOW.replace(minute=0))
    member(facility, Role.NURSE, username="witnessnurse")
    response = medtech_client.post(
        reverse("dose_record", args=[dose.pk]),
        {
            "key": str(uuid.uuid4()),
            "status": "given",
            "witness_username": "witnessnurse",
            "witness_secret": "wrong-secret-123",
        },
        **HTMX,
    )
    card = response.content.decode()
    assert 'name="witness_username" autocomplete="off" value="witnessnurse"' in card
    assert "wrong-secret-123" not in card
    witness = card[card.index('class="witness"') : card.index('class="reasons"')]
    assert 'class="errorlist" role="alert">' in witness  # the refusal stands beside the witness
    assert not Administration.objects.exists()


def test_refused_without_javascript_redirects_to_the_card_and_shows_it_there_once(
    medtech_client, resident, dose
):
    response = medtech_client.post(
        reverse("dose_record", args=[dose.pk]),
        {"key": str(uuid.uuid4()), "status": "held", "late_reason": "Was at breakfast"},
    )
    assert response.status_code == 302
    assert response["Location"] == _pass_url(resident, f"dose-{dose.pk}")
    page = medtech_client.get(response["Location"]).content.decode()
    card = page[page.index(f'id="dose-{dose.pk}"') :]
    assert "Enter the reason the dose was held." in card[: card.index("</article>")]
    assert "has-error" in page
    again = medtech_client.get(_pass_url(resident)).content.decode()
    assert "Enter the reason the dose was held." not in again  # the next GET only
    assert not Administration.objects.exists()


def test_a_refusal_keeps_no_password_in_the_session(medtech_client, prn):
    medtech_client.post(
        reverse("prn_give", args=[prn.pk]),
        {"key": str(uuid.uuid4()), "prn_reason": "", "witness_secret": "s3cret-pin"},
    )
    stored = medtech_client.session["med_pass_refusal"]
    assert "s3cret-pin" not in str(stored)
    assert stored["anchor"] == f"prn-{prn.pk}"


def test_success_with_htmx_swaps_the_page_content_with_its_message(medtech_client, dose):
    response = medtech_client.post(
        reverse("dose_record", args=[dose.pk]),
        {"key": str(uuid.uuid4()), "status": "given"},
        **HTMX,
    )
    assert response["HX-Retarget"] == "#content"
    assert response["HX-Reselect"] == "#content"
    assert "Given: Lisinopril 10 mg tablet at 08:05." in response.content.decode()
    assert Administration.objects.count() == 1


def test_prn_too_soon_with_htmx_keeps_the_reason_typed(medtech_client, prn):
    url = reverse("prn_give", args=[prn.pk])
    medtech_client.post(url, {"key": str(uuid.uuid4()), "prn_reason": "Back pain"})
    response = medtech_client.post(
        url, {"key": str(uuid.uuid4()), "prn_reason": "Still hurts"}, **HTMX
    )
    card = response.content.decode()
    assert card.lstrip().startswith('<article class="dose card has-error"')
    assert "Not yet: last given at" in card and "Next allowed at" in card
    assert 'value="Still hurts"' in card
    assert Administration.objects.filter(prescription=prn).count() == 1


def test_prn_refused_without_javascript_lands_at_the_prn_card(medtech_client, resident, prn):
    response = medtech_client.post(
        reverse("prn_give", args=[prn.pk]), {"key": str(uuid.uuid4()), "prn_reason": ""}
    )
    assert response["Location"] == _pass_url(resident, f"prn-{prn.pk}")
    page = medtech_client.get(response["Location"]).content.decode()
    card = page[page.index(f'id="prn-{prn.pk}"') :]
    assert "Enter why the PRN is given" in card[: card.index("</article>")]


def test_followup_refused_lands_at_its_card_with_the_note_kept(
    medtech_client, facility, resident, prn
):
    facility.__class__.objects.filter(pk=facility.pk).update(idle_logout_minutes=120)
    medtech_client.post(
        reverse("prn_give", args=[prn.pk]), {"key": str(uuid.uuid4()), "prn_reason": "Pain"}
    )
    given = Administration.objects.get()
    with time_machine.travel(NOW + timedelta(minutes=45), tick=False):
        response = medtech_client.post(
            reverse("prn_followup", args=[given.pk]), {"note": "Resting, calmer"}
        )
        assert response["Location"] == _pass_url(resident, f"followup-{given.pk}")
        page = medtech_client.get(response["Location"]).content.decode()
    card = page[page.index(f'id="followup-{given.pk}"') :]
    card = card[: card.index("</article>")]
    assert "Choose effective, partly effective or not effective." in card
    assert 'value="Resting, calmer"' in card


# One banner says why a dose cannot be given ---------------------------------------------------


def test_an_upcoming_dose_shows_one_banner_from_the_selector(medtech_client, resident):
    PrescriptionFactory(resident=resident, times=[datetime(2026, 1, 1, 10, 0).time()])
    services.doses_generate(now=NOW - timedelta(hours=5))
    page = medtech_client.get(_pass_url(resident)).content.decode()
    assert page.count("banner warn blocked") == 1
    assert "Not yet: the window opens at 09:00. A nurse may give it early." in page


# What the med tech is passing -----------------------------------------------------------------


@pytest.fixture
def two_units(facility, unit):
    south = UnitFactory(facility=facility, name="South Wing")
    north_resident = ResidentFactory(facility=facility, unit=unit, last_name="Northman")
    south_resident = ResidentFactory(facility=facility, unit=south, last_name="Southey")
    for resident in (north_resident, south_resident):
        PrescriptionFactory(resident=resident)
    services.doses_generate(now=NOW - timedelta(hours=5))
    return {"north": north_resident, "south": south_resident, "south_unit": south}


def test_the_chosen_unit_sticks_for_the_session_and_is_named_on_board_and_resident_page(
    medtech_client, two_units
):
    board = medtech_client.get(reverse("board")).content.decode()
    assert "Northman" in board and "Southey" in board
    assert "Passing: <strong>The whole facility</strong>" in board
    unit = two_units["south_unit"]
    response = medtech_client.post(reverse("passing_choose"), {"passing": f"unit:{unit.pk}"})
    assert response["Location"] == reverse("board")
    board = medtech_client.get(reverse("board")).content.decode()
    assert "Southey" in board and "Northman" not in board
    assert "Passing: <strong>South Wing (unit)</strong>" in board
    polled = medtech_client.get(reverse("board") + "?poll=1", **HTMX).content.decode()
    assert "Southey" in polled and "Northman" not in polled
    page = medtech_client.get(_pass_url(two_units["south"])).content.decode()
    assert "Passing: <strong>South Wing (unit)</strong>" in page


def test_a_cart_passes_its_residents(nurse_client, nurse_user, medtech_client, facility, two_units):
    response = nurse_client.post(reverse("cart_list"), {"name": "Cart A"})
    cart = Cart.objects.get(facility=facility, name="Cart A")
    assert response["Location"] == reverse("cart_edit", args=[cart.pk])
    nurse_client.post(
        reverse("cart_edit", args=[cart.pk]),
        {"name": "Cart A", "residents": [two_units["north"].pk]},
    )
    assert list(cart.residents.all()) == [two_units["north"]]
    page = nurse_client.get(reverse("cart_list")).content.decode()
    assert "1 present resident" in page
    medtech_client.post(reverse("passing_choose"), {"passing": f"cart:{cart.pk}"})
    board = medtech_client.get(reverse("board")).content.decode()
    assert "Northman" in board and "Southey" not in board


def test_a_cart_name_is_unique_in_the_facility(nurse_client, facility):
    Cart.objects.create(facility=facility, name="Cart A")
    page = nurse_client.post(reverse("cart_list"), {"name": "cart a"}).content.decode()
    assert "already has a cart named “cart a”" in page
    assert Cart.objects.filter(facility=facility).count() == 1


def test_another_facilitys_unit_is_not_a_choice(medtech_client, other_facility, two_units):
    elsewhere = UnitFactory(facility=other_facility, name="Elsewhere")
    response = medtech_client.post(reverse("passing_choose"), {"passing": f"unit:{elsewhere.pk}"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "med_pass_passing" not in medtech_client.session


def test_med_tech_takes_a_unit_for_this_shift_and_the_board_lists_only_them(
    medtech_client, medtech_user, unit, two_units
):
    page = medtech_client.get(reverse("shift_assignments")).content.decode()
    assert "Day shift Wed 2026-06-10, 07:00–15:00" in page
    response = medtech_client.post(
        reverse("shift_assignments"),
        {"shift": shift_at(NOW, two_units["north"].facility.shifts).key, "take": f"unit:{unit.pk}"},
    )
    assert response["Location"] == reverse("board")
    assert set(
        ShiftAssignment.objects.filter(med_tech=medtech_user).values_list("resident", flat=True)
    ) == {two_units["north"].pk}
    board = medtech_client.get(reverse("board")).content.decode()
    assert "Passing: <strong>My residents, day shift 07:00–15:00</strong>" in board
    assert "Northman" in board and "Southey" not in board


def test_a_med_tech_given_residents_passes_them_until_choosing_otherwise(
    medtech_client, medtech_user, nurse_user, facility, two_units
):
    resident_services.shift_assignment_set(
        actor=nurse_user,
        facility=facility,
        med_tech=medtech_user,
        shift=shift_at(NOW, facility.shifts),
        residents=[two_units["south"]],
        now=NOW,
    )
    board = medtech_client.get(reverse("board")).content.decode()
    assert "Passing: <strong>My residents, day shift 07:00–15:00</strong>" in board
    assert "Southey" in board and "Northman" not in board
    medtech_client.post(reverse("passing_choose"), {"passing": "all"})
    board = medtech_client.get(reverse("board")).content.decode()
    assert "Southey" in board and "Northman" in board


def test_my_residents_empty_says_how_to_take_some(medtech_client, two_units):
    medtech_client.post(reverse("passing_choose"), {"passing": "mine"})
    board = medtech_client.get(reverse("board")).content.decode()
    assert "No residents are assigned to you for this shift." in board
    assert "Northman" not in board


def test_a_resident_taken_by_another_med_tech_is_refused_by_name(
    medtech_client, facility, nurse_user, two_units
):
    other = member(facility, Role.MED_TECH, first_name="Jordan", last_name="Lee")
    shift = shift_at(NOW, facility.shifts)
    resident_services.shift_assignment_set(
        actor=nurse_user,
        facility=facility,
        med_tech=other,
        shift=shift,
        residents=[two_units["north"]],
        now=NOW,
    )
    page = medtech_client.post(
        reverse("shift_assignments"),
        {"shift": shift.key, "residents": [two_units["north"].pk]},
    ).content.decode()
    assert "Already assigned for this shift:" in page and "to Jordan Lee" in page
    assert ShiftAssignment.objects.get().med_tech == other


def test_med_tech_takes_residents_for_a_later_shift_and_a_nurse_assigns_others(
    medtech_client, nurse_client, medtech_user, facility, two_units
):
    evening = shift_on(date(2026, 6, 10), "evening", facility.shifts)
    response = medtech_client.post(
        reverse("shift_assignments"),
        {"shift": evening.key, "residents": [two_units["south"].pk]},
    )
    assert response.status_code == 302
    taken = ShiftAssignment.objects.get()
    assert (taken.shift_name, taken.med_tech, taken.assigned_by) == (
        "evening",
        medtech_user,
        medtech_user,
    )
    other = member(facility, Role.MED_TECH, username="nightaide")
    nurse_client.post(
        reverse("shift_assignments"),
        {"shift": evening.key, "med_tech": other.pk, "residents": [two_units["north"].pk]},
    )
    assert ShiftAssignment.objects.get(med_tech=other).resident == two_units["north"]


def test_a_med_tech_cannot_assign_another_or_a_shift_that_ended(medtech_user, facility, two_units):
    other = member(facility, Role.MED_TECH)
    with pytest.raises(DomainError, match="takes residents for themselves"):
        resident_services.shift_assignment_set(
            actor=medtech_user,
            facility=facility,
            med_tech=other,
            shift=shift_at(NOW, facility.shifts),
            residents=[two_units["north"]],
            now=NOW,
        )
    night = shift_on(date(2026, 6, 9), "night", facility.shifts)  # ended at 07:00 today
    with pytest.raises(DomainError, match="has ended"):
        resident_services.shift_assignment_set(
            actor=medtech_user,
            facility=facility,
            med_tech=medtech_user,
            shift=night,
            residents=[two_units["north"]],
            now=NOW,
        )


def test_the_database_allows_one_med_tech_per_resident_per_shift(
    medtech_user, nurse_user, facility, resident
):
    other = member(facility, Role.MED_TECH)
    fields = {"facility": facility, "shift_day": date(2026, 6, 10), "shift_name": "day"}
    ShiftAssignment.objects.create(
        med_tech=medtech_user, resident=resident, assigned_by=nurse_user, **fields
    )
    with pytest.raises(IntegrityError):
        ShiftAssignment.objects.create(
            med_tech=other, resident=resident, assigned_by=nurse_user, **fields
        )
