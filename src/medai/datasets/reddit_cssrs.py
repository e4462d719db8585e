"""Reddit C-SSRS suicide-risk dataset (Gaur et al., WWW 2019), the shared 80% of its 500 users.

``reddit_cssrs_train80.zip`` holds one CSV with columns ``User``, ``Post`` (the user's posts written
as a Python list literal) and ``Label`` (Supportive, Indicator, Ideation, Behavior, Attempt: the
Columbia suicide severity scale levels the authors annotated per user). Some ``Post`` cells were cut
at 32,759 characters by a spreadsheet; :func:`parse_posts` keeps every complete post of those.
The content describes self-harm: use only for crisis-detection research and never log the posts.
Validation must be split by user (:func:`split`); the other 100 users are held back.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

NAME = "reddit_cssrs"
FILE = "reddit_cssrs_train80.zip"
MEMBER = "500_Reddit_users_posts_labels.train80.csv"
LABELS = ("Supportive", "Indicator", "Ideation", "Behavior", "Attempt")
AT_RISK = ("Ideation", "Behavior", "Attempt")


@dataclass(frozen=True)
class RedditUser:
    """One user: anonymous id, their posts in order, and the C-SSRS level annotated for the user."""

    user: str
    posts: tuple[str, ...]
    label: str

    @property
    def at_risk(self) -> bool:
        """Ideation, Behavior or Attempt (the levels a crisis screen must not miss)."""
        return self.label in AT_RISK


def parse_posts(cell: str) -> tuple[str, ...]:
    """The posts of one ``Post`` cell; a cell cut short keeps its complete posts (the cut one is dropped)."""
    try:
        value = ast.literal_eval(cell)
    except (SyntaxError, ValueError):
        value = _truncated_list(cell)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError("not a list of posts")
    return tuple(p.strip() for p in value if isinstance(p, str) and p.strip())


def _truncated_list(cell: str) -> list[str]:
    """Parse a list literal cut mid-way: back up to the last item separator and close the list."""
    end = len(cell)
    while end > 0:
        end = max(cell.rfind("', ", 0, end), cell.rfind('", ', 0, end))
        if end <= 0:
            break
        try:
            return list(ast.literal_eval(cell[:end + 1] + "]"))
        except (SyntaxError, ValueError):
            continue
    raise ValueError("not a list of posts (and no complete post before the cut)")


def parse(text: str, name: str = MEMBER) -> list[RedditUser]:
    """Parse the CSV text; ``InvalidInput`` names the row and field of every malformed row (up to 20)."""
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(text))
    missing = {"User", "Post", "Label"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {sorted(missing)}", "structure"))
    users, problems = [], []
    for number, row in enumerate(reader, start=2):
        label = (row["Label"] or "").strip()
        if label not in LABELS:
            problems.append(Problem(f"{name}: row {number}: Label", f"{label!r} is not one of {', '.join(LABELS)}", "value"))
            continue
        try:
            posts = parse_posts(row["Post"] or "")
        except ValueError as exc:
            problems.append(Problem(f"{name}: row {number}: Post", str(exc), "value"))
            continue
        users.append(RedditUser((row["User"] or "").strip(), posts, label))
    if problems:
        raise InvalidInput(problems[:20])
    return users


def load(root: str | Path | None = None) -> list[RedditUser]:
    """The 400 shared users."""
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        return parse(archive.read(MEMBER).decode("utf-8"))


def split(users: list[RedditUser], fraction: float = 0.25, salt: str = "medai-cssrs") -> tuple[list[RedditUser],
                                                                                              list[RedditUser]]:
    """Deterministic split by user ``(train, validation)``, stratified on the label: within each label the
    users are ordered by a salted hash of their id and the first ``round(fraction * n)`` go to validation."""
    train, validation = [], []
    for label in LABELS:
        group = sorted((u for u in users if u.label == label),
                       key=lambda u: hashlib.sha256((salt + u.user).encode()).hexdigest())
        cut = round(fraction * len(group))
        validation += group[:cut]
        train += group[cut:]
    return train, validation
