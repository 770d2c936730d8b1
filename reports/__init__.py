"""Everything built on the MAR for reading: the resident MAR day and month views, the supervisor
reports (exceptions, PRN use, error rate, controlled log, audit trails), their CSVs, the monthly
MAR PDF and the FHIR export. Its one model is `MarPdfJob`: a unit's monthly MAR PDF built by a
worker (models.py, services.py, tasks.py); everything else here only reads."""
