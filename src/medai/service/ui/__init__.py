"""The clinician web UI: server-rendered Jinja2 pages under ``/ui`` (see ``routes.py``)."""
