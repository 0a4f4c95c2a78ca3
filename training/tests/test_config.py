import pytest
import train
import utils


def run_cli(capsys, *argv):
    code = train.main(list(argv))
    return code, capsys.readouterr().err


def test_default_config_loads_and_knows_both_models():
    cfg = utils.load_config()
    assert set(cfg["models"]) == {"pneumonia-cxr", "diabetes-risk"}
    assert cfg["opset"] >= 17
    assert utils.repo_path(cfg["data_dir"]) == (utils.REPO_ROOT / "training" / "data").resolve()
    assert utils.repo_path(cfg["download_dir"]).is_relative_to(utils.REPO_ROOT)


def test_overrides_are_typed_and_applied():
    cfg = utils.load_config(overrides=["models.pneumonia-cxr.train.lr=0.01", "models.pneumonia-cxr.train.epochs=3", "seed=7"])
    t = cfg["models"]["pneumonia-cxr"]["train"]
    assert t["lr"] == 0.01 and t["epochs"] == 3 and cfg["seed"] == 7
    assert utils.load_config(overrides=["models.pneumonia-cxr.train.lr=1"])["models"]["pneumonia-cxr"]["train"]["lr"] == 1.0


@pytest.mark.parametrize(
    "override, message",
    [
        ("models.pneumonia-cxr.train.epochs=0", "must be >= 1"),
        ("models.pneumonia-cxr.train.epochs=abc", "expected int"),
        ("models.pneumonia-cxr.train.lr=-1", "must be > 0"),
        ("models.pneumonia-cxr.train.dropout=1.5", "must be in [0, 1)"),
        ("models.pneumonia-cxr.train.lrate=0.1", "unknown config key 'models.pneumonia-cxr.train.lrate'"),
        ("models.nope.train.lr=0.1", "unknown config key 'models.nope'"),
        ("opset=13", "must be >= 17"),
        ("seed", "expects key=value"),
    ],
)
def test_bad_values_give_clear_errors(override, message):
    with pytest.raises(utils.ConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        utils.load_config(overrides=[override])


def test_cli_unknown_model_id(capsys):
    code, err = run_cli(capsys, "--model", "heart-failure")
    assert code == 2
    assert "unknown model id 'heart-failure'" in err and "pneumonia-cxr" in err


def test_cli_bad_value(capsys):
    code, err = run_cli(capsys, "--model", "pneumonia-cxr", "--epochs", "0")
    assert code == 2 and "epochs = 0: must be >= 1" in err


def test_cli_missing_config_file(capsys, tmp_path):
    code, err = run_cli(capsys, "--all", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2 and "config file not found" in err
