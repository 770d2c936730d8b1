from django.dispatch import Signal

# Sent inside the transaction that changes a resident's status, with `resident`, `from_status`,
# `to_status`, `effective_at` and `actor`. Higher apps (the dose engine) cancel or fill in doses
# here, so the change and its consequences commit together or not at all.
resident_status_changed = Signal()
