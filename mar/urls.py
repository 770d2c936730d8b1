from django.urls import path

from . import alert_views, late_entry_views, views

urlpatterns = [
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("alerts/", alert_views.alert_list, name="alert_list"),
    path("alerts/acknowledge/", alert_views.alerts_acknowledge, name="alerts_acknowledge"),
    path("medpass/", views.board, name="board"),
    path("medpass/scan/", views.scan, name="scan"),
    path("medpass/passing/", views.passing_choose, name="passing_choose"),
    path("medpass/my-residents/", views.shift_assignments, name="shift_assignments"),
    path("medpass/carts/", views.cart_list, name="cart_list"),
    path("medpass/carts/<int:pk>/", views.cart_edit, name="cart_edit"),
    path("medpass/residents/<int:pk>/", views.resident_pass, name="resident_pass"),
    path("medpass/doses/<int:pk>/record/", views.dose_record, name="dose_record"),
    path("medpass/doses/<int:pk>/away/", views.dose_record_away, name="dose_record_away"),
    path("medpass/prn/<int:pk>/give/", views.prn_give, name="prn_give"),
    path("medpass/prn-doses/<int:pk>/followup/", views.prn_followup, name="prn_followup"),
    path("units/<int:pk>/late-entries/", late_entry_views.late_entries, name="late_entries"),
    path("records/<int:pk>/amend/", views.administration_amend, name="administration_amend"),
    path("alerts/<int:pk>/acknowledge/", alert_views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:pk>/resolve/", alert_views.alert_resolve, name="alert_resolve"),
    path("facility/settings/other-codes/", views.other_code_list, name="other_code_list"),
    path("facility/settings/other-codes/<int:pk>/", views.other_code_edit, name="other_code_edit"),
    path(
        "facility/settings/other-codes/<int:pk>/delete/",
        views.other_code_delete,
        name="other_code_delete",
    ),
]
