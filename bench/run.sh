#!/usr/bin/env bash
# VizHtml's benchmark command (not part of scripts/test.sh): runs every scenario and rewrites docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/VizHtml.Bench -- slow-consumer --runs "${RUNS:-3}" --seconds "${SECONDS_PER_RUN:-5}" --write docs/benchmarks.md
