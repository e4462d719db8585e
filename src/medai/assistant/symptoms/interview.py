"""The adaptive interview: a stateful session a chat layer drives one question at a time.

``start(text, age, sex)`` reads the opening description; ``next_question()`` picks the unasked finding with the
largest expected information gain (expected drop in the entropy of the differential, over the top conditions);
``answer(finding, present)`` records yes / no / don't know; ``result()`` is the current :class:`Assessment`.
The information-gain phase ends when the top condition reaches ``confidence``, ``max_questions`` have been
asked, or no question is worth at least ``min_gain`` bits. Before the interview concludes, a safety phase asks
about the warning signs of every emergency condition still in the differential (posterior at least
``triage.CANDIDATE_MIN``, among the top ``TOP_CONDITIONS``), most probable first, up to
``max_safety_questions`` more questions: a non-emergency conclusion is only reached after those red flags were
asked. ``next_question()`` returns ``None`` when both phases are done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medai.assistant.symptoms.assess import Assessment, build_assessment
from medai.assistant.symptoms.inference import Evidence, Ranked, entropy, finding_likelihood, posterior
from medai.assistant.symptoms.knowledge import KnowledgeBase, load_knowledge
from medai.assistant.symptoms.text import Mention, Reading, findings_of, read
from medai.assistant.symptoms.triage import CANDIDATE_MIN, key_findings

TOP_CONDITIONS = 20


@dataclass(frozen=True)
class Question:
    """The next question: which finding, how to ask it, what it is expected to tell (bits) and why it is asked.

    ``purpose`` is ``"information"`` (the most informative question) or ``"red flag"`` (a safety question about a
    warning sign of an emergency condition still in the differential; its ``information_gain`` is 0).
    """

    finding: str
    text: str
    information_gain: float
    purpose: str = "information"


@dataclass
class SymptomSession:
    """One person's interview. Parameters only in the constructor; state builds up through the calls."""

    kb: KnowledgeBase | None = None
    semantic: bool = True
    max_questions: int = 8
    confidence: float = 0.8
    min_gain: float = 0.02
    max_safety_questions: int = 4
    evidence: Evidence = field(default_factory=Evidence)
    reading: Reading | None = None
    answers: list[tuple[str, bool | None]] = field(default_factory=list)
    text: str = ""
    _safety_log: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if self.kb is None:
            self.kb = load_knowledge()

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base in use."""
        assert self.kb is not None
        return self.kb

    def start(self, text: str, age: float | None = None, sex: str | None = None) -> SymptomSession:
        """Read the opening description; given ``age`` / ``sex`` win over what the text says."""
        matcher = None
        if self.semantic:
            from medai.assistant.symptoms.semantic import shared_matcher

            matcher = shared_matcher(self.knowledge)
        self.text = text
        self.reading = read(self.knowledge, text, matcher)
        present, absent = findings_of(self.reading)
        self.evidence = Evidence(frozenset(present), frozenset(absent),
                                 age if age is not None else self.reading.age, sex or self.reading.sex)
        self.answers = []
        self._safety_log = set()
        return self

    def answer(self, finding: str, present: bool | None) -> None:
        """Record the answer about ``finding``: True (yes), False (no) or None (don't know)."""
        if finding not in self.knowledge.findings:
            raise KeyError(f"unknown finding {finding!r}")
        self.answers = [a for a in self.answers if a[0] != finding] + [(finding, present)]
        self.evidence = self.evidence.with_answer(finding, present)

    def ranked(self) -> list[Ranked]:
        """The current differential (every condition)."""
        return posterior(self.knowledge, self.evidence)

    def _known(self) -> set[str]:
        return set(self.evidence.present) | set(self.evidence.absent) | {f for f, _ in self.answers}

    def next_question(self) -> Question | None:
        """The most informative question now, then the emergency red flags; ``None`` when the interview is done."""
        ranked = self.ranked()[:TOP_CONDITIONS]
        if not ranked:
            return None
        informative = self._informative(ranked)
        if informative is not None:
            return informative
        return self._safety(ranked)

    def _informative(self, ranked: list[Ranked]) -> Question | None:
        """The unasked finding with the largest expected information gain, while the interview should go on."""
        asked = len(self.answers) - self._safety_asked()
        if ranked[0].probability >= self.confidence or asked >= self.max_questions:
            return None
        total = sum(r.probability for r in ranked)
        priors = [r.probability / total for r in ranked]
        before = entropy(priors)
        known = self._known()
        candidates = {f for r in ranked for f in r.condition.findings if f not in known
                      and self.knowledge.findings[f].kind != "context"}
        best: Question | None = None
        for finding in sorted(candidates):
            yes = [p * finding_likelihood(self.knowledge, r.condition, finding, True) for p, r in zip(priors, ranked)]
            p_yes = sum(yes)
            no = [p - y for p, y in zip(priors, yes)]
            p_no = 1.0 - p_yes
            after = (p_yes * entropy([y / p_yes for y in yes]) if p_yes > 0 else 0.0) + \
                    (p_no * entropy([n / p_no for n in no]) if p_no > 0 else 0.0)
            gain = before - after
            if gain >= self.min_gain and (best is None or gain > best.information_gain):
                best = Question(finding, self.knowledge.findings[finding].ask(), round(gain, 4))
        return best

    def safety_findings(self, ranked: list[Ranked] | None = None) -> list[str]:
        """Unasked warning signs (then key findings) of the emergency conditions in the differential, most probable first."""
        ranked = self.ranked()[:TOP_CONDITIONS] if ranked is None else ranked
        known = self._known()
        out: list[str] = []
        for r in ranked:
            if r.condition.urgency != "emergency" or r.probability < CANDIDATE_MIN:
                continue
            out += [f for f in key_findings(self.knowledge, r.condition)
                    if f not in known and f not in out and self.knowledge.findings[f].kind in ("symptom", "sign")]
        return out

    def _safety_asked(self) -> int:
        return sum(1 for f, _ in self.answers if f in self._safety_log)

    def _safety(self, ranked: list[Ranked]) -> Question | None:
        if self._safety_asked() >= self.max_safety_questions:
            return None
        pending = self.safety_findings(ranked)
        if not pending:
            return None
        finding = pending[0]
        self._safety_log.add(finding)
        return Question(finding, self.knowledge.findings[finding].ask(), 0.0, "red flag")

    def mentions(self) -> list[Mention]:
        """What drove the assessment: text mentions plus answers."""
        out = list(self.reading.mentions) if self.reading else []
        for finding, present in self.answers:
            if present is not None:
                out.append(Mention(finding, present, 0, 0, "", "answer"))
        return out

    def result(self) -> Assessment:
        """The assessment for what is known now."""
        return build_assessment(self.knowledge, self.evidence, self.ranked(), self.mentions(), self.reading)
