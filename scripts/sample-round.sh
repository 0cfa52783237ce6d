#!/usr/bin/env bash
# Set everything up and run a full matching round on the committed sample
# (data/sample: about 300 visitors and 150 hosts), recorded in the round's ledger
# (data/sample/ledger.sqlite, ignored by git); results go to out/sample-round/.
# Run again, it solves and records the next round, around the decisions taken since.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=${1:-out/sample-round}
mm=.venv/bin/matchmaker
echo "== validate the round's files"
$mm validate data/sample
echo "== solve the round and record it in the ledger"
$mm solve data/sample --out "$out"
echo "== check the proposals independently"
$mm check data/sample "$out/proposals.csv"
echo "== done: $out/proposals.csv, $out/unmatched.csv, $out/summary.json; ledger data/sample/ledger.sqlite"
echo "   next: review in the notebooks (bash scripts/lab.sh), or matchmaker decide / export (README)"
