"""Every write about a facility's "other" codes (the list a med tech picks from when a dose is
recorded as "Other"). One transaction each, with the acting user.

Administrations store the code's text, not a reference to the row, so a code that any record
uses keeps its key and cannot be deleted; its label (what people read) can always change.
"""

import re

from django.db import IntegrityError, transaction

from accounts.models import Facility, User
from core.errors import DomainError
from core.validators import check_inputs

from ..models import OtherCode
from ..selectors import other_code_use_count

CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
CODE_MAX = OtherCode._meta.get_field("code").max_length
LABEL_MAX = OtherCode._meta.get_field("label").max_length


def _doses(count: int) -> str:
    return f"{count} recorded dose{'' if count == 1 else 's'}"


def _clean_code(code: str) -> str:
    code = code.strip().lower()
    if not code:
        raise DomainError("Enter a short code, e.g. dialysis.", field="code")
    if len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        raise DomainError(
            f"A code is one short word of at most {CODE_MAX} lowercase letters, digits, dashes "
            "or underscores, e.g. dialysis or out-with-family.",
            field="code",
        )
    return code


def _clean_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise DomainError("Enter the label people read, e.g. At dialysis.", field="label")
    if len(label) > LABEL_MAX:
        raise DomainError(f"Keep the label to {LABEL_MAX} characters.", field="label")
    return label


def _refuse_duplicates(facility: Facility, code: str, label: str, *, exclude_pk=None) -> None:
    others = OtherCode.objects.filter(facility=facility).exclude(pk=exclude_pk)
    if others.filter(code=code).exists():
        raise DomainError(f"The code “{code}” is already on the list.", field="code")
    same = others.filter(label__iexact=label).first()
    if same is not None:
        raise DomainError(
            f"“{same.label}” is already on the list; choose a label people can tell apart.",
            field="label",
        )


def _save(code: OtherCode) -> OtherCode:
    try:
        with transaction.atomic():
            code.save()
    except IntegrityError:
        # Two administrators adding the same code at once: the constraint is the last guard.
        raise DomainError(f"The code “{code.code}” is already on the list.", field="code") from None
    return code


@transaction.atomic
def other_code_create(*, actor: User, facility: Facility, code: str, label: str) -> OtherCode:
    """Add a code to the facility's list. The code is stored lowercase; code and label are each
    unique in the facility. The caller checks the actor's role."""
    check_inputs(code=code, label=label)
    code, label = _clean_code(code), _clean_label(label)
    _refuse_duplicates(facility, code, label)
    return _save(OtherCode(facility=facility, code=code, label=label))


@transaction.atomic
def other_code_update(*, actor: User, other_code: OtherCode, code: str, label: str) -> OtherCode:
    """Change a code's label, or its key while no administration has been recorded with it."""
    check_inputs(code=code, label=label)
    locked = OtherCode.objects.select_for_update().get(pk=other_code.pk)
    code, label = _clean_code(code), _clean_label(label)
    if code != locked.code:
        used = other_code_use_count(code=locked)
        if used:
            raise DomainError(
                f"“{locked.code}” is on {_doses(used)}, which "
                "keep the code as it was written; it cannot change. Change the label instead, "
                "or add a new code.",
                field="code",
            )
    _refuse_duplicates(locked.facility, code, label, exclude_pk=locked.pk)
    locked.code, locked.label = code, label
    return _save(locked)


@transaction.atomic
def other_code_delete(*, actor: User, other_code: OtherCode) -> str:
    """Remove a code no administration has been recorded with (recorded doses keep its text);
    return its label."""
    locked = OtherCode.objects.select_for_update().get(pk=other_code.pk)
    used = other_code_use_count(code=locked)
    if used:
        raise DomainError(
            f"“{locked.label}” is on {_doses(used)}, so it stays "
            "on the list; you can change its label."
        )
    locked.delete()
    return locked.label
