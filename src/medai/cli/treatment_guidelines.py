"""``medai treatment regimen | interactions | oncology``: guideline regimens, drug interactions, cancer variants.

All three print JSON on stdout. ``regimen`` and ``interactions`` read a patient from a FHIR Bundle
JSON file (e.g. a Synthea bundle) or, when SOURCE is not a file, from the medai store by patient
id (the read is audited). Bad input exits with status 1 and names the field on stderr.
``register(app)`` adds the commands to the ``treatment`` Typer group.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import typer

from medai.errors import InvalidInput, NotFound


def _emit(payload: object) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, ensure_ascii=False))


@contextmanager
def _clear_errors():
    """Turn input errors into a message on stderr and exit status 1."""
    from medai.datasets.registry import DatasetNotFound

    try:
        yield
    except InvalidInput as error:
        for problem in error.problems:
            typer.echo(f"error: {problem.location}: {problem.message}", err=True)
        raise typer.Exit(1) from None
    except (NotFound, DatasetNotFound, FileNotFoundError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except json.JSONDecodeError as error:
        typer.echo(f"error: malformed JSON: {error}", err=True)
        raise typer.Exit(1) from None


def _context(source: str, patient: str | None, database_url: str | None, action: str, pregnant: bool | None = None,
             as_of: str | None = None):
    """A PatientContext from a Bundle file, or from the store (audited) when ``source`` is not a file."""
    from medai.treatment.patient_context import context_from_bundle, context_from_store, parse_as_of

    when = parse_as_of(as_of)
    path = Path(source)
    if path.is_file():
        return context_from_bundle(json.loads(path.read_text(encoding="utf-8")), patient, when, pregnant)
    from medai.config import get_settings
    from medai.store.audit import AuditEvent, append
    from medai.store.db import open_database

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    engine = open_database(settings)
    patient_id = patient or source
    with engine.connect() as connection:
        context = context_from_store(connection, patient_id, when, pregnant)
    append(engine, AuditEvent(actor="cli", role="clinician", action=action, patient_id=patient_id))
    return context


def _context_summary(context) -> dict:
    return {"patient_id": context.patient_id, "as_of": context.as_of, "age": context.age, "sex": context.sex,
            "black": context.black, "pregnant": context.pregnant, "deceased": context.deceased,
            "phenotypes": context.phenotypes, "measurements": {k: v.describe() for k, v in context.measurements.items()},
            "medications": [m.model_dump() for m in context.medications]}


SOURCE_HELP = "A FHIR Bundle JSON file, or a patient id in the medai store."


def regimen(source: str = typer.Argument(..., help=SOURCE_HELP),
            patient: str | None = typer.Option(None, help="Patient id (needed when the bundle holds several patients)."),
            condition: str = typer.Option("all", help="diabetes, hypertension or all."),
            pregnant: bool | None = typer.Option(None, "--pregnant/--not-pregnant", help="Override the pregnancy status on record."),
            ascvd_risk: float | None = typer.Option(None, min=0, max=100, help="10-year ASCVD risk in % (pooled cohort equations)."),
            as_of: str | None = typer.Option(None, help="Assess as of this date (default: now)."),
            database_url: str | None = typer.Option(None, help="Overrides MEDAI_DATABASE_URL when reading from the store.")) -> None:
    """Guideline drug regimens (type 2 diabetes: ADA 2025; hypertension: 2017 ACC/AHA) with ranked options and citations."""
    from medai.treatment.regimens.diabetes import diabetes_plan
    from medai.treatment.regimens.hypertension import hypertension_plan

    if condition not in ("all", "diabetes", "hypertension"):
        raise typer.BadParameter("choose diabetes, hypertension or all", param_hint="--condition")
    with _clear_errors():
        context = _context(source, patient, database_url, "cli:treatment-regimen", pregnant, as_of)
        plans = []
        if condition in ("all", "diabetes"):
            plans.append(diabetes_plan(context))
        if condition in ("all", "hypertension"):
            plans.append(hypertension_plan(context, ascvd_risk=ascvd_risk))
    _emit({"patient": _context_summary(context), "plans": [p.model_dump(mode="json") for p in plans]})


def interactions(source: str | None = typer.Argument(None, help=SOURCE_HELP + " Optional with --drug."),
                 drug: list[str] = typer.Option([], "--drug", help="A medication to add to the list (repeatable)."),
                 patient: str | None = typer.Option(None, help="Patient id (needed when the bundle holds several patients)."),
                 database_url: str | None = typer.Option(None, help="Overrides MEDAI_DATABASE_URL when reading from the store.")) -> None:
    """Check the active medication list (and any --drug) for clinically significant drug-drug interactions."""
    from medai.treatment.interactions import check_interactions, identify_medication

    if source is None and not drug:
        raise typer.BadParameter("give a bundle file, a patient id or at least one --drug", param_hint="SOURCE")
    with _clear_errors():
        medications = []
        patient_id = None
        if source is not None:
            context = _context(source, patient, database_url, "cli:treatment-interactions")
            medications, patient_id = list(context.medications), context.patient_id
        medications += [identify_medication(d, "--drug") for d in drug]
        report = check_interactions(medications)
    _emit({"patient_id": patient_id, "counts": report.counts, **report.model_dump(mode="json")})


def oncology(variant: list[str] = typer.Option([], "--variant", help="A variant with its gene, e.g. 'BRAF V600E' (repeatable)."),
             tumour: str = typer.Option(..., "--tumour", "--tumor", help="Tumour type: name, synonym or DOID (e.g. melanoma, DOID:1909)."),
             vcf: Path | None = typer.Option(None, exists=True, dir_okay=False, help="A VCF file (SnpEff ANN or VEP CSQ annotations used)."),
             maf: Path | None = typer.Option(None, exists=True, dir_okay=False, help="A MAF file (Hugo_Symbol, HGVSp_Short)."),
             civic: Path | None = typer.Option(None, exists=True, dir_okay=False, help="A CIViC ClinicalEvidenceSummaries TSV (v1 or current layout)."),
             data_dir: Path | None = typer.Option(None, help="Data root holding civic/ (default: MEDAI_DATA_DIR)."),
             fhir: bool = typer.Option(False, "--fhir", help="Print a FHIR R4 DiagnosticReport instead of the JSON report."),
             patient: str | None = typer.Option(None, help="Patient id for the DiagnosticReport subject.")) -> None:
    """Therapies for cancer variants in a tumour type, ranked by CIViC evidence level, with PMIDs."""
    from medai.core.fhir import validate_resource
    from medai.datasets import civic as civic_data
    from medai.treatment.oncology.fhir import report_to_fhir
    from medai.treatment.oncology.therapies import oncology_report
    from medai.treatment.oncology.variants import parse_variant, read_variant_file

    with _clear_errors():
        queries = [parse_variant(v, f"--variant {v!r}") for v in variant]
        queries += read_variant_file(vcf, "vcf") if vcf else []
        queries += read_variant_file(maf, "maf") if maf else []
        export = civic_data.read_export(civic, civic.parent / civic_data.VARIANT_FILE) if civic else civic_data.load(data_dir)
        report = oncology_report(queries, tumour, export)
        if fhir:
            resource = report_to_fhir(report, patient)
            validate_resource(resource, "DiagnosticReport")
            _emit(resource)
            return
    _emit(report.model_dump(mode="json"))


def register(app: typer.Typer) -> None:
    """Add ``regimen``, ``interactions`` and ``oncology`` to the ``treatment`` command group."""
    app.command("regimen")(regimen)
    app.command("interactions")(interactions)
    app.command("oncology")(oncology)
