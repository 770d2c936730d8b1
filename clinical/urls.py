from django.urls import path

from . import views

urlpatterns = [
    path(
        "clinical/residents/<int:pk>/condition/",
        views.condition_report_new,
        name="condition_report_new",
    ),
    path("clinical/conditions/<int:pk>/", views.condition_report, name="condition_report"),
    path(
        "clinical/conditions/<int:pk>/evaluate/",
        views.condition_evaluate,
        name="condition_evaluate",
    ),
    path("clinical/conditions/<int:pk>/notify/", views.condition_notify, name="condition_notify"),
    path("clinical/conditions/<int:pk>/close/", views.condition_close, name="condition_close"),
]
