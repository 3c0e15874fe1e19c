"""The three-node replica set of the fault tests: started and stopped with
``scripts/start_replica_set.sh`` and ``scripts/stop_replica_set.sh``, and its
primary found and killed by the pid file its node keeps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pymongo import MongoClient
from pymongo.errors import PyMongoError

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
DEFAULT_PORTS = (27217, 27218, 27219)
SCRIPT_TIMEOUT_S = 180


@dataclass(frozen=True)
class FaultCluster:
    """A local replica set whose nodes keep their pid files in ``directory``.

    Args:
        uri: the replica-set URI the tests connect with.
        ports: the nodes' ports, in member order.
        directory: where the nodes' data folders (``node-<port>``) are.
    """

    uri: str
    ports: tuple[int, ...]
    directory: Path

    @classmethod
    def start(cls, ports: tuple[int, ...], directory: Path) -> FaultCluster:
        """Start a fresh set on ``ports`` with its data under ``directory``."""
        cluster = cls(uri="", ports=ports, directory=directory)
        uri = cluster._run_start(fresh=True)
        return cls(uri=uri, ports=ports, directory=directory)

    @classmethod
    def attach(cls, uri: str, directory: Path) -> FaultCluster:
        """A set already started by the script (its ports are in ``uri``)."""
        hosts = urlsplit(uri).netloc.rsplit("@", 1)[-1].split(",")
        ports = tuple(int(host.rsplit(":", 1)[1]) for host in hosts)
        return cls(uri=uri, ports=ports, directory=directory)

    def stop(self) -> None:
        """Stop every node (the data stays for a post-mortem)."""
        subprocess.run(
            [str(SCRIPTS / "stop_replica_set.sh"), "--ports", self._ports_arg,
             "--dir", str(self.directory)],
            check=False, capture_output=True, timeout=SCRIPT_TIMEOUT_S,
        )  # fmt: skip

    def restart_stopped_nodes(self) -> None:
        """Start the nodes that are down and wait until every member is healthy."""
        self._run_start(fresh=False)

    def primary_port(self, timeout_s: float = 30.0) -> int:
        """The port of the current primary, waiting for an election if needed."""
        deadline = time.monotonic() + timeout_s
        while True:
            for port in self.ports:
                if self._is_primary(port):
                    return port
            if time.monotonic() > deadline:
                raise AssertionError(f"no primary among {self.ports}")
            time.sleep(0.1)

    def kill(self, port: int) -> int:
        """SIGKILL the node on ``port`` (no clean shutdown) and return its pid."""
        pid = int((self.directory / f"node-{port}" / "mongod.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        return pid

    def _is_primary(self, port: int) -> bool:
        client: MongoClient[dict[str, object]] = MongoClient(
            f"mongodb://127.0.0.1:{port}/?directConnection=true",
            serverSelectionTimeoutMS=500,
            connectTimeoutMS=500,
        )
        try:
            return bool(client.admin.command("hello").get("isWritablePrimary"))
        except PyMongoError:
            return False
        finally:
            client.close()

    @property
    def _ports_arg(self) -> str:
        return ",".join(str(port) for port in self.ports)

    def _run_start(self, *, fresh: bool) -> str:
        command = [
            str(SCRIPTS / "start_replica_set.sh"),
            "--ports",
            self._ports_arg,
            "--dir",
            str(self.directory),
        ]
        if fresh:
            command.append("--fresh")
        started = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHON": sys.executable},
            timeout=SCRIPT_TIMEOUT_S,
        )
        if started.returncode != 0:
            raise RuntimeError(
                "scripts/start_replica_set.sh failed:\n" + started.stderr[-4000:]
            )
        return started.stdout.strip()
