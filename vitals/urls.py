from django.urls import path

from . import views

urlpatterns = [
    path("vitals/residents/<int:pk>/", views.flowsheet, name="flowsheet"),
    path("vitals/residents/<int:pk>/ranges/", views.resident_ranges, name="resident_vital_ranges"),
    path(
        "vitals/resident-ranges/<int:pk>/remove/",
        views.resident_range_remove,
        name="resident_vital_range_remove",
    ),
    path("vitals/exceptions/", views.exception_list, name="vital_exceptions"),
    path(
        "vitals/exceptions/<int:pk>/acknowledge/",
        views.exception_acknowledge,
        name="vital_exception_acknowledge",
    ),
    path("vitals/ranges/", views.range_list, name="vital_ranges"),
    path("vitals/ranges/<int:pk>/", views.range_edit, name="vital_range_edit"),
]
