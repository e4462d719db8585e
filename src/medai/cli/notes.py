"""`medai notes`: de-identification, condition extraction, follow-up detection and assertion of free text."""

from __future__ import annotations

import typer

from medai.cli import notes_deid, notes_extract, notes_followup

notes_app = typer.Typer(help="Clinical notes: de-identify, extract conditions (assertion, ICD-10-CM), find follow-ups.",
                        no_args_is_help=True)
notes_deid.register(notes_app)
notes_extract.register(notes_app)
notes_followup.register(notes_app)
