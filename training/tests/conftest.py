import sys
from pathlib import Path

import pytest

TRAINING_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TRAINING_DIR))
sys.path.insert(0, str(TRAINING_DIR / "scripts"))

import utils  # noqa: E402

DATASETS = utils.REPO_ROOT / "training" / "data"


@pytest.fixture(autouse=True)
def no_download(monkeypatch):
    """No test may download anything: a missing dataset must fail with a clear error instead."""
    monkeypatch.setenv(utils.NO_DOWNLOAD_ENV, "1")


@pytest.fixture
def datasets():
    """The data sets tracked in the repository (training/data), as the default config reads them."""
    for name in ("pneumoniamnist_trainval.npz", "pima_indians_diabetes.csv"):
        if not (DATASETS / name).is_file():
            pytest.fail(f"dataset {DATASETS / name} is missing: it is tracked in the repository (git checkout it)")
    return DATASETS
