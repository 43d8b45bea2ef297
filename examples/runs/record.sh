#!/bin/sh
# Re-record the measured runs of the seed (topology.dot) that the docs compare and calibrate
# against, on this machine: about four minutes of load on a stack generated into a temporary
# folder, stopped afterwards. Run from anywhere: sh examples/runs/record.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
stack=$(mktemp -d)/shop
archsim generate "$here/../../topology.dot" -o "$stack" >/dev/null
archsim up "$stack" --timeout 120 >/dev/null
trap 'archsim down "$stack" >/dev/null' EXIT
run() { out=$1; shift; archsim loadtest "$stack" -o "$stack/results-$out" --allow-failures "$@" >/dev/null
        cp "$stack/results-$out/$([ -f "$stack/results-$out/steps.json" ] && echo steps || echo summary).json" "$here/$out.json"; }
run closed20 --users 20 --duration 30s --warmup 5s --seed 1
run low --rps 80 --users 100 --duration 40s --warmup 5s --seed 1
run high --rps 400 --users 300 --duration 30s --warmup 5s --seed 1
run steps --steps 100:900:200 --duration 12s --warmup 3s --users 300 --seed 1
