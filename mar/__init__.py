"""The medication administration record: what the schedule asks for and what happened.

models      ScheduledDose, Administration (and the vitals.VitalReading rows it was given on),
            Amendment, PrnFollowUp, Alert, OtherCode
rules.py    the pure clinical rules the med pass and the reports share (PRN limits, refusal
            pattern, hold parameters, amendments, F759 error kinds)
services/   dose_engine (doses made ahead and swept), alerts, recording (the med pass writes)
receivers   consequences of the lower apps' changes (absences, order holds, count discrepancies)
selectors   the med pass board and the resident's med pass cards, the alerts inbox
views       the med pass pages and the alerts inbox; tasks: the beat's thin wrappers
"""
