"""The forms' renderer (settings.FORM_RENDERER): Django's own, with its simplest widget
templates written out in Python.

Django draws every widget from a template, and a select's every option from one more: the
shift report's note form (forty residents to choose from) cost more to draw than the report it
sits under. The inputs, text areas and selects below are made here with the same markup as the
templates they stand for, character for character (tests/core/test_renderers.py compares them
on every form of the project); every other template renders as Django renders it.
"""

import html

from django.forms.renderers import DjangoTemplates

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = {
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "hidden",
        "password",
        "number",
        "email",
        "url",
        "date",
        "datetime",
        "time",
        "checkbox",
        "search",
        "tel",
        "color",
    )
}
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"


def _text(value) -> str:
    """`{{ value }}` (autoescaped: markup passes as it is) after `|stringformat:'s'`."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: `True` a bare name, `False` left out."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = f' value="{_text(value)}"' if value is not None else ""
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: dict) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_text(value) if value else ''}</textarea>"
    )


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None  # a widget's own option template: Django draws it
            parts.append(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts).strip()


class FastRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name.startswith(WIDGETS) else None
        if widget is not None:
            if template_name in INPUT_TEMPLATES:
                return _input(widget)
            if template_name == f"{WIDGETS}textarea.html":
                return _textarea(widget)
            if template_name == f"{WIDGETS}select.html":
                drawn = _select(widget)
                if drawn is not None:
                    return drawn
        return super().render(template_name, context, request)
