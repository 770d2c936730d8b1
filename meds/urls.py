from django.urls import path

from . import views

urlpatterns = [
    path("medications/", views.medication_list, name="medication_list"),
    path("medications/add/", views.medication_create, name="medication_create"),
    path("medications/search/", views.medication_search, name="medication_search"),
    path("medications/<int:pk>/edit/", views.medication_edit, name="medication_edit"),
    path("residents/<int:pk>/orders/", views.resident_orders, name="resident_orders"),
    path("residents/<int:pk>/orders/new/", views.order_create, name="order_create"),
    path("orders/verify/", views.verification_queue, name="verification_queue"),
    path("orders/<int:pk>/verify/", views.order_verify, name="order_verify"),
    path("orders/<int:pk>/change/", views.order_change, name="order_change"),
    path("orders/<int:pk>/hold/", views.order_action, {"action": "hold"}, name="order_hold"),
    path("orders/<int:pk>/resume/", views.order_action, {"action": "resume"}, name="order_resume"),
    path(
        "orders/<int:pk>/discontinue/",
        views.order_action,
        {"action": "discontinue"},
        name="order_discontinue",
    ),
]
