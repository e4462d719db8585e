"""The production conversation service screens with the learned crisis model, not the rules alone: the shipped
``crisis-screen`` package loads (hash-checked) through the service's warm-up, once for this module."""

from __future__ import annotations

import hashlib
import json

import pytest

from medai.assistant.chat import DialogueManager
from medai.assistant.chat.conversations import Actor, ConversationService
from medai.assistant.safety import CrisisScreener
from medai.assistant.safety.model import MODEL_NAME, VERSION
from medai.models.registry import shipped_models_dir
from medai.store.audit import recent
from medai.store.db import make_engine, migrate


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> ConversationService:
    """The service as the app builds it (``DialogueManager()`` with no screener given), warmed up once."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('shipped') / 'chat.db'}")
    migrate(engine)
    service = ConversationService(engine, DialogueManager(semantic=False))
    thread = service.warm_up()
    assert thread is not None and thread.daemon
    thread.join(timeout=300)
    assert not thread.is_alive(), "the warm-up did not finish"
    yield service
    engine.dispose()


def test_the_default_service_screens_with_the_hash_checked_shipped_model(production):
    package = shipped_models_dir() / f"{MODEL_NAME}-{VERSION}"
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():  # the files the loader checked are the ones shipped
        assert hashlib.sha256((package / name).read_bytes()).hexdigest() == digest
    identity = production.manager.identity()
    assert identity["model_id"] == MODEL_NAME and identity["model_version"] == VERSION
    assert identity["weights_sha256"] == manifest["weights_sha256"]
    result = production.manager.screen("I have been thinking that everyone would be better off without me")
    assert any(e.source == "model" for e in result.evidence)


def test_a_crisis_turn_is_audited_with_the_model_version(production):
    actor = Actor("ada", "patient", "pat-shipped")
    conversation = production.start(actor, consent=False)["conversation"]
    turn = production.post(actor, conversation["id"], "I want to kill myself tonight")
    assert turn["flagged"] and turn["replies"][0]["kind"] == "crisis"
    with production.engine.connect() as connection:
        crisis = [r for r in recent(connection, 50) if r["action"] == "assistant.crisis"]
    assert crisis and crisis[0]["model_id"] == MODEL_NAME and crisis[0]["model_version"] == VERSION


def test_a_given_screener_needs_no_warm_up(production):
    rules_only = ConversationService(production.engine, DialogueManager(screener=CrisisScreener(model=None), semantic=False))
    assert rules_only.warm_up() is None
