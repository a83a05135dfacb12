#!/usr/bin/env bash
# VizHtml's benchmark command (not part of scripts/test.sh). Runs every suite, then rewrites docs/benchmarks.md and
# docs/benchmarks.png from bench/results/*.json. About 40 minutes on the 2-core machine; RUNS=1 for a shorter pass.
#   bench/run.sh            # everything, medians of 3 runs
#   QUICK=1 bench/run.sh    # the ~5-minute development pass (1 run, small counts)
# The standalone host (issue 12) also has a section of its own that one command reruns alone (about 15 minutes):
#   dotnet run -c Release --project bench/VizHtml.LoadGen -- standalone --runs 3 --write docs/benchmarks.md
# and so does the cost of metrics and tracing (issue 13; the first command is the interleaved comparison the target is judged on):
#   dotnet run -c Release --project bench/VizHtml.Micro -- --metrics-cost
#   dotnet run -c Release --project bench/VizHtml.LoadGen -- metrics --runs 3 --write docs/benchmarks.md
# and the per-frame pattern against raw Kestrel (issue 15; about 15 minutes):
#   dotnet run -c Release --project bench/VizHtml.LoadGen -- perframe --runs 3 --write docs/benchmarks.md
# and binary payloads against base64 JSON (issue 14; about a minute):
#   dotnet run -c Release --project bench/VizHtml.Bench -- binary --runs 3 --count 200 --write docs/benchmarks.md
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
quick=()
[ -n "${QUICK:-}" ] && quick=(--quick) && runs=1
command -v node >/dev/null || apt-get install -y nodejs npm
[ -x /usr/bin/chromium ] || apt-get install -y chromium
(cd bench/servers/node && npm ci --no-audit --no-fund --silent)
command -v mono >/dev/null || apt-get install -y mono-devel
# VizHtmlBenchServer is vizhtml (Kestrel host) and vizhtml-standalone; VizHtmlMonoBenchServer is vizhtml-mono.
for p in VizHtmlBenchServer VizHtmlMonoBenchServer SignalRServer KestrelServer; do dotnet build -c Release "bench/servers/$p" --nologo -v q; done

# Peers and VizHtml on its three hosts against the load generator (server on core 0, load generator on core 1).
dotnet run -c Release --project bench/VizHtml.LoadGen -- --runs "$runs" "${quick[@]}"
# vizhtml.js in Chromium.
dotnet run -c Release --project bench/VizHtml.BrowserBench -- --runs "$runs" $([ -n "${QUICK:-}" ] && echo --events 50000)
# BenchmarkDotNet micro-benchmarks of the send path; fails if a broadcast's allocations grow with the number of clients.
micro=0
dotnet run -c Release --project bench/VizHtml.Micro -- "${quick[@]}" || micro=$?
# The report: tables with ratios against every peer and against the Kestrel host, the targets of issues 5 and 12, the chart.
dotnet run -c Release --project bench/VizHtml.LoadGen -- report --command "bench/run.sh"
# The standalone host beside the Kestrel host (issue 12): broadcast and idle memory, its own section.
dotnet run -c Release --project bench/VizHtml.LoadGen -- standalone --runs "$runs" "${quick[@]}" --write docs/benchmarks.md
# Metrics and tracing (issue 13): broadcast with a listener on every VizHtml instrument and span against none, its own section;
# judged on the interleaved comparison in one server process (bench/results/metrics/interleaved.json), then the two processes.
dotnet run -c Release --project bench/VizHtml.Micro -- --metrics-cost "${quick[@]}"
dotnet run -c Release --project bench/VizHtml.LoadGen -- metrics --runs "$runs" "${quick[@]}" --write docs/benchmarks.md
# The per-frame pattern (issue 15): host app, few tablets, echo, idle and broadcast, vizhtml on both hosts against raw Kestrel and Bun, its own section.
dotnet run -c Release --project bench/VizHtml.LoadGen -- perframe --runs "$runs" "${quick[@]}" --write docs/benchmarks.md
# Binary payloads against base64 JSON (issue 14): server CPU per MB and MB/s, the server in a process of its own (its own section).
dotnet run -c Release --project bench/VizHtml.Bench -- binary --runs "$runs" --count "$([ -n "${QUICK:-}" ] && echo 10 || echo 200)" --write docs/benchmarks.md
# One slow client among a hundred (its own section of docs/benchmarks.md).
dotnet run -c Release --project bench/VizHtml.Bench -- slow-consumer --runs "$runs" --seconds "${SECONDS_PER_RUN:-5}" --write docs/benchmarks.md
if [ "$micro" -ne 0 ]; then echo "bench/VizHtml.Micro failed (exit $micro): see its output above" >&2; exit "$micro"; fi
