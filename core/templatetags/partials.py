"""`{% jinja "mar/_dose_card.html" %}`: a Jinja2 card (core.jinja) inside a Django page, with
the page's context as it stands (a `{% for %}`'s variable included) and its CSRF input.

Registered as a template builtin (settings.TEMPLATES)."""

from django import template
from django.template import engines
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, name: str, **extra) -> SafeString:
    values = context.flatten()
    values.update(extra)
    token = values.get("csrf_token")
    if token is not None and "csrf_input" not in values:
        values["csrf_input"] = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token
        )
    card = engines["jinja2"].get_template(name).template  # Jinja's own: no context processors
    return mark_safe(card.render(values))
