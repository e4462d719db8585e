from datetime import datetime, timezone

import pytest

from medai.demo import generate_hospital, trajectory_classes

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def hospital() -> list[dict]:
    return generate_hospital(n_patients=24, seed=7, now=NOW, history_hours=48)


@pytest.fixture(scope="session")
def trajectories() -> list[str]:
    return trajectory_classes(24, 7)
