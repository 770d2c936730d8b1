"""What every app shares and that knows no domain.

DomainError and the view helpers (run_service, paginate), the audit decorator, facility-time
formatting and day bounds (time.py), the pure dose-schedule recurrence (schedule.py), the
health check, and the embedded PostgreSQL/Redis launcher for development and tests. Nothing
here imports an app of this project.
"""
