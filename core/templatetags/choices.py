"""The <option> elements of a select, made once per list of choices and selected value.

A med pass page repeats the same select on every card (the facility's other codes on each dose,
the level of help on each care task); rendering each option through the template engine was a
good part of the page's time. The list is built here, escaped, and kept (a page asks for a few
distinct lists, and the same ones on every page).
"""

from functools import lru_cache

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@lru_cache(maxsize=512)
def _options(choices: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html('<option value="{}" selected>{}</option>', value, label)
                if value == selected
                else format_html('<option value="{}">{}</option>', value, label),
            )
            for value, label in choices
        ),
    )


@register.filter
def options(choices, selected="") -> SafeString:
    """`{{ choices|options:selected }}`: choices as (value, label) pairs, the one whose value is
    `selected` marked selected."""
    return _options(
        tuple((str(value), str(label)) for value, label in choices),
        "" if selected is None else str(selected),
    )
