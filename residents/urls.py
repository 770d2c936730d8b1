from django.urls import path

from . import views

urlpatterns = [
    path("", views.resident_list, name="resident_list"),
    path("admit/", views.resident_admit, name="resident_admit"),
    path("<int:pk>/", views.resident_detail, name="resident_detail"),
    path("<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("<int:pk>/status/", views.resident_status, name="resident_status"),
    path("<int:pk>/discharge/", views.resident_discharge, name="resident_discharge"),
    path("<int:pk>/allergies/add/", views.allergy_add, name="allergy_add"),
    path(
        "<int:pk>/allergies/<int:allergy_pk>/remove/",
        views.allergy_remove,
        name="allergy_remove",
    ),
    path("<int:pk>/nkda/", views.resident_nkda, name="resident_nkda"),
    path("<int:pk>/audit/", views.resident_audit, name="resident_audit"),
    path("<int:pk>/photo/", views.resident_photo, name="resident_photo"),
]
