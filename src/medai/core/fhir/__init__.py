"""FHIR R4 (4.0.1) JSON <-> medai records.

Validation uses the ``fhir.resources.R4B`` models. That choice is deliberate:
``fhir.resources`` has no plain R4 package and its default is R5, which drops R4
fields; R4B (4.3) keeps the R4 structure of every resource type medai models,
which the round-trip test on real Synthea R4 data checks field by field.
"""

from medai.core.fhir.outcome import operation_outcome
from medai.core.fhir.read import record_from_fhir
from medai.core.fhir.validate import validate_resource
from medai.core.fhir.write import record_to_fhir

__all__ = ["operation_outcome", "record_from_fhir", "record_to_fhir", "validate_resource"]
