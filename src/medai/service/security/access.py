"""Who may call each route, read from the routes themselves (the one place roles are declared).

A route guarded by ``require_roles(...)`` lets exactly those roles through; one depending on
``get_principal`` alone lets any authenticated caller through; UI pages depending on the session
(``signed_in``) redirect strangers to the sign-in page; anything else is public. The authorisation
tests and ``benchmarks/reliability.py`` build their matrix from :func:`route_access`, so a new router is
covered the moment it is mounted.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from medai.store.accounts import ROLES


@dataclass(frozen=True)
class RouteAccess:
    """One method of one route and who may call it."""

    method: str
    path: str
    guard: str  # "roles" (bearer token with a role check), "session" (UI page), or "public"
    roles: frozenset[str]
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    include_in_schema: bool

    def allows(self, role: str) -> bool:
        """Whether ``role`` passes this route's guard."""
        return self.guard == "public" or role in self.roles


def _calls(dependant: Dependant):
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _query_params(dependant: Dependant) -> tuple[str, ...]:
    names = [q.alias for q in dependant.query_params]
    for dependency in dependant.dependencies:
        names.extend(_query_params(dependency))
    return tuple(dict.fromkeys(names))


def _guard(dependant: Dependant) -> tuple[str, frozenset[str]]:
    from medai.service.deps import get_principal
    from medai.service.ui.routes import signed_in

    roles: frozenset[str] | None = None
    guard = "public"
    for call in _calls(dependant):
        allowed = getattr(call, "allowed_roles", None)
        if allowed is not None:
            roles = allowed if roles is None else roles & allowed
            guard = "roles"
        elif call is get_principal and guard == "public":
            guard = "roles"
        elif call is signed_in:
            guard = "session"
    if guard == "public":
        return guard, frozenset()
    return guard, roles if roles is not None else frozenset(ROLES)


def _routes(app: FastAPI) -> list:
    """The app's routes with included routers expanded (FastAPI >= 0.16x keeps them lazily included)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are plain APIRoutes
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def route_access(app: FastAPI) -> list[RouteAccess]:
    """Every (method, route) of ``app`` with its guard and allowed roles."""
    found = []
    for route in _routes(app):
        if not isinstance(route.original_route if hasattr(route, "original_route") else route, APIRoute):
            continue
        guard, roles = _guard(route.dependant)
        for method in sorted(route.methods - {"HEAD"}):
            found.append(RouteAccess(method, route.path, guard, roles, tuple(p.name for p in route.dependant.path_params),
                                     _query_params(route.dependant), route.include_in_schema))
    return found
