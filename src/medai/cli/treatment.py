"""``medai treatment``: warfarin dose prediction, renal dose adjustment and vancomycin AUC-guided dosing.

* ``warfarin --input CSV --out CSV``: input in the layout of the IWPC ``warfarin.csv``; output columns
  exactly ``PharmGKB Subject ID,predicted_weekly_dose_mg``. A row that cannot be read keeps an empty
  dose and is named on stderr with the problem (never a default dose); the exit code is then 1.
* ``warfarin-train`` / ``warfarin-titrate``: retrain the shipped model; INR-guided weekly-dose titration.
* ``renal BUNDLE``: a FHIR Bundle (Patient, Observations, MedicationRequests) in, JSON recommendations out.
* ``vancomycin INPUT``: a JSON course (weight, kidney function, doses, levels) in, JSON regimen out.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from medai.errors import InvalidInput, Problem

treatment_app = typer.Typer(help="Personalised treatment: warfarin, renal dose adjustment, vancomycin.",
                            no_args_is_help=True)
err_console = Console(stderr=True)
OUTPUT_COLUMNS = ["PharmGKB Subject ID", "predicted_weekly_dose_mg"]


def _fail(problem: InvalidInput | str) -> None:
    err_console.print(f"[red]error[/]: {problem}")
    raise typer.Exit(1)


def _emit(payload: object, out: Path | None) -> None:
    text = json.dumps(payload, indent=1, default=str)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        _fail(f"{path}: not readable JSON ({exc})")
    if not isinstance(data, dict):
        _fail(f"{path}: expected a JSON object")
    return data


@treatment_app.command("warfarin")
def warfarin(input: Path = typer.Option(..., "--input", exists=True, dir_okay=False, help="CSV in the IWPC warfarin.csv layout."),
             out: Path = typer.Option(..., "--out", help="CSV to write: PharmGKB Subject ID,predicted_weekly_dose_mg."),
             details: Path | None = typer.Option(None, help="Also write JSON with interval, factors, IWPC doses and CPIC.")) -> None:
    """Predict the stable weekly warfarin dose (mg/week) of every patient in the file."""
    from medai.datasets.warfarin_iwpc import ID, read_rows
    from medai.treatment.warfarin.patient import from_iwpc_row
    from medai.treatment.warfarin.predict import load_shipped_model, predict_doses, recommend

    try:
        _, rows = read_rows(input)
    except InvalidInput as exc:
        _fail(exc)
    patients, failed = {}, 0
    for row in rows:
        try:
            patients[row[ID]] = from_iwpc_row(row)
        except InvalidInput as exc:
            failed += 1
            err_console.print(f"[red]not predicted[/] {exc}")
    loaded = load_shipped_model()
    doses = dict(zip(patients, predict_doses(list(patients.values()), loaded)))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for row in rows:
            dose = doses.get(row[ID])
            writer.writerow([row[ID], "" if dose is None else f"{dose:.2f}"])
    if details:
        _emit([recommend(p, loaded).to_dict() for p in patients.values()], details)
    err_console.print(f"{len(doses)} of {len(rows)} patients predicted into {out}")
    if failed:
        raise typer.Exit(1)


@treatment_app.command("warfarin-train")
def warfarin_train(data: Path | None = typer.Option(None, help="Data root holding warfarin_iwpc/ (default: MEDAI_DATA_DIR)."),
                   out: Path = typer.Option(Path("warfarin-dose-1.0.0"), help="Folder to create for the model package.")) -> None:
    """Train the learned warfarin model on the IWPC train split; validate on the held-out patients; write the package."""
    from medai.treatment.warfarin.train import train_and_package

    path = train_and_package(data, out, log=err_console.print)
    err_console.print(f"written {path}")


@treatment_app.command("warfarin-titrate")
def warfarin_titrate(weekly_dose_mg: float = typer.Option(..., help="Current total weekly dose, mg."),
                     inr: float = typer.Option(..., help="The INR just measured."),
                     target_low: float = typer.Option(2.0), target_high: float = typer.Option(3.0)) -> None:
    """Next weekly maintenance dose from the INR, per the shipped nomogram (JSON out)."""
    from dataclasses import asdict

    from medai.treatment.warfarin.titration import titrate

    try:
        _emit(asdict(titrate(weekly_dose_mg, inr, (target_low, target_high))), None)
    except InvalidInput as exc:
        _fail(exc)


def _bundle_records(bundle: dict):
    from medai.core.fhir.read import record_from_fhir
    from medai.core.fhir.validate import validate_resource
    from medai.core.records import MedicationRequest, Observation, Patient

    resources = [e.get("resource") for e in bundle.get("entry", [])] if bundle.get("resourceType") == "Bundle" else [bundle]
    patients, observations, requests = [], [], []
    for index, resource in enumerate(resources):
        validate_resource(resource, f"entry[{index}].resource")
        if resource["resourceType"] == "MedicationRequest":
            requests.append(resource)
            continue
        record = record_from_fhir(resource)
        if isinstance(record, Patient):
            patients.append(record)
        elif isinstance(record, Observation):
            observations.append(record)
    if len(patients) != 1:
        raise InvalidInput(Problem("Bundle.entry", f"expected exactly one Patient, found {len(patients)}", "required"))
    return patients[0], observations, requests


@treatment_app.command("renal")
def renal(bundle: Path = typer.Argument(..., exists=True, dir_okay=False, help="FHIR Bundle JSON: Patient, labs, MedicationRequests."),
          regimen: str | None = typer.Option(None, help="Regimen id when a drug has several (see `renal-drugs`)."),
          dialysis: bool = typer.Option(False, help="The patient is on dialysis (out of scope: says so)."),
          out: Path | None = typer.Option(None, help="Write JSON here instead of stdout.")) -> None:
    """Renal dose adjustment of each MedicationRequest from the patient's latest creatinine (JSON out)."""
    from medai.treatment.renal import recommend

    try:
        patient, observations, requests = _bundle_records(_read_json(bundle))
    except InvalidInput as exc:
        _fail(exc)
    results = []
    for request in requests:
        try:
            results.append(recommend(request, patient=patient, observations=observations, regimen_id=regimen,
                                     on_dialysis=dialysis).to_dict())
        except InvalidInput as exc:
            results.append({"status": "error", "medication_request_id": request.get("id"), "message": str(exc)})
    if not requests:
        results.append({"status": "error", "message": "the bundle holds no MedicationRequest"})
    _emit(results, out)


@treatment_app.command("renal-drugs")
def renal_drugs() -> None:
    """List the renal rule table: regimen id, drug, measure, usual dose and source (JSON)."""
    from medai.treatment.renal import rules

    _emit([{"id": r.id, "drug": r.drug, "indication": r.indication, "measure": r.measure, "usual": r.usual.text,
            "citations": [str(c) for c in r.citations]} for r in rules().regimens], None)


@treatment_app.command("vancomycin")
def vancomycin(input: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON course: see the module docs."),
               out: Path | None = typer.Option(None, help="Write JSON here instead of stdout.")) -> None:
    """AUC-guided vancomycin regimen from covariates, doses and measured levels (Bayesian MAP; JSON out).

    Input JSON: {"weight_kg", "crcl_ml_min" | ("creatinine_mg_dl", "age_years", "sex"), "doses": [{"start_h",
    "amount_mg", "duration_h"?}], "levels": [{"time_h", "concentration_mg_l"}], "mic_mg_l"?}.
    """
    from medai.treatment.vancomycin import course_from_dict, recommend

    try:
        data = _read_json(input)
        result = recommend(course_from_dict(data), data.get("mic_mg_l"))
    except InvalidInput as exc:
        _fail(exc)
    _emit(result.to_dict(), out)


def _register_guidelines() -> None:
    """Add the guideline commands (regimen, interactions, oncology) from their own module."""
    from medai.cli.treatment_guidelines import register

    register(treatment_app)


_register_guidelines()
