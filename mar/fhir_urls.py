"""The FHIR export (joined to the site through `mar/urls.py`)."""

from django.urls import path

from . import fhir_views

urlpatterns = [
    path("residents/<int:pk>/fhir/", fhir_views.resident_fhir, name="resident_fhir"),
]
