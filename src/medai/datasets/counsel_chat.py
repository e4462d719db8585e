"""CounselChat: licensed therapists' answers to users' questions (Bertagnolli 2020), train and val rows.

``counsel_chat_train_val.zip`` holds ``data/20200325_counsel_chat.train_val.csv`` (columns questionID,
questionTitle, questionText, questionLink, topic, therapistInfo, therapistURL, answerText, upvotes,
views, split) and the author's licence (MIT). Answers were written by the therapists on
counselchat.com: quote them with attribution (therapist and URL). Test rows are held back.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

NAME = "counsel_chat"
FILE = "counsel_chat_train_val.zip"
MEMBER = "data/20200325_counsel_chat.train_val.csv"
COLUMNS = ("questionID", "questionTitle", "questionText", "questionLink", "topic", "therapistInfo", "therapistURL",
           "answerText", "upvotes", "views", "split")


@dataclass(frozen=True)
class CounselAnswer:
    """One therapist answer to one user question."""

    question_id: str
    question_title: str
    question_text: str
    question_url: str
    topic: str
    therapist: str
    therapist_url: str
    answer: str
    upvotes: int
    views: int
    split: str


def parse(text: str, name: str = MEMBER) -> list[CounselAnswer]:
    """Parse the CSV; ``InvalidInput`` names the row and field of every bad row (up to 20)."""
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(text))
    missing = set(COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {sorted(missing)}", "structure"))
    out, problems = [], []
    for number, row in enumerate(reader, start=2):
        if not (row["answerText"] or "").strip():
            problems.append(Problem(f"{name}: row {number}: answerText", "empty answer", "required"))
            continue
        try:
            upvotes, views = int(float(row["upvotes"] or 0)), int(float(row["views"] or 0))
        except ValueError:
            problems.append(Problem(f"{name}: row {number}: upvotes/views", "not a number", "value"))
            continue
        out.append(CounselAnswer(row["questionID"].strip(), (row["questionTitle"] or "").strip(),
                                 (row["questionText"] or "").strip(), (row["questionLink"] or "").strip(),
                                 (row["topic"] or "").strip(), " ".join((row["therapistInfo"] or "").split()),
                                 (row["therapistURL"] or "").strip(), row["answerText"].strip(), upvotes, views,
                                 (row["split"] or "").strip()))
    if problems:
        raise InvalidInput(problems[:20])
    return out


def load(root: str | Path | None = None) -> list[CounselAnswer]:
    """The 2,012 train and val answers."""
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        return parse(archive.read(MEMBER).decode("utf-8"))
