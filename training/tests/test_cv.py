"""Cross-validation building blocks: the stratified seeded fold split, the sensitivity-floor threshold rule,
fold summaries and the per-fold (nested) threshold evaluation."""

import numpy as np
import pytest
import utils
from recipes.pneumonia_cxr import augment, fold_metrics


def test_folds_partition_the_cases_and_keep_the_class_ratio():
    y = np.array([1] * 74 + [0] * 26)  # 74 % positive, ordered by class like the data file
    folds = utils.stratified_folds(y, 5, seed=7)
    assert len(folds) == 5
    allidx = np.concatenate(folds)
    assert sorted(allidx.tolist()) == list(range(100))  # every case held out exactly once
    for f in folds:
        assert len(f) == 20
        assert y[f].sum() in (14, 15, 16)  # 74 positives dealt over 5 folds: 14 or 15 each (+-1)
        assert list(f) == sorted(f)


def test_folds_are_seeded():
    y = np.random.RandomState(0).randint(0, 2, 200)
    a = utils.stratified_folds(y, 4, seed=1)
    b = utils.stratified_folds(y, 4, seed=1)
    c = utils.stratified_folds(y, 4, seed=2)
    assert all(np.array_equal(x, z) for x, z in zip(a, b))
    assert not all(np.array_equal(x, z) for x, z in zip(a, c))


def test_sensitivity_threshold_on_a_hand_made_example():
    # 10 positives, 6 negatives. Sorted positive scores: .30 .55 .60 .65 .70 .75 .80 .85 .90 .95
    y = np.array([1] * 10 + [0] * 6)
    p = np.array([0.30, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 0.10, 0.20, 0.40, 0.50, 0.58, 0.62])
    # Sensitivity >= 0.9 allows one miss (the .30); the threshold may rise to just below .55, midway to .50.
    t = utils.sensitivity_threshold(y, p, 0.9)
    assert abs(t - 0.525) < 1e-12
    m = utils.binary_metrics(y, p, t, 10)
    assert m["sensitivity"] == 0.9 and m["specificity"] == 4 / 6
    # Sensitivity >= 0.8 allows two misses: just below .60, midway to .58 -> specificity 5/6.
    t = utils.sensitivity_threshold(y, p, 0.8)
    assert abs(t - 0.59) < 1e-12
    assert utils.binary_metrics(y, p, t, 10)["specificity"] == 5 / 6
    # Sensitivity 1: every positive caught; just below the lowest positive (.30), midway to .20.
    t = utils.sensitivity_threshold(y, p, 1.0)
    assert abs(t - 0.25) < 1e-12 and utils.binary_metrics(y, p, t, 10)["sensitivity"] == 1


def test_sensitivity_threshold_is_the_highest_that_meets_the_floor():
    rs = np.random.RandomState(3)
    y = rs.rand(500) < 0.7
    p = np.clip(rs.rand(500) * 0.6 + y * 0.35, 0, 1)
    for s in (0.8, 0.9, 0.95, 0.99):
        t = utils.sensitivity_threshold(y, p, s)
        assert utils.binary_metrics(y, p, t, 10)["sensitivity"] >= s
        above = np.unique(p[p > t])[0]  # the next score up: using it as threshold breaks the floor
        assert utils.binary_metrics(y, p, above + 1e-12, 10)["sensitivity"] < s


def test_sensitivity_threshold_does_not_depend_on_the_number_of_normals():
    # More normals (a lower prevalence) with the same score distribution: the same threshold.
    y = np.array([1] * 10 + [0] * 6)
    p = np.array([0.30, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 0.10, 0.20, 0.40, 0.50, 0.54, 0.52])
    t1 = utils.sensitivity_threshold(y, p, 0.9)
    y2, p2 = np.r_[y, np.zeros(6, int)], np.r_[p, p[10:] - 1e-3]
    assert abs(utils.sensitivity_threshold(y2, p2, 0.9) - t1) < 1e-3


def test_sensitivity_threshold_rejects_nonsense():
    with pytest.raises(ValueError):
        utils.sensitivity_threshold(np.array([0, 0]), np.array([0.1, 0.2]), 0.9)
    with pytest.raises(ValueError):
        utils.sensitivity_threshold(np.array([0, 1]), np.array([0.1, 0.2]), 0)


def test_cv_summary_and_shifted_accuracy():
    s = utils.cv_summary([{"auc": 0.9}, {"auc": 0.94}, {"auc": 0.92}], ("auc",))
    assert abs(s["auc"]["mean"] - 0.92) < 1e-12 and abs(s["auc"]["sd"] - 0.02) < 1e-12
    assert abs(utils.accuracy_at_prevalence(0.96, 0.90, 0.625) - (0.625 * 0.96 + 0.375 * 0.90)) < 1e-12


def test_fold_metrics_choose_each_threshold_on_the_other_folds_only():
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    p = np.array([0.9, 0.6, 0.3, 0.1, 0.8, 0.4, 0.5, 0.2])
    folds = [np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])]
    seen = []

    def rule(yy, pp):
        seen.append(sorted(pp.tolist()))
        return 0.55

    out = fold_metrics(y, p, folds, rule, 10)
    assert seen == [sorted(p[4:].tolist()), sorted(p[:4].tolist())]
    assert out[0]["sensitivity"] == 1 and out[0]["specificity"] == 1
    assert out[1]["sensitivity"] == 0.5 and out[1]["threshold"] == 0.55


def test_augmentation_is_seeded_and_stays_in_range():
    import torch

    a = utils.load_config()["models"]["pneumonia-cxr"]["train"]["augment"]
    x = torch.rand(8, 1, 28, 28)
    o1 = augment(x, a, torch.Generator().manual_seed(5))
    o2 = augment(x, a, torch.Generator().manual_seed(5))
    o3 = augment(x, a, torch.Generator().manual_seed(6))
    assert torch.equal(o1, o2) and not torch.equal(o1, o3)
    assert o1.shape == x.shape and o1.min() >= 0 and o1.max() <= 1


def test_holdout_is_stratified_seeded_and_disjoint():
    y = np.array([1] * 740 + [0] * 260)
    rest, ho = utils.stratified_holdout(y, 0.15, seed=5)
    assert len(ho) == 150 and y[ho].sum() == 111  # round(0.15 * 740) positives, round(0.15 * 260) negatives
    assert sorted(np.concatenate([rest, ho]).tolist()) == list(range(1000))
    again, ho2 = utils.stratified_holdout(y, 0.15, seed=5)
    assert np.array_equal(ho, ho2) and np.array_equal(rest, again)
    assert not np.array_equal(ho, utils.stratified_holdout(y, 0.15, seed=6)[1])
    none_rest, none_ho = utils.stratified_holdout(y, 0.0, seed=5)
    assert len(none_ho) == 0 and len(none_rest) == 1000
