"""The flow engine: ``FlowSession(flow_id)`` asks a flow's steps one by one, and screens every reply with the
crisis safety layer before the step sees it.

A chat layer drives it: show :meth:`FlowSession.prompt`, pass the user's text to :meth:`FlowSession.reply`,
show the returned :class:`FlowStep` (``prompt`` to ask next, ``crisis`` when the flow stopped), until
``done``; :meth:`FlowSession.summary` gives the answers, score and outcome.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from medai.assistant.mental.flows import Flow, FlowFile, QuestionnaireScore, Step, load_flows, score_questionnaire
from medai.assistant.mental.psychoeducation import SnippetFile, load_snippets
from medai.assistant.safety.response import CrisisResponse, crisis_response
from medai.assistant.safety.screen import SafetyGuard
from medai.assistant.safety.types import Evidence, ScreenResult

SKIP = {"skip", "pass", "-", "n/a"}
NONE_WORDS = {"none", "no", "neither", "nothing", "not sure", "none of them", "0"}


class Detector(Protocol):
    """Anything that suggests distortions for a thought (the shipped :class:`DistortionDetector`)."""

    def detect(self, text: str): ...


@dataclass(frozen=True)
class FlowStep:
    """What the engine says after a reply."""

    prompt: str | None
    done: bool
    accepted: bool = True
    error: str | None = None
    crisis: CrisisResponse | None = None
    info: dict = field(default_factory=dict)


def _number(text: str) -> int | None:
    match = re.fullmatch(r"\s*(-?\d+)\s*(?:/\s*\d+|%)?\s*\.?\s*", text)
    return int(match.group(1)) if match else None


class FlowSession:
    """One run of one flow for one user. ``guard`` is the conversation's safety state (shared with the chat)."""

    def __init__(self, flow_id: str, guard: SafetyGuard | None = None, detector: Detector | None = None,
                 locale: str | None = None, patient_id: str | None = None, flows: FlowFile | None = None,
                 snippets: SnippetFile | None = None):
        self.flows = flows or load_flows()
        self.flow: Flow = self.flows.flow(flow_id)
        self.guard = guard or SafetyGuard()
        self.detector = detector
        self.locale = locale
        self.patient_id = patient_id
        self.snippets = snippets
        self.answers: dict[str, object] = {}
        self.index = 0
        self.crisis: CrisisResponse | None = None
        self.score: QuestionnaireScore | None = None
        self._candidates: list[str] = []

    @property
    def done(self) -> bool:
        """Whether the flow has ended (completed, or stopped by the safety layer)."""
        return self.crisis is not None or self.index >= len(self.flow.steps)

    @property
    def step(self) -> Step | None:
        """The step waiting for a reply."""
        return None if self.done else self.flow.steps[self.index]

    def prompt(self) -> str | None:
        """What to ask now (``None`` when done)."""
        step = self.step
        if step is None:
            return None
        text = step.prompt
        if self.flow.preamble and step.kind == "choice":
            text = f"{self.flow.preamble}\n{text}"
        if step.kind == "choice":
            text += "\n" + "\n".join(f"  {o.value} = {o.label}" for o in step.options)
        elif step.kind == "scale":
            text += f" ({step.min}-{step.max})"
        elif step.kind == "distortion":
            text += "\n" + self._distortion_prompt(step)
        elif step.kind == "topic":
            topics = self._snippets().topics()
            text += "\n" + "\n".join(f"  {i} = {t.replace('-', ' ')}" for i, t in enumerate(topics, 1))
        return text

    def reply(self, text: str) -> FlowStep:
        """Screen ``text`` first; if the conversation is at risk stop with a crisis response, else record the answer."""
        if self.done:
            return FlowStep(None, True, accepted=False, error="this flow has ended")
        state = self.guard.check(text)
        if state.stop:
            return self._stop(state)
        step = self.step
        value, error = self._parse(step, text)
        if error:
            return FlowStep(self.prompt(), False, accepted=False, error=error)
        self.answers[step.id] = value
        info: dict = {}
        if step.safety_item and isinstance(value, int) and value > 0:
            result = self._safety_item(step, value)
            if result.stop:
                return self._stop(result)
        self.index += 1
        if self.index >= len(self.flow.steps) and self.flow.scoring:
            self.score = score_questionnaire(self.flow, {k: v for k, v in self.answers.items() if isinstance(v, int)})
            info["score"] = self.score.total
            info["band"] = self.score.band
        if self.done:
            return FlowStep(self._closing(), True, info=info)
        return FlowStep(self.prompt(), False, info=info)

    def summary(self) -> dict:
        """The flow's outcome: answers, score and band (questionnaires), crisis (if it stopped)."""
        out: dict = {"flow_id": self.flow.id, "title": self.flow.title, "done": self.done,
                     "completed": self.index >= len(self.flow.steps), "answers": dict(self.answers),
                     "stopped_for_crisis": self.crisis is not None, "risk": self.guard.state.risk}
        if self.score:
            out.update(score=self.score.total, band=self.score.band, safety_item=self.score.safety_item_value)
        return out

    # -- internals -----------------------------------------------------------------------------

    def _stop(self, result: ScreenResult) -> FlowStep:
        self.crisis = crisis_response(result, self.locale, self.patient_id)
        if self.flow.scoring and all(i in self.answers for i in self.flow.scoring.items):
            self.score = score_questionnaire(self.flow, {k: v for k, v in self.answers.items() if isinstance(v, int)})
        return FlowStep(self.crisis.message, True, crisis=self.crisis, info={"risk": result.risk})

    def _safety_item(self, step: Step, value: int) -> ScreenResult:
        """PHQ-9 item 9 endorsed: 'several days' is moderate risk, more often is high."""
        risk = "moderate" if value == 1 else "high"
        label = next(o.label for o in step.options if o.value == value)
        evidence = Evidence(0, 0, f"{self.flow.id} {step.id} = {value} ({label})", "questionnaire",
                            f"{self.flow.id}:{step.id}", "suicide_self_harm", risk, "ideation")
        return self.guard.escalate(ScreenResult(risk, ("suicide_self_harm",), (evidence,)))

    def _parse(self, step: Step, text: str) -> tuple[object, str | None]:
        clean = " ".join(text.split())
        if step.kind == "info":
            return "done", None
        if step.kind == "text":
            if not clean or (clean.lower() in SKIP and not step.optional):
                return None, "please write a few words (this step cannot be skipped)"
            return (None if clean.lower() in SKIP else clean), None
        if step.kind == "scale":
            number = _number(clean)
            if number is None or not step.min <= number <= step.max:
                return None, f"please answer with a whole number from {step.min} to {step.max}"
            return number, None
        if step.kind == "choice":
            return self._choice(step, clean)
        if step.kind == "distortion":
            return self._confirm_distortion(clean)
        return self._topic(clean)

    def _choice(self, step: Step, clean: str) -> tuple[object, str | None]:
        number = _number(clean)
        for option in step.options:
            if number == option.value or clean.lower() == option.label.lower():
                return option.value, None
        values = ", ".join(str(o.value) for o in step.options)
        return None, f"please answer with one of {values} (or the words of an option)"

    def _distortion_prompt(self, step: Step) -> str:
        thought = str(self.answers.get(step.source, ""))
        detector = self.detector
        if detector is None:
            from medai.assistant.mental.distortions import shipped_detector

            detector = self.detector = shipped_detector()
        result = detector.detect(thought)
        self._candidates = [t for t, _ in result.candidates]
        lead = ("This thought may contain a thinking trap." if result.distorted else
                "This thought may not contain a thinking trap, but have a look.")
        lines = [f"  {i} = {t}: {self.flows.distortions.get(t, '')}" for i, t in enumerate(self._candidates, 1)]
        return lead + " Does one of these fit? Reply with the number or name, or 'none'.\n" + "\n".join(lines)

    def _confirm_distortion(self, clean: str) -> tuple[object, str | None]:
        lowered = clean.lower()
        if lowered in NONE_WORDS:
            return "none", None
        number = _number(clean)
        if number is not None and 1 <= number <= len(self._candidates):
            return self._candidates[number - 1], None
        for name in self.flows.distortions:
            if lowered == name.lower():
                return name, None
        return None, "please reply with a number from the list, the name of a thinking trap, or 'none'"

    def _snippets(self) -> SnippetFile:
        if self.snippets is None:
            self.snippets = load_snippets()
        return self.snippets

    def _topic(self, clean: str) -> tuple[object, str | None]:
        topics = self._snippets().topics()
        number = _number(clean)
        if number is not None and 1 <= number <= len(topics):
            return topics[number - 1], None
        key = clean.lower().replace(" ", "-")
        matches = [t for t in topics if t == key] or [t for t in topics if key and key in t]
        if len(matches) == 1:
            return matches[0], None
        return None, f"please reply with a number from 1 to {len(topics)} or a topic name"

    def _closing(self) -> str:
        values: dict[str, object] = defaultdict(lambda: "-")
        values.update({k: ("-" if v is None else v) for k, v in self.answers.items()})
        if self.score:
            values.update(score=self.score.total, band=self.score.band, advice=self.score.advice)
        if "topic" in self.answers:
            snippets = self._snippets().for_topic(str(self.answers["topic"]))
            values["topic_text"] = "\n\n".join(
                f"\"{s.excerpt}\"\n  {s.therapist} ({s.therapist_url}), answering \"{s.question}\" on CounselChat "
                f"({s.question_url})" for s in snippets)
        return self.flow.closing.format_map(values)
