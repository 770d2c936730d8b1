from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import AdminLoginForm
from .models import Certification, Facility, Membership, Unit, User

# The admin's sign-in refuses over-long and control-character usernames like ours does.
admin.site.login_form = AdminLoginForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline, CertificationInline]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Work", {"fields": ("title",)}))


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "dose_window_minutes", "idle_logout_minutes")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "facility")
    list_filter = ("facility",)
