#!/usr/bin/env bash
# The CLI tests of vitest.nodes.config.ts on Node 22 and 24 (or the majors given): for each, the
# binary from scripts/node-versions.sh runs the CLI (FETCHALL_TEST_NODE), vitest stays on this node.
# Build first (`npm run test:nodes` does). Arguments that are not a major go to vitest, e.g.
# `scripts/test-nodes.sh 22 --no-file-parallelism` or a file of the subset. Exit 3 when the binaries cannot be had (node-versions.sh
# says why), 1 when a test failed on any of the majors, 0 when all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=()
args=()
for a in "$@"; do
  case "$a" in
  [0-9] | [0-9][0-9]) majors+=("$a") ;;
  *) args+=("$a") ;;
  esac
done
[ "${#majors[@]}" -gt 0 ] || majors=(22 24)
mapfile -t nodes < <(scripts/node-versions.sh "${majors[@]}"; echo "rc=$?")
rc="${nodes[-1]#rc=}"
unset 'nodes[-1]'
[ "$rc" = 0 ] || exit "$rc"
status=0
results=()
for i in "${!majors[@]}"; do
  node="${nodes[$i]}"
  version="$("$node" --version)"
  echo "== the CLI tests on Node $version (vitest on $(node --version))"
  began="$SECONDS"
  if FETCHALL_TEST_NODE="$node" FETCHALL_TEST_NODE_MAJOR="${majors[$i]}" npx vitest run --config vitest.nodes.config.ts ${args[@]+"${args[@]}"}; then
    results+=("Node $version: passed in $((SECONDS - began)) s")
  else
    results+=("Node $version: FAILED (in $((SECONDS - began)) s)")
    status=1
  fi
done
printf '%s\n' "${results[@]}"
exit "$status"
