"""Care beyond the cart: assessments score a resident and set a care level, a service plan says
what care, how often and how much help, and the beat makes each shift's care tasks from it,
which staff document like doses.

Assessment template -> Assessment (signed by a nurse) -> ServicePlan (draft -> active ->
superseded; an active plan is never edited) with CareItems -> CareTask rows per shift (the timed
work pattern of DESIGN.md: rows with state, an idempotent generator, a partial-index sweep) ->
CareRecord (append-only; corrected by CareAmendment).
"""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.models import Facility
from core.audit import track
from core.shifts import DEFAULT_SHIFTS
from core.time import current_stamp
from residents.models import Resident

from . import rules


class AdlCategory(models.TextChoices):
    BATHING = "bathing", "Bathing"
    DRESSING = "dressing", "Dressing"
    GROOMING = "grooming", "Grooming"
    EATING = "eating", "Eating"
    TOILETING = "toileting", "Toileting"
    TRANSFERS = "transfers", "Transfers"
    AMBULATION = "ambulation", "Ambulation"
    CONTINENCE = "continence", "Continence"
    COGNITION = "cognition", "Cognition and orientation"
    MOBILITY_AIDS = "mobility_aids", "Mobility aids"


GG_CHOICES = rules.GG_CODES
SHIFT_CHOICES = [(name, label) for name, label, _ in DEFAULT_SHIFTS]
SHIFT_LABELS = dict(SHIFT_CHOICES)
SHIFT_ORDER = {name: i for i, (name, _) in enumerate(SHIFT_CHOICES)}  # in a day's order


# Assessments ----------------------------------------------------------------------------------


@track()
class AssessmentTemplate(models.Model):
    """A versioned set of scored questions. A new version is a new row; an assessment keeps the
    version it was made with."""

    name = models.CharField(max_length=120)
    version = models.PositiveSmallIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="assessment_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version})"


class AssessmentQuestion(models.Model):
    template = models.ForeignKey(
        AssessmentTemplate, on_delete=models.PROTECT, related_name="questions"
    )
    position = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20, choices=AdlCategory.choices)
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="question_position"),
            models.UniqueConstraint(fields=["template", "category"], name="question_category"),
        ]

    def __str__(self) -> str:
        return self.text


class AssessmentChoice(models.Model):
    question = models.ForeignKey(
        AssessmentQuestion, on_delete=models.PROTECT, related_name="choices"
    )
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(20)])
    # The level of help this answer means, for the plan made from the assessment ("" for an
    # answer that plans no care, e.g. "no mobility aid").
    planned_code = models.CharField(max_length=2, choices=GG_CHOICES, blank=True)

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="choice_position")
        ]

    def __str__(self) -> str:
        return self.label


@track()
class CareLevel(models.Model):
    """The facility's table from assessment score to care level, which its administrator
    edits: a score belongs to the level with the highest `lowest_score` not above it."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="care_levels")
    lowest_score = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["facility", "lowest_score"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "lowest_score"], name="care_level_from"),
            models.UniqueConstraint(fields=["facility", "name"], name="care_level_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (from {self.lowest_score})"


class AssessmentReason(models.TextChoices):
    ADMISSION = "admission", "Admission"
    ROUTINE = "routine", "Routine (six-monthly)"
    RETURN = "return", "Return from hospital"
    CHANGE = "change", "Change of condition"


@track()
class Assessment(models.Model):
    """A signed assessment: answers are fixed once signed (a new assessment replaces it)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="assessments")
    template = models.ForeignKey(AssessmentTemplate, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=12, choices=AssessmentReason.choices)
    total_score = models.PositiveSmallIntegerField()
    care_level = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    next_due = models.DateField()

    class Meta:
        ordering = ["resident", "-signed_at"]
        indexes = [models.Index(fields=["resident", "-signed_at"], name="assessment_latest_idx")]

    def __str__(self) -> str:
        return f"{self.template.name} for {self.resident}, {current_stamp(self.signed_at)}"


class AssessmentAnswer(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="answers")
    question = models.ForeignKey(AssessmentQuestion, on_delete=models.PROTECT, related_name="+")
    choice = models.ForeignKey(AssessmentChoice, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["assessment", "question__position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "question"], name="answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.choice}"


# Service plans --------------------------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"


@track()
class ServicePlan(models.Model):
    """What care a resident receives. A draft is edited; publishing (a nurse signs) makes it
    active and supersedes the previous one; an active plan is never edited in place."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="service_plans")
    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, null=True, blank=True, related_name="plans"
    )
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # What publishing changed against the plan it superseded, in words, one line each.
    changes = ArrayField(models.CharField(max_length=400), default=list, blank=True)

    class Meta:
        ordering = ["resident", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(status="active"),
                name="plan_one_active",
            ),
            models.UniqueConstraint(
                fields=["resident"], condition=models.Q(status="draft"), name="plan_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} service plan for {self.resident}"


@track()
class CareItem(models.Model):
    """One line of a plan: what care, how much help, by how many staff, on which shifts."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.PROTECT, related_name="items")
    category = models.CharField(max_length=20, choices=AdlCategory.choices)
    instructions = models.CharField(max_length=500)
    planned_code = models.CharField(max_length=2, choices=GG_CHOICES)
    staff_count = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    shifts = ArrayField(models.CharField(max_length=10, choices=SHIFT_CHOICES))
    # ISO weekdays (1 Monday .. 7 Sunday) the care is given on; empty: every day.
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )

    class Meta:
        ordering = ["plan", "category", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "category"], name="care_item_one_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.instructions}"

    @property
    def shifts_words(self) -> str:
        """ "Day, Evening"."""
        return ", ".join(SHIFT_LABELS.get(name, name) for name in self.shifts)

    @property
    def days_words(self) -> str:
        return rules.days_words(self.weekdays)


# Care tasks -----------------------------------------------------------------------------------


class TaskState(models.TextChoices):
    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    MISSED = "missed", "Missed"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"
    NOT_DONE = "not_done", "Not done"
    CANCELLED = "cancelled", "Cancelled"


TASK_OPEN_STATES = (TaskState.DUE, TaskState.OVERDUE)
# What a person may still document (a missed task: late, with a reason, within a day).
TASK_DOCUMENTABLE = (*TASK_OPEN_STATES, TaskState.MISSED)


@track(inserts=False, per_statement=True)
class CareTask(models.Model):
    """One care item on one shift. Made ahead by the beat, moved by the sweep; unique per
    (item, shift day, shift name), so two runs at once add nothing twice."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="care_tasks", db_index=False
    )
    item = models.ForeignKey(
        CareItem, on_delete=models.PROTECT, related_name="tasks", db_index=False
    )
    shift_day = models.DateField()  # the local day the shift starts on
    shift_name = models.CharField(max_length=10, choices=SHIFT_CHOICES)
    window_opens_at = models.DateTimeField()  # the shift's start
    window_closes_at = models.DateTimeField()  # the shift's end: missed when undocumented
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.DUE)
    cancel_reason = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["window_opens_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "shift_day", "shift_name"], name="care_task_unique_shift"
            ),
            models.CheckConstraint(
                condition=models.Q(window_opens_at__lt=models.F("window_closes_at")),
                name="care_task_window",
            ),
        ]
        indexes = [
            # The sweep: a facility's open tasks by when their window closes.
            models.Index(
                fields=["facility", "state", "window_closes_at"],
                name="care_task_open_sweep_idx",
                condition=models.Q(state__in=["due", "overdue"]),
            ),
            models.Index(fields=["facility", "window_opens_at"], name="care_task_facility_idx"),
            models.Index(fields=["resident", "window_opens_at"], name="care_task_resident_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item} on the {self.shift_name} shift of {self.shift_day:%Y-%m-%d}"

    @property
    def record(self) -> "CareRecord | None":
        """The live record (None: not documented, or only in error). Read with
        `live_record_prefetch()` for a list of tasks; a query each otherwise."""
        live = getattr(self, "live_records", None)
        if live is None:
            live = list(
                self.records.filter(voided=False)
                .select_related("recorded_by")
                .prefetch_related("amendments")[:1]
            )
        return live[0] if live else None


class CareStatus(models.TextChoices):
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"
    NOT_DONE = "not_done", "Not done"


@track()
class CareRecord(models.Model):
    """What was documented for a task: append-only (corrections are amendments)."""

    # One live record per task (the constraint); one marked entered in error stays beside the
    # record made after it.
    task = models.ForeignKey(CareTask, on_delete=models.PROTECT, related_name="records")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="care_records")
    status = models.CharField(max_length=10, choices=CareStatus.choices)
    performance_code = models.CharField(max_length=2, choices=GG_CHOICES, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    performed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    voided = models.BooleanField(default=False)

    class Meta:
        ordering = ["-performed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(voided=False), name="care_record_one_live"
            )
        ]
        indexes = [
            models.Index(fields=["resident", "performed_at"], name="care_record_resident_idx")
        ]

    def __str__(self) -> str:
        return f"{self.task.item}: {self.get_status_display()}"

    def _corrected(self, field: str) -> str:
        value = getattr(self, field)
        for amendment in self.amendments.all():  # prefetched with the record for lists
            value = amendment.changes.get(field, value)
        return value

    @property
    def current_status(self) -> str:
        """The status as amended (a correction says what the record should have said)."""
        return self._corrected("status")

    @property
    def current_code(self) -> str:
        return self._corrected("performance_code")


class CareAmendmentKind(models.TextChoices):
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"
    CORRECTION = "correction", "Correction"


@track()
class CareAmendment(models.Model):
    """A nurse's correction of a care record; the original stays beside it (append-only)."""

    record = models.ForeignKey(CareRecord, on_delete=models.PROTECT, related_name="amendments")
    kind = models.CharField(
        max_length=20, choices=CareAmendmentKind.choices, default=CareAmendmentKind.CORRECTION
    )
    reason = models.CharField(max_length=300)
    changes = models.JSONField(default=dict)
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField()

    class Meta:
        ordering = ["record", "amended_at"]
        triggers = [
            pgtrigger.Protect(
                name="care_amendment_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"Amendment of {self.record}: {self.reason}"

    @property
    def changes_words(self) -> str:
        """ "should read Refused; level of help 02 Substantial/maximal assistance"."""
        words = []
        if status := self.changes.get("status"):
            words.append(f"should read {CareStatus(status).label}")
        if code := self.changes.get("performance_code"):
            words.append(f"level of help {dict(GG_CHOICES).get(code, code)}")
        return "; ".join(words)


def live_record_prefetch():
    """Prefetch for a list of CareTasks: each task's live record (with who recorded it) as
    `task.record`, one query for the list."""
    return models.Prefetch(
        "records",
        queryset=CareRecord.objects.filter(voided=False)
        .select_related("recorded_by")
        .prefetch_related("amendments"),
        to_attr="live_records",
    )


# Monitoring ------------------------------------------------------------------------------------


@track()
class MonitoringEpisode(models.Model):
    """A resident watched closely for a while (72 hours by default) after a change of condition
    or a fall: a check every shift, made by the care task engine like care tasks. Ended early
    by a nurse with a note; otherwise it runs out at `ends_at`."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="monitoring_episodes"
    )
    reason = models.CharField(max_length=300)  # what to watch, in words the checks show
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)  # ended early by a nurse
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    end_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(started_at__lt=models.F("ends_at")),
                name="monitoring_episode_period",
            ),
        ]
        indexes = [
            # The engine and the pages: the episodes still running, by facility and resident.
            models.Index(
                fields=["facility", "ends_at"],
                name="monitoring_running_idx",
                condition=models.Q(ended_at__isnull=True),
            ),
            models.Index(fields=["resident", "-started_at"], name="monitoring_resident_idx"),
        ]

    def __str__(self) -> str:
        return f"Monitoring of {self.resident}: {self.reason}"

    @property
    def last_moment(self):
        """When the monitoring stops: its end, or when a nurse ended it."""
        return self.ended_at if self.ended_at is not None else self.ends_at


@track(inserts=False, per_statement=True)
class MonitoringCheck(models.Model):
    """One shift's check of a monitored resident: due -> overdue -> missed by the sweep, done
    or not done by the person who checked (once; the note and readings stay as written)."""

    episode = models.ForeignKey(
        MonitoringEpisode, on_delete=models.PROTECT, related_name="checks", db_index=False
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="monitoring_checks", db_index=False
    )
    shift_day = models.DateField()
    shift_name = models.CharField(max_length=10, choices=SHIFT_CHOICES)
    window_opens_at = models.DateTimeField()
    window_closes_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.DUE)
    cancel_reason = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)  # what the checker saw
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    readings = models.ManyToManyField("vitals.VitalReading", related_name="+", blank=True)

    class Meta:
        ordering = ["window_opens_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "shift_day", "shift_name"], name="monitoring_check_unique_shift"
            ),
            models.CheckConstraint(
                condition=models.Q(window_opens_at__lt=models.F("window_closes_at")),
                name="monitoring_check_window",
            ),
        ]
        indexes = [
            models.Index(
                fields=["facility", "state", "window_closes_at"],
                name="monitoring_check_sweep_idx",
                condition=models.Q(state__in=["due", "overdue"]),
            ),
            models.Index(
                fields=["resident", "window_opens_at"], name="monitoring_check_resident_idx"
            ),
            models.Index(fields=["facility", "window_opens_at"], name="monitoring_check_fac_idx"),
        ]

    def __str__(self) -> str:
        return f"Monitoring check of {self.resident}, {self.shift_name} shift {self.shift_day}"
