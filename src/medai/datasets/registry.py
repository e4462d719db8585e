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
    Dataset("flusight", "flusight",
            {"target-data/target-hospital-admissions.csv": "bcb74fe9b67ab8ca0d1681ec090983e1a033dd6fbb55c99b626ab8443857b5f0",
             "target-data/target-ed-visits-prop.csv": "3d388387f18c0f15906c9ae15dda0f3dfed49095ac632a6791dfe2f70d5e61eb",
             "auxiliary-data/locations.csv": "80aaa24750044a837e063812a1d0a22339c8b3a92513f71a23dac613eaaa29e0",
             "target-data-archive_hospital-admissions_asof_to_2024-06-30.zip":
                 "bfb5a651a0f53cc669a65d2dc6b6ccd7e82b108960e6d5300ed838f3a7acdea7",
             "model-output_FluSight-ensemble_2023-24.zip": "2127098dd9fbc6257893193cc10659f8585fd7c6aef0d23bff0bdd0d3f9c8094",
             "model-output_FluSight-baseline_2023-24.zip": "86d062abce20c127e655e0004e0ff7014456394327af654bacf89ccc1d0e61b1"},
            "U.S. public domain (CDC/NHSN target data); CC BY 4.0 (FluSight-ensemble and FluSight-baseline forecasts)",
            "CDC FluSight forecast hub, github.com/cdcepi/FluSight-forecast-hub (NHSN weekly confirmed influenza "
            "hospital admissions); Mathis SM et al. Nat Commun 15:6289 (2024)"),
    Dataset("ilinet", "ilinet", {"ILINet.csv": "10894565592e46dca172a17593550535d7654253da1024869ce6f81d5f73c727"},
            "U.S. public domain (CDC FluView)",
            "CDC U.S. Outpatient Influenza-like Illness Surveillance Network (ILINet), FluView Interactive"),
    Dataset("hhs_capacity", "hhs_hospital_capacity_state",
            {"COVID-19_Reported_Patient_Impact_and_Hospital_Capacity_by_State_Timeseries.csv.gz":
                 "d5365ded4c20feb6a06445877aa88354e86bd8beb77321f79ea819671fa1c248"},
            "ODbL 1.0 (healthdata.gov catalogue entry; U.S. HHS federal data)",
            "U.S. HHS, COVID-19 Reported Patient Impact and Hospital Capacity by State Timeseries, healthdata.gov "
            "g62h-syeh (reduced 13-column copy)"),
    Dataset("warfarin_iwpc", "warfarin_iwpc",
            {"warfarin.csv": "7c81c8b2c72fae85625f692b0a98d6240f0051c2e7fd7cd2470ffe4b21d82632",
             "metadata.xls": "b442e999049e27f2058f12f20df4f5e75d1744f3768e4c6689f645ca1c27eb9b"},
            "CC BY-SA 4.0 (PharmGKB data licence; check PharmGKB's terms before redistributing)",
            "International Warfarin Pharmacogenetics Consortium. Estimation of the warfarin dose with clinical and "
            "pharmacogenetic data. N Engl J Med 360:753-764 (2009); data via PharmGKB"),
    Dataset("physionet_deid", "physionet_deid",
            {"deid_goldstd_shared.zip": "bcb43ca729f9cb011b6aa1e308faedc8917537bfcdc78674b04eabe87adeaf9b"},
            "GPL-2.0 (PhysioNet deid software package v1.1)",
            "Neamatullah I et al. Automated de-identification of free-text medical records. BMC Med Inform Decis Mak "
            "8:32 (2008); PhysioNet deid gold-standard corpus"),
    Dataset("negex", "negex", {"negex_dev.zip": "74fa210bd47998b490a91ccea9935bb81590cf6cdc69092d3e3b30cd504f31bf"},
            "Apache-2.0 (NegEx / genConText distribution)",
            "Chapman WW et al. A simple algorithm for identifying negated findings and diseases in discharge summaries. "
            "J Biomed Inform 34:301-310 (2001); Harkema H et al. ConText. J Biomed Inform 42(5):839-851 (2009)"),
    Dataset("iu_cxr", "iu_cxr_reports",
            {"iu_cxr_reports_shared.zip": "e47f3931bb097aa862581711a417d9e2d927ef450b6f1f1b0027cb481af60faa"},
            "CC BY-NC-ND 4.0 (Open-i; non-commercial research data)",
            "Demner-Fushman D et al. Preparing a collection of radiology examinations for distribution and retrieval. "
            "JAMIA 23(2):304-310 (2016)"),
    Dataset("civic", "civic",
            {"nightly-ClinicalEvidenceSummaries.tsv": "bad01f00b49aea46de6f0d82dde5955e31450ba9f2edf1efff52f0c33275d117",
             "nightly-VariantSummaries.tsv": "1640988dce0902b5aa13242ea1e560ea7014a51c7b6bf2d04ea4397a52a82698",
             "nightly-GeneSummaries.tsv": "6053629fc17ae055598eb426c531d591104a3cc91c2cc8842a333ce9e13a78dc"},
            "CC0 1.0 (CIViC; nightly export of May 2018)",
            "Griffith M et al. CIViC is a community knowledgebase for expert crowdsourcing the clinical interpretation "
            "of variants in cancer. Nat Genet 49(2):170-174 (2017)"),
    Dataset("ncbi_disease", "ncbi_disease",
            {"ncbi_disease_train_devel.zip": "f156e0ef3a8a1eff3e2f993787095e7941bedb72a97ca2b9152df1852ba3cfb9"},
            "Public domain (U.S. Government work, National Library of Medicine); CoNLL conversion by S. Pyysalo",
            "Dogan RI, Leaman R, Lu Z. NCBI disease corpus: a resource for disease name recognition and concept "
            "normalization. J Biomed Inform 47:1-10 (2014)"),
    Dataset("bc5cdr", "bc5cdr",
            {"bc5cdr_iob_train_devel.zip": "23047b5c5684fea3be9ec17b0b2eeaec9a71c3deadd38cc1960b6f3cb2c320d8"},
            "Freely distributed for research by the BioCreative organizers; IOB conversion CC BY 4.0 "
            "(Crichton et al., cambridgeltl/MTL-Bioinformatics-2016)",
            "Li J et al. BioCreative V CDR task corpus: a resource for chemical disease relation extraction. "
            "Database 2016:baw068; Crichton G et al. BMC Bioinformatics 18:368 (2017)"),
    Dataset("mtsamples", "mtsamples",
            {"mtsamples_train.zip": "1d85904c62d1180d5ffd5406b6c30f25f0e9e2ce7d1fe10dbd7273c1786c89d7"},
            "No open licence (mtsamples.com offers the samples for reference); research and reference use only",
            "MTSamples, transcribed medical sample reports, mtsamples.com (crawl of 14 Oct 2018)"),
    Dataset("diabetes130", "diabetes130",
            {"dataset_diabetes.zip": "aaf9c25c198625af2c4f9b29829bd1385650c9692121a376bb5cff23aeae4c63"},
            "CC BY 4.0 (UCI Machine Learning Repository)",
            "Strack B et al. Impact of HbA1c measurement on hospital readmission rates: analysis of 70,000 clinical "
            "database patient records. BioMed Res Int 2014:781670; UCI doi:10.24432/C5230J"),
    Dataset("mimic_iv_demo", "mimic_iv_demo",
            {"mimic-iv-clinical-database-demo-2.2.zip": "059fc4a53b414c25d1fa4c17d527c47ac6e73d98ab71414906a69cbdc8530425"},
            "ODbL 1.0 (PhysioNet open data)",
            "Johnson A et al. MIMIC-IV Clinical Database Demo (version 2.2). PhysioNet (2023); doi:10.13026/dp1f-ex47"),
    Dataset("reddit_cssrs", "reddit_cssrs_suicidality",
            {"reddit_cssrs_train80.zip": "56d141ebc20b131570da5cc4a1662e52b388a64d9213c25af724f4c605cd55fb"},
            "CC BY 4.0 (Zenodo record 2667859); sensitive content, crisis-detection research only",
            "Gaur M et al. Knowledge-aware assessment of severity of suicide risk for early intervention. "
            "WWW 2019:514-525; Zenodo doi:10.5281/zenodo.2667859"),
    Dataset("cognitive_distortions", "cognitive_distortions",
            {"shreevastava2021_train.zip": "20393026319e7776eff317c9abb949524e182d8b5cc58b6a5a54a39f22adf325"},
            "Unknown (Kaggle release states none); project-internal use, do not redistribute",
            "Shreevastava S, Foltz P. Detecting cognitive distortions from patient-therapist interactions. "
            "Proc. 7th Workshop on Computational Linguistics and Clinical Psychology (CLPsych 2021):151-158"),
    Dataset("counsel_chat", "counsel_chat",
            {"counsel_chat_train_val.zip": "66788afb615c8fff5475b2c1219abea78c3387d28f04cbcb4deff3795d021fa2"},
            "MIT (nbertagnolli/counsel-chat); answers written by therapists on counselchat.com",
            "Bertagnolli N. Counsel chat: bootstrapping high-quality therapy data. Towards Data Science (2020); "
            "github.com/nbertagnolli/counsel-chat"),
    Dataset("symptom_disease", "symptom_disease_kaggle",
            {"symptom_disease_train.zip": "b18c127fe157e31522a3b074ae9602f4274e3222c589205a710b0224021f8214"},
            "CC BY-SA 4.0 per the Kaggle listing (not verified offline; repository has no LICENSE)",
            "Patil P. Disease Symptom Prediction (Kaggle, itachi9604); github.com/itachi9604/healthcare-chatbot "
            "commit e4194028a436f6e9beed56bea6f424018734a651"),
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
