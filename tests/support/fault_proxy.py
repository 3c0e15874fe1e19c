"""A TCP proxy in front of a MongoDB server that a test can cut: every open
connection dropped at once, new ones refused for a while, or the next reply cut
off half way."""

from __future__ import annotations

import asyncio
import contextlib


class CuttableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream_host:upstream_port``.

    Run it in the test's event loop (``async with CuttableProxy(...)``), and
    point the client at ``proxy.port`` with ``directConnection=true`` so the
    driver never goes round it to the hosts the server advertises.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.refusing = False
        self.accepted = 0
        self._truncate_at: int | None = None
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def cut(self) -> None:
        """Drop every open connection, in both directions, at once."""
        for writer in list(self._links):
            transport = writer.transport
            transport.abort()
        self._links.clear()

    def refuse(self) -> None:
        """Drop every open connection and refuse new ones until :meth:`restore`."""
        self.refusing = True
        self.cut()

    def restore(self) -> None:
        """Accept and forward connections again."""
        self.refusing = False

    def cut_next_reply(self, min_bytes: int = 4096) -> None:
        """Forward only the first half of the server's next reply of at least
        ``min_bytes``, then drop every connection: the client has started
        reading when the link goes. The size singles out a query's reply from
        the driver's small monitoring ones."""
        self._truncate_at = min_bytes

    async def _accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        self.accepted += 1
        if self.refusing:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self._links.update((client_writer, server_writer))
        for source, sink, replies in (
            (client_reader, server_writer, False),
            (server_reader, client_writer, True),
        ):
            task = asyncio.create_task(self._pump(source, sink, replies=replies))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        *,
        replies: bool,
    ) -> None:
        try:
            while chunk := await source.read(65536):
                limit = self._truncate_at
                if replies and limit is not None and len(chunk) >= limit:
                    self._truncate_at = None
                    sink.write(chunk[: max(1, len(chunk) // 2)])
                    with contextlib.suppress(OSError):
                        await sink.drain()
                    self.cut()
                    return
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._links.discard(sink)
            sink.transport.abort()
