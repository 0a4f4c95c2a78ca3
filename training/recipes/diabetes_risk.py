"""diabetes-risk: logistic regression (or a small MLP) on the Pima Indians Diabetes data, with in-graph median
imputation, missing-value indicators and standardisation, trained with random masking of the optional fields."""

from __future__ import annotations

import csv
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recipes import Trained
from utils import DataError, binary_metrics, dataset_file, file_digest, fit_temperature, log, rounded, youden_threshold

MODEL_ID = "diabetes-risk"
LABELS = ["no diabetes", "diabetes"]

# Field order = column order of the `features` tensor. `column` is the CSV column (mlbench's name).
# min/max: plausible values a form should accept; trainingRange (added at training time) is what the data held.
# notApplicableValue: what the app feeds when the field does not apply to the patient (eligibility.fieldsBySex).
FIELDS = [
    {"key": "pregnancies", "column": "pregnant", "label": "Number of pregnancies", "unit": "count", "min": 0, "max": 20, "required": False, "notApplicableValue": 0},
    {"key": "glucose", "column": "glucose", "label": "Plasma glucose (2-h OGTT)", "unit": "mg/dL", "min": 40, "max": 400, "required": True},
    {"key": "diastolic_bp", "column": "pressure", "label": "Diastolic blood pressure", "unit": "mm Hg", "min": 30, "max": 140, "required": False},
    {"key": "triceps_skinfold", "column": "triceps", "label": "Triceps skinfold thickness", "unit": "mm", "min": 3, "max": 100, "required": False},
    {"key": "insulin", "column": "insulin", "label": "Serum insulin (2-h OGTT)", "unit": "µU/mL", "min": 10, "max": 1000, "required": False},
    {"key": "bmi", "column": "mass", "label": "Body mass index", "unit": "kg/m²", "min": 12, "max": 70, "required": True},
    {"key": "pedigree", "column": "pedigree", "label": "Diabetes pedigree function (family history score)", "unit": "score", "min": 0.05, "max": 2.5, "required": False},
    {"key": "age", "column": "age", "label": "Age", "unit": "years", "min": 18, "max": 100, "required": True},
]
OPTIONAL = [k for k, f in enumerate(FIELDS) if not f["required"]]
LABEL_COLUMN, POSITIVE_VALUE = "diabetes", "pos"
AGE = [f["key"] for f in FIELDS].index("age")
NO_INSULIN_TRICEPS = [k for k, f in enumerate(FIELDS) if f["key"] in ("insulin", "triceps_skinfold")]


def load(cfg: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    path = dataset_file(cfg, cfg["models"][MODEL_ID]["data"])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise DataError(f"{path}: empty file")
    header = rows[0]
    if header and header[0] in ("", "rownames"):  # the Rdatasets export has a leading row-name column
        header, rows = header[1:], [[*r[1:]] for r in rows]
        rows[0] = header
    need = [f["column"] for f in FIELDS] + [LABEL_COLUMN]
    missing = [c for c in need if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; expected mlbench's PimaIndiansDiabetes2 columns {need}")
    col = {c: header.index(c) for c in need}
    x = np.full((len(rows) - 1, len(FIELDS)), np.nan)
    y = np.zeros(len(rows) - 1, dtype=np.int64)
    for i, r in enumerate(rows[1:]):
        try:
            for k, fld in enumerate(FIELDS):
                v = r[col[fld["column"]]].strip()
                x[i, k] = np.nan if v in ("NA", "") else float(v)
        except (ValueError, IndexError) as e:
            raise DataError(f"{path}: row {i + 2}: {e}") from e
        lab = r[col[LABEL_COLUMN]].strip()
        if lab not in ("pos", "neg"):
            raise DataError(f"{path}: row {i + 2}: diabetes must be pos or neg, got {lab!r}")
        y[i] = lab == POSITIVE_VALUE
    return x, y, {"file": cfg["models"][MODEL_ID]["data"]["file"], "sha256": file_digest(path)}


def stratified_split(y: np.ndarray, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split (numpy's legacy RandomState: stable across numpy versions)."""
    rs = np.random.RandomState(seed)
    held = []
    for c in (0, 1):
        idx = np.flatnonzero(y == c)
        held.append(rs.permutation(idx)[: int(round(frac * len(idx)))])
    val = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(y)), val), val


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    rs = np.random.RandomState(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    for c in (0, 1):
        for j, i in enumerate(rs.permutation(np.flatnonzero(y == c))):
            folds[j % k].append(int(i))
    return [np.sort(np.array(f)) for f in folds]


class TabularModel(nn.Module):
    """features (raw units, NaN = missing) -> median imputation -> standardise -> [z, missing indicators of
    the optional fields] -> linear (or one hidden layer) -> logit / T -> softmax over [no diabetes, diabetes]."""

    def __init__(self, median: np.ndarray, mean: np.ndarray, std: np.ndarray, hidden: int):
        super().__init__()
        self.register_buffer("median", torch.tensor(median))
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))
        self.register_buffer("optional", torch.tensor(OPTIONAL, dtype=torch.long))
        self.register_buffer("inv_temperature", torch.tensor(1.0, dtype=torch.float64))
        d = len(FIELDS) + len(OPTIONAL)
        self.net = nn.Linear(d, 1) if hidden == 0 else nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.double()

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        missing = torch.isnan(x)
        z = (torch.where(missing, self.median, x) - self.mean) / self.std
        indicators = missing.index_select(1, self.optional).to(x.dtype)
        return self.net(torch.cat([z, indicators], dim=1)).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.logit(x) * self.inv_temperature
        return torch.softmax(torch.stack([torch.zeros_like(s), s], dim=1), dim=1)


def augment(x: np.ndarray, copies: int, mask_prob: float, rs: np.random.RandomState) -> np.ndarray:
    """Copy 0 is the data as measured; the others hide each optional field with probability mask_prob."""
    out = [x]
    for _ in range(copies - 1):
        c = x.copy()
        hide = rs.rand(len(x), len(OPTIONAL)) < mask_prob
        sub = c[:, OPTIONAL]
        sub[hide] = np.nan
        c[:, OPTIONAL] = sub
        out.append(c)
    return np.concatenate(out)


def fit(x: np.ndarray, y: np.ndarray, t: dict, seed: int, verbose: bool) -> TabularModel:
    torch.manual_seed(seed)
    rs = np.random.RandomState(seed)
    median = np.nanmedian(x, axis=0)
    mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    model = TabularModel(median, mean, std, t["hidden"])
    xa = torch.tensor(augment(x, t["copies"], t["mask_prob"], rs))
    ya = torch.tensor(np.tile(y, t["copies"]), dtype=torch.float64)
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    opt = torch.optim.LBFGS(model.parameters(), lr=t["lr"], max_iter=25, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model.logit(xa), ya)
        loss = loss + t["weight_decay"] * sum((w**2).sum() for w in weights)
        loss.backward()
        return loss

    steps = math.ceil(t["epochs"] / 25)
    for s in range(steps):
        loss = opt.step(closure)
        if verbose and (s % 4 == 0 or s == steps - 1):
            done = min((s + 1) * 25, t["epochs"])
            log(f"  L-BFGS iteration {done:4d}/{t['epochs']}  penalised loss {float(loss):.5f}  ({len(xa)} augmented rows)")
    return model.eval()


def set_temperature(model: TabularModel, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        s = model.logit(torch.tensor(x)).numpy()
    temperature = fit_temperature(np.stack([np.zeros_like(s), s], 1), y)
    model.inv_temperature.fill_(1.0 / temperature)
    return temperature


def predict(model: TabularModel, x: np.ndarray, hide: list[int] | None = None) -> np.ndarray:
    x = x.copy()
    if hide:
        x[:, hide] = np.nan
    with torch.no_grad():
        return model(torch.tensor(x))[:, 1].numpy()


def cross_validate(x: np.ndarray, y: np.ndarray, cfg: dict) -> list[dict]:
    """Stratified k-fold CV of the whole recipe: in each training fold, a stratified hold-out of val_fraction
    chooses the temperature and the threshold; the model is trained on the rest and tested on the fold."""
    t = cfg["models"][MODEL_ID]["train"]
    bins = cfg["ece_bins"]
    variants = {
        "as measured": None,
        "insulin and triceps_skinfold missing for everyone": NO_INSULIN_TRICEPS,
        "only the required fields (glucose, BMI, age)": OPTIONAL,
    }
    per_fold: dict[str, list[dict]] = {v: [] for v in variants}
    for f, test_idx in enumerate(stratified_folds(y, t["folds"], cfg["seed"])):
        rest = np.setdiff1d(np.arange(len(y)), test_idx)
        tr_rel, va_rel = stratified_split(y[rest], t["val_fraction"], cfg["seed"] + f + 1)
        tr, va = rest[tr_rel], rest[va_rel]
        model = fit(x[tr], y[tr], t, cfg["seed"] + f + 1, verbose=False)
        set_temperature(model, x[va], y[va])
        thr = youden_threshold(y[va], predict(model, x[va]))  # one threshold, as in the app
        for name, hide in variants.items():
            per_fold[name].append(binary_metrics(y[test_idx], predict(model, x[test_idx], hide), thr, bins))
        m = per_fold["as measured"][-1]
        m2 = per_fold["insulin and triceps_skinfold missing for everyone"][-1]
        log(f"  CV fold {f + 1}/{t['folds']}: test AUC {m['auc']:.4f} (without insulin/skinfold {m2['auc']:.4f}), Brier {m['brier']:.4f}")
    out = []
    for name, hide in variants.items():
        keys = ("auc", "accuracy", "sensitivity", "specificity", "brier", "ece")
        values = {k: [m[k] for m in per_fold[name]] for k in keys}
        summary = {k: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1))} for k, v in values.items()}
        out.append(
            rounded(
                {
                    "split": f"cv{t['folds']}",
                    "protocol": (
                        f"stratified {t['folds']}-fold cross-validation of the training recipe on all {len(y)} rows "
                        f"(in each training fold a {t['val_fraction']:.0%} stratified hold-out chooses temperature and threshold, "
                        "the threshold on complete inputs); mean ± sd over folds"
                    ),
                    "inputs": name,
                    "missingFields": [FIELDS[k]["key"] for k in hide] if hide else [],
                    "n": len(y),
                    "summary": summary,
                    "folds": [{k: m[k] for k in keys} for m in per_fold[name]],
                }
            )
        )
        log(
            f"[{MODEL_ID}] CV ({name}): AUC {summary['auc']['mean']:.4f} ± {summary['auc']['sd']:.4f}, "
            f"Brier {summary['brier']['mean']:.4f} ± {summary['brier']['sd']:.4f}, "
            f"accuracy {summary['accuracy']['mean']:.4f} ± {summary['accuracy']['sd']:.4f}"
        )
    return out


def train(cfg: dict) -> Trained:
    t = cfg["models"][MODEL_ID]["train"]
    x, y, info = load(cfg)
    log(f"[{MODEL_ID}] {len(y)} rows, {int(y.sum())} positive; missing values per field: "
        + ", ".join(f"{f['key']} {int(np.isnan(x[:, k]).sum())}" for k, f in enumerate(FIELDS)))
    log(f"[{MODEL_ID}] {t['folds']}-fold cross-validation of the recipe")
    cv = cross_validate(x, y, cfg)

    tr, va = stratified_split(y, t["val_fraction"], cfg["seed"])
    log(f"[{MODEL_ID}] shipped model: training on {len(tr)} rows, temperature and threshold on {len(va)} held-out rows")
    model = fit(x[tr], y[tr], t, cfg["seed"], verbose=True)
    temperature = set_temperature(model, x[va], y[va])
    log(f"[{MODEL_ID}] temperature fitted on validation: T = {temperature:.4f}")
    model = model.float()

    # Extra validation figures for the shipped model with fields hidden (threshold stays the shipped one).
    p_va = predict(model, x[va].astype(np.float32))
    thr = youden_threshold(y[va], p_va)
    val_missing = []
    for name, hide in (
        ("insulin and triceps_skinfold missing for everyone", NO_INSULIN_TRICEPS),
        ("only the required fields (glucose, BMI, age)", OPTIONAL),
    ):
        m = binary_metrics(y[va], predict(model, x[va].astype(np.float32), hide), thr, cfg["ece_bins"])
        val_missing.append(
            rounded(
                {
                    "split": "val",
                    "protocol": "the shipped model on the validation rows, threshold unchanged",
                    "inputs": name,
                    "missingFields": [FIELDS[k]["key"] for k in hide],
                    "n": m["n"],
                    **{k: m[k] for k in ("auc", "accuracy", "sensitivity", "specificity", "brier", "ece")},
                }
            )
        )

    fields = []
    for k, f in enumerate(FIELDS):
        col = x[tr, k]
        fields.append(
            {
                **{key: f[key] for key in ("key", "label", "unit", "min", "max", "required")},
                **({"notApplicableValue": f["notApplicableValue"]} if "notApplicableValue" in f else {}),
                "imputedValue": round(float(np.nanmedian(col)), 6),
                "trainingRange": [float(np.nanmin(col)), float(np.nanmax(col))],
            }
        )
    lin = model.net if isinstance(model.net, nn.Linear) else None
    arch = (
        "logistic regression on standardised, median-imputed values plus missing-value indicators of the 5 optional fields"
        if lin is not None
        else f"one-hidden-layer MLP ({t['hidden']} tanh units) on standardised, median-imputed values plus missing-value indicators"
    )
    manifest = {
        "id": MODEL_ID,
        "name": "Diabetes (Pima women, OGTT-based)",
        "task": "binary-classification",
        "modality": "tabular",
        "input": {"tabular": {"tensor": "features", "fields": fields}},
        "output": {"tensor": "probabilities", "labels": LABELS, "positive": "diabetes"},
        "valProtocol": (
            f"seeded stratified hold-out of {len(va)} of the {len(y)} rows (row indices in val_indices.json); the shipped "
            f"model is trained on the other {len(tr)} rows, not on all rows"
        ),
        "dataset": {
            "name": "Pima Indians Diabetes (mlbench PimaIndiansDiabetes2, 768 women of Pima heritage aged 21+, NA = not measured)",
            "license": (
                "No explicit licence from the original source (NIDDK, via the UCI Machine Learning Repository, "
                "which no longer hosts it); redistributed in the R package mlbench (GPL-2)"
            ),
            "citation": (
                "Smith J.W., Everhart J.E., Dickson W.C., Knowler W.C., Johannes R.S., 'Using the ADAP learning algorithm "
                "to forecast the onset of diabetes mellitus', Proc. Annual Symposium on Computer Applications in Medical "
                "Care (SCAMC), 261-265 (1988). Data: National Institute of Diabetes and Digestive and Kidney Diseases; "
                "Leisch F. & Dimitriadou E., mlbench: Machine Learning Benchmark Problems (R package)."
            ),
            "file": info["file"],
            "sha256": info["sha256"],
        },
        "intendedUse": (
            "Decision support for clinicians screening adult women for diabetes: estimates the probability that a "
            "woman with these measurements tests positive for diabetes (WHO criteria), to help decide who needs "
            "confirmatory testing. Glucose must be the 2-hour plasma glucose of an oral glucose tolerance test. "
            "The clinician makes the assessment; the output is a probability, not a diagnosis."
        ),
        "limitations": (
            f"Trained on {len(tr)} women aged {np.nanmin(x[tr, AGE]):.0f}-{np.nanmax(x[tr, AGE]):.0f} of Pima heritage "
            "near Phoenix, Arizona, examined decades ago: not validated "
            "for men, children, pregnancy, or other populations, where risk and its relation to BMI differ. A fasting or "
            "random glucose is not the 2-hour OGTT value the model expects and will mislead it. The 2-hour glucose "
            "carries most of the signal (200 mg/dL or more is diagnostic on its own). Missing optional values are filled "
            "with the training median and flagged: the estimate gets less sharp (lower AUC) but, in cross-validation, "
            "no worse calibrated. "
            "The number of pregnancies is not asked of a male patient: the app gives the model 0, his true count (not "
            "the training median of 3 it uses when a woman's count is unknown), so he is scored like a woman who was "
            "never pregnant, which is the nearest case in the data; the model never saw men, and his result carries "
            "that warning. "
            "Small data: expect a few points of AUC either way on new patients."
        ),
        "architecture": arch,
        "prevalence": round(float(y[tr].mean()), 4),
        "eligibility": {
            # The population of the data set (Pima women aged 21 and over); the age field's trainingRange
            # gives what the shipped model's own training rows held.
            "ageYears": {"min": int(np.nanmin(x[:, AGE])), "max": int(np.nanmax(x[:, AGE]))},
            "sex": ["female"],
            # Pregnancies is asked of female patients and of those whose sex is other or not recorded (who may have
            # been pregnant); for male patients the app does not ask and feeds the field's notApplicableValue (0).
            "fieldsBySex": {"pregnancies": ["female", "other", "unknown"]},
        },
    }
    evaluation_data = {
        "file": info["file"],
        "sha256": info["sha256"],
        "columns": {f["key"]: f["column"] for f in FIELDS},
        "missing": "NA",
        "label": {"column": LABEL_COLUMN, "positive": POSITIVE_VALUE},
        "rows": "val_indices.json",
    }
    val_indices = {
        "description": (
            f"0-based data-row indices (header excluded) of {info['file']} held out as the validation split of "
            f"{MODEL_ID}: seeded stratified split, fraction {t['val_fraction']}, seed {cfg['seed']} "
            "(training/recipes/diabetes_risk.py: stratified_split)."
        ),
        "file": info["file"],
        "sha256": info["sha256"],
        "indices": [int(i) for i in va],
    }
    recipe = (
        f"Training: full-batch L-BFGS ({t['epochs']} iterations) on the {len(tr)} training rows plus {t['copies'] - 1} "
        f"copies in which each optional field is hidden with probability {t['mask_prob']}, L2 penalty {t['weight_decay']}; "
        "medians, means and standard deviations come from the training rows only. The validation rows are used only "
        "for the temperature and the threshold."
    )
    return Trained(
        module=model,
        input_name="features",
        feature_dims=[len(FIELDS)],
        val_x=x[va].astype(np.float32),
        val_y=y[va],
        manifest=manifest,
        evaluation_data=evaluation_data,
        temperature=temperature,
        extra_metrics=cv + val_missing,
        card_sections=[recipe],
        extra_files={"val_indices.json": val_indices},
    )
