"""The clinical numbers and words of a change of condition (pure: no database)."""

import datetime

from django.db import models


class ConditionChange(models.TextChoices):
    """What staff notice, in our own words (the INTERACT forms are licensed; their text is not
    used). The order is the order of the checklist."""

    EATS_LESS = "eats_less", "Eats less"
    DRINKS_LESS = "drinks_less", "Drinks less"
    SEEMS_DIFFERENT = "seems_different", "Seems different than usual"
    COMMUNICATES_LESS = "communicates_less", "Talks or communicates less"
    NEEDS_MORE_HELP = "needs_more_help", "Needs more help overall"
    PAIN = "pain", "Pain, new or worse"
    FELL = "fell", "Fell"
    SKIN = "skin", "Skin change"
    AGITATED = "agitated", "Agitated or nervous"
    TIRED = "tired", "Tired or weak"
    CONFUSED = "confused", "Confused"
    TOILETING = "toileting", "Change in toileting"


# A report no nurse has acknowledged this long after it was made escalates: urgent, and its
# words say how long it has waited (every nurse of the facility reads the inbox).
ESCALATE_AFTER = datetime.timedelta(minutes=30)


def changes_labels(changes: list[str]) -> list[str]:
    """The changes ticked, in the checklist's order and words (unknown values left out)."""
    order = {value: i for i, value in enumerate(ConditionChange.values)}
    known = sorted((change for change in changes if change in order), key=order.__getitem__)
    return [ConditionChange(change).label for change in known]


def changes_words(changes: list[str]) -> str:
    """ "eats less, tired or weak": the changes ticked, as a phrase."""
    return ", ".join(label.lower() for label in changes_labels(changes))


class NotifiedParty(models.TextChoices):
    """Who hears of a change of condition (CMS F580): the physician and the resident's
    representative, each reached or explicitly not."""

    PHYSICIAN = "physician", "Physician"
    REPRESENTATIVE = "representative", "Representative"


class NotificationMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    FAX = "fax", "Fax"
    PORTAL = "portal", "Portal or secure message"


class NotificationResponse(models.TextChoices):
    NEW_ORDER = "new_order", "New order"
    MONITOR = "monitor", "Monitor"
    SEND_OUT = "send_out", "Send out"
    VISIT = "visit", "Will visit or see the resident"
    NO_CHANGE = "no_change", "No change"
    ACKNOWLEDGED = "acknowledged", "Acknowledged, no instructions"


# The parties an evaluation cannot be closed without (reached, or declined with a reason).
REQUIRED_PARTIES = (NotifiedParty.PHYSICIAN, NotifiedParty.REPRESENTATIVE)
# How far back the SBAR's background reads the record.
BACKGROUND_VITALS = datetime.timedelta(hours=72)
BACKGROUND_PRN = datetime.timedelta(hours=72)
BACKGROUND_REFUSALS = datetime.timedelta(days=7)


def parties_missing(done: set[str]) -> list[str]:
    """The required parties neither reached nor declined yet, in words ("physician")."""
    return [NotifiedParty(p).label.lower() for p in REQUIRED_PARTIES if p not in done]
