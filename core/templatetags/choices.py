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


@lru_cache(maxsize=512)
def _radios(
    choices: tuple[tuple[str, str], ...], name: str, id_stem: str, checked: str
) -> SafeString:
    checked = checked or (choices[0][0] if choices else "")  # nothing typed: the first
    return format_html_join(
        "",
        '<label><input type="radio" name="{}" value="{}" id="{}_{}" required{}> {}</label> ',
        (
            (name, value, id_stem, i, SafeString(" checked") if value == checked else "", label)
            for i, (value, label) in enumerate(choices)
        ),
    )


@register.simple_tag
def radios(choices, name: str, id_stem: str, checked="") -> SafeString:
    """`{% radios choices "status" stem typed %}`: a required radio input per (value, label),
    each in its label with the id `<stem>_<n>`, the one whose value is `checked` (the first when
    nothing is) checked: a group repeated on every line of a list (the care tasks' statuses)."""
    return _radios(
        tuple((str(value), str(label)) for value, label in choices),
        name,
        str(id_stem),
        "" if checked is None else str(checked),
    )
