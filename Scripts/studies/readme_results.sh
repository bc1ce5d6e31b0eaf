#!/usr/bin/env bash
# Regenerates the result tables of docs/results.md (moved there from the README; the README keeps a
# short summary linking to it) from the committed Studies/results/*/ files:
#   Scripts/studies/readme_results.sh > /tmp/block.md    (or --write: replace the block between the
#   `<!-- results:begin` and `<!-- results:end -->` markers in docs/results.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
t=Scripts/studies/readme_tables.py
r=Studies/results
block() {
  echo "**Two regimes** — CMAC-MMD with \`fairmed train\`'s default (λ chosen on validation) against ERM, trained"
  echo "**from scratch** (\`Studies/selection-NAME.json\`, 3 seeds) and **fine-tuning a pretrained CLIP**, the paper's"
  echo "regime (\`Studies/pretrained-NAME.json\`, 5 seeds; a tiny CLIP that FairMed pretrains on 50,000 captioned"
  echo "synthetic images of the modality, docs/training.md; \`Studies/pretrained-small-NAME.json\`: the larger \`small\`"
  echo "preset pretrained the same way, 3 seeds), in full and with LoRA (rank 8); internal test, validation"
  echo "threshold, means over seeds:"
  echo
  args=()
  for b in derm:"1 subtle lesions" fundus:"2 fundus" underdiagnosis:"3 under-diagnosis" chest:"4 chest"; do
    name=${b%%:*}; title=${b#*:}
    [ -f $r/selection-$name/results.csv ] && args+=("$title, from scratch=$r/selection-$name/results.csv")
    if [ -f $r/pretrained-$name/results.csv ]; then
      if grep -q "^erm,full," $r/pretrained-$name/results.csv; then
        args+=("$title, pretrained, full fine-tuning=$r/pretrained-$name/results.csv@full")
        grep -q "^erm,lora," $r/pretrained-$name/results.csv && args+=("$title, pretrained, LoRA=$r/pretrained-$name/results.csv@lora")
      else
        args+=("$title, pretrained, full fine-tuning=$r/pretrained-$name/results.csv")
      fi
    fi
    [ -f $r/pretrained-$name-lora/results.csv ] && args+=("$title, pretrained, LoRA=$r/pretrained-$name-lora/results.csv")
    grep -qs "^cmac-mmd," $r/pretrained-small-$name/results.csv &&  # the ERM-only ones give zero-shot rows
      args+=("$title, pretrained \`small\` CLIP, full fine-tuning=$r/pretrained-small-$name/results.csv")
  done
  python3 $t regime "${args[@]}"
  echo
  args=()
  for b in derm:"1 subtle lesions" fundus:"2 fundus" underdiagnosis:"3 under-diagnosis" chest:"4 chest"; do
    name=${b%%:*}; title=${b#*:}
    [ -f $r/pretrained-$name/zero-shot.csv ] && args+=("$title=$r/pretrained-$name/zero-shot.csv")
    [ -f $r/pretrained-small-$name/zero-shot.csv ] && args+=("$title, \`small\` CLIP=$r/pretrained-small-$name/zero-shot.csv")
  done
  if [ ${#args[@]} -gt 0 ]; then
    echo "**The pretrained model before fine-tuning** (zero-shot with the class prompts; threshold: Youden's J on each"
    echo "seed's validation split; internal test):"
    echo
    python3 $t zeroshot "${args[@]}"
    echo
  fi
  for b in derm:"benchmark 1" fundus:"benchmark 2" underdiagnosis:"benchmark 3" chest:"benchmark 4" \
           small-derm:"benchmark 1, the \`small\` CLIP"; do
    name=${b%%:*}; title=${b#*:}
    [ -f $r/pretrained-$name/margins.csv ] || continue
    echo "**Where the certainty gap is born, $title** (\`Studies/results/pretrained-$name/margins.csv\` and \`margins.svg\`,"
    echo "\`Scripts/studies/margin_mechanism.py\`; full fine-tuning, internal test, positives only, means ± sd over"
    echo "seeds): the certainty margin s of the worst subgroup's positives against every other subgroup's, before"
    echo "fine-tuning, after ERM and after CMAC-MMD; the uncertainty zone is |s| < 0.05, and s < 0 ranks the wrong"
    echo "class first."
    echo
    python3 $t mechanism $r/pretrained-$name/margins.csv
    echo
  done
  for b in derm:"benchmark 1" fundus:"benchmark 2" underdiagnosis:"benchmark 3" chest:"benchmark 4" \
           fundus-lora:"benchmark 2 with LoRA" underdiagnosis-lora:"benchmark 3 with LoRA" chest-lora:"benchmark 4 with LoRA" \
           small-derm:"benchmark 1 with the \`small\` CLIP"; do
    name=${b%%:*}; title=${b#*:}
    [ -f $r/pretrained-$name/results.csv ] || continue
    variant=""; grep -q "^erm,full," $r/pretrained-$name/results.csv && variant=full
    echo "**Pretrained regime, $title: every method** (\`Studies/pretrained-$name.json\`$([ -n "$variant" ] && echo ", full fine-tuning"); every strength chosen on validation), internal test:"
    echo
    python3 $t methods $r/pretrained-$name/results.csv internal "$variant" $r/pretrained-$name/zero-shot.csv
    echo
    echo "Paired difference to ERM (internal test, validation threshold; 95 % interval over seeds and test rows):"
    echo
    python3 $t paired $r/pretrained-$name/comparisons.csv internal $variant
    echo
  done
  echo "**The default: λ chosen on validation** (\`Studies/selection-NAME.json\`: ERM against \`fairmed train --method cmac-mmd\`"
  echo "with no other option, 3 seeds, means, validation threshold; the goal's checks — AUC ≥ ERM − 0.01 internal"
  echo "and external, overall TPR ≥ ERM − 0.02, and where ERM's ΔTPR ≥ 0.10: worst-group TPR +0.05, ΔTPR −25 %,"
  echo "every seed's worst group ≥ its ERM twin's, external ΔTPR ≤ ERM's + 0.02):"
  echo
  args=()
  for b in derm:"1 subtle lesions" fundus:"2 fundus" underdiagnosis:"3 under-diagnosis" chest:"4 chest, acquisition shift (frozen first)"; do
    name=${b%%:*}; title=${b#*:}
    [ -f $r/selection-$name/results.csv ] && args+=("$title=$r/selection-$name/results.csv")
  done
  python3 $t noharm "${args[@]}"
  echo
  for b in derm:"Benchmark 1" fundus:"Benchmark 2" underdiagnosis:"Benchmark 3" chest:"Benchmark 4"; do
    name=${b%%:*}; title=${b#*:}
    [ -f $r/selection-$name/results.csv ] || continue
    echo "**$title** (\`Studies/selection-$name.json\`), both thresholds and test sets:"
    echo
    python3 $t goal $r/selection-$name/results.csv "" "" "" "CMAC-MMD (λ on validation)"
    echo
  done
  if [ -f $r/ablation-derm-kernel/results.csv ]; then
    k=$r/ablation-derm-kernel/results.csv
    echo "**Other knobs under the same λ selection, benchmark 1** (\`Studies/ablation-derm-kernel.json\`: the kernel σ"
    echo "of CMAC-MMD's RBF kernel and a multi-scale kernel, σ·2ᵏ for k = −2…2; \`Studies/ablation-derm-path.json\`: a λ"
    echo "path reaching 4; \`Studies/ablation-derm-conditioning.json\`: the MMD over positives only, or over all samples"
    echo "(the default compares each class separately); \`Studies/ablation-derm-batch256.json\`:"
    echo "batch 256 for both methods, so each batch's MMD sees 4× the samples of every subgroup; 3 seeds; run on another"
    echo "machine than the table above, \`command.txt\` names it, so ERM differs slightly):"
    echo
    args=("σ 0.1 (the default)=$k@default@erm" "σ 0.03=$k@sigma-0.03@erm" "σ 0.3=$k@sigma-0.3@erm" "multi-scale=$k@multi@erm")
    c=$r/ablation-derm-conditioning/results.csv
    [ -f $c ] && args+=("positives only (σ 0.1)=$c@positives@erm" "no conditioning (σ 0.1)=$c@none@erm")
    [ -f $r/ablation-derm-path/results.csv ] && args+=("λ path 0, 0.1, 1, 4 (σ 0.1)=$r/ablation-derm-path/results.csv@path-0-0.1-1-4@erm")
    [ -f $r/ablation-derm-batch256/results.csv ] && args+=("batch 256 (σ 0.1)=$r/ablation-derm-batch256/results.csv")
    python3 $t noharm --first=setting "${args[@]}"
    echo
  fi
  echo "**Fixed λ, before selection** — the ablation that chose the other defaults (comparison,"
  echo "conditioning, sampler), each setting at a fixed λ:"
  echo
  for b in derm:"Benchmark 1 — subtle lesions (synthetic dermatology; external = BCN20000-layout shift)" \
           fundus:"Benchmark 2 — fundus, CDR spread 0.3 (synthetic FairVLMed layout; race × gender × age)" \
           underdiagnosis:"Benchmark 3 — under-diagnosed training labels (synthetic dermatology)"; do
    name=${b%%:*}; title=${b#*:}
    [ -f $r/ablation-$name/results.csv ] || continue
    echo "**$title** (\`Studies/ablation-$name.json\`), ERM and CMAC-MMD at λ 1 both with the default \`balanced-cells\` sampler:"
    echo
    python3 $t goal $r/ablation-$name/results.csv cells cells-pooled-detached-per-class 1 "CMAC-MMD (λ 1)"
    echo
  done
  echo "**Ablation** — each CMAC-MMD setting against ERM with the same sampler (internal test, validation"
  echo "threshold, 3 seeds): change in worst-group TPR / relative change in ΔTPR / change in AUC."
  echo
  args=()
  for n in derm fundus underdiagnosis; do [ -f $r/ablation-$n/results.csv ] && args+=("$n=$r/ablation-$n/results.csv"); done
  python3 $t ablation "${args[@]}"
  echo
  if [ -f $r/ablation-derm-lambda/results.csv ]; then
    echo "Larger λ on benchmark 1 (\`Studies/ablation-derm-lambda.json\`, shuffled batches):"
    echo
    python3 $t ablation "derm=$r/ablation-derm-lambda/results.csv"
    echo
  fi
  for n in derm fundus; do
    [ -f $r/methods-$n/results.csv ] || continue
    how="every strength (λ, GroupDRO's η) chosen on validation as \`fairmed train\` does"
    echo "**The paper's comparison, benchmark $([ $n = derm ] && echo 1 || echo 2)** (\`Studies/methods-$n.json\`; $how), internal test:"
    echo
    python3 $t methods $r/methods-$n/results.csv internal
    echo
    echo "External test:"
    echo
    python3 $t methods $r/methods-$n/results.csv external
    echo
    echo "Paired difference to ERM (internal test, validation threshold; 95 % interval over seeds and test rows):"
    echo
    python3 $t paired $r/methods-$n/comparisons.csv internal
    echo
  done
}
if [ "${1:-}" = "--write" ]; then
  python3 - "$(block)" <<'PY'
import sys, re
page = "docs/results.md"
text = open(page).read()
new = "<!-- results:begin (Scripts/studies/readme_results.sh --write) -->\n" + sys.argv[1] + "\n<!-- results:end -->"
text, n = re.subn(r"<!-- results:begin.*?<!-- results:end -->", lambda m: new, text, flags=re.S)
assert n == 1, page + " lacks the results markers"
open(page, "w").write(text)
PY
else
  block
fi
