"""Replacement text for PHI: masks (``[NAME]``) or consistent, keyed surrogates.

Surrogates are derived from a secret key with HMAC-SHA256, so the same key maps the same name to
the same fake name (within and across documents) and every date of one patient is shifted by the
same number of days, which keeps intervals between dates. Without the key the mapping cannot be
reversed or reproduced.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, timedelta

from medai.privacy.lexicons import Lexicons, load_lexicons
from medai.privacy.phi import PHISpan, PHIType

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_PREFIX = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_NUMERIC = re.compile(r"^(\d{1,2})([/-])(\d{1,2})(?:\2(\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_MONTH_YEAR_NUM = re.compile(r"^(\d{1,2})/(\d{2}|\d{4})$")
_YEAR = re.compile(r"^(?:'?)(\d{4}|\d{2})(s|'s|S)?'?$")
_WORDY = re.compile(r"^(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*(?:of\s+)?)?(?P<m>[A-Za-z]+)\.?"
                    r"(?:\s*(?P<d2>\d{1,2})(?!\d)(?:st|nd|rd|th)?)?(?:(?:,\s*|\s+)(?P<y>\d{4}|\d{2}))?$")


def mask(span: PHISpan) -> str:
    """``[TYPE]``, e.g. ``[NAME]``."""
    return f"[{span.type.value}]"


class SurrogateGenerator:
    """Keyed, deterministic surrogates; ``date_offset_days`` is fixed per (key, patient)."""

    def __init__(self, key: str | bytes, patient_id: str = "", max_shift_days: int = 365,
                 lexicons: Lexicons | None = None):
        self.key = key.encode() if isinstance(key, str) else key
        if not self.key:
            raise ValueError("surrogates need a non-empty key (use --key or MEDAI_DEID_KEY)")
        self.patient_id = patient_id
        self.max_shift_days = max_shift_days
        self._lex = lexicons or load_lexicons()
        self._pools: dict[str, list[str]] = {}

    # -- keyed randomness -------------------------------------------------------------------
    def _int(self, *parts: str) -> int:
        message = "\x1f".join(parts).encode()
        return int.from_bytes(hmac.new(self.key, message, hashlib.sha256).digest()[:8], "big")

    @property
    def date_offset_days(self) -> int:
        """The patient's shift in days, in [-max, -1] or [1, max] (never zero)."""
        span = self._int("date-offset", self.patient_id) % (2 * self.max_shift_days)
        return span - self.max_shift_days if span < self.max_shift_days else span - self.max_shift_days + 1

    def _pool(self, name: str) -> list[str]:
        if name not in self._pools:
            source = {"first": self._lex.first_names, "sur": self._lex.surnames, "place": self._lex.us_places}[name]
            self._pools[name] = sorted(w for w in source if w.isalpha() and 3 <= len(w) <= 10
                                       and w not in self._lex.clinical_vocabulary)
        return self._pools[name]

    # -- per type ---------------------------------------------------------------------------
    def replace(self, span: PHISpan) -> str:
        """The surrogate for one span (same input and key -> same output)."""
        kind = span.type
        if kind is PHIType.NAME:
            return re.sub(r"[A-Za-z][A-Za-z']*", lambda m: self.name_word(m.group()), span.text)
        if kind is PHIType.LOCATION:
            return self._location(span.text)
        if kind is PHIType.DATE:
            return self.shift_date(span.text) or mask(span)
        if kind is PHIType.AGE:
            return "90+"
        if kind is PHIType.EMAIL:
            return f"user{self._int('email', span.text.lower()) % 10000:04d}@example.org"
        if kind is PHIType.URL:
            return f"https://example.org/{self._int('url', span.text) % 100000:05d}"
        if kind is PHIType.IP:
            return f"192.0.2.{self._int('ip', span.text) % 254 + 1}"
        return self._scramble(span.text, kind.value)

    def name_word(self, word: str) -> str:
        """A fake first name for a first name, else a fake surname; case follows the original."""
        low = word.lower()
        if len(low) == 1:
            return _case_like(chr(ord("a") + self._int("initial", low) % 26), word)
        pool = self._pool("first" if low in self._lex.first_names and low not in self._lex.surnames else "sur")
        return _case_like(pool[self._int("name", low) % len(pool)], word)

    def _location(self, text: str) -> str:
        if re.fullmatch(r"[\d\s-]+", text):
            return self._scramble(text, "zip")
        pool = self._pool("place")
        fake = " ".join(w.capitalize() for w in pool[self._int("place", text.lower()) % len(pool)].split())
        return fake.upper() if text.isupper() else fake.lower() if text.islower() else fake

    def _scramble(self, text: str, salt: str) -> str:
        """Digits -> keyed digits and letters -> keyed letters; separators kept (phones, IDs)."""
        seed = self._int(salt, text)
        out = []
        for i, char in enumerate(text):
            step = (seed >> (i % 48)) + i * 7919
            if char.isdigit():
                out.append(str(step % 10))
            elif char.isalpha():
                out.append(_case_like(chr(ord("a") + step % 26), char))
            else:
                out.append(char)
        return "".join(out)

    def shift_date(self, text: str) -> str | None:
        """``text`` shifted by the patient's offset in the same format, or None when it cannot be parsed."""
        shift = timedelta(days=self.date_offset_days)
        stripped = text.strip()
        if m := _ISO.match(stripped):
            day = _safe_date(int(m[1]), int(m[3]), int(m[4]))
            return None if day is None else (day + shift).strftime(f"%Y{m[2]}%m{m[2]}%d")
        if m := _NUMERIC.match(stripped):
            year = _full_year(m[4]) if m[4] else 2000
            day = _safe_date(year, int(m[1]), int(m[3]))
            if day is None:
                return None
            new = day + shift
            out = f"{new.month}{m[2]}{new.day}" if len(m[1]) == 1 or m[1][0] != "0" else f"{new.month:02d}{m[2]}{new.day:02d}"
            if m[4]:
                out += m[2] + (str(new.year) if len(m[4]) == 4 else f"{new.year % 100:02d}")
            return out
        if m := _MONTH_YEAR_NUM.match(stripped):
            new = date(_full_year(m[2]), int(m[1]), 15) + shift if 1 <= int(m[1]) <= 12 else None
            return None if new is None else f"{new.month}/{new.year if len(m[2]) == 4 else f'{new.year % 100:02d}'}"
        if m := _YEAR.match(stripped):
            new = date(_full_year(m[1]), 7, 1) + shift
            year = str(new.year) if len(m[1]) == 4 else f"{new.year % 100:02d}"
            return stripped.replace(m[1], year, 1)
        if (m := _WORDY.match(stripped)) and (month := _month_number(m["m"])):
            return self._shift_wordy(stripped, m, month, shift)
        return None

    def _shift_wordy(self, text: str, m: re.Match, month: int, shift: timedelta) -> str | None:
        day_text = m["d1"] or m["d2"]
        year = _full_year(m["y"]) if m["y"] else 2000
        new = _safe_date(year, month, int(day_text) if day_text else 15)
        if new is None:
            return None
        new += shift
        name = MONTHS[new.month - 1]
        written = m["m"]
        name = name[:len(written)] if len(written) <= 4 and len(written) < len(name) else name
        name = _case_like(name, written)
        parts = [f"{new.day} {name}" if m["d1"] else name]
        if m["d2"]:
            parts[0] = f"{name} {new.day}"
        if m["y"]:
            parts.append(str(new.year) if len(m["y"]) == 4 else f"{new.year % 100:02d}")
        return ", ".join(parts) if m["y"] and (day_text or "," in text) else " ".join(parts)


def _case_like(word: str, model: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word.capitalize()
    return word.lower()


def _full_year(text: str) -> int:
    value = int(text)
    if len(text) == 4:
        return value
    return 2000 + value if value < 50 else 1900 + value


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_number(word: str) -> int | None:
    low = word.lower()
    if low in MONTHS:
        return MONTHS.index(low) + 1
    return _MONTH_PREFIX.get(low[:4]) or _MONTH_PREFIX.get(low[:3]) if len(low) >= 3 else None
