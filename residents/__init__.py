"""Residents: admission, profile and photo, allergies, code status, where they are (present,
on leave, in hospital, discharged) with its history, the audit trail page, and the home page.
A status change tells the apps above through `residents.signals` inside its transaction."""
