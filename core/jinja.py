"""The Jinja2 environment of the cards a med pass page repeats (jinja2/, settings.TEMPLATES).

The same filters and helpers as the Django templates, from the same functions (core's template
tags): a person reads one date and time style whichever engine wrote the page. Undefined
names read as nothing, as in Django's templates (`ChainableUndefined`)."""

from django.templatetags.static import static
from django.urls import reverse

from core.templatetags.choices import options, radios
from core.templatetags.facility_time import clock, day, instant, weekday
from jinja2 import ChainableUndefined, Environment


def url(name: str, *args) -> str:
    """`{{ url("dose_record", dose.pk) }}`, as `{% url "dose_record" dose.pk %}`."""
    return reverse(name, args=args)


def environment(**options_) -> Environment:
    # Django passes DebugUndefined in DEBUG (a missing name shows as "{{ name }}"): in both
    # modes, a missing name reads as nothing, as in Django's own templates.
    env = Environment(**{**options_, "undefined": ChainableUndefined})
    env.filters.update(clock=clock, day=day, instant=instant, weekday=weekday, options=options)
    env.globals.update(url=url, radios=radios, static=static)
    return env
