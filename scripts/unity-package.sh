#!/usr/bin/env bash
# Builds the Unity package into artifacts/unity (or the folder given): com.vizhtml.vizhtml/ (add it to a project with
# Package Manager > Add package from disk, its package.json) and com.vizhtml.vizhtml-<version>.tgz (Add package from tarball).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run --project unity/VizHtml.UnityPackager -c Release -- "${1:-artifacts/unity}"
