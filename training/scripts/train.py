#!/usr/bin/env python3
"""Train FieldDx models, export them to ONNX, check the graphs and write models/<id>/ + models/index.json.

    /usr/bin/python3 training/scripts/train.py --model pneumonia-cxr
    /usr/bin/python3 training/scripts/train.py --all --epochs 3 --out-dir build/models

Settings come from training/config.yaml; see --help for the overrides.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TRAINING_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TRAINING_DIR))

import utils  # noqa: E402
from recipes import Trained  # noqa: E402
from utils import ConfigError, DataError, ExportError, log  # noqa: E402

RECIPES = {"pneumonia-cxr": "recipes.pneumonia_cxr", "diabetes-risk": "recipes.diabetes_risk"}
MAX_ABS_DIFF = 1e-4
# The model cards' words in other languages, edited by translators (models/i18n/README.md).
I18N_DIR = utils.REPO_ROOT / "models" / "i18n"


def card_translations(model_id: str, manifest: dict, i18n_dir: Path = I18N_DIR) -> dict:
    """models/i18n/<id>.json's translations, for the manifest's `translations` field.

    Written with the manifest so that a new export does not fall back to English in the app until
    someone runs scripts/merge-model-card-i18n.mjs. A translated field, unit or label the model
    does not have is refused: it would be a translation of a model that no longer exists.
    """
    path = i18n_dir / f"{model_id}.json"
    if not path.exists():
        return {}
    translations = json.loads(path.read_text(encoding="utf-8"))["translations"]
    fields = manifest["input"].get("tabular", {}).get("fields", [])
    keys = {f["key"] for f in fields}
    with_unit = {f["key"] for f in fields if f.get("unit")}
    for lang, t in translations.items():
        for name, allowed in (("fields", keys), ("units", with_unit), ("labels", set(manifest["output"]["labels"]))):
            unknown = set(t.get(name, {})) - allowed
            if unknown:
                raise ExportError(f"{path}: {lang}.{name} names {sorted(unknown)}, which {model_id} does not have")
    return translations


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", action="append", metavar="ID", help=f"model to train ({', '.join(RECIPES)}); repeatable")
    which.add_argument("--all", action="store_true", help="train every model in the config")
    ap.add_argument("--config", type=Path, default=utils.DEFAULT_CONFIG, help="config file (default training/config.yaml)")
    ap.add_argument("--data-dir", help="directory holding the dataset files (config: data_dir)")
    ap.add_argument("--out-dir", help="where models/<id>/ and index.json are written (config: out_dir)")
    ap.add_argument("--epochs", type=int, help="epochs for the selected models (config: models.<id>.train.epochs)")
    ap.add_argument("--seed", type=int, help="base seed (config: seed)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, dotted from the root, e.g. models.pneumonia-cxr.train.lr=0.001",
    )
    return ap.parse_args(argv)


def resolve_config(args: argparse.Namespace) -> tuple[dict, list[str]]:
    cfg = utils.load_config(args.config, args.set)
    ids = list(cfg["models"]) if args.all else args.model
    for mid in ids:
        if mid not in cfg["models"] or mid not in RECIPES:
            raise ConfigError(f"unknown model id {mid!r}; known: {', '.join(m for m in cfg['models'] if m in RECIPES)}")
    extra = []
    if args.data_dir:
        extra.append(f"data_dir={args.data_dir}")
    if args.out_dir:
        extra.append(f"out_dir={args.out_dir}")
    if args.seed is not None:
        extra.append(f"seed={args.seed}")
    if args.epochs is not None:
        extra += [f"models.{m}.train.epochs={args.epochs}" for m in ids]
    if extra:
        cfg = utils.load_config(args.config, args.set + extra)
    return cfg, ids


def calibration_words(c: dict) -> str:
    if "slope" in c:
        return f"{c['method']} (slope {c['slope']:.4f}, intercept {c['intercept']:.4f})"
    return f"{c['method']} (T = {c['temperature']:.4f}, folded into the graph)"


def calibration_summary(c: dict, trained: Trained) -> str:
    if "outOfFoldEce" not in c:
        return f"Temperature T = {trained.temperature:.4f}."
    e = c["outOfFoldEce"]
    return (
        f"Platt scaling, slope {c['slope']:.4f} and intercept {c['intercept']:.4f}. Out-of-fold ECE: "
        f"{e['uncalibrated']:.4f} uncalibrated, {e['temperature']:.4f} with a temperature alone (T = {c['temperatureAlone']:.4f}, "
        f"the previous version's method), {e['platt']:.4f} with Platt scaling (the table below)."
    )


def holdout_lines(h: dict) -> list[str]:
    keys = ("auc", "accuracy", "sensitivity", "specificity", "brier", "ece")
    c = h["confusion"]
    return [
        f"**Held-out images** ({h['n']:,} images, {h['positives']:,} positive): {h['protocol']}.",
        "",
        "| | AUC | accuracy | sensitivity | specificity | Brier score | ECE |",
        "|---|---|---|---|---|---|---|",
        f"| held out, shipped graph and threshold {h['threshold']:.4f} | " + " | ".join(f"{h[k]:.4f}" for k in keys) + " |",
        "",
        f"There: {c['tp']} true positives, {c['fn']} missed, {c['tn']} true negatives, {c['fp']} false alarms. "
        "Same source, hospital and grading as the training images, so this checks the training pipeline's honesty, "
        "not how the model travels to another site.",
        "",
        "| predicted probability bin (held out) | cases | mean predicted | observed rate |",
        "|---|---|---|---|",
        *[
            f"| {r['bin'][0]:.1f}-{r['bin'][1]:.1f} | {r['n']} | "
            + ("-" if r["predicted"] is None else f"{r['predicted']:.3f}")
            + " | "
            + ("-" if r["observed"] is None else f"{r['observed']:.3f}")
            + " |"
            for r in h["reliability"]
        ],
        "",
    ]


def model_card(m: dict, trained: Trained, reliability: list[dict], train_seconds: float) -> str:
    met = m["metrics"]
    fields = m["input"].get("tabular", {}).get("fields", [])
    lines = [
        f"# {m['name']} (`{m['id']}` {m['version']})",
        "",
        "*Generated by `training/scripts/train.py` together with `manifest.json`; do not edit by hand.*",
        "",
        "## What it is for",
        "",
        m["intendedUse"],
        "",
        "## Limits",
        "",
        m["limitations"],
        "",
        "## Input and output",
        "",
    ]
    if m["modality"] == "image":
        i = m["input"]["image"]
        shape = f"[N, {i['channels']}, {i['height']}, {i['width']}]"
        lines += [f"- Input `{i['tensor']}`: float32 pixels 0-255, shape {shape} (NCHW). {i['preprocessing']}"]
    else:
        lines += [
            "- Input `features`: float32 [N, 8] in the units below, in this order; NaN where an optional value was not measured.",
            "",
            "| # | key | label | unit | plausible range | required | median used when missing |",
            "|---|---|---|---|---|---|---|",
        ]
        for k, f in enumerate(fields):
            lines.append(
                f"| {k} | `{f['key']}` | {f['label']} | {f['unit']} | {f['min']}-{f['max']} | "
                f"{'yes' if f['required'] else 'no'} | {f['imputedValue']} |"
            )
        lines.append("")
    o = m["output"]
    lines += [
        f"- Output `{o['tensor']}`: [N, {len(o['labels'])}] probabilities for {', '.join(repr(x) for x in o['labels'])} (they sum to 1).",
        f"- Threshold on P({o['positive']}): **{o['threshold']:.4f}**: {o['thresholdMethod']}.",
        f"- Calibration: {calibration_words(o['calibration'])}.",
        f"- Architecture: {m['architecture']}.",
        f"- File: `model.onnx`, {m['bytes']:,} bytes, sha256 `{m['sha256']}`.",
        "",
    ]
    if "eligibility" in m or "prevalence" in m:
        lines += ["## Who it was made for", ""]
        el = m.get("eligibility", {})
        if "ageYears" in el:
            lines.append(f"- Age: {el['ageYears']['min']}-{el['ageYears']['max']} years.")
        if "sex" in el:
            lines.append(f"- Sex: {', '.join(el['sex'])}.")
        if "imageKind" in el:
            lines.append(f"- Image: {el['imageKind']}.")
        by_key = {f["key"]: f for f in fields}
        for key, sexes in el.get("fieldsBySex", {}).items():
            f = by_key.get(key, {})
            fed = f.get("notApplicableValue")
            lines.append(
                f"- {f.get('label', key)}: asked only of patients whose sex is {' or '.join([', '.join(sexes[:-1]), sexes[-1]] if len(sexes) > 1 else sexes)}; for others the app does not "
                "ask and gives the model "
                + (f"{fed} (see Limits)." if fed is not None else "a missing value (the training median).")
            )
        if "prevalence" in m:
            lines.append(
                f"- Prevalence in the training data: {m['prevalence']:.1%} positive ({o['positive']}). Predictive values "
                "and probabilities depend on how common the disease is where the model is used."
            )
        lines.append("")
    lines += ["## How well it works", ""]
    keys = ("auc", "accuracy", "sensitivity", "specificity", "brier", "ece")
    if "summary" in met:
        lines += [
            f"**{met['split']}** ({met['n']:,} images, {met['positives']:,} positive): {met['protocol']}.",
            "",
            "| | AUC | accuracy | sensitivity | specificity | Brier score | ECE |",
            "|---|---|---|---|---|---|---|",
            "| per fold, mean ± sd | "
            + " | ".join(f"{met['summary'][k]['mean']:.3f} ± {met['summary'][k]['sd']:.3f}" for k in keys)
            + " |",
            "| all out-of-fold predictions, shipped threshold | " + " | ".join(f"{met[k]:.4f}" for k in keys) + " |",
            "",
            "Per fold (threshold chosen on the other folds):",
            "",
            "| fold | cases (positive) | threshold | AUC | accuracy | sensitivity | specificity |",
            "|---|---|---|---|---|---|---|",
        ]
        for f, r in enumerate(met["perFold"]):
            lines.append(
                f"| {f + 1} | {r['n']} ({r['positives']}) | {r['threshold']:.4f} | "
                + " | ".join(f"{r[k]:.4f}" for k in ("auc", "accuracy", "sensitivity", "specificity"))
                + " |"
            )
        lines.append("")
        c = met["confusion"]
        lines.append(
            f"At the shipped threshold, out of fold: {c['tp']} true positives, {c['fn']} missed, {c['tn']} true negatives, "
            f"{c['fp']} false alarms."
        )
        if "shiftedPrevalence" in met:
            sp = met["shiftedPrevalence"]
            lines.append(
                f"Where {1 - sp['prevalence']:.1%} of the films are normal (not {1 - m.get('prevalence', 0):.1%} as in training), "
                f"the same sensitivity and specificity give an accuracy of about {sp['accuracy']:.3f}."
            )
        lines += [
            "The shipped model averages all fold models, so it is usually a little better than any one of them; the "
            "figures above describe single fold models on images they never saw.",
            "",
        ]
    else:
        lines += [
            f"On the **{met['split']}** split ({met['n']} cases, {met['positives']} positive; {met['protocol']}):",
            "",
            "| AUC | accuracy | sensitivity | specificity | Brier score | ECE |",
            "|---|---|---|---|---|---|",
            "| " + " | ".join(f"{met[k]:.4f}" for k in keys) + " |",
            "",
            f"At the threshold: {met['confusion']['tp']} true positives, {met['confusion']['fn']} missed, "
            f"{met['confusion']['tn']} true negatives, {met['confusion']['fp']} false alarms. "
            "These figures come from the same data that chose the temperature and threshold, so expect somewhat worse on new patients.",
            "",
        ]
    if "holdout" in met:
        lines += holdout_lines(met["holdout"])
    extra = m.get("additionalMetrics", [])
    if extra:
        lines += [
            "Other evaluations (cross-validation figures are mean ± sd over folds):",
            "",
            "| split | inputs | AUC | accuracy | sensitivity | specificity | Brier | ECE |",
            "|---|---|---|---|---|---|---|---|",
        ]
        keys = ("auc", "accuracy", "sensitivity", "specificity", "brier", "ece")
        for e in extra:
            if "summary" in e:
                cells = [f"{e['summary'][k]['mean']:.3f} ± {e['summary'][k]['sd']:.3f}" for k in keys]
            else:
                cells = [f"{e[k]:.3f}" for k in keys]
            lines.append(f"| {e['split']} | {e.get('inputs', '')} | " + " | ".join(cells) + " |")
        protocols = dict.fromkeys((e["split"], e["protocol"]) for e in extra)
        lines += ["", *[f"- {split}: {protocol}." for split, protocol in protocols], ""]
    lines += [
        f"### Reliability ({'out-of-fold predictions' if 'summary' in met else 'validation split'})",
        "",
        f"Is a predicted {o['positive']} probability of 30% right about 30% of the time? {calibration_summary(o['calibration'], trained)}",
        "",
        "| predicted probability bin | cases | mean predicted | observed rate |",
        "|---|---|---|---|",
    ]
    for r in reliability:
        pr = "-" if r["predicted"] is None else f"{r['predicted']:.3f}"
        ob = "-" if r["observed"] is None else f"{r['observed']:.3f}"
        lines.append(f"| {r['bin'][0]:.1f}-{r['bin'][1]:.1f} | {r['n']} | {pr} | {ob} |")
    lines += [
        "",
        "## Data and training",
        "",
        f"- Dataset: {m['dataset']['name']}. Licence: {m['dataset']['license']}.",
        f"- Cite: {m['dataset']['citation']}",
        *[f"- {s}" for s in trained.card_sections],
        f"- Reproduce: `{m['training']['command']}` (config `{m['training']['config']}`, seed {m['training']['seed']}; "
        f"the run that wrote this file trained for {train_seconds:.0f} s wall-clock with {m['training']['settings']['threads']} "
        f"CPU thread{'s' if m['training']['settings']['threads'] != 1 else ''}; that depends on machine load).",
        "",
    ]
    return "\n".join(lines)


def build(cfg: dict, model_id: str) -> tuple[dict, Trained]:
    """Train one model, export and check its graph, write its files; returns (manifest, trained)."""
    t0 = time.time()
    recipe = importlib.import_module(RECIPES[model_id])
    utils.set_determinism(cfg["seed"], cfg["threads"])
    log(f"== {model_id}: training")
    trained: Trained = recipe.train(cfg)
    train_seconds = time.time() - t0

    import torch

    out_dir = utils.repo_path(cfg["out_dir"])
    model_dir = out_dir / model_id
    model_dir.mkdir(parents=True, exist_ok=True)
    n_labels = len(trained.manifest["output"]["labels"])
    with torch.no_grad():
        torch_probs = np.concatenate(
            [trained.module(torch.from_numpy(trained.val_x[i : i + 512])).numpy() for i in range(0, len(trained.val_x), 512)]
        )

    with tempfile.TemporaryDirectory(dir=model_dir) as td:
        tmp = Path(td) / "model.onnx"
        utils.export_onnx(trained.module, torch.from_numpy(trained.val_x[:2]), trained.input_name, tmp, cfg["opset"])
        utils.check_onnx_graph(tmp, trained.input_name, trained.feature_dims, n_labels, cfg["opset"])
        ort_probs = utils.run_onnx(tmp, trained.input_name, trained.val_x)
        diff = float(np.max(np.abs(ort_probs - torch_probs)))
        log(f"[{model_id}] ONNX (onnxruntime-node) vs PyTorch on {len(trained.val_x)} cases: max |diff| = {diff:.2e}")
        if not diff <= MAX_ABS_DIFF:
            raise ExportError(f"{model_id}: ONNX and PyTorch disagree on the evaluation data (max |diff| {diff:.2e} > {MAX_ABS_DIFF})")
        if not np.allclose(ort_probs.sum(axis=1), 1, atol=1e-5):
            raise ExportError(f"{model_id}: probabilities do not sum to 1")
        if trained.input_name == "features":  # every optional field missing must still give a probability
            fields = trained.manifest["input"]["tabular"]["fields"]
            x = trained.val_x.copy()
            x[:, [k for k, f in enumerate(fields) if not f["required"]]] = np.nan
            p = utils.run_onnx(tmp, "features", x)
            if not (np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1, atol=1e-5)):
                raise ExportError(f"{model_id}: NaN in the optional fields gives non-finite probabilities")
        tmp.replace(model_dir / "model.onnx")

    onnx_path = model_dir / "model.onnx"
    nbytes = onnx_path.stat().st_size
    labels = trained.manifest["output"]["labels"]
    pos = labels.index(trained.manifest["output"]["positive"])
    bins = cfg["ece_bins"]
    if trained.metrics is not None:  # the recipe evaluated out-of-fold and chose the threshold there
        threshold = trained.threshold
        val = trained.metrics
        reliability = trained.metrics["reliability"]
    else:
        p_pos = ort_probs[:, pos].astype(np.float64)
        y_pos = trained.val_y == pos
        threshold = utils.youden_threshold(y_pos, p_pos)
        val = utils.binary_metrics(y_pos, p_pos, threshold, bins)
        reliability = utils.reliability(y_pos, p_pos, bins)

    if trained.holdout_x is not None and trained.metrics is not None:
        # The shipped graph as the app runs it (onnxruntime), on images nothing was trained or tuned on.
        hp = utils.run_onnx(onnx_path, trained.input_name, trained.holdout_x)[:, pos].astype(np.float64)
        hy = trained.holdout_y == pos
        hm = utils.binary_metrics(hy, hp, threshold, bins)
        trained.metrics["holdout"] = {
            "split": "held-out",
            "protocol": trained.holdout_protocol or "held out before training",
            **utils.rounded(hm),
            "threshold": threshold,
            "reliability": utils.reliability(hy, hp, bins),
            "data": {**{k: trained.metrics["data"][k] for k in ("file", "sha256", "predictions")}, "rows": "holdout"},
        }
        log(
            f"[{model_id}] held out (n={hm['n']}, shipped graph in onnxruntime-node, threshold {threshold:.4f}): AUC {hm['auc']:.4f}, "
            f"accuracy {hm['accuracy']:.4f}, sensitivity {hm['sensitivity']:.4f}, specificity {hm['specificity']:.4f}, "
            f"Brier {hm['brier']:.4f}, ECE {hm['ece']:.4f}"
        )

    mcfg = cfg["models"][model_id]
    m = trained.manifest
    manifest = {
        "schemaVersion": 1,
        "id": model_id,
        "version": mcfg["version"],
        "name": m["name"],
        "task": m["task"],
        "modality": m["modality"],
        "file": "model.onnx",
        "sha256": utils.file_digest(onnx_path),
        "bytes": nbytes,
        "opset": cfg["opset"],
        "architecture": m["architecture"],
        "input": m["input"],
        "output": {
            **m["output"],
            "threshold": threshold,
            "thresholdMethod": trained.threshold_method
            or "maximises sensitivity + specificity (Youden's J) on the validation split",
            "calibration": trained.calibration
            or {
                "method": trained.calibration_method or "temperature scaling on the validation split",
                "temperature": round(trained.temperature, 6),
            },
        },
        **({k: m[k] for k in ("prevalence", "eligibility") if k in m}),
        "metrics": trained.metrics
        if trained.metrics is not None
        else {
            "split": "val",
            "protocol": m.get("valProtocol", "official validation split"),
            **utils.rounded(val),
            "threshold": threshold,
            "eceBins": bins,
            "reliability": reliability,
            "data": trained.evaluation_data,
        },
        **({"additionalMetrics": trained.extra_metrics} if trained.extra_metrics else {}),
        "dataset": m["dataset"],
        "intendedUse": m["intendedUse"],
        "limitations": m["limitations"],
        "training": {
            "config": "training/config.yaml",
            "seed": cfg["seed"],
            "command": f"/usr/bin/python3 training/scripts/train.py --model {model_id}",
            "settings": {k: cfg[k] for k in ("threads", "opset", "ece_bins")} | {"model": mcfg},
            "environment": utils.python_env(),
        },
    }
    translations = card_translations(model_id, manifest)
    if translations:
        manifest["translations"] = translations
    utils.write_json(model_dir / "manifest.json", manifest)
    for name, obj in trained.extra_files.items():
        # The input check is downloaded by the app: no indentation.
        write = utils.write_compact_json if name == "input-check.json" else utils.write_json
        write(model_dir / name, obj)
    (model_dir / "README.md").write_text(model_card(manifest, trained, reliability, train_seconds))
    utils.update_index(out_dir, manifest, nbytes)
    log(
        f"[{model_id}] wrote {onnx_path} ({nbytes:,} bytes). {manifest['metrics']['split']}: AUC {val['auc']:.4f}, accuracy {val['accuracy']:.4f}, "
        f"sensitivity {val['sensitivity']:.4f}, specificity {val['specificity']:.4f}, Brier {val['brier']:.4f}, "
        f"ECE {val['ece']:.4f} at threshold {threshold:.4f}; {time.time() - t0:.0f}s"
    )
    return manifest, trained


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg, ids = resolve_config(args)
        for mid in ids:
            build(cfg, mid)
    except (ConfigError, DataError, ExportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
