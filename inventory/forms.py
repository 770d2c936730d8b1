from django import forms

from core import forms as core_forms
from meds.models import Medication
from residents.models import Resident, ResidentStatus

DATE = forms.DateInput(attrs={"type": "date"})


class ReceiveForm(core_forms.Form):
    resident = forms.ModelChoiceField(
        queryset=Resident.objects.none(), required=False, empty_label="House stock (no resident)"
    )
    medication = forms.ModelChoiceField(queryset=Medication.objects.all())
    quantity = forms.DecimalField(max_digits=10, decimal_places=2)
    lot = forms.CharField(max_length=40, required=False)
    expiry = forms.DateField(required=False, widget=DATE)
    rx_number = forms.CharField(max_length=40, required=False, label="Rx number")

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].queryset = Resident.objects.filter(facility=facility).exclude(
            status=ResidentStatus.DISCHARGED
        )


class WitnessedForm(core_forms.Form):
    quantity = forms.DecimalField(max_digits=10, decimal_places=2)
    reason = forms.CharField(max_length=300)
    witness_username = forms.CharField(max_length=150, label="Witness username")
    witness_secret = forms.CharField(
        max_length=128, widget=forms.PasswordInput, label="Witness password or PIN"
    )


class DestroyForm(WitnessedForm):
    returned = forms.BooleanField(required=False, label="Returned to the pharmacy (not destroyed)")


class AdjustForm(core_forms.Form):
    counted = forms.DecimalField(max_digits=10, decimal_places=2, label="Quantity counted")
    reason = forms.CharField(max_length=300)
    witness_username = forms.CharField(max_length=150, label="Witness username")
    witness_secret = forms.CharField(
        max_length=128, widget=forms.PasswordInput, label="Witness password or PIN"
    )


class ShiftCountForm(core_forms.Form):
    """The shift count: one quantity per controlled item (item_<pk>) and the incoming signer."""

    incoming_username = forms.CharField(max_length=150, required=False, label="Incoming username")
    incoming_secret = forms.CharField(
        max_length=128, required=False, label="Incoming password or PIN"
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.DecimalField(
                max_digits=10, decimal_places=2, required=False, label=str(item)
            )

    def first_error(self) -> str:
        name, errors = next(iter(self.errors.items()))
        label = self.fields[name].label if name in self.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
