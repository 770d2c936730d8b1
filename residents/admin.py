from django.contrib import admin

from .models import Allergy, Resident


class AllergyInline(admin.TabularInline):
    model = Allergy
    extra = 0
    readonly_fields = ("recorded_by", "recorded_at")


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "facility", "unit", "room", "status")
    list_filter = ("facility", "status")
    search_fields = ("last_name", "first_name", "room")
    # Status changes go through the product's pages so their history and consequences follow.
    readonly_fields = ("status", "allergy_status", "wristband_code")
    inlines = [AllergyInline]
