"""The service fixture (one user per role, two patients) shared with tests/service."""

from tests.service.conftest import service  # noqa: F401
