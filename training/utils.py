"""Shared helpers for FieldDx training: configuration, data files, metrics, ONNX export and manifests.

Everything model-specific lives in ``training/recipes/``; ``training/scripts/train.py`` is the one entry point.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

TRAINING_DIR = Path(__file__).resolve().parent
REPO_ROOT = TRAINING_DIR.parent
DEFAULT_CONFIG = TRAINING_DIR / "config.yaml"
ORT_RUNNER = TRAINING_DIR / "scripts" / "onnx_run.mjs"
NO_DOWNLOAD_ENV = "FIELDDX_NO_DOWNLOAD"


class ConfigError(Exception):
    """The configuration (file, --set, or command line) is invalid."""


class DataError(Exception):
    """A dataset file is missing, unreadable or does not match its checksum."""


class ExportError(Exception):
    """The exported ONNX graph is invalid or disagrees with the PyTorch model."""


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:  # pragma: no cover - yaml accepts nearly anything as a string
        raise ConfigError(f"cannot parse value {text!r}: {e}") from e


def _type_name(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def _check_type(key: str, default: Any, value: Any) -> Any:
    """Values set from the command line must have the type the config file gives that key."""
    if default is None or isinstance(default, dict):
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        if value is None:
            return value
    elif isinstance(default, list):
        if isinstance(value, list):
            return value
    raise ConfigError(f"{key}: expected {_type_name(default)}, got {_type_name(value)} {value!r}")


def set_key(cfg: dict, dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in a nested dict; the key must already exist (typos fail loudly)."""
    parts = dotted.split(".")
    node = cfg
    for i, p in enumerate(parts[:-1]):
        if not isinstance(node, dict) or p not in node:
            raise ConfigError(f"unknown config key {'.'.join(parts[: i + 1])!r} (in {dotted!r})")
        node = node[p]
    last = parts[-1]
    if not isinstance(node, dict) or last not in node:
        known = ", ".join(sorted(node)) if isinstance(node, dict) else ""
        raise ConfigError(f"unknown config key {dotted!r}" + (f"; known here: {known}" if known else ""))
    node[last] = _check_type(dotted, node[last], value)


# Range checks on the values that the recipes rely on. Keys are matched on their last component.
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "epochs": (lambda v: v >= 1, "must be >= 1"),
    "batch_size": (lambda v: v >= 1, "must be >= 1"),
    "lr": (lambda v: v > 0, "must be > 0"),
    "weight_decay": (lambda v: v >= 0, "must be >= 0"),
    "dropout": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "ensemble": (lambda v: v >= 1, "must be >= 1"),
    "width": (lambda v: v >= 1, "must be >= 1"),
    "ema_decay": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "val_fraction": (lambda v: 0 < v < 0.5, "must be in (0, 0.5)"),
    "folds": (lambda v: v >= 2, "must be >= 2"),
    "mask_prob": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "copies": (lambda v: v >= 1, "must be >= 1"),
    "hidden": (lambda v: v >= 0, "must be >= 0"),
    "threads": (lambda v: v >= 1, "must be >= 1"),
    "opset": (lambda v: v >= 17, "must be >= 17 (the app's ONNX runtime contract)"),
    "subset": (lambda v: v is None or v >= 16, "must be null or >= 16"),
    "ece_bins": (lambda v: v >= 2, "must be >= 2"),
    "min_sensitivity": (lambda v: 0 < v <= 1, "must be in (0, 1]"),
    "shifted_prevalence": (lambda v: 0 < v < 1, "must be in (0, 1)"),
    "holdout_fraction": (lambda v: 0 <= v < 0.5, "must be in [0, 0.5)"),
    "crop_area": (lambda v: 0 < v <= 1, "must be in (0, 1]"),
    "crop_aspect": (lambda v: v >= 1, "must be >= 1"),
    "blur": (lambda v: v >= 0, "must be >= 0"),
    "sharpen": (lambda v: v >= 0, "must be >= 0"),
    "noise": (lambda v: v >= 0, "must be >= 0"),
}


def _validate(node: dict, prefix: str = "") -> None:
    for k, v in node.items():
        if isinstance(v, dict):
            _validate(v, f"{prefix}{k}.")
        elif k in _RULES:
            ok, msg = _RULES[k]
            try:
                good = ok(v)
            except TypeError:
                good = False
            if not good:
                raise ConfigError(f"{prefix}{k} = {v!r}: {msg}")


def load_config(path: Path | str | None = None, overrides: list[str] | None = None) -> dict:
    """Read config.yaml and apply ``key=value`` overrides (dotted keys from the file's root)."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        cfg = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(cfg, dict) or not isinstance(cfg.get("models"), dict):
        raise ConfigError(f"{path}: expected a mapping with a 'models' section")
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, text = item.split("=", 1)
        set_key(cfg, key.strip(), _parse_value(text))
    _validate(cfg)
    return cfg


def repo_path(p: str | Path) -> Path:
    """Paths in the config are relative to the repository root."""
    p = Path(p)
    return p if p.is_absolute() else (REPO_ROOT / p).resolve()


def set_determinism(seed: int, threads: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------------------------------


def file_digest(path: Path, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path, md5: str | None) -> None:
    """Download ``url`` to ``dest`` (via a temporary file), checking its MD5 when one is published."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    log(f"downloading {url} -> {dest}")
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:  # noqa: S310 - fixed https URL
            total = int(r.headers.get("Content-Length") or 0)
            done, last = 0, time.time()
            while chunk := r.read(1 << 20):
                f.write(chunk)
                done += len(chunk)
                if time.time() - last > 2:
                    last = time.time()
                    log(f"  {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""))
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DataError(f"download of {url} failed: {e}") from e
    if md5:
        got = file_digest(tmp, "md5")
        if got != md5:
            tmp.unlink(missing_ok=True)
            raise DataError(f"download of {url}: MD5 {got} does not match the published {md5}")
    tmp.replace(dest)
    log(f"downloaded {dest} ({dest.stat().st_size / 1e6:.1f} MB)" + (", MD5 verified" if md5 else ""))


def dataset_file(cfg: dict, data_cfg: dict) -> Path:
    """Where a dataset file is: ``data_dir/file``; else a previous download; else download it (if it has a URL)."""
    primary = repo_path(cfg["data_dir"]) / data_cfg["file"]
    if primary.is_file():
        return primary
    url = data_cfg.get("url")
    if not url:
        raise DataError(
            f"dataset file not found: {primary}\n{data_cfg.get('missing_help', '').strip()}".rstrip()
        )
    fallback = repo_path(cfg["download_dir"]) / data_cfg["download_name"]
    md5 = data_cfg.get("md5")
    if fallback.is_file() and (not md5 or file_digest(fallback, "md5") == md5):
        log(f"{primary} not found; using the downloaded original {fallback}")
        return fallback
    if os.environ.get(NO_DOWNLOAD_ENV) == "1":
        raise DataError(
            f"dataset file not found: {primary}; it would be downloaded from {url}, "
            f"but {NO_DOWNLOAD_ENV}=1 forbids downloading"
        )
    log(f"{primary} not found; downloading the published original")
    download(url, fallback, md5)
    return fallback


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count one half)."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p), dtype=np.float64)
    sp = p[order]
    i = 0
    while i < len(sp):  # average ranks over ties
        j = i
        while j + 1 < len(sp) and sp[j + 1] == sp[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    npos, nneg = y.sum(), (~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def youden_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold maximising sensitivity + specificity - 1; midway between neighbouring scores, so that
    tiny numeric differences between runtimes cannot flip a prediction. Ties: the one nearest 0.5."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    u = np.unique(p)
    cands = np.concatenate([[u[0] / 2], (u[:-1] + u[1:]) / 2, [(u[-1] + 1) / 2]]) if len(u) > 1 else np.array([0.5])
    best, best_t = -np.inf, 0.5
    npos, nneg = y.sum(), (~y).sum()
    for t in cands:
        pred = p >= t
        j = (pred & y).sum() / npos + (~pred & ~y).sum() / nneg - 1
        if j > best + 1e-12 or (abs(j - best) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = j, float(t)
    return best_t


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Seeded stratified k-fold split: each class is shuffled (numpy's legacy RandomState, stable across numpy
    versions) and dealt round-robin, so every fold holds the class ratio and the fold sizes to within one case. Returns the
    sorted held-out indices of each fold; together they cover every index exactly once."""
    y = np.asarray(y)
    rs = np.random.RandomState(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    j = 0  # the deal continues across classes, so fold sizes differ by at most one
    for c in np.unique(y):
        for i in rs.permutation(np.flatnonzero(y == c)):
            folds[j % k].append(int(i))
            j += 1
    return [np.sort(np.array(f, dtype=np.int64)) for f in folds]


def stratified_holdout(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded stratified hold-out: round(fraction * n_c) cases of each class c (at least one when fraction > 0
    and the class has two or more). Returns (rest, held_out), sorted indices. Its own random stream (seed + 1),
    so it does not depend on, or shift, the fold split drawn afterwards from the rest."""
    y = np.asarray(y)
    if fraction <= 0:
        return np.arange(len(y)), np.array([], dtype=np.int64)
    rs = np.random.RandomState(seed + 1)
    held: list[int] = []
    for c in np.unique(y):
        idx = rs.permutation(np.flatnonzero(y == c))
        k = int(round(fraction * len(idx)))
        k = min(max(k, 1), len(idx) - 1) if len(idx) >= 2 else 0
        held += [int(i) for i in idx[:k]]
    ho = np.sort(np.array(held, dtype=np.int64))
    return np.setdiff1d(np.arange(len(y)), ho), ho


def sensitivity_threshold(y: np.ndarray, p: np.ndarray, min_sensitivity: float) -> float:
    """The highest threshold whose sensitivity is still >= min_sensitivity: specificity only grows with the
    threshold, so this maximises specificity under the sensitivity floor. Like youden_threshold it lies midway
    between neighbouring scores, so tiny numeric differences between runtimes cannot flip a prediction.
    Neither sensitivity nor specificity depends on how common the disease is, so the rule holds its
    specificity when normals are more common than in training (unlike a rule that maximises accuracy)."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    if not 0 < min_sensitivity <= 1:
        raise ValueError(f"min_sensitivity must be in (0, 1], got {min_sensitivity}")
    if not y.any():
        raise ValueError("sensitivity_threshold needs at least one positive case")
    pos = np.sort(p[y])
    # At most floor((1 - s) * npos) positives may fall below the threshold; the threshold may rise to the
    # score of the first positive that must still be caught, staying above everything below it.
    allowed_misses = int(np.floor((1 - min_sensitivity) * len(pos) + 1e-9))
    keep = pos[allowed_misses]  # the lowest positive score that must stay at or above the threshold
    below = p[p < keep]
    return float((below.max() + keep) / 2) if len(below) else float(keep / 2)


def cv_summary(per_fold: list[dict], keys: tuple[str, ...]) -> dict:
    """Mean and sample standard deviation over folds of each metric."""
    return {
        k: {"mean": float(np.mean([m[k] for m in per_fold])), "sd": float(np.std([m[k] for m in per_fold], ddof=1))}
        for k in keys
    }


def accuracy_at_prevalence(sensitivity: float, specificity: float, prevalence: float) -> float:
    """Expected accuracy where a share `prevalence` of the patients is positive (sensitivity and specificity
    carry over to another prevalence; accuracy does not)."""
    return prevalence * sensitivity + (1 - prevalence) * specificity


def _bins(y: np.ndarray, p: np.ndarray, bins: int) -> list[tuple[int, float, float]]:
    """Equal-width bins of the predicted probability: (count, mean predicted, observed rate) each."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        m = idx == b
        out.append((int(m.sum()), float(p[m].mean()), float(y[m].mean())) if m.any() else (0, 0.0, 0.0))
    return out


def reliability(y: np.ndarray, p: np.ndarray, bins: int) -> list[dict]:
    """The reliability table: per probability bin, count, mean predicted probability, observed positive rate."""
    return [
        {
            "bin": [round(b / bins, 3), round((b + 1) / bins, 3)],
            "n": n,
            "predicted": round(pred, 4) if n else None,
            "observed": round(obs, 4) if n else None,
        }
        for b, (n, pred, obs) in enumerate(_bins(y, p, bins))
    ]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int) -> float:
    """ECE: count-weighted mean |mean predicted - observed rate| over equal-width bins."""
    return float(sum(n * abs(pred - obs) for n, pred, obs in _bins(y, p, bins)) / len(y))


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float, bins: int) -> dict:
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    pred = p >= threshold
    tp, tn = int((pred & y).sum()), int((~pred & ~y).sum())
    fp, fn = int((pred & ~y).sum()), int((~pred & y).sum())
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "auc": roc_auc(y, p),
        "accuracy": (tp + tn) / len(y),
        "sensitivity": tp / max(tp + fn, 1),
        "specificity": tn / max(tn + fp, 1),
        "brier": float(np.mean((p - y) ** 2)),
        "ece": expected_calibration_error(y, p, bins),
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
    }


def rounded(d: Any, digits: int = 4) -> Any:
    if isinstance(d, float):
        return round(d, digits)
    if isinstance(d, dict):
        return {k: rounded(v, digits) for k, v in d.items()}
    if isinstance(d, list):
        return [rounded(v, digits) for v in d]
    return d


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature T > 0 minimising the negative log-likelihood of softmax(logits / T) (Guo et al., 2017)."""
    import torch

    z = torch.tensor(logits, dtype=torch.float64)
    t = torch.tensor(np.asarray(y), dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z / log_t.exp(), t)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.exp().clamp(0.05, 20.0))


def fit_platt(score: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: slope a and intercept b minimising the negative log-likelihood of sigmoid(a * score + b)
    (Platt, 1999; fitted by maximum likelihood on the 0/1 labels). Unlike a temperature (a alone) the intercept
    can move the probabilities' prior, e.g. the 50 % that inverse-frequency class weights train towards."""
    import torch

    s = torch.tensor(np.asarray(score, dtype=np.float64))
    t = torch.tensor(np.asarray(y, dtype=np.float64))
    # The slope is kept positive (fitted as log a): calibration must not reverse the model's ranking; scores that
    # rank the wrong way (a briefly trained smoke-test model) get a slope near 0, i.e. about the base rate.
    params = torch.tensor([0.0, 0.0], dtype=torch.float64, requires_grad=True)  # log a, b
    opt = torch.optim.LBFGS([params], lr=0.5, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        a = params[0].clamp(-10, 5).exp()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a * s + params[1], t)
        loss.backward()
        return loss

    opt.step(closure)
    return float(params[0].detach().clamp(-10, 5).exp()), float(params[1].detach())


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


# --------------------------------------------------------------------------------------------------
# ONNX export and check (the check runs the graph in onnxruntime-node, the runtime family the app uses)
# --------------------------------------------------------------------------------------------------


def node_runtime() -> tuple[str, Path]:
    node = shutil.which(os.environ.get("FIELDDX_NODE", "node"))
    if not node:
        raise ExportError("node is not on PATH: the ONNX check runs the graph in onnxruntime-node")
    ort_dir = Path(os.environ.get("FIELDDX_ORT_NODE_DIR", REPO_ROOT / "web" / "node_modules" / "onnxruntime-node"))
    if not (ort_dir / "package.json").is_file():
        raise ExportError(
            f"onnxruntime-node not found at {ort_dir}: run the workspace install (pnpm install) first, "
            "or point FIELDDX_ORT_NODE_DIR at an installed onnxruntime-node"
        )
    return node, ort_dir


def run_onnx(model_path: Path, input_name: str, x: np.ndarray) -> np.ndarray:
    """Run an ONNX model on one float32 input with onnxruntime-node; returns its first output."""
    node, ort_dir = node_runtime()
    x = np.ascontiguousarray(x, dtype=np.float32)
    with tempfile.TemporaryDirectory() as td:
        inp, out = Path(td) / "in.bin", Path(td) / "out.bin"
        x.tofile(inp)
        args = [node, str(ORT_RUNNER), str(model_path), input_name, ",".join(map(str, x.shape)), str(inp), str(out)]
        r = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "FIELDDX_ORT_NODE_DIR": str(ort_dir)})
        if r.returncode != 0:
            raise ExportError(f"onnxruntime-node failed on {model_path}:\n{r.stderr.strip()}")
        dims = json.loads(r.stdout.strip().splitlines()[-1])["dims"]
        return np.fromfile(out, dtype=np.float32).reshape(dims)


def export_onnx(module, example, input_name: str, path: Path, opset: int) -> None:
    import torch

    module.eval()
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=[input_name],
        output_names=["probabilities"],
        dynamic_axes={input_name: {0: "N"}, "probabilities": {0: "N"}},
        opset_version=opset,
        do_constant_folding=True,
    )


def check_onnx_graph(path: Path, input_name: str, feature_dims: list[int], n_labels: int, opset: int) -> None:
    import onnx

    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    got_opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    if got_opset < opset:
        raise ExportError(f"{path}: opset {got_opset} < {opset}")

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    ins = {i.name: dims(i) for i in m.graph.input}
    outs = {o.name: dims(o) for o in m.graph.output}
    if list(ins) != [input_name] or not isinstance(ins[input_name][0], str) or ins[input_name][1:] != feature_dims:
        raise ExportError(f"{path}: inputs {ins}, expected {input_name} [N, {feature_dims}] with a dynamic batch")
    if list(outs) != ["probabilities"] or not isinstance(outs["probabilities"][0], str) or outs["probabilities"][1:] != [n_labels]:
        raise ExportError(f"{path}: outputs {outs}, expected probabilities [N, {n_labels}] with a dynamic batch")


# --------------------------------------------------------------------------------------------------
# Manifests, model cards and the index
# --------------------------------------------------------------------------------------------------


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_compact_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n")


def update_index(out_dir: Path, manifest: dict, bytes_: int) -> None:
    """models/index.json: a JSON array, one entry per model, sorted by id (see models/README.md)."""
    index_path = out_dir / "index.json"
    entries = json.loads(index_path.read_text()) if index_path.is_file() else []
    entries = [e for e in entries if e.get("id") != manifest["id"]]
    entries.append(
        {
            "id": manifest["id"],
            "version": manifest["version"],
            "name": manifest["name"],
            "modality": manifest["modality"],
            "task": manifest["task"],
            "path": f"{manifest['id']}/manifest.json",
            "bytes": bytes_,
        }
    )
    entries.sort(key=lambda e: e["id"])
    write_json(index_path, entries)


def python_env() -> dict:
    import onnx
    import sklearn
    import torch

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }
