"""``screen(text)``: the crisis screen run on every message, and ``SafetyGuard``, its never-downgrading
conversation state.

Rules and model are combined conservatively (the higher risk wins, all evidence is kept), with one
exception: when the only suicide talk the rules find is denied ("I'm not suicidal, just tired"), the model
alone cannot stop the flow (its risk is capped at ``low``); any undenied rule match still escalates. Once a
conversation has been flagged, later messages can add risk but never lower it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from medai.assistant.safety.lexicon import Lexicon, load_lexicon
from medai.assistant.safety.model import CrisisModel, load_crisis_model
from medai.assistant.safety.rules import rule_screen
from medai.assistant.safety.types import ScreenResult, combine, risk_rank


class CrisisScreener:
    """Rules (``lexicon``) plus an optional learned ``model``; ``model=None`` screens with rules alone."""

    def __init__(self, lexicon: Lexicon | None = None, model: CrisisModel | None = None):
        self.lexicon = lexicon or load_lexicon()
        self.model = model

    def screen(self, text: str) -> ScreenResult:
        """The combined result for one message."""
        rules = rule_screen(text, self.lexicon)
        if self.model is None:
            return rules
        learned = self.model.screen(text)
        return combine([rules, cap_denied(learned) if denied(rules) else learned])

    def identity(self) -> dict[str, str]:
        """What an audit record stores about the screen that ran."""
        out = {"lexicon": self.lexicon.id}
        if self.model is not None and self.model.package is not None:
            out.update(self.model.package.identity())
        return out


def denied(rules: ScreenResult) -> bool:
    """Whether the rules found suicide talk and every such match was negated (an explicit denial)."""
    hits = [e for e in rules.evidence if e.category == "suicide_self_harm"]
    return bool(hits) and all(e.negated for e in hits)


def cap_denied(learned: ScreenResult) -> ScreenResult:
    """The model's result with its risk at most ``low`` (``kind`` says it was capped)."""
    if risk_rank(learned.risk) <= risk_rank("low"):
        return learned
    evidence = tuple(replace(e, risk="low", kind="classifier, capped: denial") for e in learned.evidence)
    return ScreenResult("low", learned.categories, evidence)


@lru_cache(maxsize=1)
def default_screener() -> CrisisScreener:
    """The shipped lexicon and the shipped crisis model (loaded once, hash-checked)."""
    return CrisisScreener(load_lexicon(), load_crisis_model())


def screen(text: str) -> ScreenResult:
    """Screen one message with the shipped rules and model: ``{risk, categories, evidence}``."""
    return default_screener().screen(text)


class SafetyGuard:
    """The safety state of one conversation: every message goes through :meth:`check` first.

    The conversation's risk is the maximum seen so far; it is never lowered.
    """

    def __init__(self, screener: CrisisScreener | None = None):
        self.screener = screener
        self.state = ScreenResult()

    @property
    def flagged(self) -> bool:
        """Whether the conversation has reached the crisis level (moderate or above) at any point."""
        return self.state.stop

    def check(self, text: str) -> ScreenResult:
        """Screen ``text``; return the conversation's state (this message's evidence plus all earlier)."""
        screener = self.screener or default_screener()
        return self.escalate(screener.screen(text))

    def escalate(self, result: ScreenResult) -> ScreenResult:
        """Fold a result from elsewhere (a questionnaire answer) into the state; the risk can only rise."""
        merged = combine([self.state, result])
        self.state = merged
        return merged
