from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from core.views import healthz
from residents.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("favicon.svg"), permanent=True),
        name="favicon",
    ),
    path("", include("accounts.urls")),
    path("residents/", include("residents.urls")),
    path("", include("meds.urls")),
    path("stock/", include("inventory.urls")),
    path("", include("mar.urls")),
    path("", include("reports.urls")),
    path("django-admin/", admin.site.urls),
]
