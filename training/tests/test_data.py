import hashlib
import io
import urllib.request

import numpy as np
import pytest
import train
import utils
from recipes import diabetes_risk, pneumonia_cxr


def cfg_with(tmp_path, **over):
    sets = [f"data_dir={tmp_path / 'data'}", f"download_dir={tmp_path / 'downloads'}"]
    sets += [f"{k}={v}" for k, v in over.items()]
    return utils.load_config(overrides=sets)


def test_missing_image_data_is_a_clear_error_when_downloads_are_forbidden(tmp_path):
    cfg = cfg_with(tmp_path)
    with pytest.raises(utils.DataError, match="FIELDDX_NO_DOWNLOAD=1 forbids downloading") as e:
        pneumonia_cxr.load(cfg)
    assert "https://zenodo.org/records/10519652/files/pneumoniamnist.npz" in str(e.value)
    assert not (tmp_path / "downloads").exists()


def test_missing_pima_csv_has_no_download_and_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(utils.NO_DOWNLOAD_ENV)  # even when downloads are allowed, there is no URL to use
    cfg = cfg_with(tmp_path)
    with pytest.raises(utils.DataError, match="dataset file not found") as e:
        diabetes_risk.load(cfg)
    assert "No published URL" in str(e.value) and "mlbench" in str(e.value)


def test_cli_reports_missing_data(capsys, tmp_path):
    assert train.main(["--model", "diabetes-risk", "--data-dir", str(tmp_path)]) == 2
    assert "dataset file not found" in capsys.readouterr().err


class FakeResponse(io.BytesIO):
    headers = {"Content-Length": "0"}

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def test_missing_image_data_is_downloaded_and_md5_checked(tmp_path, monkeypatch, datasets):
    """The download path, with urlopen mocked to serve the tracked file (no network in tests)."""
    payload = (datasets / "pneumoniamnist_trainval.npz").read_bytes()
    urls = []

    def fake_urlopen(url, timeout=None):
        urls.append(url)
        return FakeResponse(payload)

    monkeypatch.delenv(utils.NO_DOWNLOAD_ENV)
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    md5 = hashlib.md5(payload).hexdigest()
    cfg = cfg_with(tmp_path, **{"models.pneumonia-cxr.data.md5": md5})
    arrays, info = pneumonia_cxr.load(cfg)
    assert urls == ["https://zenodo.org/records/10519652/files/pneumoniamnist.npz"]
    assert info["path"] == str(tmp_path / "downloads" / "pneumoniamnist.npz")
    assert arrays["val_images"].shape == (524, 28, 28)
    pneumonia_cxr.load(cfg)  # the second time it uses the download
    assert len(urls) == 1


def test_download_with_wrong_md5_is_rejected_and_removed(tmp_path, monkeypatch):
    monkeypatch.delenv(utils.NO_DOWNLOAD_ENV)
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: FakeResponse(b"not the dataset"))
    with pytest.raises(utils.DataError, match="does not match the published 28209eda62fecd6e6a2d98b1501bb15f"):
        pneumonia_cxr.load(cfg_with(tmp_path))
    assert list((tmp_path / "downloads").iterdir()) == []


def test_pima_loader_reads_na_as_nan(datasets):
    x, y, info = diabetes_risk.load(utils.load_config(overrides=[f"data_dir={datasets}"]))
    assert x.shape == (768, 8) and y.sum() == 268
    assert int(np.isnan(x[:, 4]).sum()) == 374  # insulin
    assert info["sha256"] == "c3c0c04ee2d13380d1862d4b5d72f7ecc81fa265355741e3d695e7c7455438af"


def test_pima_loader_rejects_wrong_columns(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pima_indians_diabetes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(utils.DataError, match="missing column"):
        diabetes_risk.load(cfg_with(tmp_path))
