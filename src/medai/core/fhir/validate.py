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


def _null_paths(value: object, path: str):
    """Where JSON ``null`` stands for an element (FHIR JSON allows it only inside an array that has a ``_name`` twin)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                yield f"{path}.{key}"
            elif isinstance(item, list):
                for index, element in enumerate(item):
                    if element is None and f"_{key}" not in value:
                        yield f"{path}.{key}[{index}]"
                    else:
                        yield from _null_paths(element, f"{path}.{key}[{index}]")
            else:
                yield from _null_paths(item, f"{path}.{key}")


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
    nulls = list(_null_paths(resource, resource_type))[:_MAX_ERRORS]
    if nulls:
        raise InvalidInput([Problem(f"{location} ({path})", "null is not allowed in FHIR JSON; leave the element out", "structure")
                            for path in nulls])
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
