"""Changes of condition (incidents, evaluations and monitoring are to come): what a med tech or
caregiver notices about a resident, reported to the nurse at once and followed until settled.
It sits above `mar`, whose alerts inbox tells the nurse, and below `reports`.

models      ConditionReport: the changes noticed (rules.CHANGES, in plain words) and a note
services    condition_report (the nurse's inbox has it at once), conditions_escalate (not
            acknowledged within 30 minutes: urgent, with the wait in its words)
rules       the changes, and how long a report waits before it escalates
tasks       the beat's escalation sweep
"""
