"""The resident pages as staff use them: admit, find, move, discharge, allergies, audit."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from residents.models import (
    AllergyStatus,
    Resident,
    ResidentStatus,
    ResidentStatusChange,
)
from tests.factories import AllergyFactory, ResidentFactory, UnitFactory


def png_upload(name="face.png", size=(16, 16), noise=False) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (30, 120, 200))
    if noise:
        image = Image.effect_noise(size, 100).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def admit_form(home_unit, **overrides) -> dict:
    data = {
        "first_name": "Alan",
        "last_name": "Turing",
        "preferred_name": "",
        "date_of_birth": "1935-06-23",
        "unit": home_unit.pk,
        "room": "12B",
        "code_status": "full_code",
        "physician_name": "Dr. Watson",
        "physician_phone": "555-0100",
        "pharmacy": "Corner Pharmacy",
        "admission_date": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def _read(response) -> bytes:
    return b"".join(response.streaming_content)


def test_admin_admits_a_resident_with_a_photo_and_lands_on_the_profile(
    admin_client, facility, unit
):
    response = admin_client.post(
        reverse("resident_admit"), admit_form(unit, photo=png_upload()), follow=True
    )

    resident = Resident.objects.get(last_name="Turing")
    assert response.redirect_chain == [(reverse("resident_detail", args=[resident.pk]), 302)]
    content = response.content.decode()
    assert "Alan Turing" in content
    assert "Alan Turing admitted." in content
    assert f'src="{reverse("resident_photo", args=[resident.pk])}"' in content
    assert resident.facility == facility
    assert resident.status == ResidentStatus.ACTIVE
    assert resident.admission_date == timezone.now().astimezone(facility.tz).date()
    admission = resident.status_changes.get()
    assert (admission.from_status, admission.to_status) == ("", ResidentStatus.ACTIVE)


def test_the_photo_is_served_only_to_the_facilitys_staff(
    admin_client, medtech_client, outsider_client, client, unit
):
    upload = png_upload()
    admin_client.post(reverse("resident_admit"), admit_form(unit, photo=upload))
    resident = Resident.objects.get(last_name="Turing")
    url = reverse("resident_photo", args=[resident.pk])

    staff = medtech_client.get(url)
    assert staff.status_code == 200
    assert _read(staff).startswith(b"\x89PNG")
    assert staff["Cache-Control"] == "private, max-age=300"
    assert outsider_client.get(url).status_code == 404
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))


def test_the_photo_bytes_are_the_uploaded_image(admin_client, unit):
    upload = png_upload()
    sent = upload.read()
    upload.seek(0)
    admin_client.post(reverse("resident_admit"), admit_form(unit, photo=upload))
    resident = Resident.objects.get(last_name="Turing")

    served = _read(admin_client.get(reverse("resident_photo", args=[resident.pk])))

    assert served == sent
    assert Image.open(io.BytesIO(served)).size == (16, 16)


def test_a_resident_without_a_photo_shows_initials_and_has_no_photo_url(admin_client, resident):
    content = admin_client.get(reverse("resident_detail", args=[resident.pk])).content.decode()

    assert reverse("resident_photo", args=[resident.pk]) not in content
    assert admin_client.get(reverse("resident_photo", args=[resident.pk])).status_code == 404


def _future(days=1) -> str:
    return (timezone.now().date() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"date_of_birth": "<future>"},
            "date_of_birth",
            "Date of birth must be a past date after 1900.",
        ),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"last_name": "   "}, "last_name", "This field is required."),
        (
            {"photo": SimpleUploadedFile("face.png", b"not an image", content_type="image/png")},
            "photo",
            "Upload a valid image",
        ),
        (
            {"admission_date": "<future>"},
            "admission_date",
            "Admission date cannot be in the future.",
        ),
    ],
    ids=["future-birth", "empty-first-name", "blank-last-name", "not-an-image", "future-admission"],
)
def test_bad_admission_input_is_explained_beside_the_field_and_saves_nothing(
    admin_client, unit, overrides, field, message
):
    overrides = {k: (_future() if v == "<future>" else v) for k, v in overrides.items()}

    response = admin_client.post(reverse("resident_admit"), admit_form(unit, **overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert message in response.content.decode()
    assert not Resident.objects.exists()


def test_an_oversize_photo_is_refused_beside_the_field(admin_client, unit, settings):
    settings.PHOTO_MAX_BYTES = 200

    response = admin_client.post(
        reverse("resident_admit"), admit_form(unit, photo=png_upload(size=(64, 64), noise=True))
    )

    assert response.status_code == 200
    assert any("The photo is too large" in e for e in response.context["form"].errors["photo"])
    assert not Resident.objects.exists()


def test_a_unit_of_another_facility_is_refused(admin_client, unit, other_facility):
    elsewhere = UnitFactory(facility=other_facility, name="Elsewhere")

    response = admin_client.post(reverse("resident_admit"), admit_form(unit, unit=elsewhere.pk))

    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors["unit"][0]
    assert "Elsewhere" not in response.content.decode()  # not offered in the unit list either
    assert not Resident.objects.exists()


def test_admin_edits_a_residents_room(admin_client, resident, unit):
    data = admit_form(
        unit,
        first_name=resident.first_name,
        last_name=resident.last_name,
        date_of_birth=resident.date_of_birth.isoformat(),
        admission_date=resident.admission_date.isoformat(),
        room="305",
    )

    response = admin_client.post(reverse("resident_edit", args=[resident.pk]), data, follow=True)

    assert "Resident details saved." in response.content.decode()
    assert "305, North Wing" in response.content.decode()
    resident.refresh_from_db()
    assert resident.room == "305"


# --- the list -----------------------------------------------------------------------------


@pytest.fixture
def ward(facility, unit):
    south = UnitFactory(facility=facility, name="South Wing")
    return {
        "ada": ResidentFactory(
            facility=facility, unit=unit, first_name="Ada", last_name="Byron", room="101"
        ),
        "alan": ResidentFactory(
            facility=facility,
            unit=south,
            first_name="Alan",
            last_name="Turing",
            room="202",
            status=ResidentStatus.LOA,
        ),
        "grace": ResidentFactory(
            facility=facility, unit=south, first_name="Grace", last_name="Hopper", room="1010"
        ),
        "south": south,
    }


def _names(response) -> set[str]:
    return {resident.last_name for resident in response.context["page"]}


def test_the_list_searches_by_name(medtech_client, ward):
    response = medtech_client.get(reverse("resident_list"), {"q": "tur"})

    assert _names(response) == {"Turing"}
    assert "Turing, Alan" in response.content.decode()


def test_the_list_searches_by_exact_room(medtech_client, ward):
    response = medtech_client.get(reverse("resident_list"), {"q": "101"})

    assert _names(response) == {"Byron"}  # not room 1010


def test_the_list_filters_by_unit_and_status(medtech_client, ward):
    by_unit = medtech_client.get(reverse("resident_list"), {"unit": ward["south"].pk})
    by_status = medtech_client.get(reverse("resident_list"), {"status": "loa"})
    both = medtech_client.get(
        reverse("resident_list"), {"unit": ward["south"].pk, "status": "active"}
    )

    assert _names(by_unit) == {"Turing", "Hopper"}
    assert _names(by_status) == {"Turing"}
    assert _names(both) == {"Hopper"}


def test_the_list_ignores_a_nonsense_filter(medtech_client, ward):
    response = medtech_client.get(reverse("resident_list"), {"unit": "abc", "status": "gone"})

    assert _names(response) == {"Byron", "Turing", "Hopper"}


def test_the_list_never_shows_another_facilitys_residents(outsider_client, ward):
    response = outsider_client.get(reverse("resident_list"))

    assert _names(response) == set()
    assert "No residents match." in response.content.decode()


def test_an_htmx_search_returns_only_the_rows(medtech_client, ward):
    response = medtech_client.get(
        reverse("resident_list"), {"q": "hopper"}, headers={"HX-Request": "true"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "Hopper, Grace" in content
    assert "Byron" not in content
    assert content.lstrip().startswith("<table>")
    assert "<html" not in content
    assert "<h1>" not in content
    assert "HX-Request" in response["Vary"]


# --- status, discharge ----------------------------------------------------------------------


def test_leave_of_absence_and_return_show_in_history_and_audit_trail(
    admin_client, admin_user, resident
):
    status_url = reverse("resident_status", args=[resident.pk])

    gone = admin_client.post(status_url, {"to_status": "loa", "reason": "Family visit"})
    back = admin_client.post(
        status_url, {"to_status": "active", "reason": "Back from visit"}, follow=True
    )

    assert gone.status_code == 302
    content = back.content.decode()
    assert "Ada Byron is now active." in content
    assert "Active → Leave of absence" in content
    assert "Leave of absence → Active" in content
    assert "Family visit" in content
    assert "Back from visit" in content
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE
    changes = list(resident.status_changes.order_by("effective_at", "id"))
    assert [c.to_status for c in changes] == ["loa", "active"]
    assert all(c.changed_by == admin_user for c in changes)

    audit = admin_client.get(reverse("resident_audit", args=[resident.pk]), follow=True).text
    rows = [row for row in audit.split("<tr>") if "Resident status change</strong> added" in row]
    assert len(rows) == 2
    assert all(escape(str(admin_user)) in row for row in rows)
    assert any("Family visit" in row for row in rows)
    # The surveyor reads the statuses by their names, not their codes.
    assert any("To status:</span> <ins>Leave of absence</ins>" in row for row in rows)
    assert "loa" not in audit.split("<tbody>")[1]


def test_a_status_change_needs_a_reason(admin_client, resident):
    response = admin_client.post(
        reverse("resident_status", args=[resident.pk]), {"to_status": "loa", "reason": ""}
    )

    assert response.status_code == 200
    assert "This field is required." in response.context["form"].errors["reason"]
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE


def test_discharge_requires_the_confirmation_box(admin_client, resident):
    url = reverse("resident_discharge", args=[resident.pk])

    refused = admin_client.post(url, {"reason": "Moved to family"})

    assert refused.status_code == 200
    assert refused.context["form"].errors["confirm"] == ["This field is required."]
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE

    done = admin_client.post(url, {"reason": "Moved to family", "confirm": "on"}, follow=True)

    assert "Ada Byron discharged." in done.content.decode()
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.DISCHARGED
    assert resident.status_changes.filter(to_status="discharged", reason="Moved to family").exists()


def test_a_discharged_resident_cannot_change_status(admin_client, resident):
    admin_client.post(
        reverse("resident_discharge", args=[resident.pk]), {"reason": "Moved", "confirm": "on"}
    )

    response = admin_client.get(reverse("resident_status", args=[resident.pk]), follow=True)

    assert "is discharged; readmit them instead." in response.content.decode()
    assert ResidentStatusChange.objects.filter(resident=resident).count() == 1  # discharge only


# --- allergies ------------------------------------------------------------------------------


def test_not_recorded_nkda_and_recorded_allergies_read_differently(admin_client, resident):
    detail = reverse("resident_detail", args=[resident.pk])

    before = admin_client.get(detail).content.decode()
    assert "Allergies not recorded — check with the nurse" in before
    assert "NKDA — no known drug allergies" not in before

    after = admin_client.post(reverse("resident_nkda", args=[resident.pk]), follow=True)
    content = after.content.decode()
    assert "Recorded: no known drug allergies." in content
    assert "NKDA — no known drug allergies" in content
    assert "Allergies not recorded" not in content
    resident.refresh_from_db()
    assert resident.allergy_status == AllergyStatus.NKDA


def test_an_added_allergy_shows_in_the_red_banner_and_removing_it_resets(admin_client, resident):
    added = admin_client.post(
        reverse("allergy_add", args=[resident.pk]),
        {"substance": "Penicillin", "reaction": "hives", "severity": "severe"},
        follow=True,
    )

    content = added.content.decode()
    assert "Allergy to Penicillin recorded." in content
    assert "Allergies: Penicillin (hives, severe)" in content
    allergy = resident.allergies.get()

    removed = admin_client.post(
        reverse("allergy_remove", args=[resident.pk, allergy.pk]), follow=True
    )

    assert "Allergy to Penicillin removed from Ada Byron." in removed.content.decode()
    assert "Allergies not recorded" in removed.content.decode()
    resident.refresh_from_db()
    assert resident.allergy_status == AllergyStatus.NOT_RECORDED


def test_nkda_is_refused_while_allergies_are_recorded(admin_client, admin_user, resident):
    AllergyFactory(resident=resident, recorded_by=admin_user, substance="Latex")
    resident.allergy_status = AllergyStatus.RECORDED
    resident.save(update_fields=["allergy_status"])

    response = admin_client.post(reverse("resident_nkda", args=[resident.pk]), follow=True)

    assert "Remove the recorded allergies before marking NKDA." in response.content.decode()
    resident.refresh_from_db()
    assert resident.allergy_status == AllergyStatus.RECORDED


def test_a_duplicate_allergy_is_refused_beside_the_substance(admin_client, admin_user, resident):
    AllergyFactory(resident=resident, recorded_by=admin_user, substance="Latex")

    response = admin_client.post(
        reverse("allergy_add", args=[resident.pk]), {"substance": "latex", "severity": "mild"}
    )

    assert response.context["form"].errors["substance"] == ["latex is already on the allergy list."]
    assert resident.allergies.count() == 1


# --- what each role sees --------------------------------------------------------------------


def test_a_med_tech_sees_no_admit_or_edit_buttons(medtech_client, resident):
    listing = medtech_client.get(reverse("resident_list")).content.decode()
    profile = medtech_client.get(reverse("resident_detail", args=[resident.pk])).content.decode()

    assert "Admit a resident" not in listing
    assert reverse("resident_admit") not in listing
    for name in ("resident_edit", "resident_status", "resident_discharge", "allergy_add"):
        assert reverse(name, args=[resident.pk]) not in profile
    assert "Edit details" not in profile
    assert "Mark NKDA" not in profile
    assert reverse("report_audit_resident", args=[resident.pk]) not in profile
    assert "Ada Byron" in profile


def test_a_nurse_sees_the_audit_trail_link_but_no_edit_buttons(nurse_client, resident):
    profile = nurse_client.get(reverse("resident_detail", args=[resident.pk])).content.decode()

    assert reverse("report_audit_resident", args=[resident.pk]) in profile
    assert reverse("resident_edit", args=[resident.pk]) not in profile


def test_an_admin_sees_the_admit_and_edit_buttons(admin_client, resident):
    listing = admin_client.get(reverse("resident_list")).content.decode()
    profile = admin_client.get(reverse("resident_detail", args=[resident.pk])).content.decode()

    assert reverse("resident_admit") in listing
    assert reverse("resident_edit", args=[resident.pk]) in profile
    assert reverse("resident_discharge", args=[resident.pk]) in profile
