"""Free-text understanding: findings from the vocabulary's lay synonyms, negation, experiencer, duration, age and sex.

Matching is longest-phrase-first on lower-cased text (a trailing plural ``s`` is tolerated). A finding is
negated when a negation trigger ("no", "denies", "without", "negative for", ...) precedes it in the same
sentence with no terminating word ("but", "however", a new verb such as "has" or "reports") between them,
as in NegEx (Chapman et al. 2001). Findings said of someone else ("her son has a fever") become the
``sick_contacts`` risk factor when they are infectious symptoms and are otherwise ignored. Durations
("for 3 weeks") set ``long_duration`` present (>= 21 days) or absent (< 7 days).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medai.assistant.symptoms.knowledge import KnowledgeBase

NEGATION = (r"no|not|never|without|denies|denied|deny|denying|negative for|free of|absence of|absent|nor|"
            r"no history of|no signs? of|no evidence of|doesn't have|does not have|don't have|do not have|"
            r"didn't have|did not have|hasn't had|has not had|haven't had|have not had|hasn't|haven't|"
            r"isn't|wasn't|aren't|weren't|didn't|did not|does not|doesn't|don't|do not|hasn't been|cannot recall any|"
            r"not experiencing|not having|no recent|none")
PSEUDO = r"not sure|not certain|no idea|not only|no relief|no improvement|not improving|not getting better|not better|not help|no better"
TERMINATION = (r"but|however|although|though|yet|except|apart from|aside from|whereas|while|which|who|"
               r"he|she|they|i|we|it|has|have|had|is|was|are|reports|reported|complains|complaining|presents|presenting|"
               r"developed|started|now|then|also|notes|noticed|feels|felt|says|states|describes|got|gets|became|"
               r"has been|just")
OTHER_PEOPLE = (r"family history of|family history|mother|father|mom|dad|brother|sister|grandmother|grandfather|"
                r"son|daughter|husband|wife|partner|boyfriend|girlfriend|friend|friends|roommate|coworkers?|"
                r"classmates?|kids at|children at|others at|everyone at|people at|siblings?|cousin")
SELF = r"i|i'm|i've|me|my|myself|we|our|patient|the patient"
CONTAGIOUS = ("fever", "cough", "vomiting", "diarrhea", "sore_throat", "rash", "runny_nose", "itching")
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 4, "few": 3, "a few": 3, "couple of": 2,
           "a couple of": 2, "couple": 2, "many": 6}
UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "night": 1, "week": 7, "month": 30, "year": 365}
_NUM = r"(\d+(?:\.\d+)?|a couple of|couple of|a few|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|few|many)"
DURATION = re.compile(rf"\b(?:for|x|since|over|past|last|lasting|about|almost|nearly|ago)?\s*(?:the\s+)?(?:past\s+|last\s+)?"
                      rf"{_NUM}\s*(minute|hour|day|night|week|month|year)s?\b")
AGE_PATTERNS = [(re.compile(r"\b(\d{1,3})[- ]?(?:years?|yrs?|yr)[- ]?old\b"), 1.0),
                (re.compile(r"\b(\d{1,2})[- ]?months?[- ]?old\b"), 1 / 12),
                (re.compile(r"\b(\d{1,2})[- ]?(?:weeks?|wk)[- ]?old\b"), 1 / 52),
                (re.compile(r"\b(\d{1,2})[- ]?days?[- ]?old\b"), 1 / 365),
                (re.compile(r"\b(\d{1,3}) ?(?:yo|y/o|y\.o\.)\b"), 1.0),
                (re.compile(r"\b(?:aged?|i am|i'm|im)\s+(\d{1,3})\b"), 1.0),
                (re.compile(r"\b(\d{1,3}) ?(?:m|f)\b"), 1.0)]
AGE_WORDS = [(r"newborn|neonate", 0.05), (r"infant|baby", 0.5), (r"toddler", 2.0), (r"teenager|teen|adolescent", 15.0),
             (r"elderly", 75.0), (r"child|kid|boy|girl", 8.0)]
FEMALE = r"woman|women|female|girl|lady|mother|mom|wife|daughter|pregnant|she|her|(?<=\d)f"
MALE = r"man|men|male|boy|gentleman|guy|husband|son|father|dad|he|his|him|(?<=\d)m"


@dataclass(frozen=True)
class Mention:
    """One finding read from the text, with where it was and how it was recognised."""

    finding: str
    present: bool
    start: int
    end: int
    text: str
    method: str = "lexicon"   # lexicon | embedding | duration | experiencer
    score: float = 1.0


@dataclass(frozen=True)
class Reading:
    """Everything read from one text."""

    mentions: tuple[Mention, ...]
    age: float | None
    sex: str | None
    duration_days: float | None


def normalise(text: str) -> str:
    """Lower case, straight quotes, single spaces (offsets are in this normalised text)."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").lower().split())


DETERMINERS = ("the", "his", "her", "my", "their", "your", "a")
SUBJECTS = ("i", "he", "she", "they", "you", "we")
_WORD_CLASSES = {**{w: "(?:" + "|".join(DETERMINERS) + ")" for w in DETERMINERS},
                 **{w: "(?:" + "|".join(SUBJECTS) + ")" for w in SUBJECTS}}
_CANONICAL = {**{w: "the" for w in DETERMINERS}, **{w: "i" for w in SUBJECTS}}


def _canonical_phrase(phrase: str) -> str:
    return " ".join(_CANONICAL.get(w, w) for w in phrase.split())


@lru_cache(maxsize=4)
def _lexicon(kb: KnowledgeBase) -> tuple[re.Pattern, dict[str, str]]:
    phrases: dict[str, str] = {}
    for finding_id, finding in kb.findings.items():
        for phrase in finding.phrases():
            phrases.setdefault(_canonical_phrase(normalise(phrase)), finding_id)
    ordered = sorted(phrases, key=len, reverse=True)
    body = "|".join(r"\s+".join(_WORD_CLASSES.get(w, re.escape(w)) for w in p.split()) for p in ordered)
    return re.compile(rf"(?<![\w'])(?:{body})(?:e?s)?(?![\w'])"), phrases


def _lookup(phrases: dict[str, str], matched: str) -> str | None:
    key = " ".join(_CANONICAL.get(w, w) for w in matched.split())
    for candidate in (key, key[:-1], key[:-2]):
        if candidate in phrases:
            return phrases[candidate]
    return None


def _words(alternatives: str) -> re.Pattern:
    """A whole-word pattern over ``a|b|c`` with the longest alternatives tried first."""
    ordered = sorted(alternatives.split("|"), key=len, reverse=True)
    return re.compile(rf"(?<![\w'])(?:{'|'.join(ordered)})(?![\w'])")


_SPEAKER = re.compile(r"(?<![\w'])(?:i|i'm|i've|me)(?![\w'])")
_TRIGGER, _PSEUDO, _TERMINATE, _OTHER, _SELF = (_words(a) for a in (NEGATION, PSEUDO, TERMINATION, OTHER_PEOPLE, SELF))
_SENTENCE = re.compile(r"[.!?;\n]|(?<![\w'])(?:but|however|although|though|whereas)(?![\w'])")


def _sentence_start(text: str, position: int) -> int:
    starts = [m.end() for m in _SENTENCE.finditer(text, 0, position)]
    return starts[-1] if starts else 0


def _scope_holds(text: str, pattern: re.Pattern, start: int, position: int, spans: list[tuple[int, int]],
                 terminate: re.Pattern = _TERMINATE) -> bool:
    """Whether a trigger of ``pattern`` between ``start`` and ``position`` reaches ``position`` unterminated."""
    pseudo = [m.span() for m in _PSEUDO.finditer(text, start, position)]
    outside = lambda m: not any(a <= m.start() < b for a, b in spans + pseudo)  # noqa: E731
    triggers = [m for m in pattern.finditer(text, start, position) if outside(m)]
    if not triggers:
        return False
    last = triggers[-1]
    between = [m for m in terminate.finditer(text, last.end(), position) if outside(m)]
    return not between


def negated(text: str, start: int, spans: list[tuple[int, int]] | None = None) -> bool:
    """Whether the phrase at ``start`` of normalised ``text`` is in the scope of a negation trigger."""
    return _scope_holds(text, _TRIGGER, _sentence_start(text, start), start, spans or [])


def about_someone_else(text: str, start: int, spans: list[tuple[int, int]] | None = None) -> bool:
    """Whether the phrase at ``start`` is said of another person (family history, a sick relative).

    A relative counts as someone else only under "family history", or when the writer also speaks of
    themselves ("I", "me"); "my father can't lift his arm" describes the father as the person assessed.
    """
    if not _scope_holds(text, _OTHER, _sentence_start(text, start), start, spans or [], _SELF):
        return False
    return "family history" in text[_sentence_start(text, start):start] or bool(_SPEAKER.search(text))


RELATIVE = (r"baby|infant|newborn|son|daughter|boy|girl|child|kid|toddler|mother|father|mum|mom|dad|grandmother|"
            r"grandfather|grandma|grandpa|nan|husband|wife|partner|brother|sister|friend|neighbour|neighbor")
_SELF_AGE = re.compile(r"(?<![\w'])(?:i'm|i am|im|i'm a|i am a|aged?|(?:fe)?male,|(?:wo)?man,)\s+(?:an?\s+)?(\d{1,3})(?!\d|\.\d)")
_RELATIVE_IS = re.compile(rf"(?<![\w'])(?:{RELATIVE}|he|she)\s+is\s+(\d{{1,3}})(?!\d|\.\d)(?!\s*(?:weeks?|months?|days?)\b)")
_RELATIVE_BEFORE = re.compile(r"(?<![\w'])(?:my|our|his|her|their)\s+(?:\w+\s+){0,2}$")
_FIRST_PERSON_COMPLAINT = re.compile(r"(?<![\w'])(?:i have|i've got|i've had|i've been|i feel|i'm feeling|i am feeling|"
                                     r"i woke|i get|i keep|i can't|i've|i had|i got)(?![\w'])")


def _age_mentions(text: str) -> list[tuple[int, float, bool]]:
    """Every stated age as (position, years, whether it belongs to someone else: "my 80-year-old mother")."""
    out = []
    for pattern, factor in AGE_PATTERNS:
        for match in pattern.finditer(text):
            other = bool(_RELATIVE_BEFORE.search(text[max(0, match.start() - 30):match.start()]))
            out.append((match.start(), round(float(match.group(1)) * factor, 3), other))
    for match in _SELF_AGE.finditer(text):
        out.append((match.start(), float(match.group(1)), False))
    for match in _RELATIVE_IS.finditer(text):
        out.append((match.start(), float(match.group(1)), True))
    return sorted(set(out))


def read_age(text: str) -> float | None:
    """Age in years of the person the text is about, if stated.

    The writer's own age ("I'm 30") wins. An age given for another person ("my 3 week old baby", "my dad is 67")
    is the subject's age when that person is the one described; when the writer also complains in the first
    person ("I've got ...") the other person's age is not taken for theirs and the age stays unknown.
    """
    mentions = _age_mentions(text)
    own = [age for _, age, other in mentions if not other]
    if own:
        return own[0]
    if mentions:
        return None if _FIRST_PERSON_COMPLAINT.search(text) else mentions[0][1]
    for words, age in AGE_WORDS:
        if re.search(rf"(?<![\w'])(?:{words})(?![\w'])", text):
            return age
    return None


def read_sex(text: str) -> str | None:
    """``female`` or ``male`` from the first sex-specific word, if any."""
    female = re.search(rf"(?<![a-z'])(?:{FEMALE})(?![\w'])", text)
    male = re.search(rf"(?<![a-z'])(?:{MALE})(?![\w'])", text)
    if female and (not male or female.start() < male.start()):
        return "female"
    return "male" if male else None


def read_duration(text: str) -> float | None:
    """The longest duration stated, in days."""
    days = []
    text = re.sub(r"\b\d+[- ]?(?:years?|yrs?|months?|weeks?|days?)[- ]?old\b", " ", text)
    text = re.sub(r"\b\d+\s*(?:weeks?|months?)\s+(?:pregnant|gestation|after)\b", " ", text)
    for match in DURATION.finditer(text):
        count = match.group(1)
        number = float(count) if count[0].isdigit() else NUMBERS.get(count, 1)
        days.append(number * UNIT_DAYS[match.group(2)])
    if re.search(r"\b(?:since yesterday|last night|this morning|today|tonight|an hour ago|suddenly)\b", text) and not days:
        days.append(1.0)
    return max(days) if days else None


def read(kb: KnowledgeBase, text: str, semantic: object | None = None) -> Reading:
    """Findings, age, sex and duration from free text.

    ``semantic`` is an optional matcher (see :mod:`medai.assistant.symptoms.semantic`) asked about the stretches
    of text the vocabulary did not recognise.
    """
    norm = normalise(text)
    pattern, phrases = _lexicon(kb)
    matches = [(m.start(), m.end(), _lookup(phrases, m.group(0))) for m in pattern.finditer(norm)]
    matches = [m for m in matches if m[2] is not None]
    spans = [(a, b) for a, b, _ in matches]
    if semantic is not None:
        matches += [(a, b, f) for a, b, f in semantic.match(norm, spans)]  # type: ignore[attr-defined]
    mentions = []
    for start, end, finding in matches:
        method = "lexicon" if (start, end) in spans else "embedding"
        if about_someone_else(norm, start, spans):
            if finding in CONTAGIOUS and "sick_contacts" in kb.findings:
                mentions.append(Mention("sick_contacts", True, start, end, norm[start:end], "experiencer"))
            continue
        mentions.append(Mention(finding, not negated(norm, start, spans), start, end, norm[start:end], method))
    duration = read_duration(norm)
    if duration is not None and "long_duration" in kb.findings and (duration >= 21 or duration < 7):
        mentions.append(Mention("long_duration", duration >= 21, 0, 0, f"{duration:g} days", "duration"))
    return Reading(tuple(mentions), read_age(norm), read_sex(norm), duration)


def findings_of(reading: Reading) -> tuple[set[str], set[str]]:
    """(present, absent) findings; a finding said both ways counts as present."""
    present = {m.finding for m in reading.mentions if m.present}
    absent = {m.finding for m in reading.mentions if not m.present} - present
    return present, absent
