"""What care tells the apps above it (sent inside the transaction of the change)."""

from django.dispatch import Signal

# facility_id, tasks: [(task id, resident id)], at: the sweep's instant. The tasks turned missed.
care_tasks_missed = Signal()
# resident, category, at: performance worse than planned WORSE_THAN_PLANNED_TIMES times in the
# last WORSE_THAN_PLANNED_DAYS days in this ADL category.
care_reassessment_suggested = Signal()
# assessment: a nurse signed a new assessment (an open "reassessment due" is settled by it).
assessment_signed = Signal()
# facility_id, tasks: [(check id, resident id)], at: the sweep's instant. The monitoring checks
# turned missed.
monitoring_checks_missed = Signal()
