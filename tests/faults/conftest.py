"""Fixtures of the fault tests: a three-node replica set of local mongod processes.

The session starts the set with ``scripts/start_replica_set.sh`` on the ports in
``WELLNESS_FAULT_PORTS``, else on 27217-27219 when they are free, else on three
free ports the system picks (so two test runs on one machine never meet), keeps
its data in the session's temporary folder, and stops it at the end. A set
already running can be used instead: ``WELLNESS_FAULT_MONGODB_URI`` names it, and
``WELLNESS_FAULT_DIR`` the ``--dir`` it was started with (default
``.mongod/rsfault``), where the tests find the pid files of the nodes they kill;
such a set is left running.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from tests.support.fault_cluster import DEFAULT_PORTS, ROOT, FaultCluster


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that selects (or deselects) the fault tests."""
    config.addinivalue_line(
        "markers", "faults: kills or cuts off MongoDB servers (tests/faults)"
    )


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _fault_ports() -> tuple[int, ...]:
    configured = os.environ.get("WELLNESS_FAULT_PORTS")
    if configured:
        return tuple(int(port) for port in configured.split(","))
    if all(_free(port) for port in DEFAULT_PORTS):
        return DEFAULT_PORTS
    probes = [socket.socket() for _ in DEFAULT_PORTS]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return tuple(probe.getsockname()[1] for probe in probes)
    finally:
        for probe in probes:
            probe.close()


@pytest.fixture(scope="session")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCluster]:
    """The three-node replica set the fault tests kill nodes of."""
    uri = os.environ.get("WELLNESS_FAULT_MONGODB_URI")
    if uri:
        directory = ROOT / os.environ.get("WELLNESS_FAULT_DIR", ".mongod/rsfault")
        yield FaultCluster.attach(uri, directory)
        return
    cluster = FaultCluster.start(_fault_ports(), tmp_path_factory.mktemp("rsfault"))
    try:
        yield cluster
    finally:
        cluster.stop()
