"""The reports (joined to the site through `mar/urls.py`)."""

from django.urls import path

from . import report_views

urlpatterns = [
    path("reports/", report_views.report_index, name="report_index"),
    path("reports/exceptions/", report_views.report_exceptions, name="report_exceptions"),
    path("reports/prn/", report_views.report_prn, name="report_prn"),
    path("reports/error-rate/", report_views.report_error_rate, name="report_error_rate"),
    path("reports/controlled/", report_views.report_controlled, name="report_controlled"),
    path(
        "reports/audit/resident/<int:pk>/",
        report_views.report_audit_resident,
        name="report_audit_resident",
    ),
    path(
        "reports/audit/staff/<int:pk>/",
        report_views.report_audit_staff,
        name="report_audit_staff",
    ),
]
