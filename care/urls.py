from django.urls import path

from . import views

urlpatterns = [
    path("care/shift/", views.shift_care, name="care_shift"),
    path("care/residents/<int:pk>/", views.resident_care, name="care_resident"),
    path("care/residents/<int:pk>/assess/", views.assessment_create, name="care_assess"),
    path("care/residents/<int:pk>/draft-plan/", views.plan_draft, name="care_plan_draft"),
    path("care/plans/<int:pk>/", views.plan_detail, name="care_plan"),
    path("care/plans/<int:pk>/items/", views.plan_item, name="care_plan_item"),
    path("care/plans/<int:pk>/publish/", views.plan_publish, name="care_plan_publish"),
    path("care/tasks/<int:pk>/record/", views.task_record, name="care_task_record"),
    path("care/records/<int:pk>/amend/", views.record_amend, name="care_record_amend"),
    path("care/checks/<int:pk>/record/", views.check_record, name="care_check_record"),
    path("care/monitoring/<int:pk>/end/", views.monitoring_end, name="care_monitoring_end"),
    path("care/levels/", views.care_levels, name="care_levels"),
    path("care/levels/<int:pk>/", views.care_level_edit, name="care_level_edit"),
    path("care/levels/<int:pk>/delete/", views.care_level_delete, name="care_level_delete"),
]
