from django.urls import path

from . import alert_views, late_entry_views, offline_views, views

urlpatterns = [
    # The offline med pass's service worker and manifest, at the root (their scope is the site).
    path("sw.js", offline_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline_views.manifest, name="manifest"),
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
    path("medpass/offline/", offline_views.offline_records, name="offline_records"),
    path("medpass/offline/snapshot/", offline_views.offline_snapshot, name="offline_snapshot"),
    path("medpass/offline/sync/", offline_views.offline_sync, name="offline_sync"),
    path("medpass/reconciliation/", offline_views.reconciliation_list, name="reconciliation_list"),
    path(
        "medpass/reconciliation/<int:pk>/",
        offline_views.reconciliation_resolve_view,
        name="reconciliation_resolve",
    ),
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
