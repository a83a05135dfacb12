#!/usr/bin/env bash
# Proves every benchmark server speaks the contract (/work/brief/contract.md, "Server process contract"): builds the
# .NET servers, installs the Node packages from the lock file, then for each server starts it on a free port, connects
# one client of its protocol, and checks the handshake, "clients", "broadcast 10 64", echo, "stream", "gc" and "exit".
#   bench/servers/smoke.sh [vizhtml|vizhtml-standalone|vizhtml-mono|signalr|kestrel|ws|socketio|bun ...]   (default: all eight)
# A few seconds of light traffic per server: no load is generated.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(vizhtml vizhtml-standalone vizhtml-mono signalr kestrel ws socketio bun)

for project in VizHtmlBenchServer VizHtmlMonoBenchServer SignalRServer KestrelServer; do
  dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null || { echo "build of $project failed" >&2; dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly; exit 1; }
done
if [ ! -x node/node_modules/.bin/bun ] || [ node/package-lock.json -nt node/node_modules/.package-lock.json ]; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
fi

passed=0
failed=0
for server in "${servers[@]}"; do
  case "$server" in
    vizhtml)  command=(env VIZHTML_HOST=kestrel dotnet "$here/VizHtmlBenchServer/bin/Release/net10.0/VizHtmlBenchServer.dll") ;;
    vizhtml-standalone) command=(env VIZHTML_HOST=standalone dotnet "$here/VizHtmlBenchServer/bin/Release/net10.0/VizHtmlBenchServer.dll") ;;
    vizhtml-mono) command=(mono "$here/VizHtmlMonoBenchServer/bin/Release/net48/VizHtmlMonoBenchServer.exe") ;;
    signalr)  command=(dotnet "$here/SignalRServer/bin/Release/net10.0/SignalRServer.dll") ;;
    kestrel)  command=(dotnet "$here/KestrelServer/bin/Release/net10.0/KestrelServer.dll") ;;
    ws)       command=(node --expose-gc "$here/node/ws-server.mjs") ;;
    socketio) command=(node --expose-gc "$here/node/socketio-server.mjs") ;;
    bun)      command=("$here/node/node_modules/.bin/bun" "$here/node/bun-server.mjs") ;;
    *) echo "unknown server: $server" >&2; exit 2 ;;
  esac
  if node node/smoke.mjs "${server%%-*}" "$here" "${command[@]}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
