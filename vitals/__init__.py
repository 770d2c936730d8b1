"""Vital signs: the kinds a resident's readings are taken of (with their units) and every
reading, whoever took it and why (the med pass, a nurse's evaluation, monitoring, the flowsheet).
Below meds: an order's hold parameters name the vital signs read here. A reading never points
up; a med pass record names the readings it was given on (`mar.Administration.readings`)."""
