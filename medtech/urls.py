from django.contrib import admin
from django.urls import include, path

from core.views import favicon, healthz
from reports.views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("accounts.urls")),
    path("residents/", include("residents.urls")),
    path("", include("meds.urls")),
    path("", include("vitals.urls")),
    path("", include("care.urls")),
    path("", include("clinical.urls")),
    path("", include("pharmacy.urls")),
    path("", include("incidents.urls")),
    path("", include("appointments.urls")),
    path("stock/", include("inventory.urls")),
    path("", include("mar.urls")),
    path("", include("handoff.urls")),
    path("", include("reports.urls")),
    path("django-admin/", admin.site.urls),
]
