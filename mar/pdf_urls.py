"""The monthly MAR as a PDF (joined to the site through `mar/urls.py`)."""

from django.urls import path

from . import pdf_views

urlpatterns = [
    path("residents/<int:pk>/mar/month.pdf", pdf_views.resident_mar_pdf, name="resident_mar_pdf"),
    path("units/<int:pk>/mar/month.pdf", pdf_views.unit_mar_pdf, name="unit_mar_pdf"),
]
