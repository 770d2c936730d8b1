"""Incidents and falls: what happened to a resident (a fall, a skin tear, a medication error,
an elopement, a behaviour, anything else), the follow-ups its type asks for, and the nurse's
close. It sits above `clinical` (who reports is clinical's REPORTERS) and below `reports`.

models      Incident (the reported facts never change: a database trigger refuses), Amendment
            (a correction: field, before, after, reason), FollowUp (notify physician, notify
            representative, neuro checks, post-fall review, care plan review, nurse review)
rules       the types, their fields and follow-ups, the anticoagulant names, local times
services    incident_report (its follow-ups and the inbox alert; a fall starts monitoring),
            incident_amend, followup_complete / followup_decline, incident_close
            followups_raise_due (the beat's sweep: a follow-up open 24 hours alerts the nurses)
selectors   the incident as amended, the facility's list, the month's counts
tasks       the beat's follow-up sweep
"""
