from django.dispatch import Signal

# Sent inside the sweep's transaction with `facility_id`, `appointments` (a list of Appointment,
# resident loaded) and `at`: their outcome was not recorded 4 hours after the planned return.
# mar raises one "appointment outcome not recorded" alert each.
appointment_outcomes_overdue = Signal()

# Sent inside the transaction that closes or cancels an appointment, with `appointment`, `by`
# and `at`: mar resolves its outcome alert, if it has one.
appointment_settled = Signal()
