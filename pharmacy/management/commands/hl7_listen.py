"""Listen for the pharmacies' HL7 v2 messages over MLLP (HL7_HOST / HL7_PORT)."""

import asyncio
import contextlib

from django.conf import settings
from django.core.management.base import BaseCommand

from pharmacy.listener import Listener


class Command(BaseCommand):
    help = "Receive pharmacy orders and dispenses (HL7 v2 over MLLP); Ctrl-C stops."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="address (default: HL7_HOST)")
        parser.add_argument("--port", type=int, default=None, help="port (default: HL7_PORT)")

    def handle(self, *args, host=None, port=None, **options):
        listener = Listener(host or settings.HL7_HOST, settings.HL7_PORT if port is None else port)

        async def main() -> None:
            await listener.start()
            self.stdout.write(f"HL7 listener on {listener.host}:{listener.port}", ending="\n")
            self.stdout.flush()
            try:
                await listener.server.serve_forever()
            finally:
                await listener.close()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
