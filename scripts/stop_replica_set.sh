#!/usr/bin/env bash
# Stop every node of a replica set started by start_replica_set.sh.
#
#   scripts/stop_replica_set.sh [--ports 27217,27218,27219] [--dir .mongod/rsfault]
#                               [--wipe]
#
# --wipe also removes the nodes' data folders.
set -euo pipefail

ports="27217,27218,27219"
dir=".mongod/rsfault"
wipe=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ports) ports="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --wipe) wipe=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
IFS=',' read -r -a port_list <<<"$ports"
here="$(cd "$(dirname "$0")" && pwd)"
[ -d "$dir" ] || { echo "no replica set recorded in $dir" >&2; exit 0; }
dir="$(cd "$dir" && pwd)"

# The nodes stop side by side; stop_mongod.sh signals only a live mongod named
# by the node's pid file.
stopping=()
for port in "${port_list[@]}"; do
  dbpath="$dir/node-$port"
  [ -d "$dbpath" ] || continue
  "$here/stop_mongod.sh" --dbpath "$dbpath" &
  stopping+=("$!")
done
for pid in "${stopping[@]}"; do
  wait "$pid" || true
done
if [ "$wipe" = 1 ]; then
  for port in "${port_list[@]}"; do
    rm -rf "${dir:?}/node-$port"
  done
fi
