"""The forms' renderer (core.renderers) draws the widgets it writes out in Python exactly as
Django's templates draw them."""

import importlib
import inspect

import pytest
import time_machine
from django import forms
from django.apps import apps
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from core.renderers import FastRenderer

TEMPLATES = DjangoTemplates()
FAST = FastRenderer()

CHOICES = [
    ("", "Choose …"),
    (1, "Ann “Annie” O'Neil (room 1)"),
    ("x<y", 'Quote " & <tag>'),
    ("Group", [("a", "Alpha"), ("b", "Beta & co")]),
    (0, "Zero"),
]


class Everything(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"size": 6, "autofocus": True}))
    flag_false = forms.CharField(widget=forms.TextInput(attrs={"hidden": False}))
    number = forms.DecimalField(required=False)
    email = forms.EmailField(required=False)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    tick = forms.BooleanField(required=False)
    choice = forms.ChoiceField(choices=CHOICES)
    several = forms.MultipleChoiceField(choices=CHOICES, required=False)
    typed = forms.TypedChoiceField(choices=CHOICES, coerce=str, required=False)
    radio = forms.ChoiceField(choices=CHOICES[:3], widget=forms.RadioSelect, required=False)
    disabled = forms.ChoiceField(choices=CHOICES, disabled=True, required=False)


BOUND = [
    None,
    {},
    {
        "text": 'a "quoted" <value> & more',
        "number": "0",
        "email": "x@example.org",
        "hidden": "0",
        "password": "p'w",
        "note": "line one\n<b>two</b>",
        "tick": "on",
        "choice": "x<y",
        "several": ["a", "1"],
        "typed": "0",
        "radio": "1",
    },
    {"text": "", "note": "", "choice": "nope", "number": "x"},
]


def _draw(form_class, data, renderer, **kwargs):
    form = form_class(data, renderer=renderer, **kwargs)
    if data is not None:
        form.is_valid()
    return [str(field) for field in form]


@pytest.mark.parametrize("data", BOUND)
def test_every_kind_of_widget_is_drawn_as_django_draws_it(data):
    assert _draw(Everything, data, FAST) == _draw(Everything, data, TEMPLATES)


def test_safe_text_is_not_escaped_twice():
    initial = {"text": mark_safe("<b>ok</b>"), "note": mark_safe("&amp;")}
    fast = [str(field) for field in Everything(initial=initial, renderer=FAST)]
    assert fast == [str(field) for field in Everything(initial=initial, renderer=TEMPLATES)]
    assert 'value="<b>ok</b>"' in fast[0]


def _project_forms():
    """Every form class of the project's apps that can be made without arguments."""
    found = {}
    for config in apps.get_app_configs():
        if not config.path.startswith(str(apps.get_app_config("core").path).rsplit("/", 1)[0]):
            continue
        try:
            module = importlib.import_module(f"{config.name}.forms")
        except ModuleNotFoundError:
            continue
        for name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return found


@pytest.mark.django_db
@time_machine.travel("2026-06-10 12:00:00+00:00", tick=False)  # initial values read the clock
def test_the_project_forms_are_drawn_as_django_draws_them():
    drawn = 0
    for name, form_class in _project_forms().items():
        for data in (None, {}):
            try:
                expected = _draw(form_class, data, TEMPLATES)
            except (TypeError, AttributeError, KeyError, ValueError):
                continue  # it needs arguments (a user, a facility, residents …)
            assert _draw(form_class, data, FAST) == expected, name
            drawn += 1
    assert drawn >= 20


def test_the_settings_use_it(settings):
    from django.forms.renderers import get_default_renderer

    get_default_renderer.cache_clear()
    try:
        assert isinstance(get_default_renderer(), FastRenderer)
    finally:
        get_default_renderer.cache_clear()
