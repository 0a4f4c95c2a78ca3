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


def test_platt_scaling_matches_logistic_regression_and_recovers_a_prior_offset():
    from sklearn.linear_model import LogisticRegression

    rs = np.random.RandomState(2)
    true_logit = rs.randn(6000) * 2 + 1.5
    y = (rs.rand(6000) < 1 / (1 + np.exp(-true_logit))).astype(int)
    # Scores shrunk and shifted towards a 50 % prior (what inverse-frequency class weights do): a temperature
    # cannot undo the shift, Platt scaling can.
    score = (true_logit - 1.5) / 2
    a, b = utils.fit_platt(score, y)
    assert abs(a - 2) < 0.2 and abs(b - 1.5) < 0.15
    lr = LogisticRegression(C=1e12, tol=1e-10, max_iter=1000).fit(score[:, None], y)
    assert abs(a - lr.coef_[0][0]) < 1e-4 and abs(b - lr.intercept_[0]) < 1e-4
    ece_platt = utils.expected_calibration_error(y, utils.sigmoid(a * score + b), 10)
    t = utils.fit_temperature(np.stack([np.zeros_like(score), score], 1), y)
    ece_temperature = utils.expected_calibration_error(y, utils.sigmoid(score / t), 10)
    assert ece_platt < 0.02 < ece_temperature


def test_platt_scaling_never_reverses_the_ranking():
    rs = np.random.RandomState(3)
    y = rs.randint(0, 2, 500)
    a, b = utils.fit_platt(np.where(y == 1, -1.0, 1.0) + rs.randn(500) * 0.1, y)  # scores ranked the wrong way
    assert 0 < a < 1e-3  # about the base rate, not an inverted model
    assert abs(utils.sigmoid(b) - y.mean()) < 0.01
