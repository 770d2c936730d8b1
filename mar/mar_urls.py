"""The resident's MAR pages (joined to the site through `mar/urls.py`)."""

from django.urls import path

from . import mar_views

urlpatterns = [
    path("residents/<int:pk>/mar/day/", mar_views.resident_mar_day, name="resident_mar_day"),
    path("residents/<int:pk>/mar/month/", mar_views.resident_mar_month, name="resident_mar_month"),
]
