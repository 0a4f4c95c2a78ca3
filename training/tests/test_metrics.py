import numpy as np
import utils
from sklearn.metrics import roc_auc_score


def test_auc_matches_sklearn_with_ties():
    rs = np.random.RandomState(0)
    y = rs.randint(0, 2, 300)
    p = np.round(rs.rand(300) * 0.5 + y * 0.3, 2)  # many ties
    assert abs(utils.roc_auc(y, p) - roc_auc_score(y, p)) < 1e-12


def test_youden_threshold_separates_and_sits_between_scores():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    t = utils.youden_threshold(y, p)
    assert abs(t - 0.45) < 1e-12
    m = utils.binary_metrics(y, p, t, 10)
    assert m["accuracy"] == 1 and m["sensitivity"] == 1 and m["specificity"] == 1


def test_calibration_figures():
    y = np.array([0, 1] * 50)
    p = np.full(100, 0.5)
    assert utils.expected_calibration_error(y, p, 10) < 1e-12
    m = utils.binary_metrics(y, p, 0.5, 10)
    assert abs(m["brier"] - 0.25) < 1e-12
    rows = utils.reliability(y, np.r_[np.full(50, 0.05), np.full(50, 0.95)], 10)
    assert rows[0]["n"] == 50 and rows[9]["n"] == 50 and rows[4]["n"] == 0


def test_temperature_scaling_undoes_a_known_temperature():
    rs = np.random.RandomState(1)
    true_logit = rs.randn(4000) * 2
    y = (rs.rand(4000) < 1 / (1 + np.exp(-true_logit))).astype(int)
    z = np.stack([np.zeros_like(true_logit), true_logit * 3], 1)  # over-confident by a factor 3
    assert abs(utils.fit_temperature(z, y) - 3) < 0.3
