#!/usr/bin/env bash
# Builds VizHtml and runs every test (unit, socket integration, Chromium browser tests, and the NuGet package packed,
# installed into a fresh console project and run: test/VizHtml.IntegrationTests/Packaging).
# Installs what the tests need on a fresh Debian machine (Chromium, Node.js and the pinned TypeScript), then prints
# "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK (dotnet) is not on PATH; install .NET 10 first" >&2
  exit 1
fi

# The browser tests drive Debian's Chromium; test tools never download a browser of their own.
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium (Debian package) for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

# The standalone host is also tested under Debian's Mono, the runtime Unity players use (test/VizHtml.MonoHost).
if [ ! -x /usr/bin/mono ]; then
  echo "Installing Mono (Debian package) for the standalone host's tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mono-devel >/dev/null
fi

# The README's page scripts are type-checked (test/VizHtml.Tests/Docs/ReadmeSnippetTests.cs) by TypeScript, pinned in
# test/readme-typecheck and run by Node; the npm package (npm/vizhtml) is packed, bundled by esbuild and type-checked by
# the esbuild and TypeScript pinned in test/npm-package (test/VizHtml.IntegrationTests/Packaging). npm ci in each again
# only when its lock file changed since the last install.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Installing Node.js and npm (Debian packages) for the README type check and the npm package..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
for tools in test/readme-typecheck test/npm-package; do
  if [ ! -f "$tools/node_modules/.package-lock.json" ] || [ "$tools/package-lock.json" -nt "$tools/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error
  fi
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
results=artifacts/test-results
rm -rf "$results"

dotnet build VizHtml.slnx -c Release --nologo -v quiet
status=0
dotnet test VizHtml.slnx -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" || status=$?

passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${total:-0} - ${p:-0} - ${f:-0}))
done

# The failures again at the very end, where a log cut to its last lines still shows them: name and message.
if [ "$failed" -gt 0 ]; then
  echo
  echo "Failed tests:"
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    awk '
      /<UnitTestResult / && /outcome="Failed"/ { match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11); inside = 1 }
      inside && /<Message>/ { printing = 1; lines = 0; sub(/.*<Message>/, ""); print "  " name ":" }
      printing { done = sub(/<\/Message>.*/, ""); if (lines++ < 12) print "    " $0; if (done) { printing = 0; inside = 0 } }
    ' "$trx" | sed 's/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g; s/&apos;/'"'"'/g; s/&amp;/\&/g'
  done
fi

echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ]; then
  echo "error: no test ran" >&2
  exit 1
fi
exit "$status"
