from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("residents/", include("residents.urls")),
    path("", include("meds.urls")),
    path("stock/", include("inventory.urls")),
    path("", include("mar.urls")),
    path("django-admin/", admin.site.urls),
]
