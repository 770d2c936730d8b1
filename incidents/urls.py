from django.urls import path

from . import views

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path(
        "incidents/residents/<int:pk>/new/",
        views.incident_report_new,
        name="incident_report_new",
    ),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/amend/", views.incident_amend, name="incident_amend"),
    path("incidents/<int:pk>/close/", views.incident_close, name="incident_close"),
    path(
        "incidents/followups/<int:pk>/done/",
        views.followup_complete,
        name="incident_followup_complete",
    ),
    path(
        "incidents/followups/<int:pk>/decline/",
        views.followup_decline,
        name="incident_followup_decline",
    ),
]
