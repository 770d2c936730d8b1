"""Every write of the care app (see DESIGN.md: transactional functions, keyword arguments)."""

from .assessments import assessment_sign
from .levels import care_level_delete, care_level_save
from .monitoring import monitoring_check_record, monitoring_end, monitoring_start
from .plans import plan_draft_from_assessment, plan_item_save, plan_publish
from .recording import care_record_amend, care_task_record
from .task_engine import care_tasks_cancel_open, care_tasks_generate, care_tasks_mark

__all__ = [
    "assessment_sign",
    "care_level_delete",
    "care_level_save",
    "care_record_amend",
    "care_task_record",
    "care_tasks_cancel_open",
    "care_tasks_generate",
    "care_tasks_mark",
    "monitoring_check_record",
    "monitoring_end",
    "monitoring_start",
    "plan_draft_from_assessment",
    "plan_item_save",
    "plan_publish",
]
