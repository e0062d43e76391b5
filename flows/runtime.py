"""How newswatch runs Prefect: quietly, offline, and without paying for a server per flow call.

Prefect 3.8 needs an API for every flow run. With ``PREFECT_API_URL`` unset it starts a temporary
server itself (``SubprocessASGIServer``) the first time a client is needed: the parent imports the
whole server package only to spawn it, the child imports it again, runs the Alembic check, and its
telemetry service fails offline with DNS errors and SQLite "database is locked" tracebacks.

This module does the same job earlier and cheaper (measurements in docs/prefect.md):

* :func:`configure_prefect` sets ``PREFECT_*`` defaults (only those the user has not set) before
  Prefect is imported: a persistent ``PREFECT_HOME``, telemetry off, terminal logs at WARNING
  (INFO still reaches the API, so the UI shows it).
* :func:`prefect_runtime` wraps a command that runs flows. With ``PREFECT_API_URL`` set it only
  configures. Otherwise it reuses the API server of a running ``newswatch serve`` (see
  :func:`local_api_server`) or starts a temporary one *before* Prefect is imported, on a socket it
  has already bound, so the server boots on the second core while this process imports Prefect
  and newswatch; the first API call just waits in the listen backlog. The temporary server runs
  only what recording runs needs (no UI, telemetry, automations, event fan-out), writes its output
  to ``$PREFECT_HOME/newswatch-api.log``, and stays up ``NEWSWATCH_PREFECT_LINGER`` seconds (15
  minutes by default) after its last run, for the next run to reuse; then it stops by itself.

Nothing here imports ``prefect`` at import time: the environment has to be set first.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

API_URL_VAR = "PREFECT_API_URL"
HOME_DIRNAME = ".prefect"
SERVER_LOG_NAME = "newswatch-api.log"
SERVER_STATE_NAME = "newswatch-api.json"
SERVER_LEASES_NAME = "newswatch-api.leases"  # one file per process using the server: its pid
# Seconds a temporary server stays up after its last user exits, for the next run to reuse (like a
# build daemon): a run that finds one records there and skips the ~4 s server start. 0: every run stops
# the server it started. The default keeps a server up between runs every 15 minutes (cron) or closer.
LINGER_ENV = "NEWSWATCH_PREFECT_LINGER"
DEFAULT_LINGER_S = 900.0
LEASE_CHECK_S = 1.0
SERVER_LOG_MAX_BYTES = 1_000_000
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 10.0
DEFAULT_SERVE_PORT = 4200

# Applied whenever newswatch runs Prefect, local or remote: noise control only.
QUIET_ENV: Mapping[str, str] = {
    # Client-side SDK analytics (prefect._internal.analytics): the documented opt-out.
    "DO_NOT_TRACK": "1",
    # Server-side telemetry heartbeat: offline it logs DNS errors, and its read-then-insert of
    # TELEMETRY_SESSION races the server's other writers into "database is locked" tracebacks.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}

# Terminal handler level unless verbose; the API handler still ships INFO run logs to the UI.
QUIET_CONSOLE_ENV: Mapping[str, str] = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}

# Only for the temporary server, passed to that child alone and never put into os.environ, so a
# long-lived server (``newswatch serve``) keeps its scheduler, late-runs and other services.
TEMPORARY_SERVER_ENV: Mapping[str, str] = {
    "PREFECT_SERVER_UI_ENABLED": "false",
    # Automations (ReactiveTriggers and Actions): a temporary server has none to evaluate.
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    # Websocket fan-out of events and logs to UI subscribers: a temporary server has none.
    "PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED": "false",
    "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED": "false",
}

# What Prefect's own SubprocessASGIServer sets: "ephemeral" mode starts only the services that
# record runs (task run recorder, event persister), none of the scheduling loops.
_EPHEMERAL_MARKERS: Mapping[str, str] = {"PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


# Progress notes Prefect's queue workers log at WARNING while draining at exit: not problems.
_DRAIN_NOTES: Mapping[str, str] = {
    "EventsWorker": "Still processing items",
    "APILogWorker": "Still processing items",
}


class DropMessages(logging.Filter):
    """Drop records whose unformatted message starts with ``prefix``; let everything else pass."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def quiet_prefect_noise() -> None:
    """Filter the known harmless Prefect messages off their exact loggers; idempotent."""
    for name, prefix in _DRAIN_NOTES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropMessages) and f.prefix == prefix for f in logger.filters):
            logger.addFilter(DropMessages(prefix))


def resolve_prefect_home(home: Path | None = None) -> Path:
    """The PREFECT_HOME newswatch uses: ``home``, else ``$PREFECT_HOME``, else ``./.prefect``.

    ``./.prefect`` matches the Makefile and the other cwd-relative defaults (storage/news.duckdb)
    and is git-ignored. A persistent home keeps the migrated database (creating the schema costs
    ~6 s on the first start, checking it ~0.2 s afterwards), and past runs stay visible to
    ``prefect server start`` run with the same home.
    """
    if home is not None:
        return home.expanduser().resolve()
    env_home = os.environ.get("PREFECT_HOME")
    if env_home:
        return Path(env_home).expanduser().resolve()
    return (Path.cwd() / HOME_DIRNAME).resolve()


def configure_prefect(*, home: Path | None = None, verbose: bool = False) -> None:
    """Set PREFECT_* environment defaults, only those the user has not set; idempotent.

    Call before Prefect is imported. If it was imported already, Prefect's global settings are
    refreshed from the environment (its logging handlers keep the levels they were set up with).
    """
    if home is not None:
        os.environ["PREFECT_HOME"] = str(resolve_prefect_home(home))
    else:
        os.environ.setdefault("PREFECT_HOME", str(resolve_prefect_home()))
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    if verbose:
        # Claim the level so a later non-verbose call (a flows/ module configuring itself on
        # import) cannot quiet a verbose command; NOTSET is Prefect's own default for the handler.
        for name in QUIET_CONSOLE_ENV:
            os.environ.setdefault(name, "NOTSET")
    else:
        for name, value in QUIET_CONSOLE_ENV.items():
            os.environ.setdefault(name, value)
        quiet_prefect_noise()
    _refresh_prefect_settings()


def uses_external_api() -> bool:
    """True when the user points Prefect at an API of their own (a server or Prefect Cloud)."""
    return bool(os.environ.get(API_URL_VAR))


@contextlib.contextmanager
def prefect_runtime(*, home: Path | None = None, verbose: bool = False) -> Iterator[str | None]:
    """Configure Prefect and make sure an API is there; yield its URL (None: the user's own).

    Enter before Prefect is imported. Without ``PREFECT_API_URL`` it reuses the server of a
    running ``newswatch serve`` on the same home, or starts a temporary one that is stopped on
    exit, after Prefect's event and log workers are flushed to it.
    """
    configure_prefect(home=home, verbose=verbose)
    if uses_external_api():
        yield None
        return
    prefect_home = resolve_prefect_home(home)
    linger = linger_seconds()
    lease = _take_lease(prefect_home)  # before looking: a lingering server seeing it stays up
    running = find_local_api(prefect_home)
    api = None if running else start_local_api(home=prefect_home, verbose=verbose, linger=linger)
    url = running or (api.url if api else "")
    os.environ[API_URL_VAR] = url
    try:
        # Importing Prefect here overlaps the server's boot; the caller would import it anyway.
        with _local_run_settings():
            yield url
    finally:
        try:
            if api is not None:
                _report_early_exit(api)
            _drain_prefect_workers()
            if api is not None:
                if linger > 0 and api.process.poll() is None and _is_healthy(api.url, timeout=1.0):
                    _write_server_state(prefect_home, api, linger=linger)  # left up for the next run
                else:
                    api.stop()
        finally:
            _release_lease(lease)
            os.environ.pop(API_URL_VAR, None)
            _refresh_prefect_settings()


def linger_seconds() -> float:
    """$NEWSWATCH_PREFECT_LINGER as seconds (DEFAULT_LINGER_S when unset; 0: no lingering)."""
    raw = os.environ.get(LINGER_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_LINGER_S
    except ValueError:
        logging.getLogger("newswatch.prefect").warning(
            "%s=%r is not a number of seconds; using %g", LINGER_ENV, raw, DEFAULT_LINGER_S
        )
        return DEFAULT_LINGER_S
    return max(0.0, value)


def stop_lingering_api(home: Path) -> bool:
    """Stop the lingering temporary server of this home, if one is up; True if one was stopped."""
    try:
        state = json.loads((home / SERVER_STATE_NAME).read_text())
        pid, lingering = int(state["pid"]), float(state.get("linger", 0))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if lingering <= 0 or not _pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if int(json.loads((home / SERVER_STATE_NAME).read_text())["pid"]) == pid:
            (home / SERVER_STATE_NAME).unlink()
    return True


def _report_early_exit(api: LocalApi) -> None:
    """Say where to look when the temporary server died on its own (its output is in a log)."""
    code = api.process.poll()
    if code is not None:
        logging.getLogger("newswatch.prefect").error(
            "the local Prefect API server exited early with code %s%s", code, api._log_hint()
        )


@contextlib.contextmanager
def local_api_server(
    *, home: Path | None = None, port: int = DEFAULT_SERVE_PORT, ui: bool = True, verbose: bool = False
) -> Iterator[str]:
    """Run a long-lived local Prefect server (for ``newswatch serve``); yield its API URL.

    Unlike the temporary server it runs every service Prefect enables by default, the scheduler
    first (``flow.serve`` schedules need it), and the UI at ``http://127.0.0.1:<port>``. While it
    runs, ``newswatch run`` on the same home records its runs there instead of starting a server.
    Falls back to a free port when ``port`` is taken. Does nothing when PREFECT_API_URL is set.
    """
    configure_prefect(home=home, verbose=verbose)
    if uses_external_api():
        yield os.environ[API_URL_VAR]
        return
    prefect_home = resolve_prefect_home(home)
    api = start_local_api(home=prefect_home, verbose=verbose, temporary=False, port=port, ui=ui)
    os.environ[API_URL_VAR] = api.url
    try:
        api.wait_ready()
        _write_server_state(prefect_home, api)
        _refresh_prefect_settings()
        yield api.url
    finally:
        try:
            _clear_server_state(prefect_home, api)
            _drain_prefect_workers()
            api.stop()
        finally:
            os.environ.pop(API_URL_VAR, None)
            _refresh_prefect_settings()


# --- the server process -----------------------------------------------------------------------


@dataclass
class LocalApi:
    """A Prefect API server newswatch started as a child process."""

    url: str
    process: subprocess.Popen[bytes]
    home: Path
    log_path: Path | None
    started_at: float
    ready: bool = False

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        """Block until /health answers; return the seconds since start. Raise if the server died."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"the local Prefect API server exited with code {code}{self._log_hint()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the local Prefect API server did not start in {timeout:.0f}s{self._log_hint()}"
                )
            self.ready = _is_healthy(self.url)
            if not self.ready:
                time.sleep(0.05)
        return time.monotonic() - self.started_at

    def stop(self) -> None:
        """Stop the server: SIGTERM (uvicorn shuts down gracefully), SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _log_hint(self) -> str:
        return f" (see {self.log_path})" if self.log_path else ""


def start_local_api(
    *,
    home: Path,
    verbose: bool = False,
    temporary: bool = True,
    port: int = 0,
    ui: bool = False,
    linger: float = 0.0,
) -> LocalApi:
    """Spawn a Prefect API server on a socket bound here, and return at once.

    The socket listens before the child starts, so the URL is valid immediately: a client that
    connects early waits in the backlog until the server accepts. ``temporary`` runs the server in
    Prefect's ephemeral mode with :data:`TEMPORARY_SERVER_ENV`; otherwise Prefect's defaults apply.
    Without ``linger`` the server stops when this process is gone; with it, once no process has held
    a lease on it (see :func:`prefect_runtime`) for ``linger`` seconds.
    """
    home.mkdir(parents=True, exist_ok=True)
    with _listening_socket(port) as sock:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
        log_path = None if verbose else home / SERVER_LOG_NAME
        env = _server_env(home, url=url, temporary=temporary, ui=ui)
        watch = (
            ["--linger", f"{linger:g}", "--home", str(home)] if linger > 0 else ["--parent", str(os.getpid())]
        )
        process = _spawn_server(sock.fileno(), env, log_path, watch)
    return LocalApi(url=url, process=process, home=home, log_path=log_path, started_at=time.monotonic())


@contextlib.contextmanager
def _listening_socket(port: int) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            if port == 0:
                raise
            sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        yield sock
    finally:
        sock.close()


def _spawn_server(
    fd: int, env: dict[str, str], log_path: Path | None, watch: list[str]
) -> subprocess.Popen[bytes]:
    # Own session: a Ctrl-C in the terminal reaches only newswatch, which then finishes the run
    # (recording its final state through this server) before stopping the server itself.
    command = [sys.executable, "-m", "flows.runtime", "--fd", str(fd), *watch]
    if log_path is None:
        return subprocess.Popen(
            command, env=env, pass_fds=(fd,), stdin=subprocess.DEVNULL, start_new_session=True
        )
    _trim_log(log_path)
    with log_path.open("ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} pid {os.getpid()} starts the API\n".encode())
        out.flush()
        return subprocess.Popen(
            command,
            env=env,
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _server_env(home: Path, *, url: str, temporary: bool, ui: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(API_URL_VAR, None)
    env["PREFECT_HOME"] = str(home)
    if temporary:
        for name, value in TEMPORARY_SERVER_ENV.items():
            env.setdefault(name, value)
        env.update(_EPHEMERAL_MARKERS)
    else:
        env.setdefault("PREFECT_SERVER_UI_ENABLED", "true" if ui else "false")
        env.setdefault("PREFECT_SERVER_UI_API_URL", url)
    # Prefect's own temporary server hard-codes this legacy name; keep the two consistent.
    env["PREFECT_UI_ENABLED"] = env.get("PREFECT_SERVER_UI_ENABLED", "false")
    return env


def _trim_log(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > SERVER_LOG_MAX_BYTES:
            path.unlink()


def _is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    """GET <api>/health answers 200. A bare HTTP/1.0 probe over a socket: the Prefect API is
    reached only from flows/ (Prefect's door), and newswatch's HTTP door is for the outside world."""
    parts = urlsplit(api_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {parts.path.rstrip('/')}/health HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(request)
            status_line = conn.recv(128).split(b"\r\n", 1)[0]
    except OSError:
        return False
    return status_line.startswith(b"HTTP/1.") and status_line.split()[1:2] == [b"200"]


# --- reuse of a long-lived server -------------------------------------------------------------


def find_local_api(home: Path) -> str | None:
    """The API URL of a live ``local_api_server`` on this home, or None."""
    try:
        state = json.loads((home / SERVER_STATE_NAME).read_text())
        url, pid = str(state["url"]), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _pid_alive(pid) or state.get("prefect") != _prefect_version():
        return None
    return url if _is_healthy(url, timeout=1.0) else None


def _prefect_version() -> str | None:
    """The installed Prefect's version, read from its metadata (importing Prefect here would be slow)."""
    try:
        return importlib.metadata.version("prefect")
    except importlib.metadata.PackageNotFoundError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_server_state(home: Path, api: LocalApi, *, linger: float = 0.0) -> None:
    state: dict[str, object] = {
        "url": api.url,
        "pid": api.process.pid,
        "owner": os.getpid(),
        "prefect": _prefect_version(),  # a server of another Prefect (an upgrade since) is not reused
    }
    if linger > 0:
        state["linger"] = linger
    tmp = home / f"{SERVER_STATE_NAME}.{os.getpid()}"
    tmp.write_text(json.dumps(state))
    tmp.replace(home / SERVER_STATE_NAME)  # atomic: a reader never sees half a file


def _take_lease(home: Path) -> Path | None:
    """Mark this process as a user of the home's local server (a lingering one stays up meanwhile)."""
    folder = home / SERVER_LEASES_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lease = folder / str(os.getpid())
        lease.touch()
    except OSError:
        return None
    return lease


def _release_lease(lease: Path | None) -> None:
    if lease is not None:
        with contextlib.suppress(OSError):
            lease.unlink()


def _live_leases(home: Path) -> int:
    """Leases held by live processes; those of dead processes are removed."""
    live = 0
    try:
        entries = list(os.scandir(home / SERVER_LEASES_NAME))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.isdigit() and _pid_alive(int(entry.name)):
            live += 1
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
    return live


def _clear_server_state(home: Path, api: LocalApi) -> None:
    path = home / SERVER_STATE_NAME
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == api.process.pid:
            path.unlink()


# --- Prefect-side helpers (import prefect lazily) ---------------------------------------------


def _refresh_prefect_settings() -> None:
    if "prefect.context" not in sys.modules:
        return
    import prefect.context

    prefect.context.refresh_global_settings_context()


@contextlib.contextmanager
def _local_run_settings() -> Iterator[None]:
    """Settings an env var cannot express, for runs against newswatch's own local server.

    Flow-run heartbeats (default every 180 s) cost up to 1 s per flow run, the engine joining a
    thread that sleeps in 1 s steps, and only feed crash detection automations (none here).
    """
    _refresh_prefect_settings()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _drain_prefect_workers() -> None:
    """Send Prefect's queued events (task runs) and logs before the server goes away."""
    if "prefect.events.worker" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        worker.drain_all(timeout=DRAIN_TIMEOUT_S)


# --- child process entry point: ``python -m flows.runtime --fd N --parent PID`` ----------------


def _watch_parent(parent: int) -> None:
    """Stop this server (gracefully, via SIGTERM) once the process that started it is gone."""
    while os.getppid() == parent and _pid_alive(parent):
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def _watch_leases(home: Path, linger: float) -> None:
    """Stop this lingering server once no process has held a lease on it for ``linger`` seconds."""
    busy_at = time.monotonic()
    while True:
        time.sleep(LEASE_CHECK_S)
        if _live_leases(home):
            busy_at = time.monotonic()
            continue
        if time.monotonic() - busy_at < linger:
            continue
        # Unpublish first, then look once more: a run that found the server before it was unpublished
        # took its lease before looking, so it is seen now and the server stays.
        state = _own_state(home)
        with contextlib.suppress(OSError):
            (home / SERVER_STATE_NAME).unlink()
        time.sleep(2 * LEASE_CHECK_S)
        if _live_leases(home):
            if state is not None:
                with contextlib.suppress(OSError):
                    (home / SERVER_STATE_NAME).write_text(state)
            busy_at = time.monotonic()
            continue
        os.kill(os.getpid(), signal.SIGTERM)
        return


def _own_state(home: Path) -> str | None:
    """The published state file's text if it names this process, else None (and it is left alone)."""
    path = home / SERVER_STATE_NAME
    try:
        text = path.read_text()
        if int(json.loads(text)["pid"]) == os.getpid():
            return text
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def run_api_server(fd: int, parent: int | None, linger: float = 0.0, home: Path | None = None) -> None:
    """Serve Prefect's API app on an inherited, already listening socket."""
    import uvicorn

    if linger > 0 and home is not None:
        threading.Thread(target=_watch_leases, args=(home, linger), name="lease-watch", daemon=True).start()
    elif parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
    uvicorn.run("prefect.server.api.server:create_app", factory=True, fd=fd, log_level="error", lifespan="on")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.runtime", description=run_api_server.__doc__)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent", type=int, default=None)
    parser.add_argument("--linger", type=float, default=0.0)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args(argv)
    run_api_server(args.fd, args.parent, args.linger, args.home)


if __name__ == "__main__":
    main()
