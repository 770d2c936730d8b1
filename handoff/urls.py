from django.urls import path

from . import views

urlpatterns = [
    path("handoff/", views.shift_report, name="shift_report"),
    path("handoff/reports/<int:pk>/", views.shift_report_detail, name="shift_report_detail"),
    path(
        "handoff/reports/<int:pk>/acknowledge/",
        views.report_acknowledge,
        name="shift_report_acknowledge",
    ),
    path("handoff/submit/", views.report_submit, name="shift_report_submit"),
    path("handoff/notes/new/", views.note_add, name="handoff_note_add"),
    path("handoff/notes/<int:pk>/amend/", views.note_amend, name="handoff_note_amend"),
    path("handoff/last-24-hours/", views.last_day, name="shift_reports_last_day"),
    path("handoff/last-24-hours.pdf", views.last_day_pdf, name="shift_reports_last_day_pdf"),
]
