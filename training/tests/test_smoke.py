"""Smoke runs: each model trains briefly on a small subset into a temporary folder, is exported, checked and
described by a complete manifest."""

import hashlib
import json

import numpy as np
import onnx
import pytest
import torch
import train
import utils

CONTRACT_KEYS = {
    "schemaVersion", "id", "version", "name", "task", "modality", "file", "sha256", "bytes", "input", "output",
    "metrics", "dataset", "intendedUse", "limitations", "training",
}  # fmt: skip

QUICK = {
    "pneumonia-cxr": [
        "models.pneumonia-cxr.train.subset=256",
        "models.pneumonia-cxr.train.epochs=1",
        "models.pneumonia-cxr.train.folds=2",
        "models.pneumonia-cxr.train.width=4",
    ],
    "diabetes-risk": [
        "models.diabetes-risk.train.epochs=25",
        "models.diabetes-risk.train.folds=2",
        "models.diabetes-risk.train.copies=3",
    ],
}


def quick_build(model_id, out_dir, data_dir):
    cfg = utils.load_config(overrides=[f"out_dir={out_dir}", f"data_dir={data_dir}", *QUICK[model_id]])
    return train.build(cfg, model_id)


def check_manifest(m, model_dir, model_id):
    assert CONTRACT_KEYS <= set(m), CONTRACT_KEYS - set(m)
    assert m["schemaVersion"] == 1 and m["id"] == model_id and m["file"] == "model.onnx"
    data = (model_dir / "model.onnx").read_bytes()
    assert m["bytes"] == len(data)
    assert m["sha256"] == hashlib.sha256(data).hexdigest()
    out = m["output"]
    assert out["tensor"] == "probabilities" and out["positive"] in out["labels"] and 0 < out["threshold"] < 1
    met = m["metrics"]
    assert met["protocol"] and (met["split"] == "val" or "cross-validation" in met["split"])
    for k in ("n", "auc", "accuracy", "sensitivity", "specificity", "brier", "ece"):
        assert isinstance(met[k], (int, float)), k
    for k in ("name", "license", "citation"):
        assert m["dataset"][k], k
    assert 0 < m["prevalence"] < 1
    el = m["eligibility"]
    assert el["ageYears"]["min"] < el["ageYears"]["max"] and el["sex"]
    assert len(m["intendedUse"]) > 50 and len(m["limitations"]) > 50
    assert isinstance(m["training"]["seed"], int) and m["training"]["config"] == "training/config.yaml"
    assert m["training"]["settings"]["model"]["train"]

    g = onnx.load(str(model_dir / "model.onnx"))
    onnx.checker.check_model(g)
    assert max(o.version for o in g.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert [o.name for o in g.graph.output] == ["probabilities"]
    assert g.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch

    index = json.loads((model_dir.parent / "index.json").read_text())
    entry = next(e for e in index if e["id"] == model_id)
    assert entry == {
        "id": model_id, "version": m["version"], "name": m["name"], "modality": m["modality"], "task": m["task"],
        "path": f"{model_id}/manifest.json", "bytes": m["bytes"],
    }  # fmt: skip
    assert (model_dir / "README.md").read_text().count("|") > 20  # model card with the reliability table


def check_agreement(trained, model_dir, x):
    with torch.no_grad():
        expected = trained.module(torch.from_numpy(x)).numpy()
    got = utils.run_onnx(model_dir / "model.onnx", trained.input_name, x)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-4
    assert np.allclose(got.sum(axis=1), 1, atol=1e-5)
    return got


def test_pneumonia_smoke(tmp_path, datasets):
    m, trained = quick_build("pneumonia-cxr", tmp_path, datasets)
    model_dir = tmp_path / "pneumonia-cxr"
    check_manifest(m, model_dir, "pneumonia-cxr")
    assert m["modality"] == "image" and m["input"]["image"]["tensor"] == "image"
    img = m["input"]["image"]
    assert (img["layout"], img["height"], img["width"], img["channels"]) == ("NCHW", 28, 28, 1)
    assert m["eligibility"] == {
        "ageYears": {"min": 1, "max": 5}, "sex": ["female", "male"], "imageKind": "chest-x-ray, frontal, paediatric",
    }  # fmt: skip
    assert m["bytes"] <= 2_000_000
    check_agreement(trained, model_dir, trained.val_x[:64])
    check_agreement(trained, model_dir, trained.val_x[:1])  # batch of one: the batch dimension is dynamic

    # The metrics are the out-of-fold figures, and follow from the stored predictions and the data's labels.
    met = m["metrics"]
    hold = met["holdout"]
    assert met["split"] == "2-fold cross-validation" and met["folds"] == 2
    assert met["n"] + hold["n"] == 256 and hold["n"] == 39  # 15 % of each class of the 256-image subset
    pred = json.loads((model_dir / met["data"]["predictions"]).read_text())
    assert not set(pred["rows"]) & set(pred["holdout"])  # nothing held out was trained or tuned on
    with np.load(datasets / pred["file"]) as d:
        all_labels = np.concatenate([d[k].reshape(-1) for k in pred["labels"]])
        all_images = np.concatenate([d[k] for k in pred["images"]])
    labels = all_labels[pred["rows"]]
    p = np.array(pred["probability"])
    assert len(p) == len(labels) == met["n"] and sorted(set(pred["fold"])) == [0, 1]
    # Platt scaling of the stored out-of-fold logits gives the stored probabilities, and the graph carries it.
    c = m["output"]["calibration"]
    assert c["slope"] > 0 and set(c["outOfFoldEce"]) == {"uncalibrated", "temperature", "platt"}
    assert np.allclose(p, utils.sigmoid(c["slope"] * np.array(pred["logit"]) + c["intercept"]), atol=2e-5)
    # The held-out figures: the shipped graph in onnxruntime-node on the held-out images at the threshold.
    hx = all_images[pred["holdout"]].astype(np.float32)[:, None]
    hp = utils.run_onnx(model_dir / "model.onnx", "image", hx)[:, 1]
    got = utils.binary_metrics(all_labels[pred["holdout"]], hp, m["output"]["threshold"], 10)
    for k in ("auc", "accuracy", "sensitivity", "specificity", "brier"):
        assert abs(got[k] - hold[k]) < 1e-4, k
    assert abs(m["prevalence"] - labels.mean()) < 1e-4
    again = utils.binary_metrics(labels, p, m["output"]["threshold"], 10)
    for k in ("auc", "accuracy", "sensitivity", "specificity", "brier"):
        assert abs(again[k] - met[k]) < 1e-4, k
    assert again["sensitivity"] >= 0.95  # the threshold rule's floor, on the data that chose it
    assert len(met["perFold"]) == 2 and set(met["summary"]) >= {"auc", "accuracy", "sensitivity", "specificity"}
    card = (model_dir / "README.md").read_text()
    assert "mean ± sd" in card and "Age: 1-5 years" in card


def test_pneumonia_training_is_deterministic(tmp_path, datasets):
    a, _ = quick_build("pneumonia-cxr", tmp_path / "a", datasets)
    b, _ = quick_build("pneumonia-cxr", tmp_path / "b", datasets)
    assert a["sha256"] == b["sha256"] and a["metrics"] == b["metrics"]


def test_diabetes_smoke(tmp_path, datasets):
    m, trained = quick_build("diabetes-risk", tmp_path, datasets)
    model_dir = tmp_path / "diabetes-risk"
    check_manifest(m, model_dir, "diabetes-risk")
    fields = m["input"]["tabular"]["fields"]
    assert m["eligibility"] == {
        "ageYears": {"min": 21, "max": 81}, "sex": ["female"], "fieldsBySex": {"pregnancies": ["female", "other", "unknown"]},
    }  # fmt: skip
    assert fields[0]["notApplicableValue"] == 0
    assert [f["key"] for f in fields] == [
        "pregnancies", "glucose", "diastolic_bp", "triceps_skinfold", "insulin", "bmi", "pedigree", "age",
    ]  # fmt: skip
    assert {f["key"] for f in fields if f["required"]} >= {"glucose", "bmi", "age"}
    for f in fields:
        assert f["label"] and f["unit"] and f["min"] < f["max"], f
    assert any(e["split"] == "cv2" and e["missingFields"] == ["triceps_skinfold", "insulin"] for e in m["additionalMetrics"])
    # The card's words come out of the export in every language, units included (no "Âge (years)").
    for lang in ("fr", "pt"):
        t = m["translations"][lang]
        assert set(t["fields"]) == {f["key"] for f in fields}, lang
        assert set(t["units"]) == {f["key"] for f in fields if f["unit"]}, lang
        assert t["split"], lang
    assert m["translations"]["fr"]["units"]["age"] == "ans"
    assert json.loads((model_dir / "manifest.json").read_text())["translations"] == m["translations"]
    val = json.loads((model_dir / "val_indices.json").read_text())["indices"]
    assert len(val) == m["metrics"]["n"] == 154

    probs = check_agreement(trained, model_dir, trained.val_x)
    x = trained.val_x.copy()
    x[:, [k for k, f in enumerate(fields) if not f["required"]]] = np.nan
    p = utils.run_onnx(model_dir / "model.onnx", "features", x)
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert not np.allclose(p, probs)  # hiding fields changes the estimate


def test_diabetes_training_is_deterministic(tmp_path, datasets):
    a, _ = quick_build("diabetes-risk", tmp_path / "a", datasets)
    b, _ = quick_build("diabetes-risk", tmp_path / "b", datasets)
    assert a["sha256"] == b["sha256"] and a["metrics"] == b["metrics"]


@pytest.mark.parametrize("bad", ["width=0", "folds=1", "min_sensitivity=0", "augment.crop_area=0"])
def test_bad_model_settings_fail_before_training(bad):
    with pytest.raises(utils.ConfigError):
        utils.load_config(overrides=[f"models.pneumonia-cxr.train.{bad}"])


def test_cli_end_to_end_writes_models_and_index(tmp_path, datasets, capsys):
    argv = ["--model", "diabetes-risk", "--out-dir", str(tmp_path), "--data-dir", str(datasets), "--epochs", "25"]
    assert train.main(argv + ["--set", "models.diabetes-risk.train.folds=2"]) == 0
    out = capsys.readouterr().out
    assert "CV fold 2/2" in out and "max |diff|" in out and "val: AUC" in out
    index = json.loads((tmp_path / "index.json").read_text())
    assert [e["id"] for e in index] == ["diabetes-risk"]


def test_diabetes_val_indices_rebuild_the_validation_inputs(tmp_path, datasets):
    from recipes import diabetes_risk

    m, trained = quick_build("diabetes-risk", tmp_path, datasets)
    x, y, _ = diabetes_risk.load(utils.load_config(overrides=[f"data_dir={datasets}"]))
    idx = json.loads((tmp_path / "diabetes-risk" / "val_indices.json").read_text())["indices"]
    np.testing.assert_array_equal(x[idx].astype(np.float32), trained.val_x)
    np.testing.assert_array_equal(y[idx], trained.val_y)
    assert m["metrics"]["data"]["columns"]["bmi"] == "mass"


def test_card_translations_refuse_words_of_a_field_the_model_lacks(tmp_path):
    manifest = {
        "input": {"tabular": {"fields": [{"key": "age", "unit": "years"}, {"key": "bmi", "unit": ""}]}},
        "output": {"labels": ["no", "yes"]},
    }
    write = lambda t: (tmp_path / "m.json").write_text(json.dumps({"id": "m", "translations": {"fr": t}}))  # noqa: E731
    write({"fields": {"age": "Âge"}, "units": {"age": "ans"}, "labels": {"yes": "oui"}})
    assert train.card_translations("m", manifest, tmp_path)["fr"]["units"] == {"age": "ans"}
    assert train.card_translations("other", manifest, tmp_path) == {}
    for bad in ({"fields": {"weight": "Poids"}}, {"units": {"bmi": "kg/m²"}}, {"labels": {"maybe": "peut-être"}}):
        write(bad)
        with pytest.raises(utils.ExportError):
            train.card_translations("m", manifest, tmp_path)
