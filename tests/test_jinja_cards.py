"""The Jinja2 cards (jinja2/, core/jinja.py) read as the Django templates do."""

import datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template, engines
from django.test import RequestFactory
from django.utils import timezone


def _jinja(source: str, **values) -> str:
    return engines["jinja2"].from_string(source).render(values)


def test_a_card_escapes_what_people_typed():
    assert _jinja("{{ reason }}", reason="<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"


def test_a_missing_name_reads_as_nothing_as_in_django():
    assert _jinja("[{{ form.values.reason }}|{{ nothing.at.all }}]", form=object()) == "[|]"


def test_the_date_and_time_style_is_the_django_templates_one():
    at = datetime.datetime(2026, 12, 2, 19, 5, tzinfo=datetime.UTC)
    with timezone.override(ZoneInfo("America/New_York")):
        django = Template("{{ at|instant }} {{ at|clock }} {{ at|weekday }}").render(
            Context({"at": at})
        )
        jinja = _jinja("{{ at|instant }} {{ at|clock }} {{ at|weekday }}", at=at)
    assert jinja == django == "2026-12-02 14:05 14:05 Wed 2026-12-02"


def test_a_django_page_includes_a_card_with_its_context_and_csrf_input():
    page = Template('{% for dose in doses %}{% jinja "mar/_dose_state.html" %}{% endfor %}')
    html = page.render(Context({"doses": [{"state": "overdue"}], "csrf_token": "t0ken"}))
    assert html == '<span class="badge warn">Overdue</span>'
    page = Template('{% jinja "vitals/_exception_rows.html" rows=rows may_acknowledge=True %}')
    row = {"pk": 7, "reading": "Pulse 130 bpm", "range": "60–100", "when": "", "by": "Ann"}
    html = page.render(Context({"rows": [row], "csrf_token": "t0ken"}))
    assert '<input type="hidden" name="csrfmiddlewaretoken" value="t0ken">' in html
    assert "/7/" in html and "Pulse 130 bpm" in html


def test_a_card_rendered_alone_has_its_csrf_input():
    form = engines["jinja2"].from_string("{{ csrf_input }}")
    assert 'name="csrfmiddlewaretoken"' in form.render({}, request=RequestFactory().get("/"))
