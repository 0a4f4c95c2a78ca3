import sys
from pathlib import Path

import pytest

TRAINING_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TRAINING_DIR))
sys.path.insert(0, str(TRAINING_DIR / "scripts"))

import utils  # noqa: E402

SHARED = utils.REPO_ROOT.parent / "shared" / "datasets"


@pytest.fixture(autouse=True)
def no_download(monkeypatch):
    """No test may download anything: a missing dataset must fail with a clear error instead."""
    monkeypatch.setenv(utils.NO_DOWNLOAD_ENV, "1")


@pytest.fixture
def shared_datasets():
    for name in ("pneumoniamnist_trainval.npz", "pima_indians_diabetes.csv"):
        if not (SHARED / name).is_file():
            pytest.fail(f"dataset {SHARED / name} is missing: the smoke tests train on ../shared/datasets")
    return SHARED
