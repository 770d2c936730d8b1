from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("facility/select/", views.facility_select, name="facility_select"),
    path("me/pin/", views.my_pin, name="my_pin"),
    path("facility/settings/", views.facility_settings, name="facility_settings"),
    path("facility/units/add/", views.unit_create, name="unit_create"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/add/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/password/", views.staff_password, name="staff_password"),
    path(
        "staff/<int:pk>/certifications/add/",
        views.certification_create,
        name="certification_create",
    ),
    path(
        "staff/<int:pk>/certifications/<int:cert_pk>/",
        views.certification_edit,
        name="certification_edit",
    ),
    path(
        "staff/<int:pk>/certifications/<int:cert_pk>/delete/",
        views.certification_delete,
        name="certification_delete",
    ),
    path("certifications/expiring/", views.certification_expiring, name="certification_expiring"),
]
