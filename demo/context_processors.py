"""The demo logins on every page (the banner) and on the login page, in demo mode only."""

from django.conf import settings

from .people import demo_logins as _demo_logins


def demo_logins(request) -> dict:
    """Nothing unless the settings are in demo mode with a demo password (`local`, `make run`);
    the production settings switch demo mode off whatever the environment says."""
    if not (settings.DEMO_MODE and settings.DEMO_PASSWORD):
        return {}
    return {"demo_logins": _demo_logins(), "demo_password": settings.DEMO_PASSWORD}
