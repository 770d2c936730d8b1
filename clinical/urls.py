from django.urls import path

from . import views

urlpatterns = [
    path(
        "clinical/residents/<int:pk>/condition/",
        views.condition_report_new,
        name="condition_report_new",
    ),
    path("clinical/conditions/<int:pk>/", views.condition_report, name="condition_report"),
]
