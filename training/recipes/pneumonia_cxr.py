"""pneumonia-cxr: compact CNN ensemble on PneumoniaMNIST (28x28 grayscale chest X-rays)."""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import input_check
from recipes import Trained
from utils import (
    DataError,
    accuracy_at_prevalence,
    binary_metrics,
    cv_summary,
    dataset_file,
    file_digest,
    expected_calibration_error,
    fit_platt,
    fit_temperature,
    log,
    reliability,
    roc_auc,
    rounded,
    sensitivity_threshold,
    sigmoid,
    stratified_folds,
    stratified_holdout,
    youden_threshold,
)

MODEL_ID = "pneumonia-cxr"
LABELS = ["normal", "pneumonia"]


def load(cfg: dict) -> tuple[dict[str, np.ndarray], dict]:
    mcfg = cfg["models"][MODEL_ID]
    path = dataset_file(cfg, mcfg["data"])
    try:
        with np.load(path) as d:
            arrays = {k: d[k] for k in ("train_images", "train_labels", "val_images", "val_labels")}
    except (OSError, KeyError, ValueError) as e:
        raise DataError(f"{path}: not a PneumoniaMNIST .npz with train/val images and labels ({e})") from e
    for split in ("train", "val"):
        im, lab = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if im.ndim != 3 or im.shape[1:] != (28, 28) or im.dtype != np.uint8 or len(lab) != len(im):
            raise DataError(f"{path}: {split}_images has shape {im.shape} {im.dtype}, expected (N, 28, 28) uint8")
    info = {"file": mcfg["data"]["file"], "path": str(path), "sha256": file_digest(path)}
    return arrays, info


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Per-image standardisation: invariant to exposure and contrast differences between X-ray devices."""
    mu = x.mean(dim=(1, 2, 3), keepdim=True)
    var = ((x - mu) ** 2).mean(dim=(1, 2, 3), keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-4)


class CompactCNN(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()

        def block(i: int, o: int) -> list[nn.Module]:
            return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

        w = width
        self.features = nn.Sequential(
            *block(1, w), *block(w, w), nn.MaxPool2d(2),  # 28 -> 14
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),  # 14 -> 7
            *block(2 * w, 4 * w), *block(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * w, len(LABELS)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: standardised images
        return self.head(self.features(x))


class Ensemble(nn.Module):
    """What the ONNX graph contains: raw pixels 0-255 -> standardise -> mean member logits -> Platt scaling of
    their difference, s = slope * (z_pneumonia - z_normal) + intercept -> probabilities [1 - sigmoid(s), sigmoid(s)]
    (a softmax over [0, s])."""

    def __init__(self, members: list[nn.Module], slope: float, intercept: float):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.register_buffer("slope", torch.tensor(slope))
        self.register_buffer("intercept", torch.tensor(intercept))

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        x = standardize(image / 255.0)
        return torch.stack([m(x) for m in self.members]).mean(dim=0)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        z = self.logits(image)
        s = (z[:, 1:2] - z[:, 0:1]) * self.slope + self.intercept
        return torch.softmax(torch.cat([torch.zeros_like(s), s], dim=1), dim=1)


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    r = torch.arange(-2, 3, dtype=torch.float32)
    k = torch.exp(-(r**2) / (2 * sigma**2))
    k = torch.outer(k, k)
    return (k / k.sum()).view(1, 1, 5, 5)


_BLUR = _gaussian_kernel(1.0)


def augment(x: torch.Tensor, a: dict, g: torch.Generator) -> torch.Tensor:
    """X-ray-suited augmentation of a batch of [0, 1] images, all draws from the seeded generator ``g``.
    Geometry: a random resized crop (area and aspect ratio), small rotation, zoom and shift. Intensity, for the
    exposure, contrast and processing differences between devices and sites: gamma (log-uniform), contrast,
    brightness (with clipping: saturated films), blur or sharpening, and sensor noise. No flips (anatomy is not
    mirror-symmetric)."""
    n = x.shape[0]

    def u() -> torch.Tensor:
        return torch.rand(n, generator=g) * 2 - 1

    # Random resized crop: the crop covers `area` of the image with aspect ratio `ar`, anywhere inside it.
    area = 1 - (u() + 1) / 2 * (1 - a["crop_area"])
    ar = torch.exp(u() * math.log(a["crop_aspect"]))
    sx, sy = torch.sqrt(area * ar).clamp(max=1), torch.sqrt(area / ar).clamp(max=1)
    cx, cy = u() * (1 - sx), u() * (1 - sy)
    ang = u() * math.radians(a["rotate_deg"])
    zoom = 1.0 / (1 + u() * a["scale"])
    tx, ty = cx + u() * a["shift_px"] * 2 / 28, cy + u() * a["shift_px"] * 2 / 28
    cos, sin = torch.cos(ang) * zoom, torch.sin(ang) * zoom
    theta = torch.stack([torch.stack([cos * sx, -sin * sy, tx], 1), torch.stack([sin * sx, cos * sy, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False).clamp(0, 1)

    x = x ** torch.exp(u() * math.log(1 + a["gamma"])).view(n, 1, 1, 1)
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - m) * (1 + u() * a["contrast"]).view(n, 1, 1, 1) + m + (u() * a["brightness"]).view(n, 1, 1, 1)
    x = x.clamp(0, 1)
    # Blur (alpha > 0) or unsharp masking (alpha < 0), amount uniform in [-sharpen, blur].
    alpha = ((u() + 1) / 2 * (a["blur"] + a["sharpen"]) - a["sharpen"]).view(n, 1, 1, 1)
    blurred = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), _BLUR)
    x = x + alpha * (blurred - x)
    sigma = ((u() + 1) / 2 * a["noise"]).view(n, 1, 1, 1)
    x = x + sigma * torch.randn(x.shape, generator=g)
    return x.clamp(0, 1)


# Fixed intensity changes of the kind seen between sites and devices, applied to held-out images only
# (a stress test of robustness, never used to choose anything). Images in [0, 1].
STRESS = {
    "gamma 0.67 (brighter mid-tones)": lambda x: x**0.67,
    "gamma 1.5 (darker mid-tones)": lambda x: x**1.5,
    "contrast x0.6 and brighter, clipped": lambda x: ((x - 0.5) * 0.6 + 0.65).clamp(0, 1),
    "blurred (sigma 1)": lambda x: F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), _BLUR),
}


@torch.no_grad()
def predict_logits(model: nn.Module, x01: torch.Tensor, bs: int = 512) -> torch.Tensor:
    model.eval()
    return torch.cat([model(standardize(x01[i : i + bs])) for i in range(0, len(x01), bs)])


def train_member(k: int, cfg: dict, xtr, ytr, xho, yho) -> nn.Module:
    """Train fold model k on (xtr, ytr) for a fixed number of epochs and return the final EMA weights.
    The held-out fold (xho, yho) is only printed now and then: choosing an epoch on it would make its
    out-of-fold predictions optimistic."""
    t = cfg["models"][MODEL_ID]["train"]
    seed = cfg["seed"] + 1000 * k
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = CompactCNN(t["width"], t["dropout"])
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=t["lr"], weight_decay=t["weight_decay"])
    n, bs = len(xtr), t["batch_size"]
    steps_per_epoch = math.ceil(n / bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=t["lr"], total_steps=t["epochs"] * steps_per_epoch, pct_start=0.15
    )
    counts = torch.bincount(ytr, minlength=2).double()
    weight = (n / (2 * counts)).float() if t["class_weighting"] else None
    n_params = sum(p.numel() for p in model.parameters())
    log(f"[{MODEL_ID}] fold model {k + 1}/{t['folds']}: seed {seed}, {n_params:,} parameters, {n} training images, {len(xho)} held out")
    for epoch in range(1, t["epochs"] + 1):
        t0 = time.time()
        model.train()
        perm = torch.randperm(n, generator=g)
        total = 0.0
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            xb = standardize(augment(xtr[idx], t["augment"], g))
            loss = F.cross_entropy(model(xb), ytr[idx], weight=weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            with torch.no_grad():  # EMA of weights and BatchNorm statistics
                d = t["ema_decay"]
                for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                    if pe.dtype.is_floating_point:
                        pe.mul_(d).add_(pm, alpha=1 - d)
                    else:
                        pe.copy_(pm)
        line = f"  epoch {epoch:3d}/{t['epochs']}  loss {total / n:.4f}  lr {sched.get_last_lr()[0]:.2e}  {time.time() - t0:.1f}s"
        if epoch % 5 == 0 or epoch == t["epochs"]:  # progress only: never used to pick anything
            p = torch.softmax(predict_logits(ema, xho), 1)[:, 1].numpy()
            line += f"  held-out fold AUC {roc_auc(yho.numpy(), p):.4f}"
        log(line)
    return ema.eval()


def fold_metrics(y: np.ndarray, p: np.ndarray, folds: list[np.ndarray], rule, bins: int) -> list[dict]:
    """Per fold: the threshold rule applied to the out-of-fold predictions of the OTHER folds, then evaluated
    on this fold, so neither the model nor the threshold has seen the cases it is scored on."""
    out = []
    for f, idx in enumerate(folds):
        rest = np.concatenate([g for j, g in enumerate(folds) if j != f])
        thr = rule(y[rest], p[rest])
        out.append({**binary_metrics(y[idx], p[idx], thr, bins), "threshold": thr})
    return out


def train(cfg: dict) -> Trained:
    t = cfg["models"][MODEL_ID]["train"]
    bins = cfg["ece_bins"]
    arrays, info = load(cfg)
    # train + val pooled: cross-validation replaces the single 524-image validation split.
    x_u8 = np.concatenate([arrays["train_images"], arrays["val_images"]])
    y_np = np.concatenate([arrays["train_labels"], arrays["val_labels"]]).reshape(-1).astype(np.int64)
    source = np.repeat(["train", "val"], [len(arrays["train_labels"]), len(arrays["val_labels"])])
    if t["subset"]:  # a seeded random sample (the file is ordered by class)
        keep = np.sort(np.random.RandomState(cfg["seed"]).permutation(len(y_np))[: t["subset"]])
        x_u8, y_np, source = x_u8[keep], y_np[keep], source[keep]
    else:
        keep = np.arange(len(y_np))
    if len(np.unique(y_np)) < 2:
        raise DataError(f"{info['path']}: the training images hold only one class")
    # A stratified hold-out, drawn once (seeded) before anything else and never trained or tuned on: the fold
    # models, calibration and threshold all come from the rest; the shipped graph is scored on it at the end.
    rest, hold = stratified_holdout(y_np, t["holdout_fraction"], cfg["seed"])
    holdout_rows = keep[hold]
    x_ho_u8, y_ho = x_u8[hold], y_np[hold]
    x_u8, y_np, source, keep = x_u8[rest], y_np[rest], source[rest], keep[rest]
    if len(hold):
        log(f"[{MODEL_ID}] held out {len(hold)} images ({int(y_ho.sum())} pneumonia, {t['holdout_fraction']:.0%} stratified, seeded): never trained or tuned on")
    x = torch.from_numpy(x_u8).float().unsqueeze(1) / 255.0
    y = torch.from_numpy(y_np)
    folds = stratified_folds(y_np, t["folds"], cfg["seed"])
    log(f"[{MODEL_ID}] {len(y_np)} images ({int(y_np.sum())} pneumonia), stratified {t['folds']}-fold cross-validation")

    members, oof_logits, fold_of = [], np.zeros((len(y_np), 2)), np.zeros(len(y_np), dtype=np.int64)
    stress_logits = {name: np.zeros((len(y_np), 2)) for name in STRESS}
    for f, ho in enumerate(folds):
        tr = np.setdiff1d(np.arange(len(y_np)), ho)
        m = train_member(f, cfg, x[tr], y[tr], x[ho], y[ho])
        members.append(m)
        oof_logits[ho] = predict_logits(m, x[ho]).double().numpy()
        for name, fn in STRESS.items():
            stress_logits[name][ho] = predict_logits(m, fn(x[ho])).double().numpy()
        fold_of[ho] = f
    # Calibration on the out-of-fold logit difference d = z_pneumonia - z_normal: Platt scaling, sigmoid(a d + b).
    # The class-weighted loss trains towards a 50 % prior; a temperature (a alone, 2.0.0) cannot move that,
    # the intercept b can. Both are fitted here so the model card can show the calibration error of each.
    oof_d = oof_logits[:, 1] - oof_logits[:, 0]
    temperature = fit_temperature(oof_logits, y_np)
    slope, intercept = fit_platt(oof_d, y_np)
    ece_by_method = {
        "uncalibrated": expected_calibration_error(y_np, sigmoid(oof_d), bins),
        "temperature": expected_calibration_error(y_np, sigmoid(oof_d / temperature), bins),
        "platt": expected_calibration_error(y_np, sigmoid(slope * oof_d + intercept), bins),
    }
    log(
        f"[{MODEL_ID}] calibration on the out-of-fold logits: Platt slope {slope:.4f}, intercept {intercept:.4f} "
        f"(temperature alone: T = {temperature:.4f}); out-of-fold ECE uncalibrated {ece_by_method['uncalibrated']:.4f}, "
        f"temperature {ece_by_method['temperature']:.4f}, Platt {ece_by_method['platt']:.4f}"
    )
    # Rounded as stored in cv_predictions.json, so that the figures follow exactly from that file.
    oof_p = np.round(sigmoid(slope * oof_d + intercept), 6)

    min_sens = t["min_sensitivity"]

    def rule(yy: np.ndarray, pp: np.ndarray) -> float:
        return sensitivity_threshold(yy, pp, min_sens)

    threshold = rule(y_np, oof_p)
    pooled = binary_metrics(y_np, oof_p, threshold, bins)
    per_fold = fold_metrics(y_np, oof_p, folds, rule, bins)
    keys = ("auc", "accuracy", "sensitivity", "specificity", "brier", "ece")
    summary = cv_summary(per_fold, keys)
    test_prev = t["shifted_prevalence"]
    shifted = {
        "prevalence": test_prev,
        "accuracy": {
            "pooled": accuracy_at_prevalence(pooled["sensitivity"], pooled["specificity"], test_prev),
            **cv_summary(
                [{"a": accuracy_at_prevalence(m["sensitivity"], m["specificity"], test_prev)} for m in per_fold], ("a",)
            )["a"],
        },
    }
    on_val = source == "val"
    official_val = binary_metrics(y_np[on_val], oof_p[on_val], threshold, bins) if on_val.any() and len(np.unique(y_np[on_val])) == 2 else None
    youden = youden_threshold(y_np, oof_p)
    log(
        f"[{MODEL_ID}] out-of-fold (pooled, n={len(y_np)}) at threshold {threshold:.4f} (sensitivity >= {min_sens}): "
        f"AUC {pooled['auc']:.4f}, accuracy {pooled['accuracy']:.4f}, sensitivity {pooled['sensitivity']:.4f}, "
        f"specificity {pooled['specificity']:.4f}; Youden's J would give {youden:.4f}"
    )
    for f, m in enumerate(per_fold):
        log(
            f"  fold {f + 1}: threshold {m['threshold']:.4f} (from the other folds)  AUC {m['auc']:.4f}  accuracy {m['accuracy']:.4f}  "
            f"sensitivity {m['sensitivity']:.4f}  specificity {m['specificity']:.4f}"
        )
    log("[" + MODEL_ID + "] CV mean ± sd: " + ", ".join(f"{k} {summary[k]['mean']:.4f} ± {summary[k]['sd']:.4f}" for k in keys))
    log(f"[{MODEL_ID}] accuracy expected with {1 - test_prev:.1%} normal cases: {shifted['accuracy']['pooled']:.4f}")
    if official_val:
        log(
            f"[{MODEL_ID}] out-of-fold on the official val images only (n={official_val['n']}): AUC {official_val['auc']:.4f}, "
            f"accuracy {official_val['accuracy']:.4f}, sensitivity {official_val['sensitivity']:.4f}, specificity {official_val['specificity']:.4f}"
        )

    stress = []
    for name in STRESS:
        ps = sigmoid(slope * (stress_logits[name][:, 1] - stress_logits[name][:, 0]) + intercept)
        sm = binary_metrics(y_np, ps, threshold, bins)
        stress.append(
            rounded(
                {
                    "split": f"{t['folds']}-fold cross-validation, stress test",
                    "protocol": (
                        "out-of-fold predictions (all images) after a fixed intensity change of the held-out images, at the "
                        "shipped threshold: how far sensitivity and specificity move when films look different"
                    ),
                    "inputs": name,
                    **{k: sm[k] for k in ("n", "positives", *keys)},
                }
            )
        )
        log(
            f"[{MODEL_ID}] stress test, {name}: AUC {sm['auc']:.4f}, sensitivity {sm['sensitivity']:.4f}, "
            f"specificity {sm['specificity']:.4f}"
        )

    ens = Ensemble(members, slope, intercept).eval()
    n_params = sum(p.numel() for p in ens.parameters())
    prevalence = float(y_np.mean())

    manifest = {
        "id": MODEL_ID,
        "name": "Pneumonia on a chest X-ray",
        "task": "binary-classification",
        "modality": "image",
        "input": {
            "image": {
                "tensor": "image",
                "layout": "NCHW",
                "height": 28,
                "width": 28,
                "channels": 1,
                "check": "input-check.json",
                "dtype": "float32",
                "range": [0, 255],
                "preprocessing": (
                    "The app converts the frontal chest X-ray to grayscale, centre-crops it to a square and "
                    "resizes it to 28x28 (as MedMNIST did); the graph divides by 255 and standardises each "
                    "image (zero mean, unit variance)."
                ),
            }
        },
        "output": {"tensor": "probabilities", "labels": LABELS, "positive": "pneumonia"},
        "dataset": {
            "name": "PneumoniaMNIST (MedMNIST v2), official train (4,708) and validation (524) splits, pooled",
            "license": "CC BY 4.0",
            "citation": (
                "Yang J. et al., 'MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical "
                "image classification', Scientific Data 10, 41 (2023). Kermany D. et al., 'Identifying medical "
                "diagnoses and treatable diseases by image-based deep learning', Cell 172(5) (2018)."
            ),
            "url": "https://medmnist.com/",
            "file": info["file"],
            "sha256": info["sha256"],
        },
        "intendedUse": (
            "Decision support for trained clinicians: flags a frontal chest X-ray as more or less likely to "
            "show pneumonia, to help prioritise review and referral. The clinician reads the film and makes "
            "the assessment; the output is a probability, not a diagnosis."
        ),
        "limitations": (
            f"Trained on {len(y_np):,} paediatric (age 1-5) frontal chest X-rays from one centre in Guangzhou, China, "
            "downsampled to 28x28 pixels: fine detail is lost. Not validated on adults, lateral views, "
            "photographs of films, other hospitals or devices. MedMNIST's own test split (not used here) is "
            "distribution-shifted (more normal films, graded differently, other brightness and contrast); published "
            "models score lower on it than in cross-validation (ResNet-18 at 28x28: AUC 0.944, accuracy 0.854), and the "
            "previous version of this model, at its threshold, flagged about 1 in 5 healthy children there. Expect the "
            "cross-validated figures below to be optimistic for other sites. It cannot tell bacterial from viral "
            "pneumonia or detect other diseases (tuberculosis, effusion, masses). Never use it to rule out pneumonia "
            "in a sick child."
        ),
        "architecture": (
            f"{t['folds']} compact CNNs, one per cross-validation fold (6 conv 3x3 + BatchNorm + ReLU, widths {t['width']}/{2 * t['width']}/"
            f"{4 * t['width']}, global average pooling, linear head; {n_params:,} parameters in all), "
            "logits averaged, Platt scaling of the logit difference, sigmoid"
        ),
        "prevalence": round(prevalence, 4),
        "eligibility": {
            "ageYears": {"min": 1, "max": 5},
            "sex": ["female", "male"],
            "imageKind": "chest-x-ray, frontal, paediatric",
        },
    }
    a = t["augment"]
    recipe = (
        f"Training: {t['folds']} models, one per fold of a seeded stratified {t['folds']}-fold split of the pooled "
        f"{len(y_np):,} images ({len(hold):,} more held out beforehand), each trained on the other folds for a fixed {t['epochs']} epochs (no early stopping, so "
        f"its held-out fold stays unseen) with AdamW and a one-cycle learning rate ({t['lr']} peak), batch "
        f"{t['batch_size']}, inverse-frequency class weights, an exponential moving average of the weights (decay "
        f"{t['ema_decay']}) and augmentation: random resized crop (area {a['crop_area']:.0%}-100%, aspect up to "
        f"{a['crop_aspect']}:1), rotation +-{a['rotate_deg']} deg, zoom +-{a['scale']:.0%}, shift +-{a['shift_px']} px, "
        f"gamma x/÷{1 + a['gamma']:.2f}, contrast +-{a['contrast']:.0%}, brightness +-{a['brightness']}, blur up to "
        f"{a['blur']} / sharpening up to {a['sharpen']}, noise up to sd {a['noise']}. The shipped graph averages the "
        f"{t['folds']} models' logits. Calibration (Platt scaling) and threshold are chosen on the out-of-fold predictions "
        "(each image scored by the model that did not train on it)."
    )
    threshold_rule = (
        f"the highest threshold with out-of-fold sensitivity >= {min_sens} (maximises specificity under that "
        "floor; sensitivity and specificity do not depend on prevalence, so it keeps its specificity where normal "
        "films are more common)"
    )
    cv_protocol = (
        f"out-of-fold predictions of seeded stratified {t['folds']}-fold cross-validation on the pooled official "
        f"train + validation images: each image scored by the fold model that did not train on it. Top-level figures: "
        f"all {len(y_np):,} images at the shipped threshold; summary: mean ± sd over folds, each fold scored at a "
        "threshold chosen by the same rule on the other folds only"
    )
    fold_keys = ("n", "positives", "threshold", *keys)
    metrics = {
        "split": f"{t['folds']}-fold cross-validation",
        "protocol": cv_protocol,
        **rounded({k: v for k, v in pooled.items()}),
        "threshold": threshold,
        "eceBins": bins,
        "reliability": reliability(y_np, oof_p, bins),
        "folds": t["folds"],
        "summary": rounded(summary),
        "perFold": [rounded({k: m[k] for k in fold_keys}) for m in per_fold],
        "shiftedPrevalence": rounded(
            {
                "prevalence": test_prev,
                "accuracy": shifted["accuracy"]["pooled"],
                "accuracyFolds": {"mean": shifted["accuracy"]["mean"], "sd": shifted["accuracy"]["sd"]},
                "note": "expected accuracy if this share of patients had pneumonia, from the cross-validated sensitivity and specificity",
            }
        ),
        "youdenThreshold": round(youden, 4),
        "data": {"file": info["file"], "sha256": info["sha256"], "predictions": "cv_predictions.json"},
    }
    extra = []
    extra += stress
    if official_val:
        extra.append(
            rounded(
                {
                    "split": "val (out-of-fold)",
                    "protocol": (
                        "the official validation images only, each scored by the fold model that did not train on it, at the "
                        "shipped threshold (chosen on all out-of-fold predictions, these included)"
                    ),
                    "inputs": "",
                    **{k: official_val[k] for k in ("n", "positives", *keys)},
                }
            )
        )
    predictions = {
        "description": (
            f"Out-of-fold P(pneumonia) of {MODEL_ID}'s cross-validation, after Platt scaling: row i is image `rows[i]` "
            "of train_images followed by val_images (labels: train_labels, val_labels; all images in order when `rows` "
            "is null); `fold` is the fold that held it out; `logit` is the fold model's logit difference "
            "z_pneumonia - z_normal before calibration, and probability = sigmoid(slope * logit + intercept). `holdout` "
            "lists the images held out before cross-validation (never trained or tuned on; the manifest's "
            "metrics.holdout scores the shipped graph on them). The manifest's `metrics` are computed from these."
        ),
        "file": info["file"],
        "sha256": info["sha256"],
        "images": ["train_images", "val_images"],
        "labels": ["train_labels", "val_labels"],
        "rows": None if not (t["subset"] or len(hold)) else [int(i) for i in keep],
        "holdout": [int(i) for i in holdout_rows],
        "threshold": threshold,
        "calibration": {"slope": slope, "intercept": intercept},
        "fold": [int(f) for f in fold_of],
        "logit": [round(float(v), 5) for v in oof_d],
        "probability": [round(float(v), 6) for v in oof_p],
    }
    return Trained(
        module=ens,
        input_name="image",
        feature_dims=[1, 28, 28],
        val_x=x_u8.astype(np.float32)[:, None, :, :],
        val_y=y_np,
        manifest=manifest,
        evaluation_data=metrics["data"],
        temperature=temperature,
        extra_metrics=extra,
        card_sections=[recipe],
        # The app's input check (blank, exposure, distance from the training images), fitted on the
        # official train split and calibrated on the validation one (training/input_check.py).
        extra_files={
            "cv_predictions.json": predictions,
            "input-check.json": input_check.calibrate(arrays["train_images"], arrays["val_images"]),
        },
        threshold=threshold,
        threshold_method=threshold_rule,
        calibration_method="Platt scaling on the out-of-fold logits",
        calibration={
            "method": (
                "Platt scaling on the out-of-fold logits: P(pneumonia) = sigmoid(slope * (z_pneumonia - z_normal) + "
                "intercept), fitted by maximum likelihood on the out-of-fold logit differences (each image scored by "
                "the fold model that did not train on it), folded into the graph"
            ),
            "slope": round(slope, 6),
            "intercept": round(intercept, 6),
            "outOfFoldEce": rounded(ece_by_method),
            "temperatureAlone": round(temperature, 6),
        },
        metrics=metrics,
        holdout_x=x_ho_u8.astype(np.float32)[:, None, :, :] if len(hold) else None,
        holdout_y=y_ho if len(hold) else None,
        holdout_protocol=(
            f"a seeded stratified {t['holdout_fraction']:.0%} of the pooled train + validation images, set aside before "
            "cross-validation: no fold model trained on it and neither calibration nor threshold was chosen on it; the "
            "shipped graph (onnxruntime-node, as the app runs it) scored at the shipped threshold"
        ),
    )
