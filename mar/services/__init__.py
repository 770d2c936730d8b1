"""Every write of mar: the dose engine, the alerts, and recording at the med pass.

    dose_engine  doses made ahead, moved by the clock (due -> overdue -> missed), cancelled
    alerts       raised by sweeps and events, acknowledged and resolved by nurses
    recording    administrations, PRNs within their limits, follow-ups, amendments

The names callers use are re-exported here: `from mar import services; services.prn_give(...)`.
"""

from .alerts import (
    alert_acknowledge,
    alert_resolve,
    alerts_acknowledge,
    alerts_raise_followups,
    alerts_roll_up_missed,
)
from .dose_engine import (
    HORIZON,
    LOOKBACK,
    doses_cancel_open,
    doses_generate,
    doses_mark_overdue,
    generation_queue,
)
from .recording import (
    AlreadyDocumented,
    CertificationRequired,
    RecordResult,
    administration_record,
    administration_record_away,
    amendment_create,
    prn_followup_record,
    prn_give,
)

__all__ = [
    "HORIZON",
    "LOOKBACK",
    "AlreadyDocumented",
    "CertificationRequired",
    "RecordResult",
    "administration_record",
    "administration_record_away",
    "alert_acknowledge",
    "alert_resolve",
    "alerts_acknowledge",
    "alerts_raise_followups",
    "alerts_roll_up_missed",
    "amendment_create",
    "doses_cancel_open",
    "doses_generate",
    "doses_mark_overdue",
    "generation_queue",
    "prn_followup_record",
    "prn_give",
]
