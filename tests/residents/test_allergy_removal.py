"""Removing an allergy cannot be undone from the page: it is confirmed first."""

from django.urls import reverse

from residents.models import Allergy, AllergyStatus
from tests.factories import AllergyFactory


def _allergy(resident, recorder, substance="Penicillin"):
    allergy = AllergyFactory(resident=resident, recorded_by=recorder, substance=substance)
    resident.allergy_status = AllergyStatus.RECORDED
    resident.save(update_fields=["allergy_status"])
    return allergy


def test_the_remove_button_opens_a_confirmation_that_changes_nothing(
    admin_client, admin_user, resident
):
    allergy = _allergy(resident, admin_user)
    url = reverse("allergy_remove", args=[resident.pk, allergy.pk])
    detail = admin_client.get(reverse("resident_detail", args=[resident.pk])).content.decode()
    assert f'href="{url}"' in detail  # a link to the confirmation, not a one-click POST

    page = admin_client.get(url).content.decode()

    assert "Remove the allergy to Penicillin from Ada Byron?" in page
    assert "hives" in page
    assert "It is the only allergy recorded" in page
    assert '<form method="post"' in page
    assert Allergy.objects.filter(pk=allergy.pk).exists()
    resident.refresh_from_db()
    assert resident.allergy_status == AllergyStatus.RECORDED


def test_confirming_removes_the_allergy_and_names_it(admin_client, admin_user, resident):
    allergy = _allergy(resident, admin_user)
    _allergy(resident, admin_user, substance="Sulfa")
    url = reverse("allergy_remove", args=[resident.pk, allergy.pk])
    assert "It is the only allergy recorded" not in admin_client.get(url).content.decode()

    response = admin_client.post(url, follow=True)

    assert "Allergy to Penicillin removed from Ada Byron." in response.content.decode()
    assert list(resident.allergies.values_list("substance", flat=True)) == ["Sulfa"]


def test_a_nurse_cannot_open_the_removal(nurse_client, admin_user, resident):
    allergy = _allergy(resident, admin_user)
    url = reverse("allergy_remove", args=[resident.pk, allergy.pk])
    assert nurse_client.get(url).status_code == 403
    assert nurse_client.post(url).status_code == 403
    assert Allergy.objects.filter(pk=allergy.pk).exists()
