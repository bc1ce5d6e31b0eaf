#!/usr/bin/env python3
"""Renders the result tables of docs/results.md (once the README's) from committed study results
(standard library only); Scripts/studies/readme_results.sh calls it and writes the page.

  readme_tables.py goal RESULTS.csv ERM_VARIANT CMAC_VARIANT LAMBDA [NAME]
      ERM vs one CMAC-MMD setting: test set × threshold (validation first), mean ± sd over seeds.
  readme_tables.py methods RESULTS.csv SPLIT [VARIANT [ZERO-SHOT.csv]]
      every method at the validation threshold (and ΔTPR / worst-group TPR at 0.5 beside it); with a
      study's zero-shot.csv, the pretrained model before fine-tuning as the first row.
  readme_tables.py ablation NAME=RESULTS.csv ...
      every CMAC-MMD setting against ERM with the same sampler, one column per benchmark.
  readme_tables.py paired COMPARISONS.csv SPLIT
      paired differences to ERM with 95 % intervals, validation threshold.
  readme_tables.py noharm [--first=LABEL] NAME=RESULTS.csv[@CMAC_VARIANT@ERM_VARIANT] ...
      the do-no-harm goal's checks per benchmark, CMAC-MMD with λ chosen on validation vs ERM
      (means over seeds, validation threshold), and the λ each seed chose; in a study with
      variants, the CMAC-MMD variant and its ERM baseline are named after @; LABEL heads the
      first column (default "benchmark").
  readme_tables.py noharm-study STUDY.json RESULTS.csv
      the same checks for every CMAC-MMD variant of a study against its baseline variant (a study
      whose λ is chosen on validation); Scripts/studies/run writes it as such a study's goal.md.
  readme_tables.py regime LABEL=RESULTS.csv[@VARIANT] ...
      ERM → CMAC-MMD (λ on validation) per benchmark and training regime (from scratch; fine-tuning
      a pretrained CLIP in full or with LoRA): means over seeds, internal test, validation threshold.
  readme_tables.py zeroshot LABEL=ZERO-SHOT.csv ...
      the pretrained model before fine-tuning (a study's zero-shot.csv), same columns.
  readme_tables.py mechanism MARGINS.csv
      the worst subgroup's positives' certainty margins (Scripts/studies/margin_mechanism.py's CSV):
      mean, uncertainty-zone share and share below 0, before fine-tuning, after ERM, after CMAC-MMD.
"""
import csv, sys, statistics as st

# The methods with a strength (FairMed's MethodName.takesLambda): an empty λ means chosen on validation.
TAKES_LAMBDA = {"cmac-mmd", "meanmatch", "dann", "cdann", "fairclip", "groupdro"}

def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))

def ms(vals):
    v = [float(x) for x in vals if x not in ("", None)]
    if not v:
        return "–"
    return f"{st.mean(v):.3f} ± {st.stdev(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}"

def select(rs, method, variant, lam, split, threshold):
    return [r for r in rs if r["method"] == method and r["variant"] == variant and r["lambda"] == lam
            and r["split"] == split and r["threshold"] == threshold]

def goal(path, erm_v, cmac_v, lam, name=None):
    rs = rows(path)
    print("| test set | threshold | method | AUC | ΔTPR | worst-group TPR | overall TPR |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for split in ["internal", "external"]:
        for thr, label in [("validation", "validation (Youden)"), ("0.5", "0.5")]:
            for method, v, l, shown in [("erm", erm_v, "", "ERM"), ("cmac-mmd", cmac_v, lam, name or "CMAC-MMD")]:
                sel = select(rs, method, v, l, split, thr)
                if sel:
                    print(f"| {split} | {label} | {shown} | {ms(r['auc'] for r in sel)} | {ms(r['delta_tpr'] for r in sel)} | "
                          f"{ms(r['worst_group_tpr'] for r in sel)} | {ms(r['tpr'] for r in sel)} |")

def methods(path, split, variant="", zero_shot=""):
    rs = rows(path)
    order = []
    for r in rs:
        k = (r["method"], r["lambda"])
        if k not in order:
            order.append(k)
    print("| method | λ | AUC | ES-AUC | ΔTPR | worst-group TPR | overall TPR | DEOdds | DPD | ΔTPR at 0.5 | worst-group TPR at 0.5 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    if zero_shot:  # the pretrained model before fine-tuning (its CSV has no ES-AUC, DEOdds or DPD)
        z = [r for r in rows(zero_shot) if r["split"] == split]
        v = [r for r in z if r["threshold"] == "validation"]
        h = [r for r in z if r["threshold"] == "0.5"]
        print(f"| zero-shot (no fine-tuning) | – | {ms(r['auc'] for r in v)} | – | {ms(r['delta_tpr'] for r in v)} | "
              f"{ms(r['worst_group_tpr'] for r in v)} | {ms(r['tpr'] for r in v)} | – | – | "
              f"{ms(r['delta_tpr'] for r in h)} | {ms(r['worst_group_tpr'] for r in h)} |")
    for m, l in order:
        v = select(rs, m, variant, l, split, "validation")
        h = select(rs, m, variant, l, split, "0.5")
        if not v:
            continue
        shown = l or ("val." if m in TAKES_LAMBDA else "–")
        print(f"| {m} | {shown} | {ms(r['auc'] for r in v)} | {ms(r['es_auc'] for r in v)} | {ms(r['delta_tpr'] for r in v)} | "
              f"{ms(r['worst_group_tpr'] for r in v)} | {ms(r['tpr'] for r in v)} | {ms(r['deodds'] for r in v)} | {ms(r['dpd'] for r in v)} | "
              f"{ms(r['delta_tpr'] for r in h)} | {ms(r['worst_group_tpr'] for r in h)} |")

def paired(path, split, variant=""):
    # comparisons.csv names a variant's rows "method (variant)[ (λ on val.)]".
    tag = f" ({variant})"
    rs = [r for r in rows(path) if r["split"] == split and r["threshold"] == "validation"
          and ((tag in r["method"]) if variant else "(" not in r["method"].replace("(λ on val.)", ""))]
    by = {}
    for r in rs:
        by.setdefault(r["method"], {})[r["metric"]] = r
    def cell(r):
        if not r or r["difference"] == "":
            return "–"
        mark = " (contains 0)" if r["contains_zero"] == "1" else ""
        return f"{float(r['difference']):+.3f} [{float(r['lower']):+.3f}, {float(r['upper']):+.3f}]{mark}"
    print("| method | ΔTPR − ERM | worst-group TPR − ERM | AUC − ERM |")
    print("| --- | --- | --- | --- |")
    for m, d in by.items():
        print(f"| {m} | {cell(d.get('delta_tpr'))} | {cell(d.get('worst_group_tpr'))} | {cell(d.get('auc'))} |")

def ablation(*paths):
    """Every CMAC-MMD setting against ERM with the same sampler, one column per benchmark:
    worst-group TPR change, relative ΔTPR change, AUC change (validation threshold, internal)."""
    names, tables = [], []
    for p in paths:
        name, path = p.split("=", 1)
        rs = [r for r in rows(path) if r["split"] == "internal" and r["threshold"] == "validation"]
        names.append(name)
        tables.append(rs)
    settings = []
    for rs in tables:
        for r in rs:
            k = (r["variant"], r["lambda"])
            if r["method"] == "cmac-mmd" and k not in settings:
                settings.append(k)
    def mean(v):
        v = [float(x) for x in v if x not in ("", None)]
        return sum(v) / len(v) if v else None
    print("| setting (sampler-comparison-conditioning) | λ | " + " | ".join(names) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " |")
    for v, l in settings:
        cells = []
        base = v.split("-")[0]
        for rs in tables:
            m = [r for r in rs if r["method"] == "cmac-mmd" and r["variant"] == v and r["lambda"] == l]
            e = [r for r in rs if r["method"] == "erm" and r["variant"] == base]
            if not m or not e:
                cells.append("–"); continue
            dw = mean(r["worst_group_tpr"] for r in m) - mean(r["worst_group_tpr"] for r in e)
            eg = mean(r["delta_tpr"] for r in e)
            rg = (mean(r["delta_tpr"] for r in m) - eg) / eg if eg else 0
            da = mean(r["auc"] for r in m) - mean(r["auc"] for r in e)
            cells.append(f"{dw:+.3f} / {rg:+.0%} / {da:+.3f}")
        print(f"| {v} | {l} | " + " | ".join(cells) + " |")

def noharm(*paths, first="benchmark"):
    """The do-no-harm goal (issue 26) per benchmark: AUC ≥ ERM − 0.01 internal and external,
    overall TPR ≥ ERM − 0.02; where ERM's ΔTPR ≥ 0.10: worst-group TPR +0.05, ΔTPR −25 %, every
    seed's worst group ≥ its ERM twin's, external ΔTPR ≤ ERM's + 0.02."""
    def mean(v):
        v = [float(x) for x in v if x not in ("", None)]
        return sum(v) / len(v) if v else None
    print(f"| {first} | λ chosen (seeds) | AUC | external AUC | overall TPR | ΔTPR | worst-group TPR | every seed's worst ≥ ERM's | external ΔTPR | goal |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for p in paths:
        # name=results.csv, or name=results.csv@CMAC_VARIANT@ERM_VARIANT for a study with variants
        name, path = p.split("=", 1)
        path, cv, ev = (path.split("@") + ["", ""])[:3]
        rs = [r for r in rows(path) if r["threshold"] == "validation"]
        def pick(method, split):
            v = ev if method == "erm" else cv
            return sorted((r for r in rs if r["method"] == method and r["split"] == split and r["variant"] == v and
                           (method == "erm" or r["lambda"] == "")), key=lambda r: int(r["seed"]))
        e, c = pick("erm", "internal"), pick("cmac-mmd", "internal")
        ee, ce = pick("erm", "external"), pick("cmac-mmd", "external")
        if not e or not c:
            continue
        m = lambda rs_, k: mean(r[k] for r in rs_)
        checks = {}
        auc = (m(e, "auc"), m(c, "auc")); checks["AUC"] = auc[1] >= auc[0] - 0.01
        ext = (m(ee, "auc"), m(ce, "auc")) if ee and ce else (None, None)
        if ext[0] is not None: checks["external AUC"] = ext[1] >= ext[0] - 0.01
        tpr = (m(e, "tpr"), m(c, "tpr")); checks["overall TPR"] = tpr[1] >= tpr[0] - 0.02
        gap = (m(e, "delta_tpr"), m(c, "delta_tpr"))
        worst = (m(e, "worst_group_tpr"), m(c, "worst_group_tpr"))
        seeds_ok = all(float(b["worst_group_tpr"]) >= float(a["worst_group_tpr"]) for a, b in zip(e, c))
        egap = (m(ee, "delta_tpr"), m(ce, "delta_tpr")) if ee and ce else (None, None)
        if gap[0] >= 0.10:
            checks["worst group +0.05"] = worst[1] >= worst[0] + 0.05
            checks["ΔTPR −25 %"] = gap[1] <= gap[0] * 0.75
            checks["every seed"] = seeds_ok
            if egap[0] is not None: checks["external ΔTPR"] = egap[1] <= egap[0] + 0.02
        f = lambda pr: f"{pr[0]:.3f} → {pr[1]:.3f}" if None not in pr else "–"
        rel = f" ({(gap[1] - gap[0]) / gap[0]:+.0%})" if gap[0] else ""
        chosen = ", ".join(r["selected_lambda"] or "?" for r in c)
        print(f"| {name} | {chosen} | {f(auc)} | {f(ext)} | {f(tpr)} | {f(gap)}{rel} | {f(worst)} | "
              f"{'yes' if seeds_ok else 'no'} | {f(egap)} | "
              f"{'met' if all(checks.values()) else 'not met: ' + ', '.join(k for k, ok in checks.items() if not ok)} |")

def noharm_study(study, path):
    """noharm for each CMAC-MMD variant of STUDY.json against its baseline variant."""
    import json
    with open(study) as f:
        variants = json.load(f).get("variants", [])
    entries = [f"{v['name']}={path}@{v['name']}@{v.get('baseline', '')}" for v in variants
               if "cmac-mmd" in v.get("methods", ["cmac-mmd"])]
    noharm(*(entries or [f"default={path}"]), first="setting")

def mean_of(v):
    v = [float(x) for x in v if x not in ("", None)]
    return sum(v) / len(v) if v else None

def regime(*entries):
    """ERM → CMAC-MMD (λ on validation) per benchmark and regime, with the verdict: a lift at no
    accuracy cost needs worst-group TPR +0.05 or more with AUC ≥ ERM − 0.01 and overall TPR ≥ ERM − 0.02."""
    print("| benchmark, regime | seeds | λ chosen by seed | AUC | worst-group TPR | overall TPR | ΔTPR | worst group lifted at no accuracy cost? |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for entry in entries:
        label, spec = entry.split("=", 1)
        path, _, variant = spec.partition("@")
        rs = [r for r in rows(path) if r["split"] == "internal" and r["threshold"] == "validation"
              and r["variant"] == variant]
        e = sorted((r for r in rs if r["method"] == "erm"), key=lambda r: int(r["seed"]))
        c = sorted((r for r in rs if r["method"] == "cmac-mmd" and r["lambda"] == ""), key=lambda r: int(r["seed"]))
        if not e or not c:
            continue
        m = lambda rs_, k: mean_of(r[k] for r in rs_)
        auc, worst, tpr, gap = [(m(e, k), m(c, k)) for k in ("auc", "worst_group_tpr", "tpr", "delta_tpr")]
        lifted = worst[1] - worst[0] >= 0.05
        harmless = auc[1] >= auc[0] - 0.01 and tpr[1] >= tpr[0] - 0.02
        verdict = ("**yes**" if lifted and harmless else "lifted, at an accuracy cost" if lifted
                   else "no lift" + ("" if harmless else ", and an accuracy cost"))
        lams = ", ".join(f"{float(r['selected_lambda']):g}" if r.get("selected_lambda") else "–" for r in c)
        if all(r.get("selected_lambda") not in ("", None) and float(r["selected_lambda"]) == 0 for r in c):
            verdict = "fell back to λ 0 in every seed (ERM's model)"
        rel = f" ({(gap[1] - gap[0]) / gap[0]:+.0%})" if gap[0] else ""
        print(f"| {label} | {len(c)} | {lams} | {auc[0]:.3f} → {auc[1]:.3f} | {worst[0]:.3f} → {worst[1]:.3f} | "
              f"{tpr[0]:.3f} → {tpr[1]:.3f} | {gap[0]:.3f} → {gap[1]:.3f}{rel} | {verdict} |")

def zeroshot(*entries):
    print("| benchmark | seeds | AUC | worst-group TPR | overall TPR | ΔTPR |")
    print("| --- | --- | --- | --- | --- | --- |")
    for entry in entries:
        label, path = entry.split("=", 1)
        rs = [r for r in rows(path) if r["split"] == "internal" and r["threshold"] == "validation"]
        if rs:
            print(f"| {label} | {len(rs)} | {ms(r['auc'] for r in rs)} | {ms(r['worst_group_tpr'] for r in rs)} | "
                  f"{ms(r['tpr'] for r in rs)} | {ms(r['delta_tpr'] for r in rs)} |")

def mechanism(path):
    rs = rows(path)
    print("| model | positives of | n per seed | mean margin | share in the uncertainty zone | share with s < 0 |")
    print("| --- | --- | --- | --- | --- | --- |")
    order = []
    for r in rs:
        if (r["model"], r["positives_of"]) not in order:
            order.append((r["model"], r["positives_of"]))
    for model, who in order:
        sel = [r for r in rs if r["model"] == model and r["positives_of"] == who]
        print(f"| {model} | {who.replace('|', chr(92) + '|')} | {sel[0]['n']} | {ms(r['mean_margin'] for r in sel)} | "
              f"{ms(r['uncertainty_zone_share'] for r in sel)} | {ms(r['negative_margin_share'] for r in sel)} |")

if __name__ == "__main__":
    cmd = sys.argv[1]
    {"goal": lambda a: goal(*a), "methods": lambda a: methods(*a), "paired": lambda a: paired(*a), "ablation": lambda a: ablation(*a),
     "noharm": lambda a: noharm(*a[1:], first=a[0].split("=", 1)[1]) if a and a[0].startswith("--first=") else noharm(*a),
     "noharm-study": lambda a: noharm_study(*a), "regime": lambda a: regime(*a), "zeroshot": lambda a: zeroshot(*a),
     "mechanism": lambda a: mechanism(*a)}[cmd](sys.argv[2:])
