"""The assistant's conversation layer: a dialogue manager that screens every message for crisis first, then
routes it to the symptom checker, the mental-health flows, appointments or medicines; conversation storage
with consent and retention; the service that ties them to the database."""

from medai.assistant.chat.manager import DialogueManager
from medai.assistant.chat.types import ChatContext, ConversationState, QuickReply, Reply, Turn

__all__ = ["ChatContext", "ConversationState", "DialogueManager", "QuickReply", "Reply", "Turn"]
