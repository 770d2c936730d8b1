"""What vitals tells the apps above it (sent inside the transaction of the reading)."""

from django.dispatch import Signal

# exceptions: [VitalException] just made (reading and resident loaded), at: when recorded.
vital_exceptions_raised = Signal()
# exception, acknowledgement: a nurse acknowledged the exception (its alert is settled).
vital_exception_acknowledged = Signal()
# resident, reading, loss (rules.WeightLoss), at: a weight recorded is a loss to review.
weight_loss_found = Signal()
