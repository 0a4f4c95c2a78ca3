"""One module per model. Each exposes ``MODEL_ID`` and ``train(cfg) -> Trained``; train.py does the rest
(ONNX export and check, threshold, metrics, manifest, model card, index)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Trained:
    module: Any  # torch.nn.Module: raw input (the manifest's units) -> probabilities [N, labels]
    input_name: str  # "image" or "features"
    feature_dims: list[int]  # input dims after the batch dimension
    val_x: np.ndarray  # validation inputs in raw units (float32), exactly what the app would pass
    val_y: np.ndarray  # validation labels (index of the label in manifest.output.labels)
    manifest: dict  # the recipe's part of the manifest (texts, input, output labels, dataset)
    evaluation_data: dict  # how to rebuild val_x / val_y from the dataset file (read by the Vitest check)
    temperature: float
    extra_metrics: list[dict] = field(default_factory=list)  # e.g. cross-validation results
    card_sections: list[str] = field(default_factory=list)  # extra Markdown for the model card
    extra_files: dict[str, Any] = field(default_factory=dict)  # name -> JSON written next to the manifest
    # Recipes that evaluate out-of-fold set these; otherwise train.py picks the threshold on val_x / val_y
    # (Youden's J) and reports the validation metrics there.
    threshold: float | None = None
    threshold_method: str | None = None
    calibration_method: str | None = None
    metrics: dict | None = None  # the manifest's `metrics` (with `reliability`), computed by the recipe
    # The manifest's output.calibration when the recipe calibrated otherwise than by `temperature` alone.
    calibration: dict | None = None
    # A hold-out the recipe never trained or tuned on: train.py scores the exported graph on it (onnxruntime-node,
    # at the manifest's threshold) into metrics.holdout.
    holdout_x: np.ndarray | None = None
    holdout_y: np.ndarray | None = None
    holdout_protocol: str | None = None
