import json

import numpy as np

import fit_input_check
import input_check


def smooth_images(rng, n):
    """Blurry blobs: a stand-in for X-rays with a few smooth modes of variation."""
    yy, xx = np.mgrid[0:28, 0:28]
    centres = rng.uniform(8, 20, size=(n, 2))
    widths = rng.uniform(4, 8, size=(n, 1, 1))
    blobs = np.exp(-((xx - centres[:, 0, None, None]) ** 2 + (yy - centres[:, 1, None, None]) ** 2) / widths**2)
    return (40 + 180 * blobs + rng.normal(0, 2, size=(n, 28, 28))).clip(0, 255).astype(np.uint8)


def test_threshold_is_the_training_quantile_and_noise_is_far():
    rng = np.random.default_rng(0)
    train, val = smooth_images(rng, 600), smooth_images(rng, 200)
    model = input_check.fit(train, k=4, quantile=0.99)
    assert np.mean(input_check.scores(model, train) > model["threshold"]) <= 0.011
    assert np.mean(input_check.scores(model, val) > model["threshold"]) < 0.05
    noise = rng.uniform(0, 255, size=(50, 28, 28))
    assert np.all(input_check.scores(model, noise) > model["threshold"])


def test_json_holds_what_the_app_reads():
    rng = np.random.default_rng(1)
    out = input_check.calibrate(smooth_images(rng, 300), smooth_images(rng, 100))
    assert out["schemaVersion"] == 1 and out["width"] == out["height"] == 28
    assert len(out["mean"]) == 784 and len(out["components"]) == len(out["variances"]) == input_check.COMPONENTS
    assert all(len(c) == 784 for c in out["components"])
    assert out["calibration"]["nTrain"] == 300 and 0 <= out["calibration"]["valFalseAlarm"] <= 1
    json.dumps(out)  # plain JSON, no numpy types


def test_cli_writes_the_file_from_the_tracked_data(tmp_path, datasets):
    assert fit_input_check.main(["--out-dir", str(tmp_path), "--data-dir", str(datasets)]) == 0
    written = json.loads((tmp_path / "pneumonia-cxr" / "input-check.json").read_text())
    assert written["calibration"]["nVal"] == 524 and written["calibration"]["valFalseAlarm"] < 0.02
