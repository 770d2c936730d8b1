from django import forms

from meds.models import Medication
from residents.models import Resident, ResidentStatus

DATE = forms.DateInput(attrs={"type": "date"})


class ReceiveForm(forms.Form):
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


class WitnessedForm(forms.Form):
    quantity = forms.DecimalField(max_digits=10, decimal_places=2)
    reason = forms.CharField(max_length=300)
    witness_username = forms.CharField(max_length=150, label="Witness username")
    witness_secret = forms.CharField(
        max_length=128, widget=forms.PasswordInput, label="Witness password or PIN"
    )


class DestroyForm(WitnessedForm):
    returned = forms.BooleanField(required=False, label="Returned to the pharmacy (not destroyed)")


class AdjustForm(forms.Form):
    counted = forms.DecimalField(max_digits=10, decimal_places=2, label="Quantity counted")
    reason = forms.CharField(max_length=300)
    witness_username = forms.CharField(max_length=150, label="Witness username")
    witness_secret = forms.CharField(
        max_length=128, widget=forms.PasswordInput, label="Witness password or PIN"
    )
