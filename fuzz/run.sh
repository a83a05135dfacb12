#!/usr/bin/env bash
# Coverage-guided fuzzing of VizHtml with SharpFuzz and AFL++ (see fuzz/README.md). Not part of scripts/test.sh.
#
#   fuzz/run.sh [seconds] [target...]     seconds per target (default 60); targets: envelope vizdata replay requesthead
#                                         multipart (default all)
#
# Installs afl++ (Debian) and the sharpfuzz tool (local manifest fuzz/dotnet-tools.json), publishes the harness into
# fuzz/build/, instruments VizHtml.dll and the JSON parts of System.Text.Json.dll, runs afl-fuzz on each target in
# turn, then replays every crashing or hanging input through the harness and copies one input per distinct failure
# (the smallest) into test/VizHtml.Tests/Protocol/FuzzCorpus/<target>/. Raw results stay in fuzz/findings/<target>/.
# Exits 0 when no new failure was copied, 1 when one was (triage it: see "Findings" in fuzz/README.md).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
seconds="${1:-60}"
if [ "$#" -gt 0 ]; then shift; fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then targets=(envelope vizdata replay requesthead multipart); fi
case "$seconds" in '' | *[!0-9]*) echo "error: seconds must be a whole number (was '$seconds')" >&2; exit 2 ;; esac

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
build="$here/build"
bin="$build/publish"
corpus_out="$root/test/VizHtml.Tests/Protocol/FuzzCorpus"

# --- tools -------------------------------------------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "Installing afl++ (Debian package)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq afl++ >/dev/null
fi
(cd "$here" && dotnet tool restore >/dev/null)
sharpfuzz() { (cd "$here" && dotnet tool run sharpfuzz "$@"); }

# Other people build the same tree at the same time: retry on a locked obj/ file.
retry() {
  local attempt
  for attempt in 1 2 3 4; do
    if "$@"; then return 0; fi
    echo "  (attempt $attempt failed; retrying in $((attempt * 5)) s)" >&2
    sleep $((attempt * 5))
  done
  return 1
}

# --- build and instrument ----------------------------------------------------------------------------------------
echo "Publishing the harness into $bin ..."
rm -rf "$bin"
# Its own artifacts path, so this build never shares src/VizHtml/obj with a concurrent build of the solution.
retry dotnet publish "$here/VizHtml.Fuzz/VizHtml.Fuzz.csproj" -c Release -o "$bin" \
  --artifacts-path "$build/artifacts" --nologo -v quiet

echo "Instrumenting VizHtml.dll ..."
sharpfuzz "$bin/VizHtml.dll"
if [ -f "$bin/System.Text.Json.dll" ]; then
  # The harness carries System.Text.Json from NuGet (IL only; the shared framework's copy is ReadyToRun and cannot be
  # instrumented). Only the reader, document, node and writer types: the serializer's metadata code would add paths
  # that say nothing about the input.
  echo "Instrumenting the JSON reader, document, node and writer types of System.Text.Json.dll ..."
  sharpfuzz "$bin/System.Text.Json.dll" System.Text.Json.JsonDocument System.Text.Json.JsonElement \
    System.Text.Json.Utf8JsonReader System.Text.Json.JsonReaderHelper System.Text.Json.Nodes \
    System.Text.Json.Utf8JsonWriter System.Text.Json.JsonWriterHelper System.Text.Json.JsonHelpers
fi
stj=$(dotnet "$bin/VizHtml.Fuzz.dll" --info | sed -n 's/^System.Text.Json\t//p')
if [ "$stj" != "$bin/System.Text.Json.dll" ]; then
  # A runtime newer than the System.Text.Json package in fuzz/Directory.Packages.props wins over the app-local copy.
  echo "warning: System.Text.Json loads from $stj, not the instrumented copy: only VizHtml.dll gives coverage" \
    "(raise System.Text.Json in fuzz/Directory.Packages.props above the runtime's version)" >&2
fi

# --- fuzz --------------------------------------------------------------------------------------------------------
export AFL_SKIP_BIN_CHECK=1        # the target binary is `dotnet`; the instrumentation lives in the .NET assemblies
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_MAP_SIZE=65536          # SharpFuzz's trace map is 64 KiB
export AFL_SKIP_CRASHES=1          # a seed that crashes (a known bug added to a seed folder) is skipped, not fatal

stat_of() { sed -n "s/^$2 *: *//p" "$1/default/fuzzer_stats" 2>/dev/null | head -n 1; }

new_total=0
summary=()
for target in "${targets[@]}"; do
  case "$target" in envelope | vizdata | replay | requesthead | multipart) ;; *) echo "error: unknown target '$target'" >&2; exit 2 ;; esac
  findings="$here/findings/$target"
  rm -rf "$findings"
  mkdir -p "$findings"
  dict=()
  case "$target" in
    envelope | vizdata) dict=(-x "$here/dict/json.dict") ;;
    requesthead | multipart) dict=(-x "$here/dict/http.dict") ;;
  esac

  echo
  echo "=== $target: afl-fuzz for ${seconds} s (log: fuzz/findings/$target.log) ==="
  status=0
  # -V stops afl-fuzz after the given time; the outer timeout only guards against a wedged start-up.
  timeout --signal=INT $((seconds + 180)) \
    afl-fuzz -i "$here/corpus/$target" -o "$findings" "${dict[@]}" -t 5000 -m none -V "$seconds" \
      -- dotnet "$bin/VizHtml.Fuzz.dll" "$target" >"$findings.log" 2>&1 || status=$?

  # SharpFuzz runs the target in afl-fuzz's fork-server process itself: a timeout, a stack overflow or any other
  # uncatchable failure ends the whole run, and the input that did it is left in .cur_input.
  candidates=()
  if [ "$status" -ne 0 ]; then
    echo "afl-fuzz stopped early (exit $status): $(grep -E 'PROGRAM ABORT|Unable to|ERROR' "$findings.log" | tail -n 1)"
    if [ -s "$findings/default/.cur_input" ]; then
      cp "$findings/default/.cur_input" "$findings/abort-input"
      candidates+=("$findings/abort-input")
    fi
  fi
  for f in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
    [ -f "$f" ] && candidates+=("$f")
  done

  line="$target: $(stat_of "$findings" execs_done) execs ($(stat_of "$findings" execs_per_sec)/s), corpus $(stat_of "$findings" corpus_count), edges $(stat_of "$findings" edges_found) ($(stat_of "$findings" bitmap_cvg) of the map), stability $(stat_of "$findings" stability), crashes $(stat_of "$findings" saved_crashes), hangs $(stat_of "$findings" saved_hangs)"

  # --- triage: replay each candidate, one input per failure signature -------------------------------------------
  new=0
  if [ "${#candidates[@]}" -gt 0 ]; then
    triage="$findings/triage.tsv"
    : >"$triage"
    for f in "${candidates[@]}"; do
      result=$(timeout 20 dotnet "$bin/VizHtml.Fuzz.dll" "$target" --run "$f" 2>>"$findings/triage.stderr" | head -n 1) || true
      case "$result" in
        FAIL*) sig=$(cut -f2 <<<"$result") ;;
        PASS*) sig="no-repro" ;;      # crashed under afl-fuzz only (e.g. its timeout); kept for a look
        *) sig="hang-or-abort" ;;     # the replay itself did not finish
      esac
      printf '%s\t%s\t%s\n' "$(stat -c %s "$f")" "$sig" "$f" >>"$triage"
    done
    mkdir -p "$corpus_out/$target"
    while IFS=$'\t' read -r sig f; do
      sum=$(sha1sum "$f" | cut -c1-12)
      prefix="$(tr -c 'A-Za-z0-9._-' '_' <<<"$sig" | sed 's/_*$//')"
      # Already kept: the same bytes, or an input with the same failure signature (file names start with it),
      # in FuzzCorpus/<target>/ or its known-bugs/ folder.
      if find "$corpus_out/$target" -type f -exec sha1sum {} + 2>/dev/null | cut -c1-12 | grep -qx "$sum" \
        || find "$corpus_out/$target" -type f -name "$prefix-*" | grep -q .; then
        echo "  known $sig"
        continue
      fi
      name="$prefix-$sum.bin"
      cp "$f" "$corpus_out/$target/$name"
      echo "  NEW $sig -> test/VizHtml.Tests/Protocol/FuzzCorpus/$target/$name"
      new=$((new + 1))
    done < <(sort -t$'\t' -k1,1n "$triage" | awk -F'\t' '!seen[$2]++ { print $2 "\t" $3 }')
    echo "  signatures: $(cut -f2 "$triage" | sort | uniq -c | sed 's/^ *//' | paste -sd ';' -)"
  fi
  new_total=$((new_total + new))
  summary+=("$line, new inputs copied $new")
  echo "$line"
done

echo
echo "=== summary ==="
printf '%s\n' "${summary[@]}"
if [ "$new_total" -gt 0 ]; then
  echo "$new_total new failing input(s) copied into test/VizHtml.Tests/Protocol/FuzzCorpus/: fix the bug, or move the input to known-bugs/ (see fuzz/README.md)"
  exit 1
fi
echo "no new failures"
