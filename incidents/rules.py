"""The words and rules of an incident (pure: no database, no clock).

The type decides which facts are asked and required (FACTS, `required_facts`) and which
follow-ups it opens (`followups_for`); the anticoagulant names back the medication class.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import models

from core.time import local_stamp


class IncidentKind(models.TextChoices):
    FALL = "fall", "Fall"
    SKIN = "skin", "Skin tear or injury"
    MEDICATION_ERROR = "medication_error", "Medication error"
    ELOPEMENT = "elopement", "Elopement"
    BEHAVIOUR = "behaviour", "Behaviour"
    OTHER = "other", "Other"


class IncidentState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class FallLocation(models.TextChoices):
    ROOM = "room", "Resident's room"
    BATHROOM = "bathroom", "Bathroom"
    HALLWAY = "hallway", "Hallway"
    DINING = "dining", "Dining room"
    COMMON = "common", "Lounge or activity room"
    OUTDOORS = "outdoors", "Outdoors"
    OTHER = "other", "Somewhere else"


class BodySite(models.TextChoices):
    HEAD = "head", "Head"
    FACE = "face", "Face"
    ARMS = "arms", "Arms or hands"
    TRUNK = "trunk", "Chest, back or abdomen"
    HIP = "hip", "Hip"
    LEGS = "legs", "Legs or feet"


class Injury(models.TextChoices):
    BRUISE = "bruise", "Bruise"
    SKIN_TEAR = "tear", "Skin tear"
    CUT = "cut", "Cut"
    SWELLING = "swelling", "Swelling"
    PAIN = "pain", "Pain"
    DEFORMITY = "deformity", "Deformity (possible fracture)"


class Toward(models.TextChoices):
    STAFF = "staff", "Staff"
    RESIDENT = "resident", "Another resident"
    SELF = "self", "Themself"
    VISITOR = "visitor", "A visitor"
    PROPERTY = "property", "Property"


class ErrorKind(models.TextChoices):
    WRONG_DRUG = "wrong_drug", "Wrong drug"
    WRONG_DOSE = "wrong_dose", "Wrong dose"
    WRONG_TIME = "wrong_time", "Wrong time"
    WRONG_RESIDENT = "wrong_resident", "Wrong resident"
    WRONG_ROUTE = "wrong_route", "Wrong route"
    OMISSION = "omission", "Dose left out"


class FollowUpKind(models.TextChoices):
    NOTIFY_PHYSICIAN = "notify_physician", "Notify the physician"
    NOTIFY_REPRESENTATIVE = "notify_representative", "Notify the representative"
    NEURO_CHECKS = "neuro_checks", "Neuro checks"
    POST_FALL_REVIEW = "post_fall_review", "Post-fall review"
    CARE_PLAN_REVIEW = "care_plan_review", "Care plan review"
    NURSE_REVIEW = "nurse_review", "Review by a nurse"


# A follow-up still open this long after the report raises "incident follow-up due".
FOLLOWUP_DUE = datetime.timedelta(hours=24)

# A notification records how and whom; only a notification may be declined (with a reason).
NOTIFICATIONS = (FollowUpKind.NOTIFY_PHYSICIAN, FollowUpKind.NOTIFY_REPRESENTATIVE)


class FollowUpState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DECLINED = "declined", "Declined"


class NotifyMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    FAX = "fax", "Fax"
    PORTAL = "portal", "Portal"
    MESSAGE = "message", "Message"


def followups_for(kind: str, *, witnessed: bool | None, head_strike: bool | None) -> list[str]:
    """The follow-ups an incident of this type opens, in the order a nurse works them."""
    if kind == IncidentKind.FALL:
        found = [FollowUpKind.NOTIFY_PHYSICIAN, FollowUpKind.NOTIFY_REPRESENTATIVE]
        if witnessed is False or head_strike:
            found.append(FollowUpKind.NEURO_CHECKS)
        return [*found, FollowUpKind.POST_FALL_REVIEW, FollowUpKind.CARE_PLAN_REVIEW]
    if kind == IncidentKind.MEDICATION_ERROR:
        return [
            FollowUpKind.NOTIFY_PHYSICIAN,
            FollowUpKind.NOTIFY_REPRESENTATIVE,
            FollowUpKind.NURSE_REVIEW,
        ]
    return [FollowUpKind.NOTIFY_REPRESENTATIVE, FollowUpKind.NURSE_REVIEW]


# Generic names of the anticoagulants (oral and injected). The catalog's high-alert class says
# "anticoagulant" where it was set; these names catch an entry whose class was left empty.
ANTICOAGULANTS = (
    "warfarin",
    "apixaban",
    "rivaroxaban",
    "dabigatran",
    "edoxaban",
    "enoxaparin",
    "dalteparin",
    "heparin",
    "fondaparinux",
)


def is_anticoagulant(*, name: str, generic_name: str, high_alert: str) -> bool:
    """Whether a catalog entry is an anticoagulant: its class says so, or its generic name or
    brand name names one (e.g. "Warfarin sodium", "enoxaparin")."""
    if high_alert == "anticoagulant":
        return True
    words = f"{generic_name} {name}".lower()
    return any(drug in words for drug in ANTICOAGULANTS)


# The facts an incident records beyond who, whom and when ----------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    kind: str  # "text", "yes_no", "choice", "score", "size", "instant"
    types: tuple[str, ...]  # the incident types that ask it (empty: every type)
    required: bool = False
    choices: type[models.TextChoices] | None = None

    def applies_to(self, incident_kind: str) -> bool:
        return not self.types or incident_kind in self.types


_FALL = (IncidentKind.FALL,)
_ERROR = (IncidentKind.MEDICATION_ERROR,)
FACTS: dict[str, Fact] = {
    "occurred_at": Fact("When it happened", "instant", (), required=True),
    "description": Fact("What happened", "text", (), required=True),
    "discovered_by": Fact("Found or seen by", "text", ()),
    "witnessed": Fact("Witnessed", "yes_no", _FALL, required=True),
    "location": Fact("Where", "choice", _FALL, required=True, choices=FallLocation),
    "pain_score": Fact("Pain score (0–10)", "score", _FALL, required=True),
    "head_strike": Fact("Hit their head", "yes_no", _FALL, required=True),
    "hospital_transfer": Fact("Sent to hospital", "yes_no", _FALL, required=True),
    "body_site": Fact("Body site", "choice", (IncidentKind.SKIN,), True, BodySite),
    "size_cm": Fact("Size (cm, longest side)", "size", (IncidentKind.SKIN,), required=True),
    "found_location": Fact("Found where", "text", (IncidentKind.ELOPEMENT,), required=True),
    "found_at": Fact("Found when", "instant", (IncidentKind.ELOPEMENT,), required=True),
    "toward": Fact("Toward whom", "choice", (IncidentKind.BEHAVIOUR,), True, Toward),
    "error_kind": Fact("What went wrong", "choice", _ERROR, required=True, choices=ErrorKind),
    "harm_reached": Fact("Reached the resident", "yes_no", _ERROR, required=True),
}
# What a required fact left empty says, by the fact's kind.
MISSING = {
    "yes_no": "Choose yes or no.",
    "choice": "Choose one.",
    "score": "Enter the pain score, 0 to 10 (0: no pain).",
    "size": "Enter the size in centimetres.",
    "instant": "Enter the date and time.",
    "text": "Fill this in.",
}
PAIN_SCORES = range(11)
SIZE_MAX = Decimal("99.9")
TEXT_MAX = {"description": 2000, "discovered_by": 120, "found_location": 200}


def facts_for(incident_kind: str) -> list[str]:
    """The facts this type asks, in the form's order."""
    return [name for name, fact in FACTS.items() if fact.applies_to(incident_kind)]


def fact_text(name: str, value, tz: ZoneInfo) -> str:
    """A fact's value as a person reads it ("Yes", "Hallway", "2026-03-08 01:30")."""
    fact = FACTS[name]
    if value is None or value == "":
        return "—"
    if fact.kind == "yes_no":
        return "Yes" if value else "No"
    if fact.kind == "choice":
        return fact.choices(value).label if value in fact.choices.values else str(value)
    if fact.kind == "instant":
        moment = value if isinstance(value, datetime.datetime) else parse_instant(value)
        return local_stamp(moment, tz)
    if fact.kind == "score":
        return f"{value}/10"
    if fact.kind == "size":
        return f"{Decimal(value).normalize():f} cm"
    return str(value)


def parse_instant(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value)


def local_instant(local: datetime.datetime, tz: ZoneInfo) -> datetime.datetime:
    """The UTC instant of a wall-clock time typed at the facility. As DESIGN.md's dose times: a
    time in the spring-forward gap lands after the gap (02:30 -> 03:30 EDT), a time that
    happens twice is its first occurrence (fold 0)."""
    wall = local.replace(tzinfo=None, fold=0)
    return wall.replace(tzinfo=tz).astimezone(datetime.UTC)


def injuries_labels(injuries: dict[str, str]) -> list[str]:
    """ "Head: bruise": the injuries by body site, in the list's order."""
    return [
        f"{site.label}: {Injury(injuries[site]).label.lower()}"
        for site in BodySite
        if injuries.get(site) in Injury.values
    ]


def fact_from_text(name: str, text: str, tz: ZoneInfo):
    """A corrected value typed as words ("yes", "Hallway", "2026-03-08 14:30", "4"), as the
    fact stores it; ValueError with a message when it cannot be read."""
    fact = FACTS[name]
    text = (text or "").strip()
    if not text:
        return "" if fact.kind == "text" else None
    lowered = text.lower()
    if fact.kind == "yes_no":
        if lowered in ("yes", "y"):
            return True
        if lowered in ("no", "n"):
            return False
        raise ValueError("Type yes or no.")
    if fact.kind == "choice":
        for value, label in fact.choices.choices:
            if lowered in (value, label.lower()):
                return value
        raise ValueError("Type one of: " + ", ".join(fact.choices.labels) + ".")
    if fact.kind == "score":
        if not text.isdigit() or int(text) not in PAIN_SCORES:
            raise ValueError(MISSING["score"])
        return int(text)
    if fact.kind == "size":
        return text  # the service reads the number and says what is wrong with it
    if fact.kind == "instant":
        try:
            wall = datetime.datetime.strptime(  # noqa: DTZ007 - facility wall time, made aware below
                text.replace("T", " "), "%Y-%m-%d %H:%M"
            )
        except ValueError:
            raise ValueError("Type the date and time as 2026-03-08 14:30.") from None
        if not 1900 <= wall.year <= 2100:
            raise ValueError("Type a date of this century.")
        return local_instant(wall, tz)
    return text
