from django.dispatch import Signal

# Sent inside the transaction that changes an order's status, with `prescription`,
# `from_status`, `to_status`, `at` and `actor`. The dose engine cancels or fills in doses here.
prescription_status_changed = Signal()

# Sent inside the transaction that verifies (`to_state` "verified") or cancels ("cancelled") a
# dated hold, with `hold`, `to_state` and `at`: the dose engine cancels or restores its doses.
dated_hold_changed = Signal()
