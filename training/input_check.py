"""The input check of image models: how far an image is from the training images, and whether it is
usable at all (blank, under- or over-exposed). The app runs the same arithmetic before a model
(web/src/lib/inference/input-check.ts) and warns the clinician; it never blocks a run.

The distance is computed on the model's own input (28x28 grayscale, 0-255), standardised per image as
the model does, in a PCA basis of the training images: Mahalanobis distance in the first `k`
components (per component) plus the residual outside them (relative to its training mean). The
threshold is a high quantile of the training images' scores; its false-alarm rate on the validation
images is reported with it.
"""

from __future__ import annotations

import numpy as np

COMPONENTS = 16
QUANTILE = 0.995
# Below half the smallest per-image standard deviation of the training images (6.3): a blank image.
UNIFORM_STD_MAX = 3.0
# Well outside the training images' mean brightness (70-226 of 255).
EXPOSURE_MEAN_MIN = 40.0
EXPOSURE_MEAN_MAX = 235.0
# More than half of the pixels at black or white.
CLIPPED_SHARE_MAX = 0.5


def standardize(x: np.ndarray) -> np.ndarray:
    x = x.reshape(len(x), -1).astype(np.float64)
    mu = x.mean(1, keepdims=True)
    sd = x.std(1, keepdims=True)
    return (x - mu) / np.maximum(sd, 1e-6)


def fit(train_images: np.ndarray, k: int = COMPONENTS, quantile: float = QUANTILE) -> dict:
    """PCA of the standardised training images and the score threshold at `quantile` of them."""
    x = standardize(train_images)
    mean = x.mean(0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    model = {
        "mean": mean,
        "components": vt[:k],
        "variances": s[:k] ** 2 / (len(x) - 1),
        "residualScale": 1.0,
    }
    _, residual = _parts(model, x)
    model["residualScale"] = float(residual.mean())
    model["threshold"] = float(np.quantile(scores(model, train_images), quantile))
    return model


def _parts(model: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centred = x - model["mean"]
    z = centred @ model["components"].T
    mahalanobis = (z**2 / model["variances"]).sum(1)
    residual = ((centred - z @ model["components"]) ** 2).sum(1)
    return mahalanobis, residual


def scores(model: dict, images: np.ndarray) -> np.ndarray:
    mahalanobis, residual = _parts(model, standardize(images))
    return mahalanobis / len(model["variances"]) + residual / model["residualScale"]


def to_json(model: dict, size: int, calibration: dict) -> dict:
    """The file the app reads (models/<id>/input-check.json); 6 significant digits are plenty."""
    r = lambda a: [float(f"{v:.6g}") for v in np.asarray(a).ravel()]  # noqa: E731
    return {
        "schemaVersion": 1,
        "width": size,
        "height": size,
        "standardize": "per-image",
        "mean": r(model["mean"]),
        "components": [r(c) for c in model["components"]],
        "variances": r(model["variances"]),
        "residualScale": float(f"{model['residualScale']:.6g}"),
        "threshold": float(f"{model['threshold']:.6g}"),
        "uniformStdMax": UNIFORM_STD_MAX,
        "exposure": {"meanMin": EXPOSURE_MEAN_MIN, "meanMax": EXPOSURE_MEAN_MAX, "clippedShareMax": CLIPPED_SHARE_MAX},
        "calibration": calibration,
    }


def calibrate(train_images: np.ndarray, val_images: np.ndarray, size: int = 28) -> dict:
    """Fits on the training images and reports the false-alarm rate on both splits."""
    model = fit(train_images)
    calibration = {
        "quantile": QUANTILE,
        "components": len(model["variances"]),
        "trainFalseAlarm": round(float(np.mean(scores(model, train_images) > model["threshold"])), 4),
        "valFalseAlarm": round(float(np.mean(scores(model, val_images) > model["threshold"])), 4),
        "nTrain": int(len(train_images)),
        "nVal": int(len(val_images)),
    }
    return to_json(model, size, calibration)
