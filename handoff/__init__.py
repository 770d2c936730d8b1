"""The 24-hour shift report and handoff notes: a unit's report of a shift assembled live from the
record (doses, PRNs, orders, conditions, incidents, vitals, care, absences, counts), the notes
staff leave per resident, the outgoing staff member's submission (a frozen snapshot) and the
incoming one's signed acknowledgement, and the alert when a report is not acknowledged."""
