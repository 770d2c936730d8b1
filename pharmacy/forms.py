from django import forms

from core import forms as core_forms
from meds.models import Medication, OrderStatus, Prescription
from residents.models import Resident, ResidentStatus

DATE = forms.DateInput(attrs={"type": "date"})


class InterfaceForm(core_forms.Form):
    sending_application = forms.CharField(
        max_length=180, label="Sending application (MSH-3)", help_text="e.g. MAPLE_RX"
    )
    sending_facility = forms.CharField(
        max_length=180, label="Sending facility (MSH-4)", help_text="e.g. MAPLE_GROVE"
    )
    enabled = forms.BooleanField(required=False, label="Interface on (take its messages)")
    pharmacy_host = forms.CharField(
        max_length=253,
        required=False,
        label="Pharmacy host",
        help_text="Where refill requests go (leave empty to keep ordering by hand).",
    )
    pharmacy_port = forms.IntegerField(
        required=False, min_value=1, max_value=65535, label="Pharmacy port"
    )


class DecisionForm(core_forms.Form):
    """Accept (with the medication or the order it applies to, where the message left them open)
    or reject with a reason. The button pressed sets `decision`."""

    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("reject", "Reject")], widget=forms.HiddenInput
    )
    medication = forms.ModelChoiceField(
        queryset=Medication.objects.all(),
        required=False,
        label="Medication (the NDC is not in the catalog)",
    )
    target = forms.ModelChoiceField(
        queryset=Prescription.objects.none(), required=False, label="Applies to the order"
    )
    allergy_override_reason = forms.CharField(
        max_length=300, required=False, label="Allergy override reason (when asked)"
    )
    reason = forms.CharField(max_length=300, required=False, label="Reason (to reject)")

    def __init__(self, *args, pending, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            Prescription.objects.filter(resident=pending.resident)
            .exclude(status=OrderStatus.DISCONTINUED)
            .select_related("medication")
        )
        if not pending.needs_medication:
            del self.fields["medication"]
        if pending.action == "new" or pending.target_id:
            del self.fields["target"]


class MatchForm(core_forms.Form):
    resident = forms.ModelChoiceField(queryset=Resident.objects.none(), label="Resident")

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].queryset = Resident.objects.filter(facility=facility).exclude(
            status=ResidentStatus.DISCHARGED
        )


class ReceiptForm(core_forms.Form):
    decision = forms.ChoiceField(
        choices=[("receive", "Receive"), ("reject", "Not received")], widget=forms.HiddenInput
    )
    medication = forms.ModelChoiceField(queryset=Medication.objects.all(), required=False)
    quantity = forms.DecimalField(max_digits=10, decimal_places=2, required=False)
    lot = forms.CharField(max_length=40, required=False)
    expiry = forms.DateField(required=False, widget=DATE)
    rx_number = forms.CharField(max_length=40, required=False, label="Rx number")
    reason = forms.CharField(max_length=300, required=False, label="Reason (not received)")
