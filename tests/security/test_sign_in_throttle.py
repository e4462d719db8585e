"""Sign-in throttling: repeated failures get 429 with Retry-After, without checking the password."""

from medai.service.security.throttle import FailureWindow


def _sign_in(service, password: str, username: str = "clinician"):
    return service.client.post("/auth/token", data={"username": username, "password": password})


def test_repeated_failures_are_429_with_retry_after(service):
    limit = service.client.app.state.settings.sign_in_max_failures
    for _ in range(limit):
        assert _sign_in(service, "guess").status_code == 401
    blocked = _sign_in(service, "clinician-pw")  # even the right password waits
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= service.client.app.state.settings.sign_in_window_seconds
    assert "too many failed sign-ins" in blocked.json()["issue"][0]["diagnostics"]
    assert blocked.json()["issue"][0]["code"] == "throttled"


def test_ui_sign_in_shares_the_throttle(service):
    for _ in range(service.client.app.state.settings.sign_in_max_failures):
        assert service.client.post("/ui/login", data={"username": "admin", "password": "x"}).status_code == 401
    assert service.client.post("/ui/login", data={"username": "admin", "password": "admin-pw"}).status_code == 429


def test_spraying_usernames_from_one_client_is_throttled(service):
    for index in range(service.client.app.state.settings.sign_in_max_failures):
        assert _sign_in(service, "x", username=f"user{index}").status_code == 401
    assert _sign_in(service, "patient-pw", username="patient").status_code == 429


def test_throttled_attempts_are_audited(service):
    for _ in range(service.client.app.state.settings.sign_in_max_failures + 1):
        _sign_in(service, "guess")
    rows = service.client.get("/api/audit", headers=service.headers("admin", None)).json()
    outcomes = [r["outcome"] for r in rows if r["action"] == "sign-in"]
    assert outcomes.count("denied") == 5 and outcomes.count("throttled") == 1


def test_failure_window_slides():
    now = [0.0]
    window = FailureWindow(max_failures=2, window_seconds=60, clock=lambda: now[0])
    window.fail("k")
    now[0] = 10
    window.fail("k")
    assert window.retry_after("k") == 50
    now[0] = 61
    assert window.retry_after("k") == 0
    window.fail("k")
    assert window.retry_after("k") == 9
    window.clear("k")
    assert window.retry_after("k") == 0
