"""The base classes every form of the project derives from: the shared input rules built in.

A form written on these refuses control characters, text longer than its column (or than
`validators.TEXT_LIMIT` where it has none), NaN and infinity, and dates outside the years a care
record names, each beside its field with what was typed kept. Nothing to remember per field.
"""

from django import forms

from .validators import harden_fields


class HardenedMixin:
    """Mix into any Django form (a third-party one too, e.g. the login form)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        harden_fields(self.fields)

    def full_clean(self):
        # Again: fields a subclass adds after this __init__ (vital signs, hold rows) get them too.
        harden_fields(self.fields)
        super().full_clean()


class Form(HardenedMixin, forms.Form):
    pass


class ModelForm(HardenedMixin, forms.ModelForm):
    pass
