"""Clinical records, units and FHIR R4 conversion."""
