"""pneumonia-cxr: compact CNN ensemble on PneumoniaMNIST (28x28 grayscale chest X-rays)."""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recipes import Trained
from utils import DataError, dataset_file, file_digest, fit_temperature, log, roc_auc

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
    """What the ONNX graph contains: raw pixels 0-255 -> standardise -> mean member logits / T -> softmax."""

    def __init__(self, members: list[nn.Module], temperature: float):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.register_buffer("inv_temperature", torch.tensor(1.0 / temperature))

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        x = standardize(image / 255.0)
        return torch.stack([m(x) for m in self.members]).mean(dim=0)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(image) * self.inv_temperature, dim=1)


def augment(x: torch.Tensor, a: dict, g: torch.Generator) -> torch.Tensor:
    """X-ray-suited augmentation on a batch of [0, 1] images: small shift, rotation, zoom; gamma, contrast,
    brightness. No flips (anatomy is not mirror-symmetric)."""
    n = x.shape[0]

    def u() -> torch.Tensor:
        return torch.rand(n, generator=g) * 2 - 1

    ang = u() * math.radians(a["rotate_deg"])
    inv_scale = 1.0 / (1 + u() * a["scale"])
    tx, ty = u() * a["shift_px"] * 2 / 28, u() * a["shift_px"] * 2 / 28
    cos, sin = torch.cos(ang) * inv_scale, torch.sin(ang) * inv_scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False).clamp(0, 1)
    x = x ** (1 + u() * a["gamma"]).view(n, 1, 1, 1)
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - m) * (1 + u() * a["contrast"]).view(n, 1, 1, 1) + m + (u() * a["brightness"]).view(n, 1, 1, 1)
    return x.clamp(0, 1)


@torch.no_grad()
def predict_logits(model: nn.Module, x01: torch.Tensor, bs: int = 512) -> torch.Tensor:
    model.eval()
    return torch.cat([model(standardize(x01[i : i + bs])) for i in range(0, len(x01), bs)])


def train_member(k: int, cfg: dict, xtr, ytr, xva, yva) -> nn.Module:
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
    log(f"[{MODEL_ID}] member {k + 1}/{t['ensemble']}: seed {seed}, {n_params:,} parameters, {n} training images")
    best = (math.inf, None, 0)
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
        logits = predict_logits(ema, xva)
        vloss = F.cross_entropy(logits, yva, weight=weight).item()
        p = torch.softmax(logits, 1)[:, 1].numpy()
        auc = roc_auc(yva.numpy(), p)
        acc = float(((p >= 0.5) == yva.numpy().astype(bool)).mean())
        mark = ""
        if vloss < best[0]:
            best = (vloss, copy.deepcopy(ema.state_dict()), epoch)
            mark = " *"
        log(
            f"  epoch {epoch:3d}/{t['epochs']}  loss {total / n:.4f}  val loss {vloss:.4f}  "
            f"val AUC {auc:.4f}  val acc@0.5 {acc:.4f}  lr {sched.get_last_lr()[0]:.2e}  {time.time() - t0:.1f}s{mark}"
        )
    ema.load_state_dict(best[1])
    log(f"  member {k + 1}: early stopping keeps epoch {best[2]} (lowest validation loss {best[0]:.4f})")
    return ema.eval()


def train(cfg: dict) -> Trained:
    t = cfg["models"][MODEL_ID]["train"]
    arrays, info = load(cfg)
    xtr_u8, ytr_np = arrays["train_images"], arrays["train_labels"].reshape(-1).astype(np.int64)
    if t["subset"]:  # a seeded random sample (the file is ordered by class)
        keep = np.sort(np.random.RandomState(cfg["seed"]).permutation(len(ytr_np))[: t["subset"]])
        xtr_u8, ytr_np = xtr_u8[keep], ytr_np[keep]
    if len(np.unique(ytr_np)) < 2:
        raise DataError(f"{info['path']}: the training images hold only one class")
    xva_u8, yva_np = arrays["val_images"], arrays["val_labels"].reshape(-1).astype(np.int64)
    xtr = torch.from_numpy(xtr_u8).float().unsqueeze(1) / 255.0
    xva = torch.from_numpy(xva_u8).float().unsqueeze(1) / 255.0
    ytr, yva = torch.from_numpy(ytr_np), torch.from_numpy(yva_np)

    members = [train_member(k, cfg, xtr, ytr, xva, yva) for k in range(t["ensemble"])]
    ens = Ensemble(members, 1.0).eval()
    val_x = xva_u8.astype(np.float32)[:, None, :, :]
    with torch.no_grad():
        val_logits = ens.logits(torch.from_numpy(val_x)).double().numpy()
    temperature = fit_temperature(val_logits, yva_np)
    log(f"[{MODEL_ID}] temperature fitted on validation: T = {temperature:.4f}")
    ens = Ensemble(members, temperature).eval()
    n_params = sum(p.numel() for p in ens.parameters())

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
            "name": "PneumoniaMNIST (MedMNIST v2), official train (4,708) and validation (524) splits",
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
            "Trained on 4,708 paediatric (age 1-5) frontal chest X-rays from one centre in Guangzhou, China, "
            "downsampled to 28x28 pixels: fine detail is lost. Not validated on adults, lateral views, "
            "photographs of films, other hospitals or devices. MedMNIST's own test split (not used here) is "
            "distribution-shifted and published models score markedly lower on it than on validation data "
            "(ResNet-18 at 28x28: AUC 0.944, accuracy 0.854), so expect this model's figures below to be optimistic. "
            "It cannot tell bacterial from viral pneumonia or detect other diseases (tuberculosis, effusion, "
            "masses). Probabilities are calibrated on the validation split only. Never use it to rule out "
            "pneumonia in a sick child."
        ),
        "architecture": (
            f"{t['ensemble']} compact CNNs (6 conv 3x3 + BatchNorm + ReLU, widths {t['width']}/{2 * t['width']}/"
            f"{4 * t['width']}, global average pooling, linear head; {n_params:,} parameters in all), "
            "logits averaged, temperature scaled, softmax"
        ),
    }
    recipe = (
        f"Training: AdamW with one-cycle learning rate ({t['lr']} peak), {t['epochs']} epochs, batch "
        f"{t['batch_size']}, inverse-frequency class weights, augmentation (shift +-{t['augment']['shift_px']} px, "
        f"rotation +-{t['augment']['rotate_deg']} deg, zoom +-{t['augment']['scale']:.0%}, gamma, contrast, "
        f"brightness), exponential moving average of the weights (decay {t['ema_decay']}); each member keeps the "
        "epoch with the lowest validation loss (early stopping). The validation split is used only for early "
        "stopping, the temperature and the threshold."
    )
    return Trained(
        module=ens,
        input_name="image",
        feature_dims=[1, 28, 28],
        val_x=val_x,
        val_y=yva_np,
        manifest=manifest,
        evaluation_data={"file": info["file"], "sha256": info["sha256"], "images": "val_images", "labels": "val_labels"},
        temperature=temperature,
        card_sections=[recipe],
    )
