#!/usr/bin/env bash
# Old against new VizHtml on the load generator, runs interleaved so the noise of a shared machine hits every variant
# alike: round r runs old, new, new with VIZHTML_INLINE_SCHEDULING=1, each as its own load-generator invocation from
# its own worktree (the load generator starts the bench servers of the tree it runs in), with raw Kestrel right after
# VizHtml as the same-minute reference. Writes one loadgen.json per round and variant, then a table of medians
# (min–max) of the rows that the send-path issue compares.
#   git worktree add --detach /work/bench-old <old commit>; git worktree add --detach /work/bench-new <new commit>
#   bench/compare.sh /work/bench-old /work/bench-new            # 3 rounds, results in /tmp/vizhtml-compare/
#   ROUNDS=4 OUT=/tmp/cmp bench/compare.sh OLD_TREE NEW_TREE
#   FIRST=4 ROUNDS=6 bench/compare.sh OLD_TREE NEW_TREE         # rounds 4–6 added to the same results directory
#   bench/compare.sh --summary OUT                              # only the table, from the files of an earlier run
# Scenarios: echo (1 and 100 clients), hostapp (200 × 60 Hz × 1 KB), broadcast (100/1,000/5,000 clients × 64 B/1 KB)
# (SCENARIOS=echo,hostapp,fewtablets,broadcast adds or picks others; INLINE_VARIANT=0 leaves out new + inline);
# the load generator has no finer filter. About 5 minutes per round on the 2-core machine. The load generator rewrites
# bench/results/loadgen.json of the tree it runs in: give it throwaway worktrees, not a checkout someone works in.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

summary() {
  python3 - "$1" <<'EOF'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
data = {}  # (round, variant, server, scenario, metric) -> value
for path in sorted(glob.glob(os.path.join(out, "r*-*.json"))):
    m = re.match(r"r(\d+)-(.+)\.json", os.path.basename(path))
    rnd, variant = int(m.group(1)), m.group(2)
    for row in json.load(open(path)):
        vs = row.get("values") or []
        if vs:
            data[(rnd, variant, row["server"], row["scenario"], row["metric"])] = vs[0]
rounds = sorted({k[0] for k in data})
variants = ("old", "new", "new-inline")
wanted = [
    ("broadcast-1000x64", "cpu_us_per_delivery", "Broadcast 1,000 × 64 B: server CPU per delivery (µs)", "lower"),
    ("broadcast-1000x64", "deliveries_per_s", "Broadcast 1,000 × 64 B: deliveries/s", "higher"),
    ("hostapp-200x60hz-1024", "server_cpu_pct", "Host app 200 × 60 Hz × 1 KB: server CPU (% of a core)", "lower"),
    ("hostapp-200x60hz-1024", "latency_p50_us", "Host app: latency p50 (µs)", "lower"),
    ("hostapp-200x60hz-1024", "latency_p99_us", "Host app: latency p99 (µs)", "lower"),
    ("echo-1x64", "rtt_p50_us", "Echo 1 client × 64 B: p50 (µs)", "lower"),
    ("echo-1x64", "rtt_p99_us", "Echo 1 client × 64 B: p99 (µs)", "lower"),
    ("echo-100x64", "rtt_p50_us", "Echo 100 clients × 64 B: p50 (µs)", "lower"),
    ("echo-100x64", "rtt_p99_us", "Echo 100 clients × 64 B: p99 (µs)", "lower"),
    ("broadcast-1000x64", "loadgen_cpu_pct", "Broadcast 1,000 × 64 B: load generator core busy (%)", None),
    ("broadcast-100x64", "cpu_us_per_delivery", "Broadcast 100 × 64 B: server CPU per delivery (µs)", "lower"),
    ("broadcast-100x64", "deliveries_per_s", "Broadcast 100 × 64 B: deliveries/s", "higher"),
    ("broadcast-1000x1024", "cpu_us_per_delivery", "Broadcast 1,000 × 1 KB: server CPU per delivery (µs)", "lower"),
    ("broadcast-5000x64", "cpu_us_per_delivery", "Broadcast 5,000 × 64 B: server CPU per delivery (µs)", "lower"),
]
def fmt(x):
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.3f}" if abs(x) >= 0.1 else f"{x:.4f}"
def span(vs, f=fmt):
    if not vs: return "–"
    return f"{f(statistics.median(vs))} ({f(min(vs))}–{f(max(vs))})"
def pct(x): return f"{(x - 1) * 100:+.0f} %"
def word(ratio, better):
    if ratio is None or better is None: return ""
    ch = (ratio - 1) * 100
    if better == "higher": ch = -ch
    return "worse" if ch > 10 else "better" if ch < -10 else "within 10 %"
def vals(variant, server, sc, me):
    return [data[(r, variant, server, sc, me)] for r in rounds if (r, variant, server, sc, me) in data]
def paired(a, b, server, sc, me):
    return [data[(r, b, server, sc, me)] / data[(r, a, server, sc, me)] for r in rounds
            if (r, a, server, sc, me) in data and (r, b, server, sc, me) in data and data[(r, a, server, sc, me)]]
n = len(rounds)
print(f"Medians over {n} rounds (min–max). Kestrel: its run right after VizHtml in each of the {3 * n} invocations.\n")
print("| row | old | new | new + inline | Kestrel (same runs) | new ÷ old, per round | verdict new vs old | inline ÷ new, per round | verdict inline vs new |")
print("|---|---:|---:|---:|---:|---:|---|---:|---|")
for sc, me, label, better in wanted:
    k = [v for var in variants for v in vals(var, "kestrel", sc, me)]
    no = paired("old", "new", "vizhtml", sc, me)
    ni = paired("new", "new-inline", "vizhtml", sc, me)
    mno = statistics.median(no) if no else None
    mni = statistics.median(ni) if ni else None
    print(f"| {label} | {span(vals('old','vizhtml',sc,me))} | {span(vals('new','vizhtml',sc,me))} | {span(vals('new-inline','vizhtml',sc,me))} | {span(k)} | "
          f"{span(no, pct) if no else '–'} | {word(mno, better)} | {span(ni, pct) if ni else '–'} | {word(mni, better)} |")
print("\nVizHtml ÷ Kestrel of the same invocation (a ratio that cancels part of the machine's load at that minute):\n")
print("| row | old ÷ Kestrel | new ÷ Kestrel | new + inline ÷ Kestrel |")
print("|---|---:|---:|---:|")
for sc, me, label, better in wanted:
    if better is None: continue
    cells = []
    for var in variants:
        rs = [data[(r, var, "vizhtml", sc, me)] / data[(r, var, "kestrel", sc, me)] for r in rounds
              if (r, var, "vizhtml", sc, me) in data and (r, var, "kestrel", sc, me) in data]
        cells.append(span(rs, lambda x: f"{x:.2f}"))
    print(f"| {label} | " + " | ".join(cells) + " |")
EOF
}

if [ "${1:-}" = "--summary" ]; then summary "$2"; exit 0; fi
old="$(cd "${1:?old worktree}" && pwd)"
new="$(cd "${2:?new worktree}" && pwd)"
rounds="${ROUNDS:-3}"
out="${OUT:-/tmp/vizhtml-compare}"
mkdir -p "$out"
for tree in "$old" "$new"; do
  for p in bench/servers/VizHtmlBenchServer bench/servers/KestrelServer bench/VizHtml.LoadGen; do
    dotnet build -c Release "$tree/$p" --nologo -v q | grep -E 'error|Error\(s\)' || true
  done
  echo "$tree: $(git -C "$tree" log -1 --format='%H %s')" | tee -a "$out/commits.txt"
done

run() { # variant tree inline
  local variant="$1" tree="$2" inline="$3" round="$4"
  echo "== round $round: $variant ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out/log.txt"
  ps -eo pcpu,etimes,args --sort=-pcpu | head -6 | cut -c1-160 >> "$out/busy.txt"
  (cd "$tree" && VIZHTML_INLINE_SCHEDULING="$inline" dotnet bench/VizHtml.LoadGen/bin/Release/net10.0/VizHtml.LoadGen.dll \
    --servers vizhtml,kestrel --scenarios "${SCENARIOS:-echo,hostapp,broadcast}" --runs 1) 2>&1 | tee -a "$out/log.txt"
  cp "$tree/bench/results/loadgen.json" "$out/r$round-$variant.json"
}

for round in $(seq "${FIRST:-1}" "$rounds"); do
  run old "$old" 0 "$round"
  run new "$new" 0 "$round"
  [ "${INLINE_VARIANT:-1}" = 0 ] || run new-inline "$new" 1 "$round"
done
echo "== done $(date -u +%H:%M:%S)" | tee -a "$out/log.txt"
summary "$out" | tee "$out/summary.md"
