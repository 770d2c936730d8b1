"""Residents: admission, profile and photo, allergies, code status, where they are (present,
on leave, in hospital, discharged) with its history, and the home page (the resident's audit
trail is a reports page: it reads the rows of the apps above).
A status change tells the apps above through `residents.signals` inside its transaction."""
