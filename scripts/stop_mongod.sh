#!/usr/bin/env bash
# Stop a server started by start_mongod.sh.
#
#   scripts/stop_mongod.sh [--port 27117] [--dbpath .mongod/data-27117]
set -euo pipefail

port=27117
dbpath=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --dbpath) dbpath="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
dbpath="${dbpath:-.mongod/data-$port}"
[ -d "$dbpath" ] && dbpath="$(cd "$dbpath" && pwd)"
pidfile="$dbpath/mongod.pid"

if [ ! -f "$pidfile" ]; then
  echo "no server recorded in $dbpath" >&2
  exit 0
fi
pid="$(cat "$pidfile")"
# Only ever signal the process if it still is a mongod: pids get reused.
command_name="$(ps -p "$pid" -o comm= 2>/dev/null || true)"
if kill -0 "$pid" 2>/dev/null && [ "$command_name" = "mongod" ]; then
  kill "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
  fi
fi
rm -f "$pidfile"
echo "stopped mongod $pid" >&2
