"""The read-only products over the record: resident MAR pages, PDFs, FHIR, reports."""

from django.urls import path

from .views import adl, care, fhir, pdf, resident_mar, supervisor

urlpatterns = [
    path("residents/<int:pk>/mar/day/", resident_mar.resident_mar_day, name="resident_mar_day"),
    path(
        "residents/<int:pk>/mar/month/", resident_mar.resident_mar_month, name="resident_mar_month"
    ),
    path("residents/<int:pk>/mar/month.pdf", pdf.resident_mar_pdf, name="resident_mar_pdf"),
    path("residents/<int:pk>/care/month/", adl.resident_adl_month, name="resident_adl_month"),
    path("appointments/<int:pk>/packet.pdf", pdf.appointment_packet, name="appointment_packet"),
    path("units/<int:pk>/mar/month.pdf", pdf.unit_mar_pdf, name="unit_mar_pdf"),
    path("units/<int:pk>/downtime-mar.pdf", pdf.downtime_mar, name="downtime_mar"),
    path("reports/mar-pdfs/", pdf.mar_pdf_jobs, name="mar_pdf_jobs"),
    path("reports/mar-pdfs/<int:pk>/", pdf.mar_pdf_job, name="mar_pdf_job"),
    path(
        "reports/mar-pdfs/<int:pk>/download/",
        pdf.mar_pdf_job_download,
        name="mar_pdf_job_download",
    ),
    path("residents/<int:pk>/fhir/", fhir.resident_fhir, name="resident_fhir"),
    path("reports/", supervisor.report_index, name="report_index"),
    path("reports/exceptions/", supervisor.report_exceptions, name="report_exceptions"),
    path("reports/prn/", supervisor.report_prn, name="report_prn"),
    path("reports/error-rate/", supervisor.report_error_rate, name="report_error_rate"),
    path("reports/incidents/", supervisor.report_incidents, name="report_incidents"),
    path("reports/care/", care.report_care, name="report_care"),
    path("reports/controlled/", supervisor.report_controlled, name="report_controlled"),
    path(
        "reports/audit/resident/<int:pk>/",
        supervisor.report_audit_resident,
        name="report_audit_resident",
    ),
    path(
        "reports/audit/staff/<int:pk>/",
        supervisor.report_audit_staff,
        name="report_audit_staff",
    ),
]
