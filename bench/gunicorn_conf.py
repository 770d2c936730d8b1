"""gunicorn settings for bench/med_pass.py: each worker's clock starts at BENCH_NOW and ticks, so
the pages are served at the moment the benchmark's data was built for."""

import os
from datetime import datetime

bind = os.environ.get("BENCH_BIND", "127.0.0.1:8765")
workers = int(os.environ.get("BENCH_WORKERS", "2"))
worker_class = "sync"
timeout = 60
accesslog = None
errorlog = "-"
loglevel = "warning"


def post_fork(server, worker):
    import time_machine

    now = os.environ.get("BENCH_NOW")
    if now:
        time_machine.travel(datetime.fromisoformat(now), tick=True).start()
