"""The catalogue of public datasets medai reads, where to find them and how to verify them.

``locate`` looks in the given root, then ``$MEDAI_DATA_DIR``, then the user cache
(``$MEDAI_HOME/data``). Nothing is downloaded here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from medai.config import get_settings


@dataclass(frozen=True)
class Dataset:
    """A public dataset: its folder name, files with sha256, licence and citation."""

    name: str
    folder: str
    files: dict[str, str]
    licence: str
    citation: str


MEDMNIST_CITATION = ("Yang J et al. MedMNIST v2: a large-scale lightweight benchmark for 2D and 3D biomedical "
                     "image classification. Sci Data 10:41 (2023)")
LIDC_CITATION = ("Armato SG III et al. The Lung Image Database Consortium (LIDC) and Image Database Resource "
                 "Initiative (IDRI). Med Phys 38:915-931 (2011); TCIA doi:10.7937/K9/TCIA.2015.LO9QL9SX")

DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("synthea_fhir_r4", "synthea_fhir_r4",
            {"R4_SYNTHEA.zip": "1d3fe691e505ce400b6003f68893b63dec2549695da4af5006582aec0b1549e7"},
            "Apache-2.0 (SMART Health IT sample data; synthetic patients)",
            "Walonoski J et al. Synthea. JAMIA 25(3):230-238 (2018); SMART Health IT generated-sample-data"),
    Dataset("physionet2019", "physionet2019",
            {"training_setA.zip": "33a50ca53ad328a6461e36674f34047fd9f63e01027e2bef8b35a314b0044cd4"},
            "CC BY 4.0",
            "Reyna MA et al. Early Prediction of Sepsis From Clinical Data: the PhysioNet/CinC Challenge 2019. Crit Care Med 48(2):210-217 (2020)"),
    Dataset("retinamnist", "medmnist_retinamnist",
            {"retinamnist_trainval.npz": "902ccca4a7c5c45277e1cf8fe09e0e25aa074a9684df6d7bb4bb55dec28554c5"},
            "CC BY 4.0", MEDMNIST_CITATION + "; images from DeepDRiD (Liu R et al. Patterns 2022)"),
    Dataset("pneumoniamnist", "medmnist_pneumoniamnist_variant",
            {"pneumoniamnist_trainval.npz": "36af7ab24fe5c645fb8db681b21f32bac2734346a3d40cd9443396af2d91ed49"},
            "CC BY 4.0", MEDMNIST_CITATION + "; images from Kermany DS et al. Cell 172(5) (2018)"),
    Dataset("breastmnist", "medmnist_breastmnist",
            {"breastmnist_trainval.npz": "7822ed21c30dc637f44d0df413009ef508a8c7d60f030b0b9e287ce052b854ae"},
            "CC BY 4.0", MEDMNIST_CITATION + "; images from Al-Dhabyani W et al. Data in Brief 28 (2020)"),
    Dataset("idrid", "idrid_dr_grading",
            {"idrid_grading_train_512px.zip": "0e2d9fb07e0fff3a570b42dc3abd7f6c75413f84f25708ce1c3690d400b9a054"},
            "CC BY 4.0",
            "Porwal P et al. Indian Diabetic Retinopathy Image Dataset (IDRiD). Data 3(3):25 (2018)"),
    Dataset("lidc_vois", "lidc_nodule_vois",
            {"lidc_vois_shared.zip": "e176962c0ccc8d2c5c582b9a4e2b5b450b1f284e5b7cec85a9d55ec47f452d1b"},
            "CC BY 3.0 (TCIA, LIDC-IDRI)", LIDC_CITATION),
    Dataset("lidc_dicom", "lidc_idri_dicom",
            {"LIDC-IDRI-0001.zip": "5061ed1640f2414c71cc2e7b6401261b512822a8d9cea22507dd700ab577a006"},
            "CC BY 3.0 (TCIA, LIDC-IDRI)", LIDC_CITATION),
    Dataset("fracatlas", "fracatlas",
            {"fracatlas_shared_512px.zip": "7a5a9c96002cfd5a0959958ca6e3c9b0e804403e903b7caa904529f33b0b1817"},
            "CC BY 4.0",
            "Abedeen I et al. FracAtlas: a dataset for fracture classification, localization and segmentation "
            "of musculoskeletal radiographs. Sci Data 10:521 (2023)"),
]}


class DatasetNotFound(FileNotFoundError):
    """The dataset is in none of the places medai looks."""


def _candidates(root: Path | None) -> list[Path]:
    settings = get_settings()
    places = [root, settings.data_dir, settings.home / "data"]
    return [Path(p) for p in places if p is not None]


def locate(name: str, root: str | Path | None = None) -> Path:
    """The folder holding dataset ``name``; ``DatasetNotFound`` says where it looked."""
    dataset = DATASETS[name]
    looked = []
    for base in _candidates(Path(root) if root else None):
        for folder in (base / dataset.folder, base):
            looked.append(str(folder))
            if all((folder / f).exists() for f in dataset.files):
                return folder
    raise DatasetNotFound(f"dataset {name!r} not found; looked in: {', '.join(looked)}. "
                          f"Pass a path or set MEDAI_DATA_DIR to the folder that holds {dataset.folder}/")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(name: str, root: str | Path | None = None) -> dict[str, bool]:
    """Check every file of a dataset against its recorded sha256: {file: ok}."""
    folder = locate(name, root)
    return {file: sha256_file(folder / file) == expected for file, expected in DATASETS[name].files.items()}
