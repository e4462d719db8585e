"""Flow definitions and the engine on the exercise, planning, thought-record and psychoeducation flows."""

import pytest
import yaml

from medai.assistant.mental.engine import FlowSession
from medai.assistant.mental.flows import load_flows
from medai.assistant.mental.psychoeducation import build_snippets, excerpt, load_snippets
from medai.assistant.safety.knowledge import KnowledgeError
from medai.assistant.safety.screen import CrisisScreener, SafetyGuard
from medai.datasets.counsel_chat import CounselAnswer


def _session(flow_id, **kwargs):
    return FlowSession(flow_id, guard=SafetyGuard(CrisisScreener()), **kwargs)


def test_shipped_flows_validate_and_cover_the_brief():
    flows = load_flows()
    assert {f.id for f in flows.flows} >= {"mood_checkin", "phq9", "gad7", "thought_record", "behavioural_activation",
                                           "grounding", "paced_breathing", "psychoeducation"}
    assert len(flows.distortions) == 10 and all(f.citation.source for f in flows.flows)
    with pytest.raises(KeyError, match="known: mood_checkin"):
        flows.flow("hypnosis")


def test_broken_flow_file_names_the_problem(tmp_path):
    path = tmp_path / "flows.yaml"
    bad = {"version": "1", "description": "x", "distortions": {"Labeling": "x"},
           "flows": [{"id": "q", "title": "q", "kind": "questionnaire", "description": "d", "citation": {"source": "abc"},
                      "closing": "c", "steps": [{"id": "a", "kind": "choice", "prompt": "pick one",
                                                 "options": [{"label": "no", "value": 0}, {"label": "yes", "value": 1}]}],
                      "scoring": {"items": ["a"], "bands": [{"min": 0, "max": 0, "label": "low", "advice": "-"}]}}]}
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="bands must cover 0..1"):
        load_flows(path)


def test_grounding_and_breathing_exercises():
    session = _session("grounding")
    for reply in ("desk, lamp, window, cup, book", "chair, socks, keys, sleeve", "cars, fan, birds", "coffee, soap", "mint"):
        assert session.reply(reply).accepted
    assert not session.reply("eleven").accepted
    last = session.reply("3")
    assert last.done and "distress 3/10" in last.prompt
    breathing = _session("paced_breathing")
    prompts = [breathing.reply(r).prompt for r in ("7", "ready", "done", "4")]
    assert "4 counts" in prompts[1] and "from 7 to 4" in prompts[-1] and breathing.done


def test_behavioural_activation_plan_summary():
    session = _session("behavioural_activation")
    for reply in ("friends", "call Sam for a walk", "Saturday 10am", "6", "rain; then we'll get coffee instead"):
        step = session.reply(reply)
    assert step.done and "call Sam for a walk on Saturday 10am" in step.prompt
    assert session.summary()["answers"]["expected_pleasure"] == 6


def test_mood_checkin_optional_step_can_be_skipped():
    session = _session("mood_checkin")
    session.reply("4/10")
    session.reply("tired, flat")
    last = session.reply("skip")
    assert last.done and "mood of 4/10 (tired, flat)" in last.prompt and session.answers["context"] is None


def test_psychoeducation_shows_attributed_excerpts():
    session = _session("psychoeducation")
    assert "sleep improvement" in session.prompt()
    last = session.reply("sleep")
    assert last.done and "counselchat.com/therapists/" in last.prompt and "CounselChat" in last.prompt
    snippets = load_snippets()
    assert all(s.therapist and s.therapist_url.startswith("https://") for s in snippets.snippets)


def test_build_snippets_attribution_and_excerpt():
    answer = CounselAnswer("7", "How do I sleep?", "q", "https://counselchat.com/questions/sleep", "sleep-improvement",
                           "Ann Lee, LMFT", "https://counselchat.com/therapists/ann-lee", "Keep a routine. " * 60, 3, 10,
                           "train")
    content = build_snippets([answer], topics=("sleep-improvement",))
    (snippet,) = content["snippets"]
    assert snippet["therapist"] == "Ann Lee, LMFT" and len(snippet["excerpt"]) <= 600
    assert excerpt("One. Two three.", limit=8) == "One."


def test_thought_record_with_the_shipped_distortion_detector():
    session = _session("thought_record")
    session.reply("My friend didn't answer my message all day")
    session.reply("She must hate me, I always ruin every friendship")
    session.reply("sad")
    step = session.reply("80")
    assert "Does one of these fit?" in step.prompt and " 1 = " in step.prompt
    candidates = session._candidates
    assert len(candidates) == 3 and set(candidates) <= set(load_flows().distortions)
    assert not session.reply("banana").accepted
    session.reply("1")
    session.reply("She is probably busy; she answered quickly last week")
    last = session.reply("40")
    assert last.done and f"thinking trap: {candidates[0]}" in last.prompt and "from 80 to 40" in last.prompt
    assert session.summary()["answers"]["distortion"] == candidates[0]
