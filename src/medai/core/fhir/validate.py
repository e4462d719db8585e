"""Structural validation of FHIR R4 resources against the ``fhir.resources.R4B`` models."""

from __future__ import annotations

from functools import lru_cache

from pydantic import ValidationError

from medai.errors import InvalidInput, Problem

_MAX_ERRORS = 10


@lru_cache(maxsize=None)
def _model_class(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        return None


def validate_resource(resource: object, location: str = "resource") -> str:
    """Validate one FHIR resource; return its ``resourceType``.

    Raises ``InvalidInput`` naming each invalid element (FHIRPath-like location).
    """
    if not isinstance(resource, dict):
        raise InvalidInput(Problem(location, "a FHIR resource must be a JSON object", "structure"))
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        raise InvalidInput(Problem(f"{location}.resourceType", "resourceType is missing", "required"))
    model = _model_class(resource_type)
    if model is None:
        raise InvalidInput(Problem(f"{location}.resourceType", f"unknown FHIR R4 resource type {resource_type!r}", "not-supported"))
    try:
        model.model_validate(resource)
    except ValidationError as error:
        problems = []
        for detail in error.errors()[:_MAX_ERRORS]:
            path = ".".join(str(part) for part in detail["loc"] if part != "__root__")
            where = f"{resource_type}.{path}" if path else resource_type
            problems.append(Problem(f"{location} ({where})", detail["msg"], "structure"))
        raise InvalidInput(problems) from None
    return resource_type
