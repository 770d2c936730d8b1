from django.urls import path

from . import views

urlpatterns = [
    path("pharmacy/", views.inbox, name="pharmacy_inbox"),
    path("pharmacy/orders/<int:pk>/", views.order, name="pharmacy_order"),
    path("pharmacy/match/<int:pk>/", views.match, name="pharmacy_match"),
    path("pharmacy/deliveries/", views.deliveries, name="pharmacy_deliveries"),
    path("pharmacy/deliveries/<int:pk>/", views.receipt, name="pharmacy_receipt"),
    path("pharmacy/refills/<int:pk>/", views.refill_request, name="refill_request"),
    path("facility/settings/pharmacy/", views.interface, name="pharmacy_interface"),
]
