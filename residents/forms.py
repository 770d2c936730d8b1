from django import forms
from django.conf import settings

from accounts.models import Unit
from core import forms as core_forms

from .models import Allergy, Resident, ResidentStatus

DATE = forms.DateInput(attrs={"type": "date"})


class ResidentForm(core_forms.ModelForm):
    class Meta:
        model = Resident
        fields = [
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "unit",
            "room",
            "photo",
            "code_status",
            "physician_name",
            "physician_phone",
            "pharmacy",
            "admission_date",
            "notes",
        ]
        widgets = {
            "date_of_birth": DATE,
            "admission_date": DATE,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "photo": forms.ClearableFileInput(attrs={"accept": "image/*"}),
        }

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(facility=facility)
        self.fields["admission_date"].required = False

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and hasattr(photo, "size") and photo.size > settings.PHOTO_MAX_BYTES:
            limit = settings.PHOTO_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The photo is too large: at most {limit} MB.")
        return photo


class StatusChangeForm(core_forms.Form):
    to_status = forms.ChoiceField(label="New status")
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 50}))

    def __init__(self, *args, resident: Resident, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (value, label)
            for value, label in ResidentStatus.choices
            if value not in (resident.status, ResidentStatus.DISCHARGED)
        ]
        self.fields["to_status"].choices = choices


class DischargeForm(core_forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 50}))
    confirm = forms.BooleanField(
        label="I confirm this resident is discharged and will receive no more doses here."
    )


class AllergyForm(core_forms.ModelForm):
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity"]
