#!/usr/bin/env bash
# Risk benchmark, in one run: Borderlink's model and a tuned XGBoost on the KCS data, the same
# features and the same time split (train on `train`, report on `valid`), side by side; then
# the predict throughput of both on the same model, and Borderlink's one-declaration latency.
#
#   bench/risk.sh                 # full run (about 20 minutes on 2 cores)
#   KCS_DIR=/path/to/kcs bench/risk.sh
#   SPEED_ONLY=1 bench/risk.sh    # re-measure only the speeds, with the model of the last full run
#
# XGBoost (and numpy) are installed with pip into a virtual environment under target/ when
# missing. Results land in target/bench-risk/ (report.md, report.json).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
kcs="${KCS_DIR:-$root/../shared/data/kcs}"
out="${OUT:-$root/target/bench-risk}"
venv="$root/target/bench-venv"
threads="${THREADS:-2}"
train="$kcs/kcs_df_syn_train_eng.csv"
valid="$kcs/kcs_df_syn_valid_eng.csv"
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*" >&2; }

step "Python peer: xgboost in $venv"
if ! "$venv/bin/python" -c 'import xgboost, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check xgboost numpy
fi
"$venv/bin/python" -c 'import xgboost; print("xgboost", xgboost.__version__)'

step "Borderlink (release build)"
cargo build --release --quiet -p borderlink-cli
bl="$root/target/release/borderlink"

if [ -z "${SPEED_ONLY:-}" ]; then
step "Features (history replayed in time order; outcomes known 7 days after each declaration)"
"$bl" risk features --data "$train" --out "$out/train.csv"
"$bl" risk features --history "$train" --data "$valid" --out "$out/valid.csv"

step "Borderlink: tune on the last 92 days of train, train on train, report on valid"
"$bl" risk train --data "$train" --valid "$valid" --tune --tune-days 92 --name kcs \
    --out "$out/model.blrm" --grid-out "$out/grid-borderlink.json"
"$bl" risk eval --model "$out/model.blrm" --history "$train" --data "$valid" --scores-out "$out/scores.csv"
"$bl" risk info --model "$out/model.blrm" --json > "$out/meta.json"
"$bl" risk export --model "$out/model.blrm" --xgboost-json "$out/model.xgb.json"
fi

step "Borderlink scoring speed (batch; one declaration in-process and over HTTP)"
# A node with the model in its data folder (loaded at start), on a free loopback port.
node_dir="$out/node"
rm -rf "$node_dir" && mkdir -p "$node_dir/risk" && cp "$out/model.blrm" "$node_dir/risk/model.blrm"
BORDERLINK_LOG=warn "$bl" demo --port 0 --data "$node_dir" > "$out/node.out" 2> "$out/node.err" &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
    url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out/node.out" | head -1 || true)"
    [ -n "$url" ] && break
    sleep 0.2
done
[ -n "$url" ] || { echo "the node did not start; see $out/node.err" >&2; exit 1; }
RAYON_NUM_THREADS="$threads" "$bl" risk bench --model "$out/model.blrm" --history "$train" --data "$valid" \
    --seconds 3 --url "$url" --key "$node_dir/consortium/orgs/gb-customs-hrc/member.key" --json > "$out/speed.json"
kill "$node_pid" 2>/dev/null || true
cat "$out/speed.json"

step "XGBoost peer: same grid (best point, no size limit), same features; then its predict speed on Borderlink's trees"
"$venv/bin/python" "$root/bench/risk_peer.py" --train "$out/train.csv" --valid "$out/valid.csv" \
    --ours-scores "$out/scores.csv" --ours-model-json "$out/model.xgb.json" --ours-speed "$out/speed.json" \
    --ours-meta "$out/meta.json" --tune-days 92 --threads "$threads" --out "$out/report.md" \
    --borderlink "$bl" --ours-model "$out/model.blrm" --history-csv "$train" --data-csv "$valid" \
    ${SPEED_ONLY:+--speed-only}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" | tee -a "$out/report.md"
