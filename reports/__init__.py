"""Everything read-only built on the MAR (no models): the resident MAR day and month views,
the supervisor reports (exceptions, PRN use, error rate, controlled log, audit trails), their
CSVs, the monthly MAR PDF and the FHIR export."""
