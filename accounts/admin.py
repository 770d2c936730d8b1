from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import AdminLoginForm
from .models import Certification, Facility, Membership, SignoffFailure, Unit, User

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


@admin.register(SignoffFailure)
class SignoffFailureAdmin(admin.ModelAdmin):
    """Who typed a wrong sign-off for whom, from where: read only."""

    list_display = ("at", "typist", "named_username", "purpose", "address", "facility")
    list_filter = ("facility",)
    search_fields = ("typist__username", "named_username", "address")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
