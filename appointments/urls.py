from django.urls import path

from . import views

urlpatterns = [
    path("appointments/", views.appointment_calendar, name="appointment_calendar"),
    path(
        "appointments/residents/<int:pk>/",
        views.resident_appointments,
        name="resident_appointments",
    ),
    path("appointments/residents/<int:pk>/new/", views.appointment_new, name="appointment_new"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/edit/", views.appointment_edit, name="appointment_edit"),
    path(
        "appointments/<int:pk>/transport/",
        views.appointment_transport,
        name="appointment_transport",
    ),
    path("appointments/<int:pk>/hold/", views.appointment_hold, name="appointment_hold"),
    path(
        "appointments/<int:pk>/holds/<int:hold_pk>/verify/",
        views.appointment_hold_verify,
        name="appointment_hold_verify",
    ),
    path(
        "appointments/<int:pk>/holds/<int:hold_pk>/cancel/",
        views.appointment_hold_cancel,
        name="appointment_hold_cancel",
    ),
    path("appointments/<int:pk>/leave/", views.appointment_leave, name="appointment_leave"),
    path("appointments/<int:pk>/back/", views.appointment_back, name="appointment_back"),
    path("appointments/<int:pk>/outcome/", views.appointment_outcome, name="appointment_outcome"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
]
