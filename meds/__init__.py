"""The medication catalog and the orders (prescriptions): schedules (expanded by
`core.schedule`), PRN limits, hold parameters, verification, hold / resume / discontinue.
An order's status change tells the apps above through `meds.signals`."""
