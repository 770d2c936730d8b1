"""The MLLP listener: python-hl7's asyncio server, one task per connection (a pharmacy).

Each frame is read as bytes (`readblock`: the frame without its start and end characters), handed
to `receiving.frame_receive` in a worker thread (the database is synchronous; a small pool of
threads, each keeping its own connection, closed when stale and when the listener stops), and
the ACK it returns is written only after that call has committed the frame. A connection that
ends mid-frame leaves nothing stored (the partial frame never reached a complete block) and the
server carries on with the other connections.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable

from django.db import connections
from hl7.mllp import InvalidBlockError, start_hl7_server

from .receiving import broken_frame_receive, frame_receive

log = logging.getLogger(__name__)

# Largest frame read (far above any pharmacy order); a longer one is refused and the buffer cut.
MAX_FRAME = 1024 * 1024
DATABASE_THREADS = 4


class Listener:
    """Serve MLLP on host:port until `stop()`; `port` is the bound one (0 picks a free port)."""

    def __init__(self, host: str, port: int, *, threads: int = DATABASE_THREADS):
        self.host = host
        self.port = port
        self.threads = threads
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="hl7-db"
        )
        self.server: asyncio.base_events.Server | None = None
        self.connections: set[asyncio.Task] = set()

    async def start(self) -> None:
        self.server = await start_hl7_server(
            self._serve_connection, self.host, self.port, limit=MAX_FRAME
        )
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("HL7 listener on %s:%s", self.host, self.port)

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await self.server.serve_forever()
        finally:
            await self.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self.connections):
                task.cancel()
            await asyncio.gather(*self.connections, return_exceptions=True)
            await self.server.wait_closed()
            self.server = None
        await asyncio.get_running_loop().run_in_executor(None, self.close_database)

    def close_database(self) -> None:
        """Close every pool thread's database connection, then the pool. A barrier makes each
        of `threads` tasks run on its own thread."""
        barrier = threading.Barrier(self.threads)

        def close() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10)
            connections.close_all()

        futures = [self.executor.submit(close) for _ in range(self.threads)]
        concurrent.futures.wait(futures)
        self.executor.shutdown(wait=True)

    async def _in_thread(self, call: Callable, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: call(*args, **kwargs))

    async def _serve_connection(self, reader, writer) -> None:
        task = asyncio.current_task()
        self.connections.add(task)
        peer = writer.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        try:
            while True:
                try:
                    block = await reader.readblock()
                except asyncio.IncompleteReadError:
                    break  # closed, perhaps mid-frame: an incomplete frame is not a message
                except InvalidBlockError:
                    # Bytes that did not begin with <VT>: read up to the end of the block.
                    answer = await self._in_thread(
                        broken_frame_receive,
                        b"",
                        reason="The frame does not begin with the MLLP start block <VT>.",
                        peer=peer_text,
                    )
                    writer.writeblock(answer.ack.encode("utf-8"))
                    await writer.drain()
                    continue
                except ValueError:
                    answer = await self._in_thread(
                        broken_frame_receive,
                        b"",
                        reason=f"The frame is longer than {MAX_FRAME} bytes.",
                        peer=peer_text,
                    )
                    writer.writeblock(answer.ack.encode("utf-8"))
                    await writer.drain()
                    continue
                answer = await self._in_thread(frame_receive, bytes(block), peer=peer_text)
                writer.writeblock(answer.ack.encode("utf-8"))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("HL7 connection from %s failed", peer_text)
        finally:
            self.connections.discard(task)
            writer.close()
