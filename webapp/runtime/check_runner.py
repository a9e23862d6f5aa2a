"""Running the diagram gate where it cannot starve the application.

Everything of a check that runs diagram code (the static checks, bpmnlint, and above all
the organisation's scenarios against the draft) runs in a child process with limits:

- CPU time (RLIMIT_CPU), memory (RLIMIT_DATA: RLIMIT_AS would also count the address
  space node reserves for bpmnlint) and wall-clock time; over a limit, the child and
  everything it started (its process group) is killed and the check answers with a
  Dutch problem saying which limit.
- Children are forked from a warm 'forkserver' process that imported the runtime once
  (see `check_preload`), so a check does not pay for an interpreter and its imports.
- A small queue shared by all organisations of this process: at most `running` checks
  run and `waiting` wait; beyond that `ChecksBusy` is raised at once, so web threads never
  queue behind checks.

No Flask here: the web page, the CLI and publishing all call `publish.gate`, which calls this.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from .errors import KlachtrouteError

__all__ = ["ChecksBusy", "CheckQueue", "LimitExceeded", "Limits", "Outcome", "configure", "queue", "run_limited", "settings"]

# Named, not imported: the child side lives above the runtime (webapp.scenarios).
PRELOAD = ["webapp.scenarios.check_preload"]


class ChecksBusy(KlachtrouteError):
    """Too many checks at once: the caller answers 'try again' instead of waiting."""

    def __init__(self) -> None:
        super().__init__("Er worden nu te veel controles tegelijk uitgevoerd; probeer het over een minuut opnieuw.")


class LimitExceeded(Exception):  # noqa: N818 - it is not an error of the caller
    """Raised in a child (by a helper it forked) to report a limit: "cpu" or "memory"."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 20.0  # for the whole gate of one draft, scenarios included
    cpu_seconds: int = 15
    memory_mb: int = 1024


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    exceeded: str | None = None  # "wall", "cpu" or "memory"
    error: str | None = None  # the child failed otherwise (an exception, a signal)
    pid: int | None = None  # the child's, also its process group's (killed before returning)

    @property
    def ok(self) -> bool:
        return self.exceeded is None and self.error is None


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def limits_from_env() -> Limits:
    """KLACHTROUTE_CHECK_SECONDS, KLACHTROUTE_CHECK_CPU_SECONDS, KLACHTROUTE_CHECK_MEMORY_MB."""
    default = Limits()
    return Limits(wall_seconds=_env_number("KLACHTROUTE_CHECK_SECONDS", default.wall_seconds),
                  cpu_seconds=int(_env_number("KLACHTROUTE_CHECK_CPU_SECONDS", default.cpu_seconds)),
                  memory_mb=int(_env_number("KLACHTROUTE_CHECK_MEMORY_MB", default.memory_mb)))


# -- the queue -----------------------------------------------------------------------------


class CheckQueue:
    """At most `running` checks at once and `waiting` waiting for a turn; more raise ChecksBusy."""

    def __init__(self, running: int = 2, waiting: int = 4) -> None:
        self.running_limit, self.waiting_limit = max(1, running), max(0, waiting)
        self._condition = threading.Condition()
        self._running = self._waiting = 0

    def stats(self) -> tuple[int, int]:
        """(running, waiting) now."""
        with self._condition:
            return self._running, self._waiting

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._condition:
            if self._running >= self.running_limit and self._waiting >= self.waiting_limit:
                raise ChecksBusy()
            self._waiting += 1
            try:
                # Bounded: at most `waiting` checks ahead, each ended by its wall-clock limit.
                self._condition.wait_for(lambda: self._running < self.running_limit)
            finally:
                self._waiting -= 1
            self._running += 1
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify()


@dataclass
class _Settings:
    limits: Limits
    queue: CheckQueue


_settings = _Settings(limits_from_env(), CheckQueue(
    int(_env_number("KLACHTROUTE_CHECKS_RUNNING", 2)), int(_env_number("KLACHTROUTE_CHECKS_WAITING", 4))))


def settings() -> tuple[Limits, CheckQueue]:
    return _settings.limits, _settings.queue


def queue() -> CheckQueue:
    return _settings.queue


def configure(*, limits: Limits | None = None, running: int | None = None, waiting: int | None = None,
              **limit_changes: Any) -> tuple[Limits, CheckQueue]:
    """Change this process's limits and/or queue (a new queue when its sizes change).
    Returns the previous (limits, queue) so a caller can put them back."""
    previous = (_settings.limits, _settings.queue)
    _settings.limits = replace(limits or _settings.limits, **limit_changes)
    if running is not None or waiting is not None:
        old = _settings.queue
        _settings.queue = CheckQueue(old.running_limit if running is None else running,
                                     old.waiting_limit if waiting is None else waiting)
    return previous


def restore(previous: tuple[Limits, CheckQueue]) -> None:
    _settings.limits, _settings.queue = previous


# -- the limited child process -------------------------------------------------------------

_context_lock = threading.Lock()
_context: Any = None


def _forkserver() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
        return _context


def warm_up() -> None:
    """Start the forkserver now (it imports the runtime once), not on the first check."""
    run_limited(os.getpid, (), Limits(wall_seconds=60))


def _apply_limits(limits: Limits) -> None:
    cpu = max(1, int(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = int(limits.memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))


def _die_with_parent() -> None:
    """Linux: SIGKILL when the forkserver goes, and let it go with the web process: a child
    holds the forkserver's 'alive' pipe open (for starting processes of its own, which a
    check does not), which would keep a forkserver and a stuck check alive for ever."""
    from multiprocessing import forkserver

    alive = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if alive is not None:
        with contextlib.suppress(OSError):
            os.close(alive)
        forkserver._forkserver._forkserver_alive_fd = None
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG


_SECRETS = ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "SMTP_URL")
_result_fd: int | None = None  # the child's end of the pipe to the parent


def _child(conn, limits: Limits, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the child: its own process group (killed as a whole), its limits, no secrets in its
    environment (diagram code has no business with them), then the work."""
    global _result_fd
    os.setpgid(0, 0)
    _die_with_parent()
    _apply_limits(limits)
    for name in _SECRETS:
        os.environ.pop(name, None)
    _result_fd = conn.fileno()
    try:
        message: tuple[str, Any] = ("ok", target(*args))
    except MemoryError:
        message = ("memory", None)
    except LimitExceeded as exc:
        message = (exc.kind, None)
    except BaseException as exc:  # whatever diagram code raised: report it, never hang the parent
        message = ("error", f"{type(exc).__name__}: {exc}"[:500])
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory", None))
    conn.close()


def forked_helper() -> None:
    """Call first in a process the child forks: it must not hold the pipe to the parent open
    (the parent takes its end of file for the child's death)."""
    if _result_fd is not None:
        with contextlib.suppress(OSError):
            os.close(_result_fd)


def _kill_group(process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # gone, or had no group of its own yet
        os.killpg(process.pid, signal.SIGKILL)
    if process.is_alive():
        process.kill()


def run_limited(target: Callable[..., Any], args: tuple[Any, ...] = (), limits: Limits | None = None) -> Outcome:
    """`target(*args)` in a child forked from the warm forkserver, within `limits`.
    `target` must be importable by name and its arguments and result picklable."""
    limits = limits or _settings.limits
    context = _forkserver()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, limits, target, args), daemon=True,
                              name="klachtroute-check")
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.wall_seconds):
            return Outcome(exceeded="wall", pid=process.pid)
        try:
            kind, payload = receiver.recv()
        except (EOFError, OSError):
            process.join(1)
            return _death(process.exitcode, process.pid)
    finally:
        _kill_group(process)
        process.join()
        receiver.close()
    if kind == "ok":
        return Outcome(value=payload, pid=process.pid)
    if kind in ("memory", "cpu"):
        return Outcome(exceeded=kind, pid=process.pid)
    return Outcome(error=payload, pid=process.pid)


def _death(exitcode: int | None, pid: int) -> Outcome:
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return Outcome(exceeded="cpu", pid=pid)  # the soft limit's SIGXCPU, or the hard limit's SIGKILL
    return Outcome(error=f"het controleproces stopte onverwacht (exitcode {exitcode})", pid=pid)
