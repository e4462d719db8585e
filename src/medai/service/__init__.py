"""The FastAPI service: FHIR, CDS Hooks, application routers and the clinician web UI."""
