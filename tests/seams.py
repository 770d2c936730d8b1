"""Where the tests stand in for the outside world (named in medtech/settings/test.py)."""

GENERATIONS_QUEUED: list[int] = []


def remember_generation(facility_id: int) -> None:
    """Instead of sending "generate this facility's doses" to a worker, remember the request."""
    GENERATIONS_QUEUED.append(facility_id)


CARE_GENERATIONS_QUEUED: list[int] = []


def remember_care_generation(facility_id: int) -> None:
    """Instead of sending "make this facility's care tasks" to a worker, remember the request."""
    CARE_GENERATIONS_QUEUED.append(facility_id)


PDF_JOBS_QUEUED: list[int] = []


def remember_pdf_job(job_id: int) -> None:
    """Instead of sending "build this unit's MAR PDF" to a worker, remember the request."""
    PDF_JOBS_QUEUED.append(job_id)


PHARMACY_MESSAGES_QUEUED: list[int] = []


def remember_pharmacy_message(message_id: int) -> None:
    """Instead of sending "process this pharmacy message" to a worker, remember the request."""
    PHARMACY_MESSAGES_QUEUED.append(message_id)


REFILLS_QUEUED: list[int] = []


def remember_refill(refill_id: int) -> None:
    """Instead of sending "send this refill request" to a worker, remember the request."""
    REFILLS_QUEUED.append(refill_id)
