#!/bin/sh
# Builds the AIS benchmark input: the single-sentence position reports
# (types 1, 2, 3, 18) of the real gpsd and libais test files, repeated to
# N lines (default 200,000). Output path: $1 (default /tmp/ais_positions.nmea).
# Both the Rust benchmark and scripts/bench/ais_pyais.py read this file.
set -eu
out=${1:-/tmp/ais_positions.nmea}
n=${2:-200000}
data=${TRILAT_SHARED_DATA:-$(dirname "$0")/../../../shared/data}
grep -hE '^!AIVDM,1,1,,[AB]?,[1-3B]' "$data"/ais/gpsd/*.log "$data"/ais/gpsd/sample.aivdm "$data"/ais/libais/test.aivdm \
  | sed 's/\*\(..\).*/*\1/' > "$out.base"
base=$(wc -l < "$out.base")
: > "$out"
i=0
while [ "$i" -lt $(( (n + base - 1) / base )) ]; do cat "$out.base" >> "$out"; i=$((i + 1)); done
head -n "$n" "$out" > "$out.tmp" && mv "$out.tmp" "$out" && rm "$out.base"
echo "$out: $(wc -l < "$out") lines from $base distinct sentences"
