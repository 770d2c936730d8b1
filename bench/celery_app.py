"""The Celery app for bench/fleet.py's workers: the product's own app (medtech.celery), its
clock at BENCH_NOW and ticking, as bench/gunicorn_conf.py sets gunicorn's, so that the beat's
tasks run at the moment the benchmark's data was built for.

The clock moves at import, in the worker's main process, before the pool forks: the main
process is the one that drops a message whose `expires` has passed, so it must read the same
clock as the processes that send and run the tasks."""

import os
from datetime import datetime

from medtech.celery import app

__all__ = ["app"]

if os.environ.get("BENCH_NOW"):
    import time_machine

    time_machine.travel(datetime.fromisoformat(os.environ["BENCH_NOW"]), tick=True).start()
