from django.urls import path

from . import views

urlpatterns = [
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve, name="alert_resolve"),
]
