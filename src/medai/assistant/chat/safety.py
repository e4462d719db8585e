"""The chat's adapter over the crisis safety layer (``medai.assistant.safety``): the screener, the level at
which a conversation stops, and the crisis response.

When the shipped crisis model package is missing the screen runs on the lexicon rules alone and says so in
its identity (it never runs with nothing). Loading is guarded by a lock, so a warm-up thread and the first
message never load the model twice."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from medai.assistant.safety import CrisisScreener, ScreenResult
from medai.assistant.safety.types import CATEGORIES, RISKS, combine, max_risk, risk_rank

log = logging.getLogger(__name__)
DEFAULT_LEVEL = "moderate"
_LOADING = threading.Lock()


def default_screener() -> CrisisScreener:
    """The shipped screener (rules + model); rules alone, with a warning, when the model package is not installed.
    Loaded once per process; callers arriving while it loads wait for it."""
    with _LOADING:
        return _shipped_screener()


@lru_cache(maxsize=1)
def _shipped_screener() -> CrisisScreener:
    from medai.assistant.safety.screen import default_screener as shipped

    try:
        return shipped()
    except Exception as error:  # noqa: BLE001 - a missing or broken model package must not switch the screen off
        log.warning("crisis model unavailable (%s); screening with the lexicon rules only", type(error).__name__)
        return CrisisScreener(model=None)


def check_level(level: str) -> str:
    """``level`` if it is a risk level at which a flow may stop (low .. imminent); ``ValueError`` otherwise."""
    if level not in RISKS[1:]:
        raise ValueError(f"crisis level must be one of {', '.join(RISKS[1:])}, not {level!r}")
    return level


def at_or_above(risk: str, level: str) -> bool:
    """Whether ``risk`` reaches ``level``."""
    return risk_rank(risk) >= risk_rank(level)


def raise_state(state, result: ScreenResult) -> bool:
    """Fold ``result`` into the conversation state (risk and categories only rise); True when either rose."""
    risk = max_risk(state.risk, result.risk)
    categories = [c for c in CATEGORIES if c in set(state.categories) | set(result.categories)]
    rose = risk != state.risk or categories != state.categories
    state.risk, state.categories = risk, categories
    return rose


def conversation_result(state, result: ScreenResult) -> ScreenResult:
    """This message's evidence at the conversation's (never lower) risk and categories."""
    return combine([ScreenResult(state.risk, tuple(state.categories)), result])
