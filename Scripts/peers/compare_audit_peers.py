#!/usr/bin/env python3
"""`fairmed audit` against the four auditing tools users would otherwise pick, on the same predictions.

    python3 Scripts/peers/compare_audit_peers.py [--fairmed .build/release/fairmed]
    python3 Scripts/peers/compare_audit_peers.py --render-only      # docs/audit_peers.md from the JSON
    python3 Scripts/peers/compare_audit_peers.py --phases agreement  # one phase; the other is kept from the JSON

Pinned versions (checked with importlib.metadata at start; any other version is refused, because the
"differs: why" notes below were written from reading these versions' source):

    fairlearn 0.15.0, fairmedfm 0.4.2, fairscope 0.3.0, fmm-fairness-eval 0.1.0, scikit-learn 1.9.1

What it does (all on CSVs from `Scripts/bench/audit_peer.py make`: columns y,p,margin,sex,age_group,site,
2×3×4 = 24 intersectional groups; scores written with 6 decimals):

1. Agreement (20,000 rows, seed 0, threshold 0.5 "predicted positive iff p ≥ 0.5", ECE with 10 equal-width
   bins): runs `fairmed audit` (several times: stratified and plain bootstrap with seed 7 and, as a Monte-Carlo
   yardstick for the peers' intervals, seeds 8–17; and at fairmedfm's own best-F1 threshold) and each peer through its public API, then records, per
   quantity (one list: QUANTITIES) and per peer, the largest absolute difference to FairMed, or
   "differs: why" where the peer's definition is not FairMed's.
2. Timing: the per-group audit without bootstrap intervals, whole process (interpreter start, CSV read, the
   audit), best of 3 runs under 10 s, of 2 under 60 s, else 1; on 100,000 rows, then on 1,000,000 rows unless
   the 100,000-row run shows a 1,000,000-row run would pass ~15 minutes (then only the 100,000-row figure is
   reported; nothing is extrapolated). FairMed is also timed with `--bootstrap 1000`.
3. Writes docs/bench/2026-12-05-audit-peers.json and renders docs/audit_peers.md from it.

Peers run in child processes of this script (`_child TASK PEER CSV OUT.json`), so every peer timing includes
Python's start-up and imports, as FairMed's includes its process start.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MAKER = ROOT / "Scripts" / "bench" / "audit_peer.py"
JSON_OUT = ROOT / "docs" / "bench" / "2026-12-05-audit-peers.json"
MD_OUT = ROOT / "docs" / "audit_peers.md"

PINNED = {"fairlearn": "0.15.0", "fairmedfm": "0.4.2", "fairscope": "0.3.0", "fmm-fairness-eval": "0.1.0",
          "scikit-learn": "1.9.1"}
RECORDED = ["numpy", "pandas", "scipy"]  # recorded, not pinned

ATTRS = ["sex", "age_group", "site"]
THRESHOLD = 0.5
ECE_BINS = 10
AGREE_ROWS, SEED = 20_000, 0
TIMING_ROWS, FALLBACK_ROWS = 1_000_000, 100_000
PEER_LIMIT_S = 15 * 60
BOOT = 1000
NOISE_SEEDS = list(range(8, 18))
PEERS = ["fairlearn", "fairmedfm", "fairscope", "fmm-fairness-eval"]


# ------------------------------------------------------------------------------------------------------------
# The quantities compared: one place. Each has a FairMed extractor (from audit.json) and, per peer, how the peer
# computes it ("same": compared numerically) or why its definition differs ("differs": the peer's value is still
# computed and its distance to FairMed recorded, as evidence that the definition matters). A peer not listed
# does not compute the quantity.
# ------------------------------------------------------------------------------------------------------------

def same(how):
    return {"status": "same", "how": how}


def differs(why):
    return {"status": "differs", "why": why}


def _groups(metric):
    return lambda a: {g["name"]: g[metric] for g in a["groups"]}


def _single(metric):
    return lambda a: {f"{attr}={g['name']}": g[metric] for attr, v in a["single_attribute"].items() for g in v["groups"]}


def _agg(key):
    return lambda a: {"value": a["aggregates"][key]["value"]}


def _single_agg(key):
    return lambda a: {attr: v["aggregates"][key]["value"] for attr, v in a["single_attribute"].items()}


def _group_ci(metric):
    return lambda a: {g["name"]: [g["ci"][metric]["lower"], g["ci"][metric]["upper"]] for g in a["groups"]}


def _agg_ci(key):
    return lambda a: {"value": [a["aggregates"][key]["ci"]["lower"], a["aggregates"][key]["ci"]["upper"]]}


def _delong(a):
    return {g: [v["se"], v["lower"], v["upper"]] for g, v in a["significance"]["auc_delong"].items()
            if g != "overall" and v is not None}


def _auc_tests(field):
    def extract(a):
        ref = a["significance"]["reference_group"]
        return {"||".join(sorted([g["name"], ref])): g[field] for g in a["significance"]["auc_tests"]["groups"]
                if g.get(field) is not None}
    return extract


def _to_overall(a):
    keys = ["max_tpr_diff_to_overall", "max_fpr_diff_to_overall", "max_selection_rate_diff_to_overall"]
    return {"value": [a["aggregates"][k]["value"] for k in keys]}


COMBINED = "on a sex|age_group|site column the user builds (the tool audits one attribute at a time)"
FMM_COMBINED = "on a sex|age_group|site column the user builds (the tool audits one attribute at a time; " \
               "intersections are on its v0.2 roadmap)"
FAIRMEDFM_BEST_F1 = ("at the best-F1 threshold chosen on the audited labels (find_threshold), not at 0.5; "
                     "see the best-F1 rows")
FAIRMEDFM_ECE = ("pd.cut: 10 equal-width bins over each group's own [min p, max p] (low edge moved down 0.1%), "
                 "not over [0, 1]")

# Sections: run = which FairMed run the extractor reads.
QUANTITIES = [
    # --- per intersectional group (24) --------------------------------------------------------------------
    dict(key="group.tpr", section="group", label="TPR (sensitivity)", fairmed=_groups("tpr"), peers={
        "fairlearn": same("MetricFrame(true_positive_rate), 3 sensitive features"),
        "fairmedfm": same("evaluate(intersectional=True) by_group 'tpr' (at 0.5, predicted positive iff p > 0.5)"),
        "fmm-fairness-eval": same("equal_opportunity_gap().per_group, " + FMM_COMBINED)}),
    dict(key="group.fpr", section="group", label="FPR", fairmed=_groups("fpr"), peers={
        "fairlearn": same("MetricFrame(false_positive_rate)")}),
    dict(key="group.tnr", section="group", label="TNR (specificity)", fairmed=_groups("tnr"), peers={
        "fairlearn": same("MetricFrame(true_negative_rate)"),
        "fairmedfm": same("by_group 'tnr' (p > 0.5)")}),
    dict(key="group.ppv", section="group", label="PPV", fairmed=_groups("ppv"), peers={
        "fairlearn": same("MetricFrame(sklearn precision_score)")}),
    dict(key="group.accuracy", section="group", label="accuracy", fairmed=_groups("accuracy"), peers={
        "fairlearn": same("MetricFrame(sklearn accuracy_score)"),
        "fairmedfm": same("by_group 'acc' (p > 0.5)")}),
    dict(key="group.balanced_accuracy", section="group", label="balanced accuracy", fairmed=_groups("balanced_accuracy"),
         peers={"fairlearn": same("MetricFrame(sklearn balanced_accuracy_score)")}),
    dict(key="group.selection_rate", section="group", label="selection rate", fairmed=_groups("selection_rate"), peers={
        "fairlearn": same("MetricFrame(selection_rate)"),
        "fmm-fairness-eval": same("demographic_parity_gap().per_group, " + FMM_COMBINED)}),
    dict(key="group.auc", section="group", label="AUC", fairmed=_groups("auc"), peers={
        "fairlearn": same("MetricFrame(sklearn roc_auc_score) on the scores"),
        "fairmedfm": same("by_group 'auc' (sklearn roc_auc_score)"),
        "fairscope": same("HealthcareFairnessAudit ci[g]['auc'] (DeLong midrank), " + COMBINED),
        "fmm-fairness-eval": same("inter_site_auc_variance(site_attribute=<column>).per_group, " + FMM_COMBINED)}),
    dict(key="group.brier", section="group", label="Brier score", fairmed=_groups("brier"), peers={
        "fairlearn": same("MetricFrame(sklearn brier_score_loss) on the scores"),
        "fairscope": same("HealthcareFairnessAudit metrics[g]['brier'], " + COMBINED)}),
    dict(key="group.ece10", section="group", label="ECE, 10 equal-width bins on [0, 1]", fairmed=_groups("ece"), peers={
        "fairmedfm": differs(FAIRMEDFM_ECE),
        "fairscope": same("ece_by_group(n_bins=10, strategy='uniform'), " + COMBINED),
        "fmm-fairness-eval": same("calibration_gap(n_bins=10).per_group, " + FMM_COMBINED)}),
    dict(key="group.auc_delong", section="group", label="AUC DeLong SE and 95% interval (se, lower, upper)",
         fairmed=_delong, peers={
        "fairscope": same("delong_by_group: se, ci_lower, ci_upper (Wald, clipped to [0, 1]), " + COMBINED)}),
    # --- gaps over the 24 groups --------------------------------------------------------------------------
    dict(key="gap.delta_tpr", section="gap", label="ΔTPR = max − min TPR (equal opportunity difference)",
         fairmed=_agg("delta_tpr"), peers={
        "fairlearn": same("equal_opportunity_difference(sensitive_features=3 columns)"),
        "fairmedfm": differs("'eo' is the TPR gap " + FAIRMEDFM_BEST_F1),
        "fairscope": same("max over all 276 pairs of core.equalized_odds_difference (a two-group |TPR_a − TPR_b|), "
                          + COMBINED),
        "fmm-fairness-eval": same("equal_opportunity_gap().gap, " + FMM_COMBINED)}),
    dict(key="gap.delta_fpr", section="gap", label="ΔFPR", fairmed=_agg("delta_fpr"), peers={
        "fairlearn": same("MetricFrame(false_positive_rate).difference()")}),
    dict(key="gap.dpd", section="gap", label="demographic parity difference (Δ selection rate)", fairmed=_agg("dpd"), peers={
        "fairlearn": same("demographic_parity_difference"),
        "fmm-fairness-eval": same("demographic_parity_gap().gap, " + FMM_COMBINED)}),
    dict(key="gap.deodds", section="gap", label="equalized odds difference = max(ΔTPR, ΔFPR)", fairmed=_agg("deodds"), peers={
        "fairlearn": same("equalized_odds_difference (agg='worst_case')"),
        "fairmedfm": differs("'eod' = 1 − (ΔTPR + ΔTNR)/2, a score (1 is fair), " + FAIRMEDFM_BEST_F1),
        "fairscope": differs("its equalized_odds_difference is |TPR_a − TPR_b| of two groups (CPFE paper), "
                             "no FPR term (its docstring says so)")}),
    dict(key="gap.tpr_ratio", section="gap", label="TPR ratio = min/max", fairmed=_agg("tpr_ratio"), peers={
        "fairlearn": same("equal_opportunity_ratio")}),
    dict(key="gap.dpr", section="gap", label="demographic parity ratio = min/max selection rate", fairmed=_agg("dpr"), peers={
        "fairlearn": same("demographic_parity_ratio"),
        "fairscope": same("min over all pairs of core.disparate_impact (symmetric min(r_a/r_b, r_b/r_a)), " + COMBINED)}),
    dict(key="gap.delta_accuracy", section="gap", label="Δaccuracy", fairmed=_agg("delta_accuracy"), peers={
        "fairlearn": same("MetricFrame(accuracy_score).difference()"),
        "fairmedfm": differs("'acc-gap' is " + FAIRMEDFM_BEST_F1)}),
    dict(key="gap.delta_auc", section="gap", label="ΔAUC", fairmed=_agg("delta_auc"), peers={
        "fairlearn": same("MetricFrame(roc_auc_score).difference()"),
        "fairmedfm": same("summary 'auc-gap'"),
        "fairscope": same("summary(): largest AUC gap (max − min of ci[g]['auc']), " + COMBINED)}),
    dict(key="gap.worst_group_auc", section="gap", label="worst-group AUC", fairmed=_agg("worst_group_auc"), peers={
        "fairlearn": same("MetricFrame(roc_auc_score).group_min()"),
        "fairmedfm": same("summary 'worst-auc'"),
        "fairscope": same("summary(): the lowest AUC of its largest-gap line, " + COMBINED)}),
    dict(key="gap.to_overall", section="gap", label="largest |group − overall| of TPR, FPR, selection rate",
         fairmed=_to_overall, peers={"fairlearn": same("MetricFrame.difference(method='to_overall')")}),
    # --- tests ----------------------------------------------------------------------------------------------
    dict(key="test.auc_p", section="test", label="unpaired DeLong test p-value, AUC_g vs the reference group (raw)",
         fairmed=_auc_tests("p_value"), peers={
        "fairscope": same("HealthcareFairnessAudit p_value of the pair (g, reference) among its 276 pairs, " + COMBINED)}),
    dict(key="test.auc_p_adjusted", section="test", label="… multiplicity-adjusted p-value", fairmed=_auc_tests("p_holm"),
         peers={"fairscope": differs("Bonferroni over all 276 pairs; FairMed: Holm over the 23 tests against the "
                                     "reference group (the highest-AUC group)")}),
    # --- per single attribute (2 + 3 + 4 groups) -------------------------------------------------------------
    dict(key="single.tpr", section="single", label="TPR per group", fairmed=_single("tpr"), peers={
        "fairlearn": same("MetricFrame(true_positive_rate), one sensitive feature"),
        "fairmedfm": same("evaluate by_group 'tpr' per attribute (p > 0.5)"),
        "fmm-fairness-eval": same("equal_opportunity_gap(df, attr).per_group")}),
    dict(key="single.selection_rate", section="single", label="selection rate per group", fairmed=_single("selection_rate"),
         peers={"fairlearn": same("MetricFrame(selection_rate)"),
                "fmm-fairness-eval": same("demographic_parity_gap(df, attr).per_group")}),
    dict(key="single.auc", section="single", label="AUC per group", fairmed=_single("auc"), peers={
        "fairlearn": same("MetricFrame(roc_auc_score)"),
        "fairmedfm": same("by_group 'auc'"),
        "fairscope": same("HealthcareFairnessAudit ci[g]['auc'], one attribute per key"),
        "fmm-fairness-eval": same("inter_site_auc_variance(site_attribute=attr).per_group")}),
    dict(key="single.ece10", section="single", label="ECE per group (10 bins)", fairmed=_single("ece"), peers={
        "fairmedfm": differs(FAIRMEDFM_ECE),
        "fairscope": same("ece_by_group(n_bins=10)"),
        "fmm-fairness-eval": same("calibration_gap(df, attr).per_group")}),
    dict(key="single.delta_tpr", section="single", label="ΔTPR per attribute", fairmed=_single_agg("delta_tpr"), peers={
        "fairlearn": same("equal_opportunity_difference(sensitive_features=attr)"),
        "fairmedfm": differs("'eo' is the TPR gap " + FAIRMEDFM_BEST_F1),
        "fmm-fairness-eval": same("equal_opportunity_gap(df, attr).gap")}),
    dict(key="single.dpd", section="single", label="demographic parity difference per attribute", fairmed=_single_agg("dpd"),
         peers={"fairlearn": same("demographic_parity_difference(sensitive_features=attr)"),
                "fmm-fairness-eval": same("demographic_parity_gap(df, attr).gap")}),
    # --- fairmedfm's own operating point -------------------------------------------------------------------------
    dict(key="bestf1.group_tpr", section="bestf1", run="bestf1", label="TPR per intersectional group", fairmed=_groups("tpr"),
         peers={"fairmedfm": same("by_group 'tpr@best_f1'")}),
    dict(key="bestf1.group_accuracy", section="bestf1", run="bestf1", label="accuracy per intersectional group",
         fairmed=_groups("accuracy"), peers={"fairmedfm": same("by_group 'acc@best_f1'")}),
    dict(key="bestf1.delta_tpr", section="bestf1", run="bestf1", label="ΔTPR ('eo')", fairmed=_agg("delta_tpr"),
         peers={"fairmedfm": same("summary 'eo'")}),
    dict(key="bestf1.delta_accuracy", section="bestf1", run="bestf1", label="Δaccuracy ('acc-gap')",
         fairmed=_agg("delta_accuracy"), peers={"fairmedfm": same("summary 'acc-gap'")}),
    # --- bootstrap intervals (95% percentile, 1,000 replicates) -----------------------------------------------------
    dict(key="ci.group_tpr", section="ci", run="plain", label="TPR per group: interval ends", fairmed=_group_ci("tpr"),
         peers={"fairlearn": same("MetricFrame(n_boot=1000, ci_quantiles=[0.025, 0.975]).by_group_ci; rows resampled "
                                  "over all groups (FairMed --resampling plain)")}),
    dict(key="ci.group_fpr", section="ci", run="plain", label="FPR per group: interval ends", fairmed=_group_ci("fpr"),
         peers={"fairlearn": same("by_group_ci")}),
    dict(key="ci.group_selection_rate", section="ci", run="plain", label="selection rate per group: interval ends",
         fairmed=_group_ci("selection_rate"), peers={"fairlearn": same("by_group_ci")}),
    dict(key="ci.delta_tpr_plain", section="ci", run="plain", label="ΔTPR interval ends (plain resampling)",
         fairmed=_agg_ci("delta_tpr"), peers={"fairlearn": same("difference_ci()")}),
    dict(key="ci.delta_fpr_plain", section="ci", run="plain", label="ΔFPR interval ends (plain resampling)",
         fairmed=_agg_ci("delta_fpr"), peers={"fairlearn": same("difference_ci()")}),
    dict(key="ci.dpd_plain", section="ci", run="plain", label="DPD interval ends (plain resampling)",
         fairmed=_agg_ci("dpd"), peers={"fairlearn": same("difference_ci()")}),
    dict(key="ci.delta_tpr_stratified", section="ci", run="main", label="ΔTPR interval ends (resampling within groups)",
         fairmed=_agg_ci("delta_tpr"), peers={
        "fmm-fairness-eval": same("equal_opportunity_gap() gap_ci_low/high (1,000 replicates, rows resampled within "
                                  "each group, seed 42), " + FMM_COMBINED)}),
    dict(key="ci.dpd_stratified", section="ci", run="main", label="DPD interval ends (resampling within groups)",
         fairmed=_agg_ci("dpd"), peers={"fmm-fairness-eval": same("demographic_parity_gap() gap_ci_low/high")}),
]

SECTIONS = {
    "group": "Per intersectional group (24 groups, sex × age_group × site)",
    "gap": "Gaps over the 24 groups",
    "test": "Tests between groups",
    "single": "Per single attribute (sex, age_group, site: 9 groups, FairMed's single-attribute views)",
    "bestf1": "At fairmedfm's own operating point (its best-F1 threshold t, applied as p > t; FairMed run with "
              "--threshold halfway between t and the next score)",
    "ci": "Bootstrap intervals (95% percentile, 1,000 replicates): different random streams, so the differences are "
          "Monte-Carlo error; compare them with FairMed's own differences between seeds",
}

# ------------------------------------------------------------------------------------------------------------
# What each computes. Every peer ✓ or partial was seen in the installed source (file named in "src") or run here.
# ------------------------------------------------------------------------------------------------------------
TOOLS = ["FairMed"] + PEERS
Y, N, P = "✓", "✗", "partial"
CAPABILITIES = [
    ("Per-intersectional-group rates (TPR, FPR, PPV, …)", [
        (Y, "`--groups` crossed; 13 metrics and the confusion counts per group", "Sources/Fairness/GroupMetrics.swift"),
        (Y, "MetricFrame with several sensitive features; any metric callable", "fairlearn/metrics/_metric_frame.py"),
        (Y, "`evaluate(intersectional=True)`: TPR, TNR, accuracy, counts", "fairmedfm/evaluation.py"),
        (P, "F1 only; crossing needs a column you build", "fairscope/core/metrics.py subgroup_metrics"),
        (P, "TPR, selection rate; one attribute at a time", "fmm_fairness/metrics.py"),
    ]),
    ("AUC per group", [
        (Y, "exact, tie-aware", "Sources/Fairness/RankedScores.swift"),
        (Y, "roc_auc_score through MetricFrame; plot_roc_curve_by_group", "fairlearn/metrics/_roc_auc.py"),
        (Y, "'auc' per group, worst-auc, auc-gap", "fairmedfm/metrics.py _report"),
        (Y, "with DeLong interval", "fairscope/core/delong.py delong_by_group"),
        (P, "only for the site attribute (inter_site_auc_variance)", "fmm_fairness/metrics.py"),
    ]),
    ("Calibration per group: slope / intercept", [
        (Y, "logistic recalibration slope, intercept, calibration-in-the-large, Wald intervals", "Sources/Fairness/Calibration.swift"),
        (N, "", ""),
        (N, "ECE and BCE only", "fairmedfm/metrics.py"),
        (P, "no slope/intercept; ECE, MCE, reliability diagram, temperature scaling and isotonic recalibration per group",
         "fairscope/core/calibration.py"),
        (N, "ECE only", "fmm_fairness/metrics.py"),
    ]),
    ("ECE bins", [
        (Y, "`--ece-bins` equal-width on [0, 1] (default 15), stated in every output", "Sources/Fairness/GroupTally.swift"),
        (N, "no ECE", ""),
        (P, "10 bins over each group's own score range (pd.cut), or quantile bins", "fairmedfm/metrics.py expected_calibration_error"),
        (Y, "n_bins equal-width on [0, 1] (default 10) or quantile", "fairscope/core/calibration.py"),
        (Y, "10 equal-width on [0, 1] (n_bins in the API, fixed in the CLI)", "fmm_fairness/metrics.py _calibration_error"),
    ]),
    ("Bootstrap intervals", [
        (Y, "every metric and gap, within groups or plain, seeded", "Sources/Fairness/Bootstrap.swift"),
        (Y, "MetricFrame n_boot / ci_quantiles: per-group values and gaps, plain row resampling", "fairlearn/metrics/_bootstrap.py"),
        (N, "", ""),
        (P, "AUC difference of two scores on the same rows (bootstrap_auc_test); no per-group metric intervals",
         "fairscope/core/bootstrap.py"),
        (P, "gaps only (TPR, selection rate, ECE), within-group resampling, 1,000 × seed 42", "fmm_fairness/metrics.py _bootstrap_gap"),
    ]),
    ("DeLong tests", [
        (Y, "per-group interval; unpaired test of each group vs a reference", "Sources/Fairness/DeLong.swift"),
        (N, "", ""),
        (N, "", ""),
        (Y, "per-group interval; all pairs unpaired; paired test", "fairscope/core/delong.py"),
        (N, "", ""),
    ]),
    ("Multiple-testing correction", [
        (Y, "Holm (AUC tests, TPR tests, MMD pairs)", "Sources/Fairness/MultipleTesting.swift"),
        (N, "", ""),
        (N, "", ""),
        (Y, "Bonferroni in the audit; Benjamini–Hochberg in core", "fairscope/core/correction.py"),
        (N, "", ""),
    ]),
    ("MMD of certainty margins", [
        (Y, "MMD² between every pair of groups, permutation p, Holm; KDEs, uncertainty zone", "Sources/Fairness/MMD.swift"),
        (N, "", ""), (N, "", ""), (N, "", ""), (N, "", ""),
    ]),
    ("Threshold rule stated / taken from validation", [
        (Y, "stated in every output; youden:VAL, sensitivity:T:VAL, model:RUN_DIR; flags a threshold chosen on the audited labels",
         "Sources/Fairness/Threshold.swift"),
        (N, "takes y_pred as given", ""),
        (P, "0.5 and best F1 chosen on the audited labels; the threshold's value is not reported", "fairmedfm/metrics.py find_threshold"),
        (P, "0.5 (for F1 only), not reported", "fairscope/core/metrics.py subgroup_metrics"),
        (N, "takes y_pred as given; the report says gaps depend on it", "fmm_fairness/evidence.py"),
    ]),
    ("Provenance (hashes, versions)", [
        (Y, "version, commit, command line, input SHA-256 and rows, UTC date", "docs/audit.md"),
        (N, "", ""),
        (P, "its version and input interpretation in to_dict(); no hashes", "fairmedfm/evaluation.py"),
        (N, "", ""),
        (P, "version, time, input path, SHA-256 of its own report files (not of the input)", "fmm_fairness/evidence.py"),
    ]),
    ("Model card", [
        (P, "written by `fairmed train` (best/README.md), not by `audit`", "Sources/Training/Model/ModelCard.swift"),
        (N, "", ""), (N, "", ""), (N, "", ""),
        (N, "EU AI Act article mapping instead", "fmm_fairness/evidence.py _ai_act_mapping"),
    ]),
    ("HTML report", [
        (Y, "audit.html, self-contained, prints to PDF; also audit.md", "docs/audit.md"),
        (N, "matplotlib plots", ""),
        (P, "notebook table (_repr_html_) only", "fairmedfm/evaluation.py"),
        (P, "PDF (to_pdf: summary, AUC forest plot, reliability curves), not HTML", "fairscope/healthcare/audit.py"),
        (N, "Markdown + JSON evidence pack", "fmm_fairness/evidence.py"),
    ]),
    ("Decision curves (net benefit)", [
        (Y, "overall and per group over thresholds 0.01…0.99, and at the audit threshold", "Sources/Fairness/DecisionCurve.swift"),
        (N, "", ""), (N, "", ""), (N, "", ""), (N, "", ""),
    ]),
]
PEER_ONLY = {
    "fairlearn": "mitigation (ThresholdOptimizer, ExponentiatedGradient/GridSearch, adversarial), any metric callable "
                 "through MetricFrame, control features, plots",
    "fairmedfm": "segmentation fairness (Dice gap, skewness, equity-scaled Dice), BCE gap, logits / multi-class / "
                 "one-hot inputs read automatically, the FairMedFM benchmark runner",
    "fairscope": "MCE, temperature scaling and isotonic recalibration with pre/post ECE, a PDF report, federated "
                 "(per-node), NLP cross-platform and lending audits, optional SHAP",
    "fmm-fairness-eval": "calibration (ECE) gap with an interval, variance of per-site AUC, a composite 'SaMD fairness "
                         "score', EU AI Act article mapping, SHA-256 of its outputs",
}


# ------------------------------------------------------------------------------------------------------------
# Peers. Each function runs in a child process on a DataFrame read from the CSV and returns plain data.
# ------------------------------------------------------------------------------------------------------------

def _combined(df):
    return (df["sex"] + "|" + df["age_group"] + "|" + df["site"]).to_numpy()


def _yp(df):
    return (df["p"].to_numpy() >= THRESHOLD).astype(int)


def _by_group(series):
    return {("|".join(map(str, k)) if isinstance(k, tuple) else str(k)): float(v) for k, v in series.items()}


def _fairlearn_frames(df, sf):
    from fairlearn.metrics import (MetricFrame, false_positive_rate, selection_rate, true_negative_rate,
                                   true_positive_rate)
    from sklearn.metrics import (accuracy_score, balanced_accuracy_score, brier_score_loss, precision_score,
                                 roc_auc_score)
    counts = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate, "tnr": true_negative_rate,
                                  "ppv": precision_score, "accuracy": accuracy_score,
                                  "balanced_accuracy": balanced_accuracy_score, "selection_rate": selection_rate},
                         y_true=df["y"].to_numpy(), y_pred=_yp(df), sensitive_features=sf)
    scores = MetricFrame(metrics={"auc": roc_auc_score, "brier": brier_score_loss},
                         y_true=df["y"].to_numpy(), y_pred=df["p"].to_numpy(), sensitive_features=sf)
    return counts, scores


def fairlearn_agree(df):
    from fairlearn.metrics import (demographic_parity_difference, demographic_parity_ratio,
                                   equal_opportunity_difference, equal_opportunity_ratio, equalized_odds_difference)
    y, yp, sf = df["y"].to_numpy(), _yp(df), df[ATTRS]
    counts, scores = _fairlearn_frames(df, sf)
    out = {f"group.{k}": _by_group(counts.by_group[k]) for k in counts.by_group.columns}
    out.update({f"group.{k}": _by_group(scores.by_group[k]) for k in scores.by_group.columns})
    d = counts.difference()
    out.update({
        "gap.delta_tpr": {"value": equal_opportunity_difference(y, yp, sensitive_features=sf)},
        "gap.delta_fpr": {"value": d["fpr"]},
        "gap.dpd": {"value": demographic_parity_difference(y, yp, sensitive_features=sf)},
        "gap.deodds": {"value": equalized_odds_difference(y, yp, sensitive_features=sf)},
        "gap.tpr_ratio": {"value": equal_opportunity_ratio(y, yp, sensitive_features=sf)},
        "gap.dpr": {"value": demographic_parity_ratio(y, yp, sensitive_features=sf)},
        "gap.delta_accuracy": {"value": d["accuracy"]},
        "gap.delta_auc": {"value": scores.difference()["auc"]},
        "gap.worst_group_auc": {"value": scores.group_min()["auc"]},
        "gap.to_overall": {"value": [counts.difference(method="to_overall")[k] for k in ("tpr", "fpr", "selection_rate")]},
    })
    for key in ("single.tpr", "single.selection_rate", "single.auc", "single.delta_tpr", "single.dpd"):
        out[key] = {}
    for a in ATTRS:
        c, s = _fairlearn_frames(df, df[a])
        for metric, frame in (("tpr", c), ("selection_rate", c), ("auc", s)):
            out[f"single.{metric}"].update({f"{a}={g}": v for g, v in _by_group(frame.by_group[metric]).items()})
        out["single.delta_tpr"][a] = equal_opportunity_difference(y, yp, sensitive_features=df[a])
        out["single.dpd"][a] = demographic_parity_difference(y, yp, sensitive_features=df[a])
    return out


def fairlearn_time(df):
    counts, scores = _fairlearn_frames(df, df[ATTRS])
    return counts.difference(), counts.ratio(), scores.difference(), scores.group_min()


def fairlearn_boot(df, n_boot):
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
    mf = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate, "selection_rate": selection_rate},
                     y_true=df["y"].to_numpy(), y_pred=_yp(df), sensitive_features=df[ATTRS],
                     n_boot=n_boot, ci_quantiles=[0.025, 0.975], random_state=0)
    lo, hi = mf.by_group_ci
    dlo, dhi = mf.difference_ci()
    out = {}
    for metric in ("tpr", "fpr", "selection_rate"):
        l, h = _by_group(lo[metric]), _by_group(hi[metric])
        out[f"ci.group_{metric}"] = {g: [l[g], h[g]] for g in l}
    for metric, key in (("tpr", "delta_tpr"), ("fpr", "delta_fpr"), ("selection_rate", "dpd")):
        out[f"ci.{key}_plain"] = {"value": [float(dlo[metric]), float(dhi[metric])]}
    return out


def _fairmedfm_report(df):
    import fairmedfm
    return fairmedfm.evaluate(df["y"], df["p"], df[ATTRS], intersectional=True)


def fairmedfm_agree(df):
    import numpy as np
    from fairmedfm.metrics import find_threshold
    r = _fairmedfm_report(df)
    inter = " & ".join(ATTRS)
    rows = r.by_group.loc[inter]
    name = lambda g: g.replace(" & ", "|")  # noqa: E731
    col = lambda c: {name(g): float(v) for g, v in rows[c].items()}  # noqa: E731
    s = r.summary.loc[inter]
    out = {"group.tpr": col("tpr"), "group.tnr": col("tnr"), "group.accuracy": col("acc"), "group.auc": col("auc"),
           "group.ece10": col("ece"),
           "gap.delta_tpr": {"value": s["eo"]}, "gap.deodds": {"value": s["eod"]},
           "gap.delta_accuracy": {"value": s["acc-gap"]}, "gap.delta_auc": {"value": s["auc-gap"]},
           "gap.worst_group_auc": {"value": s["worst-auc"]},
           "bestf1.group_tpr": col("tpr@best_f1"), "bestf1.group_accuracy": col("acc@best_f1"),
           "bestf1.delta_tpr": {"value": s["eo"]}, "bestf1.delta_accuracy": {"value": s["acc-gap"]}}
    for key, c in (("single.tpr", "tpr"), ("single.auc", "auc"), ("single.ece10", "ece")):
        out[key] = {f"{a}={g}": float(v) for a in ATTRS for g, v in r.by_group.loc[a][c].items()}
    out["single.delta_tpr"] = {a: float(r.summary.loc[a]["eo"]) for a in ATTRS}
    # The operating point: fairmedfm picks t with the best F1 of (p >= t) (precision_recall_curve), then evaluates p > t.
    p, y = df["p"].to_numpy(), df["y"].to_numpy()
    t = find_threshold(p, y)
    from sklearn.metrics import f1_score
    out["_operating_point"] = {"t": t, "next_score": float(p[p > t].min()), "rows_at_t": int((p == t).sum()),
                               "positives_at_t": int(((p == t) & (y == 1)).sum()),
                               "f1_at_ge_t": float(f1_score(y, p >= t)), "f1_at_gt_t": float(f1_score(y, p > t)),
                               "rows_at_0_5": int((p == THRESHOLD).sum())}
    return out


def fairmedfm_time(df):
    return _fairmedfm_report(df).summary


def _fairscope_report(df, attributes):
    from fairscope.healthcare import HealthcareFairnessAudit
    return HealthcareFairnessAudit.from_scores(df["y"].to_numpy(), df["p"].to_numpy(), attributes,
                                               n_bins=ECE_BINS).run()


def fairscope_agree(df):
    from itertools import combinations

    from fairscope.core import disparate_impact, equalized_odds_difference
    grp = _combined(df)
    rep = _fairscope_report(df, {"intersection": grp, **{a: df[a].to_numpy() for a in ATTRS}})
    R = rep.results["intersection"]
    aucs = {g: R["ci"][g]["auc"] for g in R["groups"]}
    out = {"group.auc": aucs,
           "group.brier": {g: R["metrics"][g]["brier"] for g in R["groups"]},
           "group.ece10": {g: R["ece"][g] for g in R["groups"]},
           "group.auc_delong": {g: [R["ci"][g]["se"], R["ci"][g]["ci_lower"], R["ci"][g]["ci_upper"]] for g in R["groups"]},
           "gap.delta_auc": {"value": max(aucs.values()) - min(aucs.values())},
           "gap.worst_group_auc": {"value": min(aucs.values())},
           "test.auc_p": {f"{a}||{b}": p for (a, b), p in zip(R["pairs"], R["p_value"])},
           "test.auc_p_adjusted": {f"{a}||{b}": p for (a, b), p in zip(R["pairs"], R["p_adjusted"])}}
    y, yp = df["y"].to_numpy(), _yp(df)
    pairs = list(combinations(sorted(set(grp)), 2))
    out["gap.delta_tpr"] = {"value": max(equalized_odds_difference(y, yp, grp, a, b) for a, b in pairs)}
    out["gap.deodds"] = dict(out["gap.delta_tpr"])
    out["gap.dpr"] = {"value": min(disparate_impact(yp, grp, a, b) for a, b in pairs)}
    out["single.auc"] = {f"{a}={g}": rep.results[a]["ci"][g]["auc"] for a in ATTRS for g in rep.results[a]["groups"]}
    out["single.ece10"] = {f"{a}={g}": rep.results[a]["ece"][g] for a in ATTRS for g in rep.results[a]["groups"]}
    return out


def fairscope_time(df):
    return _fairscope_report(df, {"intersection": _combined(df)}).to_dataframe()


def _fmm_frame(df):
    import pandas as pd
    return pd.DataFrame({"y_true": df["y"].to_numpy(), "y_pred": _yp(df), "y_score": df["p"].to_numpy(),
                         **{a: df[a].to_numpy() for a in ATTRS}, "intersection": _combined(df)})


def _fmm_column(d, column, bootstrap_iters):
    from fmm_fairness.metrics import (calibration_gap, demographic_parity_gap, equal_opportunity_gap,
                                      inter_site_auc_variance)
    return (equal_opportunity_gap(d, column, bootstrap_iters=bootstrap_iters),
            demographic_parity_gap(d, column, bootstrap_iters=bootstrap_iters),
            calibration_gap(d, column, n_bins=ECE_BINS, bootstrap_iters=bootstrap_iters),
            inter_site_auc_variance(d, site_attribute=column))


def fmm_agree(df):
    d = _fmm_frame(df)
    per = lambda res, prefix="": {prefix + g.group: g.value for g in res.per_group}  # noqa: E731
    eo, dp, cal, auc = _fmm_column(d, "intersection", 0)
    out = {"group.tpr": per(eo), "group.selection_rate": per(dp), "group.ece10": per(cal), "group.auc": per(auc),
           "gap.delta_tpr": {"value": eo.gap}, "gap.dpd": {"value": dp.gap}}
    for key in ("single.tpr", "single.selection_rate", "single.ece10", "single.auc", "single.delta_tpr", "single.dpd"):
        out[key] = {}
    for a in ATTRS:
        eo, dp, cal, auc = _fmm_column(d, a, 0)
        for key, res in (("single.tpr", eo), ("single.selection_rate", dp), ("single.ece10", cal), ("single.auc", auc)):
            out[key].update(per(res, f"{a}="))
        out["single.delta_tpr"][a], out["single.dpd"][a] = eo.gap, dp.gap
    return out


def fmm_time(df):
    # The Python API with bootstrap_iters=0: the CLI cannot switch its 1,000 bootstrap replicates off.
    return _fmm_column(_fmm_frame(df), "intersection", 0)


def fmm_boot(df, n_boot):
    from fmm_fairness.metrics import demographic_parity_gap, equal_opportunity_gap
    d = _fmm_frame(df)
    eo = equal_opportunity_gap(d, "intersection", bootstrap_iters=n_boot)
    dp = demographic_parity_gap(d, "intersection", bootstrap_iters=n_boot)
    return {"ci.delta_tpr_stratified": {"value": [eo.gap_ci_low, eo.gap_ci_high]},
            "ci.dpd_stratified": {"value": [dp.gap_ci_low, dp.gap_ci_high]}}


def ece_edges_investigation(df):
    """ECE per group (the 24 crossed groups, keyed a|b|c, and each attribute's groups, keyed attr=value) by
    fairscope, and by two rules re-implemented in NumPy: FairMed's bin min(⌊p·B⌋, B − 1) and the peers' bins from
    np.linspace(0, 1, B + 1) (fairscope: np.digitize; fmm-fairness-eval: lo <= p < hi). Also counts the rows whose
    score is exactly k/B, the only rows the two rules can put in different bins."""
    import numpy as np
    from fairscope.core import ece_by_group
    p, y = df["p"].to_numpy(), df["y"].to_numpy()
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    rules = {"floor_rule": np.minimum((p * ECE_BINS).astype(int), ECE_BINS - 1),
             "linspace_rule": np.digitize(p, edges[1:-1])}
    groupings = {"": _combined(df), **{f"{a}=": df[a].to_numpy() for a in ATTRS}}
    out = {"fairscope": {}, "floor_rule": {}, "linspace_rule": {}}
    for prefix, grp in groupings.items():
        out["fairscope"].update({prefix + g: float(v) for g, v in ece_by_group(y, p, grp, n_bins=ECE_BINS).items()})
        for rule, bins in rules.items():
            for g in np.unique(grp):
                m = grp == g
                s = np.bincount(bins[m], weights=y[m] - p[m], minlength=ECE_BINS)  # Σ(y − p) per bin
                out[rule][prefix + g] = float(np.abs(s).sum() / m.sum())
    out["rows_on_edge"] = {f"{k / ECE_BINS:.1f}": int((p == k / ECE_BINS).sum()) for k in range(1, ECE_BINS)}
    out["edges_put_lower"] = [f"{k / ECE_BINS:.1f}" for k in range(1, ECE_BINS)
                              if int(np.digitize(k / ECE_BINS, edges[1:-1])) != min(int(k / ECE_BINS * ECE_BINS), ECE_BINS - 1)]
    out["linspace_edges"] = [repr(float(e)) for e in edges]
    out["rows_at_threshold"] = int((p == THRESHOLD).sum())
    return out


CHILD_TASKS = {
    ("agree", "fairlearn"): fairlearn_agree, ("agree", "fairmedfm"): fairmedfm_agree,
    ("agree", "fairscope"): fairscope_agree, ("agree", "fmm-fairness-eval"): fmm_agree,
    ("time", "fairlearn"): fairlearn_time, ("time", "fairmedfm"): fairmedfm_time,
    ("time", "fairscope"): fairscope_time, ("time", "fmm-fairness-eval"): fmm_time,
    ("boot", "fairlearn"): fairlearn_boot, ("boot", "fmm-fairness-eval"): fmm_boot,
    ("ece_edges", "fairscope"): ece_edges_investigation,
}
TIMED_WORK = {
    "fairlearn": "MetricFrame over the 3 attributes crossed: TPR, FPR, TNR, PPV, accuracy, balanced accuracy, "
                 "selection rate (fairlearn/scikit-learn metric functions) + AUC and Brier; differences, ratios, "
                 "worst group",
    "fairmedfm": "evaluate(intersectional=True): AUC, accuracy, BCE, ECE, TPR, TNR at 0.5 and at best F1, per "
                 "attribute and for the 24 crossed groups",
    "fairscope": "HealthcareFairnessAudit.from_scores(...).run() on a user-built sex|age_group|site column: DeLong AUC "
                 "intervals, ECE, Brier, F1 per group, 276 pairwise DeLong tests with Bonferroni",
    "fmm-fairness-eval": "Python API on a user-built sex|age_group|site column with bootstrap_iters=0 (the CLI always "
                         "bootstraps): TPR gap, selection-rate gap, ECE gap, per-group AUC",
    "FairMed": "whole `fairmed audit --bootstrap 0` process (no intervals, no --margin): 13 metrics per group and overall, "
               "single-attribute views, aggregates, ROC, calibration fits, DeLong intervals and tests, threshold "
               "and decision curves, SHA-256, 4 output files",
    "FairMed --bootstrap 1000": "the same with FairMed's default intervals: 1,000 bootstrap replicates resampled within "
                                "groups, percentile intervals for every per-group metric and gap",
}


def child_main(task, peer, csv, out_path, extra):
    import pandas as pd
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    df = pd.read_csv(csv)
    read_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    fn = CHILD_TASKS[(task, peer)]
    result = fn(df, *[int(x) for x in extra])
    compute_s = time.perf_counter() - t1
    payload = {"read_s": read_s, "compute_s": compute_s}
    if task != "time":
        payload["result"] = result
    pathlib.Path(out_path).write_text(json.dumps(_clean(payload)))


# ------------------------------------------------------------------------------------------------------------
# Running things
# ------------------------------------------------------------------------------------------------------------

def _clean(x):
    """JSON-safe: NumPy scalars to Python, NaN/inf to None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run_child(task, peer, csv, workdir, *extra):
    out = pathlib.Path(workdir) / f"child-{task}-{peer}-{time.time_ns()}.json"
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "_child", task, peer, str(csv), str(out),
           *map(str, extra)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    payload = json.loads(out.read_text())
    out.unlink()
    payload["wall_s"] = wall
    return payload


def make_csv(path, rows, seed=SEED):
    spec = importlib.util.spec_from_file_location("audit_peer", MAKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(str(path), rows, seed)
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fairmed_run(binary, csv, out, threshold=THRESHOLD, bootstrap=0, seed=7, resampling="stratified", margin=False):
    """Runs `fairmed audit`; returns (wall seconds, {phase: seconds}, audit.json or None when timing only)."""
    cmd = [str(binary), "audit", "--predictions", str(csv), "--label", "y", "--score", "p",
           "--groups", ",".join(ATTRS), "--threshold", repr(float(threshold)), "--ece-bins", str(ECE_BINS),
           "--bootstrap", str(bootstrap), "--seed", str(seed), "--resampling", resampling,
           "--out", str(out), "--overwrite", "--timings"]
    if margin:
        cmd += ["--margin", "margin"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"fairmed audit failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    phases = {m.group(1).strip(): float(m.group(2))
              for m in re.finditer(r"^(\S.*?)\s{2,}([\d.]+) s$", r.stderr, re.M)}
    return wall, phases, cmd


def compare(fm_values, peer_values):
    """Largest absolute difference over FairMed's keys (elementwise for lists); None where nothing is comparable."""
    diffs, compared, missing = [], 0, []
    for k, a in fm_values.items():
        if k not in peer_values:
            missing.append(k)
            continue
        b = peer_values[k]
        a_list, b_list = (a, b) if isinstance(a, list) else ([a], [b])
        for u, v in zip(a_list, b_list):
            if u is None or v is None:
                continue
            diffs.append(abs(float(u) - float(v)))
        compared += 1
    return {"max_abs_diff": max(diffs) if diffs else None, "compared": compared, "fairmed_keys": len(fm_values),
            "missing_in_peer": missing[:5]}


def ece_explained(audit, inv, peer_values=None):
    """How far FairMed's ECE is from each rule, and (given a peer's values) the peer from the linspace rule."""
    fm = {**_groups("ece")(audit), **_single("ece")(audit)}
    onto = {k: v for k, v in inv["rows_on_edge"].items() if k in inv["edges_put_lower"]}
    out = {"fairmed_vs_fairscope": compare(fm, inv["fairscope"])["max_abs_diff"],
           "fairmed_vs_floor_rule": compare(fm, inv["floor_rule"])["max_abs_diff"],
           "fairscope_vs_linspace_rule": compare(inv["fairscope"], inv["linspace_rule"])["max_abs_diff"],
           "groups_differing": sorted(k for k in fm if abs(fm[k] - inv["fairscope"][k]) > 1e-12),
           "rows_on_edges_put_lower": onto, "rows_on_edge": inv["rows_on_edge"],
           "edges_put_lower": inv["edges_put_lower"], "linspace_edges": inv["linspace_edges"]}
    if peer_values is not None:
        out["peer_vs_linspace_rule"] = compare(peer_values, inv["linspace_rule"])["max_abs_diff"]
    return out


# ------------------------------------------------------------------------------------------------------------
# Phase 1: agreement
# ------------------------------------------------------------------------------------------------------------

def agreement_phase(binary, work, rows, n_boot, log):
    csv = make_csv(work / "agree.csv", rows)
    log(f"agreement: {rows} rows → {csv}")
    runs, audits, interval_timings = {}, {}, []
    settings = {"main": dict(bootstrap=n_boot, seed=7, resampling="stratified", margin=True),
                "plain": dict(bootstrap=n_boot, seed=7, resampling="plain")}
    for seed in NOISE_SEEDS:  # the Monte-Carlo yardstick: FairMed against itself with other seeds
        settings[f"main_seed{seed}"] = dict(bootstrap=n_boot, seed=seed, resampling="stratified")
        settings[f"plain_seed{seed}"] = dict(bootstrap=n_boot, seed=seed, resampling="plain")
    for name, kw in settings.items():
        wall, phases, cmd = fairmed_run(binary, csv, work / f"fm-{name}", **kw)
        runs[name] = {"wall_s": wall, "command": cmd[1:]}
        audits[name] = json.loads((work / f"fm-{name}" / "audit.json").read_text())
        log(f"  fairmed {name}: {wall:.2f} s")
        if name == f"main_seed{NOISE_SEEDS[0]}":
            rows_resampled = audits[name]["settings"]["bootstrap"]["row_metrics"]
            interval_timings.append({"tool": "FairMed", "rows": rows, "replicates": n_boot, "seconds": wall,
                                     "what": "whole `fairmed audit --bootstrap` process, resampling within groups: every "
                                             "per-group metric and gap" + (", AUC/Brier/ECE by row resampling"
                                                                           if rows_resampled else ""),
                                     "load_1min": os.getloadavg()[0]})

    peer_out = {}
    for peer in PEERS:
        res = run_child("agree", peer, csv, work)
        peer_out[peer] = res["result"]
        log(f"  {peer} agree: {res['wall_s']:.1f} s")
    op = peer_out["fairmedfm"].pop("_operating_point")
    # FairMed at fairmedfm's operating point: t itself (≥ t), and halfway to the next score (= fairmedfm's p > t).
    t_gt = (op["t"] + op["next_score"]) / 2
    for name, thr in (("bestf1", t_gt), ("bestf1_ge", op["t"])):
        wall, _, cmd = fairmed_run(binary, csv, work / f"fm-{name}", threshold=thr)
        runs[name] = {"wall_s": wall, "command": cmd[1:]}
        audits[name] = json.loads((work / f"fm-{name}" / "audit.json").read_text())
    op["fairmed_threshold_for_gt"] = t_gt

    for peer, kind in (("fairlearn", "MetricFrame(n_boot=%d, ci_quantiles=[0.025, 0.975]): TPR, FPR, selection rate "
                                     "per group and their differences; plain row resampling"),
                       ("fmm-fairness-eval", "equal_opportunity_gap + demographic_parity_gap on the 24-group column, "
                                             "bootstrap_iters=%d (within-group resampling)")):
        load = os.getloadavg()[0]
        res = run_child("boot", peer, csv, work, n_boot)
        peer_out[peer].update(res["result"])
        interval_timings.append({"tool": peer, "rows": rows, "replicates": n_boot, "seconds": res["wall_s"],
                                 "compute_s": res["compute_s"], "what": kind % n_boot, "load_1min": load})
        log(f"  {peer} boot: {res['wall_s']:.1f} s")

    agreement, noise = {}, {}
    for q in QUANTITIES:
        run = q.get("run", "main")
        fm_values = _clean(q["fairmed"](audits[run]))
        if q["section"] == "ci":
            noise[q["key"]] = max(compare(fm_values, _clean(q["fairmed"](audits[f"{run}_seed{seed}"])))["max_abs_diff"]
                                  for seed in NOISE_SEEDS)
        for peer, spec in q["peers"].items():
            entry = dict(spec)
            if q["key"] not in peer_out[peer]:
                entry["error"] = "the peer's output lacked this quantity"
            else:
                entry.update(compare(fm_values, peer_out[peer][q["key"]]))
            if q["key"].startswith("bestf1."):
                ge = compare(_clean(q["fairmed"](audits["bestf1_ge"])), peer_out[peer][q["key"]])
                entry["max_abs_diff_vs_fairmed_at_t_ge"] = ge["max_abs_diff"]
            agreement.setdefault(peer, {})[q["key"]] = entry

    # Explanations where a peer whose definition agrees still differs: ECE on decile edges; fairmedfm's p > 0.5.
    inv = run_child("ece_edges", "fairscope", csv, work)["result"]
    ece = ece_explained(audits["main"], inv)
    for peer in ("fairscope", "fmm-fairness-eval"):
        for key in ("group.ece10", "single.ece10"):
            e = agreement[peer][key]
            if (e.get("max_abs_diff") or 0) > 1e-12:
                e["explained"] = {"kind": "ece_edges", **ece_explained(audits["main"], inv, peer_out[peer][key])}
    for key, e in agreement["fairmedfm"].items():
        if e["status"] == "same" and key.split(".")[1] in ("tpr", "tnr", "accuracy"):
            e["explained"] = {"kind": "strict_threshold", "rows_at_threshold": inv["rows_at_threshold"]}

    fm_main = audits["main"]
    data = {"rows": rows, "seed": SEED, "sha256": sha256(csv), "groups": len(fm_main["groups"]),
            "threshold": THRESHOLD, "ece_bins": ECE_BINS, "bootstrap_replicates": n_boot,
            "rows_with_p_equal_threshold": op["rows_at_0_5"]}
    return {"data": data, "fairmed_runs": runs, "agreement": agreement, "ci_noise_floor": noise,
            "fairmedfm_operating_point": op, "interval_timings": interval_timings, "ece_investigation": ece,
            "noise_seeds": NOISE_SEEDS,
            "fairmed_reference_group": fm_main["significance"]["reference_group"],
            "fairmed_mmd": fm_main["certainty"].get("mmd_testing")}


# ------------------------------------------------------------------------------------------------------------
# Phase 2: timing
# ------------------------------------------------------------------------------------------------------------

def best_of(fn):
    """Runs fn() (→ dict with 'wall_s') once, then again while cheap: best of 3 under 10 s, of 2 under 60 s."""
    first = fn()
    runs = [first]
    repeats = 3 if first["wall_s"] < 10 else 2 if first["wall_s"] < 60 else 1
    while len(runs) < repeats:
        runs.append(fn())
    best = min(runs, key=lambda r: r["wall_s"])
    best = dict(best)
    best["runs"] = len(runs)
    best["all_wall_s"] = [r["wall_s"] for r in runs]
    return best


def timing_phase(binary, work, sizes, log):
    timings, skipped = [], []
    csvs = {}
    for rows in sizes:
        csvs[rows] = make_csv(work / f"time-{rows}.csv", rows)
        log(f"timing: made {rows} rows")
    small, large = sizes

    def fairmed_timed(rows, bootstrap):
        def once():
            load = os.getloadavg()[0]
            out = work / f"fm-time-{rows}-{bootstrap}"
            wall, phases, cmd = fairmed_run(binary, csvs[rows], out, bootstrap=bootstrap)
            settings = json.loads((out / "audit.json").read_text())["settings"]["bootstrap"]
            return {"wall_s": wall, "read_s": phases.get("read CSV + groups"), "phases": phases, "load_1min": load,
                    "command": cmd[1:], "bootstrap_settings": settings}
        return once

    def peer_timed(peer, rows):
        def once():
            load = os.getloadavg()[0]
            r = run_child("time", peer, csvs[rows], work)
            r["load_1min"] = load
            return r
        return once

    for rows in sizes:
        r = best_of(fairmed_timed(rows, 0))
        timings.append({"tool": "FairMed", "rows": rows, "what": TIMED_WORK["FairMed"], **r})
        log(f"  FairMed {rows}: {r['wall_s']:.2f} s (best of {r['runs']})")
        r = best_of(fairmed_timed(rows, BOOT))
        rows_resampled = (r["bootstrap_settings"] or {}).get("row_metrics")
        what = TIMED_WORK["FairMed --bootstrap 1000"] + (
            "; AUC, Brier and ECE by row resampling" if rows_resampled else
            "; above 250,000 rows the count-based metrics and their gaps only (AUC takes DeLong's interval; Brier and ECE have none)")
        timings.append({"tool": "FairMed --bootstrap 1000", "rows": rows, "what": what, **r})
        log(f"  FairMed --bootstrap {rows}: {r['wall_s']:.2f} s")
    for peer in PEERS:
        r = best_of(peer_timed(peer, small))
        timings.append({"tool": peer, "rows": small, "what": TIMED_WORK[peer], **r})
        log(f"  {peer} {small}: {r['wall_s']:.1f} s (best of {r['runs']})")
        # A decision only, not a reported figure: the 1M-row run is skipped when 10× the 100k-row time passes the limit.
        if r["wall_s"] * (large / small) > PEER_LIMIT_S:
            skipped.append({"tool": peer, "rows": large, "reason": f"the {small:,}-row run took {r['wall_s']:.0f} s, so a "
                            f"{large:,}-row run would pass ~{PEER_LIMIT_S // 60} minutes; not run"})
            log(f"  {peer} {large}: skipped")
            continue
        r = best_of(peer_timed(peer, large))
        timings.append({"tool": peer, "rows": large, "what": TIMED_WORK[peer], **r})
        log(f"  {peer} {large}: {r['wall_s']:.1f} s (best of {r['runs']})")

    # FairMed's ECE against fairscope's and the two bin rules on the large file.
    fairmed_run(binary, csvs[large], work / "fm-ece", bootstrap=0)
    fm = json.loads((work / "fm-ece" / "audit.json").read_text())
    inv = run_child("ece_edges", "fairscope", csvs[large], work)["result"]
    investigation = {"rows": large, "rows_with_p_equal_threshold": inv["rows_at_threshold"], **ece_explained(fm, inv)}
    return {"timings": timings, "timing_skipped": skipped, "timing_sizes": list(sizes), "ece_edge_investigation": investigation,
            "timing_data_sha256": {str(k): sha256(v) for k, v in csvs.items()}}


# ------------------------------------------------------------------------------------------------------------
# Environment
# ------------------------------------------------------------------------------------------------------------

def check_versions():
    found, bad = {}, []
    for name, want in PINNED.items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            have = None
        found[name] = have
        if have != want:
            bad.append(f"{name}: pinned {want}, installed {have or 'none'}")
    if bad:
        sys.exit("compare_audit_peers.py: refusing to run, versions differ from the pinned ones (the 'differs' notes "
                 "were written from these versions' source):\n  " + "\n  ".join(bad) +
                 "\nInstall them with: pip install " + " ".join(f"{k}=={v}" for k, v in PINNED.items()))
    for name in RECORDED:
        found[name] = importlib.metadata.version(name)
    found["python"] = sys.version.split()[0]
    return found


def machine():
    models, cores = [], 0
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            models.append(line.split(":", 1)[1].strip())
        if line.startswith("processor"):
            cores += 1
    return {"cpu_model": models[0] if models else "unknown", "logical_cores": cores,
            "note": "a shared 2-core build machine: another engineer was compiling Swift during the runs, so timings "
                    "are noisy (treat them as ±30% or worse; the 1-minute load average before each run is recorded)"}


# ------------------------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------------------------

def fmt_diff(x):
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    return f"{x:.1e}" if x < 1e-3 else f"{x:.4f}"


def esc(text):
    """A Markdown table cell: pipes escaped."""
    return str(text).replace("|", "\\|")


def esc_star(marker):
    return marker.replace("*", "\\*")


def fmt_s(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def render(doc):
    L = []
    ag = doc["agreement_phase"]
    tm = doc.get("timing_phase")
    L += ["# FairMed's audit next to the tools users would otherwise pick", "",
          "Part of [FairMed](../README.md)'s documentation. Generated by `Scripts/peers/compare_audit_peers.py` from "
          "[`docs/bench/2026-12-05-audit-peers.json`](bench/2026-12-05-audit-peers.json); do not edit by hand "
          "(`--render-only` re-renders it from the JSON).", "",
          "Tools: " + ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if k in PINNED or k == "fairmed") +
          f"; FairMed {doc['fairmed']['version']} (binary SHA-256 `{doc['fairmed']['sha256'][:16]}…`). Machine: "
          f"{doc['machine']['cpu_model']}, {doc['machine']['logical_cores']} logical cores; {doc['machine']['note']}.", "",
          f"Data: `Scripts/bench/audit_peer.py make` (y, p, margin, sex, age_group, site; 2×3×4 = 24 intersectional "
          f"groups, scores with 6 decimals), {ag['data']['rows']:,} rows, seed {ag['data']['seed']}, for the agreement; "
          f"threshold {ag['data']['threshold']} for every tool (predicted positive iff p ≥ 0.5; fairmedfm applies p > 0.5, "
          f"see \\* below); ECE with {ag['data']['ece_bins']} bins.", ""]

    L += ["## What each computes", "",
          "✓ computed by the tool's own API or CLI; partial: see the words; ✗ not there. Every ✓ and partial for a peer "
          "was read in the installed package's source (the JSON names the file) or run here.", "",
          "| Capability | " + " | ".join(TOOLS) + " |", "|---" * (len(TOOLS) + 1) + "|"]
    for cap in doc["capabilities"]:
        cells = []
        for c in cap["cells"]:
            cells.append(esc(c["mark"] + (f": {c['text']}" if c["text"] else "")))
        L.append(f"| {esc(cap['capability'])} | " + " | ".join(cells) + " |")
    L.append("")

    L += ["## Where they agree", "",
          "Largest absolute difference to FairMed over all groups (or the one value), on the same "
          f"{ag['data']['rows']:,}-row file and threshold; `—`: the tool does not compute it; `differs`: its definition "
          "is not FairMed's (reason below the table; the number after it is how far apart the two values are on these "
          "data). Differences below 1e-13 are floating-point rounding (summation order).", ""]
    notes = []

    explained = {}  # kind → (marker, text)

    def explain(e):
        kind = e["kind"]
        if kind not in explained:
            if kind == "ece_edges":
                onto = ", ".join(f"{v} at p = {k}" for k, v in e["rows_on_edges_put_lower"].items() if v) or "none"
                text = (f"Same definition (10 equal-width bins on [0, 1], each closed on the left), but the peer builds its "
                        f"edges with np.linspace(0, 1, 11), which gives "
                        f"{', '.join(e['linspace_edges'][round(float(k) * ECE_BINS)] for k in e['edges_put_lower'])}: "
                        f"a score of exactly {', '.join(e['edges_put_lower'])} falls in the bin below, while FairMed's "
                        f"bin min(⌊p·10⌋, 9) puts k/10 in bin k for every k. Rows on those edges here: {onto}. "
                        f"Recomputed in NumPy, FairMed equals its rule to {fmt_diff(e['fairmed_vs_floor_rule'])} and the "
                        f"peer equals the linspace rule to {fmt_diff(e.get('peer_vs_linspace_rule'))}, so the difference is "
                        "those rows only (it shows where the two bins' calibration errors have opposite signs).")
            else:
                text = (f"fairmedfm predicts positive iff p > 0.5, FairMed (and the y_pred given to fairlearn and "
                        f"fmm-fairness-eval) iff p ≥ 0.5; {e['rows_at_threshold']} of the "
                        f"{ag['data']['rows']:,} scores equal 0.5, so they agree here; they would not on a file with "
                        "scores equal to the threshold.")
            explained[kind] = ("*" * (len(explained) + 1), text)
        return explained[kind][0]

    def cell(entry):
        if entry is None:
            return "—"
        if entry.get("error"):
            return "error: " + entry["error"]
        if entry["status"] == "differs":
            if entry["why"] not in notes:
                notes.append(entry["why"])
            n = notes.index(entry["why"]) + 1
            return f"differs [{n}] ({fmt_diff(entry.get('max_abs_diff'))})"
        mark = explain(entry["explained"]) if entry.get("explained") else ""
        return fmt_diff(entry.get("max_abs_diff")) + (f" {esc_star(mark)}" if mark else "")

    for section, title in SECTIONS.items():
        qs = [q for q in doc["quantities"] if q["section"] == section]
        if section == "ci":
            continue
        L += [f"**{title}**", "", "| Quantity | " + " | ".join(PEERS) + " |", "|---" * (len(PEERS) + 1) + "|"]
        for q in qs:
            L.append(f"| {esc(q['label'])} | " + " | ".join(esc(cell(ag["agreement"].get(p, {}).get(q["key"]))) for p in PEERS)
                     + " |")
        L.append("")
    L += ["Reasons:", ""] + [f"{i}. {n}" for i, n in enumerate(notes, 1)] + [""]
    L += [f"{esc_star(m)} {t}" for m, t in explained.values()] + [""]
    L += ["<details><summary>How each peer's numbers were obtained (its API, per quantity)</summary>", ""]
    labels = {q["key"]: q["label"] for q in doc["quantities"]}
    for p in PEERS:
        L += [f"**{p}**", ""]
        for key, e in ag["agreement"].get(p, {}).items():
            if e.get("how"):
                L.append(f"- {labels[key]} ({key}): {e['how']}")
        L.append("")
    L += ["</details>", ""]
    op = ag["fairmedfm_operating_point"]
    L += [f"fairmedfm's best-F1 threshold here is t = {op['t']}; it is chosen as the best F1 of p ≥ t "
          f"(precision_recall_curve) but applied as p > t, which drops the {op['rows_at_t']} row(s) at p = t "
          f"({op['positives_at_t']} positive): F1 {op['f1_at_ge_t']:.6f} at p ≥ t, {op['f1_at_gt_t']:.6f} at p > t. "
          "FairMed run at --threshold t (p ≥ t) differs from fairmedfm's reported values by "
          + ", ".join(f"{fmt_diff(ag['agreement']['fairmedfm'][q['key']].get('max_abs_diff_vs_fairmed_at_t_ge'))} ({q['label']})"
                      for q in doc["quantities"] if q["section"] == "bestf1") + "; run halfway to the next score it agrees "
          "exactly (the table).", ""]
    L += ["Peers' own gaps computed by crossing: fairscope and fmm-fairness-eval audit one attribute column at a time, "
          "so their 24-group numbers above come from a `sex|age_group|site` column built before calling them; their "
          "definitions agree with FairMed's once given the same groups. fairscope's ΔTPR and DPR are the max/min of its "
          "two-group functions over all 276 pairs.", ""]

    L += [f"**{SECTIONS['ci'].replace('1,000', format(ag['data']['bootstrap_replicates'], ','))}**", "",
          "| Quantity | Peer | Largest difference to FairMed (seed 7) | FairMed seed 7 vs seeds "
          f"{ag['noise_seeds'][0]}–{ag['noise_seeds'][-1]}, largest |", "|---|---|---|---|"]
    for q in doc["quantities"]:
        if q["section"] != "ci":
            continue
        for p in PEERS:
            e = ag["agreement"].get(p, {}).get(q["key"])
            if e:
                L.append(f"| {esc(q['label'])} | {p} | {fmt_diff(e.get('max_abs_diff'))} | "
                         f"{fmt_diff(ag['ci_noise_floor'].get(q['key']))} |")
    L += ["", "fairlearn resamples rows over the whole file (compared with FairMed `--resampling plain`); fmm-fairness-eval "
          "resamples within each group (compared with FairMed's default, stratified). A difference no larger than "
          "FairMed's own between seeds means the intervals agree within Monte-Carlo error. fairmedfm has no "
          "intervals; fairscope has analytic DeLong intervals (compared above), no bootstrap intervals of group metrics.", ""]

    if tm:
        L += ["## Time", "",
              "The per-group audit without bootstrap intervals, 24 intersectional groups, whole process (start-up, "
              "CSV read, audit; peers in a fresh Python process), best of N runs. What each run computes differs "
              "(the JSON says exactly); the ratio is the tool's seconds over FairMed's at the same rows. "
              + doc["machine"]["note"][0].upper() + doc["machine"]["note"][1:] + ".", "",
              "| Tool | Rows | Seconds | of which reading the CSV | Runs | Ratio to FairMed without intervals | Load (1 min) |",
              "|---|---|---|---|---|---|---|"]
        base = {t["rows"]: t["wall_s"] for t in tm["timings"] if t["tool"] == "FairMed"}
        for t in sorted(tm["timings"], key=lambda t: (t["rows"], t["wall_s"])):
            ratio = t["wall_s"] / base[t["rows"]] if t["rows"] in base else None
            read = t.get("read_s")
            L.append(f"| {t['tool']} | {t['rows']:,} | {fmt_s(t['wall_s'])} | {fmt_s(read) if read is not None else '—'} | "
                     f"{t['runs']} | {ratio:.1f}× | {t['load_1min']:.1f} |")
        for s in tm["timing_skipped"]:
            L.append(f"| {s['tool']} | {s['rows']:,} | not run: {s['reason']} | | | | |")
        whats = {}
        for t in tm["timings"]:
            whats.setdefault(t["tool"], []).append((t["rows"], t["what"]))
        L += ["", "What each timed run computes:", ""]
        for tool, items in whats.items():
            texts = sorted({w for _, w in items})
            if len(texts) == 1:
                L.append(f"- **{tool}**: {texts[0]}")
            else:
                L += [f"- **{tool}**, {r:,} rows: {w}" for r, w in sorted(items)]
        L.append("")
        L += [f"Bootstrap intervals, {ag['data']['rows']:,} rows, {ag['data']['bootstrap_replicates']:,} replicates "
              "(measured in the agreement phase):", "",
              "| Tool | Seconds (whole process) | What |", "|---|---|---|"]
        for t in ag["interval_timings"]:
            L.append(f"| {t['tool']} | {fmt_s(t['seconds'])} | {esc(t['what'])} |")
        L.append("")

    L += ["## What only FairMed has", "",
          "Capabilities above that none of the four peers has, even in part:", ""]
    for cap in doc["capabilities"]:
        if cap["cells"][0]["mark"] != N and all(c["mark"] == N for c in cap["cells"][1:]):
            L.append(f"- {cap['capability']}: {cap['cells'][0]['text']}")
    L += ["", "Also FairMed's alone among the five: NPV per group; tests of each group's TPR against a reference group; "
          "bootstrap intervals for every per-group metric with resampling within groups (fmm-fairness-eval resamples "
          "within groups for its three gaps only; fairlearn resamples rows over the whole file).", "",
          "What the peers have that FairMed does not:", ""]
    L += [f"- **{k}**: {v}" for k, v in doc["peer_only"].items()] + [""]

    inv = tm["ece_edge_investigation"] if tm else None
    if inv:
        onto = ", ".join(f"{v} at p = {k}" for k, v in inv["rows_on_edges_put_lower"].items() if v) or "none"
        L += ["## ECE on the large file", "",
              f"On the {inv['rows']:,}-row timing file, FairMed's 24 group ECEs (and the single-attribute ones) against "
              f"fairscope's: largest difference {fmt_diff(inv['fairmed_vs_fairscope'])}, in "
              f"{len(inv['groups_differing'])} groups ({', '.join(inv['groups_differing']) or 'none'}); rows with a score "
              f"on an edge that np.linspace moves: {onto}. FairMed against its own rule recomputed in NumPy: "
              f"{fmt_diff(inv['fairmed_vs_floor_rule'])}; fairscope against the linspace rule: "
              f"{fmt_diff(inv['fairscope_vs_linspace_rule'])}. Scores equal to the 0.5 threshold in that file: "
              f"{inv['rows_with_p_equal_threshold']} (where fairmedfm's p > 0.5 and FairMed's p ≥ 0.5 part).", ""]

    L += ["## How this was generated", "", "```sh"] + doc["commands"] + ["```", "",
          "The script checks the pinned versions first and refuses other versions. It writes "
          "`docs/bench/2026-12-05-audit-peers.json` and this page.", ""]
    return "\n".join(L)


# ------------------------------------------------------------------------------------------------------------

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        task, peer, csv, out, *extra = sys.argv[2:]
        return child_main(task, peer, csv, out, extra)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fairmed", default=".build/release/fairmed", help="fairmed binary (relative to the repository root)")
    ap.add_argument("--render-only", action="store_true", help="re-render the Markdown from the JSON; run nothing")
    ap.add_argument("--phases", default="agreement,timing", help="comma-separated: agreement, timing")
    ap.add_argument("--agree-rows", type=int, default=AGREE_ROWS)
    ap.add_argument("--timing-rows", type=int, nargs=2, default=[FALLBACK_ROWS, TIMING_ROWS], metavar=("SMALL", "LARGE"))
    ap.add_argument("--bootstrap", type=int, default=BOOT, help="replicates of the interval comparison")
    ap.add_argument("--json", default=str(JSON_OUT))
    ap.add_argument("--md", default=str(MD_OUT))
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    json_path, md_path = pathlib.Path(args.json), pathlib.Path(args.md)

    if args.render_only:
        md_path.write_text(render(json.loads(json_path.read_text())))
        print(f"wrote {md_path}")
        return

    versions = check_versions()
    binary = pathlib.Path(args.fairmed)
    if not binary.is_absolute():
        binary = ROOT / binary
    if not binary.exists():
        sys.exit(f"compare_audit_peers.py: no fairmed binary at {binary} (build with `swift build -c release` or pass --fairmed)")
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    doc = json.loads(json_path.read_text()) if json_path.exists() else {}
    command = "python3 " + " ".join(shlex.quote(a) for a in [str(pathlib.Path(sys.argv[0]))] + sys.argv[1:])
    doc.update({"generated_by": "Scripts/peers/compare_audit_peers.py", "date_utc": dt.datetime.now(dt.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ"), "machine": machine(), "versions": versions,
                "fairmed": {"binary": str(args.fairmed), "sha256": sha256(binary), "version": version},
                "quantities": [{k: q[k] for k in ("key", "section", "label")} for q in QUANTITIES],
                "capabilities": [{"capability": name, "cells": [{"tool": t, "mark": m, "text": txt, "src": src}
                                                                for t, (m, txt, src) in zip(TOOLS, cells)]}
                                 for name, cells in CAPABILITIES],
                "peer_only": PEER_ONLY})
    doc.setdefault("commands_by_phase", {})
    work = pathlib.Path(tempfile.mkdtemp(prefix="audit-peers-"))
    log = lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", flush=True)  # noqa: E731
    try:
        if "agreement" in phases:
            doc["agreement_phase"] = agreement_phase(binary, work, args.agree_rows, args.bootstrap, log)
            doc["commands_by_phase"]["agreement"] = command
        if "timing" in phases:
            doc["timing_phase"] = timing_phase(binary, work, args.timing_rows, log)
            doc["commands_by_phase"]["timing"] = command
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    doc["commands"] = sorted(set(doc["commands_by_phase"].values()))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(_clean(doc), indent=1, ensure_ascii=False) + "\n")
    md_path.write_text(render(doc))
    log(f"wrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
