"""Facilities and the people who work in them: Facility (time zone, policy), Unit, User,
Membership (a role per facility), Certification; login, lockout, idle logout, PINs, and the
`facility_view` gate every page goes through (permissions.py). The lowest app: it imports
only `core`."""
