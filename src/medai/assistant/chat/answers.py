"""Reading short answers: yes / no / don't know, and a choice from a numbered list."""

from __future__ import annotations

import re

from medai.assistant.chat.intents import normalise

YES = {"yes", "y", "yeah", "yep", "yup", "i do", "i have", "it is", "correct", "true", "sure", "definitely", "yes i do",
       "yes i have", "yes it is", "ja", "si", "affirmative"}
NO = {"no", "n", "nope", "nah", "not really", "i don't", "i do not", "i haven't", "i have not", "no i don't", "no i haven't",
      "it isn't", "false", "never", "not at all", "negative"}
UNSURE = {"don't know", "dont know", "do not know", "i don't know", "i dont know", "not sure", "unsure", "maybe", "idk",
          "no idea", "i'm not sure", "skip", "?"}


def yes_no(text: str) -> bool | None | str:
    """True (yes), False (no), None (don't know), or ``"?"`` when the text is none of these."""
    plain = normalise(text) or ("?" if "?" in text else "")
    if plain in UNSURE or text.strip() == "?":
        return None
    if plain in YES:
        return True
    if plain in NO:
        return False
    first = plain.split(" ", 1)[0] if plain else ""
    if first in {"yes", "yeah", "yep", "y"}:
        return True
    if first in {"no", "nope", "nah", "n"}:
        return False
    return "?"


def choice(text: str, count: int) -> int | None:
    """The 0-based index of a choice given as its number 1..count ("2", "number 2", "the 2nd"), else None."""
    match = re.fullmatch(r"\s*(?:number|no\.?|option|slot|#)?\s*(\d{1,3})(?:st|nd|rd|th)?\s*[.!]?\s*", text.lower())
    if match and 1 <= int(match.group(1)) <= count:
        return int(match.group(1)) - 1
    return None
