import zoneinfo

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from core import forms as core_forms
from core.shifts import starts_problem

from .models import Certification, Facility, Role
from .services import POLICY_FIELDS, SHIFT_FIELDS

DATE = forms.DateInput(attrs={"type": "date"})


class LoginForm(core_forms.HardenedMixin, AuthenticationForm):
    """Django's login form, with the username's length checked before anyone is looked up."""


class AdminLoginForm(core_forms.HardenedMixin, AdminAuthenticationForm):
    pass


class StaffCreateForm(core_forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    title = forms.CharField(max_length=40, required=False, help_text="e.g. CMA, LPN, RN")
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class MembershipForm(core_forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    title = forms.CharField(max_length=40, required=False)
    is_active = forms.BooleanField(
        required=False, label="Active (may sign in and work at this facility)"
    )


class SetPasswordForm(core_forms.Form):
    password1 = forms.CharField(label="New password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="New password again", widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class CertificationForm(core_forms.ModelForm):
    class Meta:
        model = Certification
        fields = ["kind", "number", "issued", "expires"]
        widgets = {"issued": DATE, "expires": DATE}

    def clean(self):
        data = super().clean()
        if data.get("issued") and data.get("expires") and data["expires"] < data["issued"]:
            self.add_error("expires", "The expiry date is before the issue date.")
        return data


class FacilityPolicyForm(core_forms.ModelForm):
    timezone = forms.ChoiceField(
        choices=[(name, name) for name in sorted(zoneinfo.available_timezones())]
    )

    class Meta:
        model = Facility
        fields = list(POLICY_FIELDS)
        widgets = {
            name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M") for name in SHIFT_FIELDS
        }

    def clean(self):
        # Said beside the field here; the model's check constraint would only name itself.
        data = super().clean()
        normal = data.get("dose_window_minutes")
        critical = data.get("time_critical_window_minutes")
        if normal is not None and critical is not None and critical > normal:
            self.add_error(
                "time_critical_window_minutes",
                "The time-critical window cannot be longer than the normal window.",
            )
        due = data.get("prn_followup_minutes")
        earliest = data.get("prn_followup_earliest_minutes")
        if due is not None and earliest is not None and earliest > due:
            self.add_error(
                "prn_followup_earliest_minutes",
                "The earliest follow-up cannot come after the follow-up is due.",
            )
        starts = tuple(data.get(name) for name in SHIFT_FIELDS)
        if None not in starts:
            problem = starts_problem(starts)
            if problem is not None:
                self.add_error(SHIFT_FIELDS[problem[0]], problem[1])
        return data


class UnitForm(core_forms.Form):
    name = forms.CharField(max_length=60)


class PinForm(core_forms.Form):
    current_password = forms.CharField(widget=forms.PasswordInput)
    pin = forms.CharField(
        label="New PIN",
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="4 to 8 digits. Used when you witness or approve at the med cart.",
    )
