"""Real processes to break, shared by the fault suite (tests/test_faults.py) and `make chaos`
(scripts/chaos.py): an SMTP sink that logs every message it accepts, a Redis server of our own
(AOF on) that can be killed and started again, Celery workers on them, and a way to wait for a
state with a deadline instead of sleeping for a guess.
"""

from __future__ import annotations

import contextlib
import email
import os
import select
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.05):
    """Poll ``condition`` until it returns something true; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"Still waiting after {timeout:.0f} s for {what}")
        time.sleep(every)


# --- SMTP sink -------------------------------------------------------------------------------


@dataclass
class Accepted:
    message_id: str
    recipients: list[str]
    at: float


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

    timeout = 120

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        try:
            if sink.refusing:
                self.reply("421 4.3.2 Service not available, closing channel")
                return
            self.reply("220 sink.test ESMTP")
            recipients: list[str] = []
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                command = line[:4].upper()
                if command == b"EHLO":
                    self.reply("250-sink.test")
                    self.reply("250 8BITMIME")
                elif command in (b"HELO", b"NOOP", b"MAIL"):
                    self.reply("250 OK")
                elif command == b"RCPT":
                    recipients.append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
                    self.reply("250 OK")
                elif command == b"RSET":
                    recipients = []
                    self.reply("250 OK")
                elif command == b"DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    self._receive(sink, recipients)
                    recipients = []
                elif command == b"QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("502 Command not implemented")
        except OSError:
            return  # the client went away (a killed worker): nothing was accepted after that

    def _receive(self, sink: SmtpSink, recipients: list[str]) -> None:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                raise ConnectionResetError("the client went away in the middle of DATA")
            if line in (b".\r\n", b".\n"):
                break
            lines.append(line[1:] if line.startswith(b"..") else line)
        hold = sink._take_hold()
        if hold and hold.where == "before_accept":
            hold.wait()  # the message is not accepted until released (or the client dies)
            # A killed client is noticed only when we answer: accept nothing for a dead one. A live
            # one sends nothing while it waits for our answer, so anything readable is its end.
            readable, _, _ = select.select([self.connection], [], [], 1.0)
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return
                except OSError:
                    return
        if sink.latency:
            time.sleep(sink.latency)  # a mail server that takes its time: a wider window to die in
        message = email.message_from_bytes(b"".join(lines))
        sink._record(Accepted(message.get("Message-ID", ""), recipients, time.monotonic()))
        self.reply("250 OK: queued")
        if hold and hold.where == "after_accept":
            hold.wait()  # accepted; the client waits for our answer to its next command


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Hold:
    """One message stopped at ``where``: ``reached`` is set when it gets there."""

    def __init__(self, where: str) -> None:
        assert where in ("before_accept", "after_accept")
        self.where = where
        self.reached = threading.Event()
        self._released = threading.Event()

    def wait(self) -> None:
        self.reached.set()
        self._released.wait(timeout=300)

    def release(self) -> None:
        self._released.set()


@dataclass
class SmtpSink:
    """An SMTP server in a thread that accepts and logs every message. ``hold_next`` stops the
    next message just before or just after it is accepted, until ``release`` (a worker can be
    killed there); ``refusing`` answers every connection with 421 (the mail service is down)."""

    port: int = 0
    refusing: bool = False
    latency: float = 0.0
    accepted: list[Accepted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._hold: Hold | None = None
        self._holds: list[Hold] = []
        self._server = _Server(("127.0.0.1", self.port), _SmtpHandler)
        self._server.sink = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtp-sink", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def hold_next(self, where: str) -> Hold:
        """Stop the next message to arrive ``before_accept`` or ``after_accept``."""
        hold = Hold(where)
        with self._lock:
            self._hold = hold
            self._holds.append(hold)
        return hold

    def _take_hold(self) -> Hold | None:
        with self._lock:
            hold, self._hold = self._hold, None
            return hold

    def _record(self, accepted: Accepted) -> None:
        with self._lock:
            self.accepted.append(accepted)

    def clear(self) -> None:
        with self._lock:
            self.accepted = []

    def copies(self) -> Counter:
        """How many times each Message-ID was accepted."""
        with self._lock:
            return Counter(a.message_id for a in self.accepted)

    def close(self) -> None:
        for hold in self._holds:
            hold.release()
        self._server.shutdown()
        self._server.server_close()


# --- Redis of our own --------------------------------------------------------------------------


class RedisServer:
    """``redis-server`` on a free port with AOF (fsync on every write), in a directory of its own,
    so it can be killed and started again with what it had accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="npq-redis-")
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir,
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=20, what=f"redis-server on port {self.port}")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """kill -9: no clean shutdown, only what the AOF already holds survives."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- Workers -----------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (a prefork worker's pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing bracket.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def kill9(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it died already
        os.kill(pid, signal.SIGKILL)


def worker_env(*, database_url: str, broker_url: str, queue: str, smtp_url: str, **extra: str) -> dict:
    """The environment of a worker process: the portal's own settings (not the test settings,
    whose mail stays in memory), on the given database, broker and mail server."""
    env = dict(os.environ)
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ENV", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    env.update(
        DJANGO_ENV="local",
        DJANGO_SETTINGS_MODULE="npq_portal.settings",
        DEBUG="false",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        EMAIL_URL=smtp_url,
        LOG_LEVEL=os.environ.get("FAULT_LOG_LEVEL", "WARNING"),
    )
    env.update(extra)
    return env


def start_worker(
    env: dict, *, name: str, concurrency: int = 1, log: Path | None = None, beat: bool = False
) -> subprocess.Popen:
    """A prefork worker (as in production): ``kill -9`` of a child is noticed by the parent, which
    starts another and hands the child's unacknowledged task back to the queue."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "npq_portal",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        env["CELERY_TASK_DEFAULT_QUEUE"],
        "-n",
        f"{name}@%h",
        f"--loglevel={env['LOG_LEVEL']}",
    ]
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen, *, timeout: float = 20, graceful: bool = True) -> None:
    """Stop a worker: a warm shutdown (finish the task in hand), or at once."""
    if process.poll() is not None:
        return
    pool = children(process.pid)
    if not graceful:
        for pid in [process.pid, *pool]:
            kill9(pid)
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for child in pool:  # orphans of a worker that had to be killed
        kill9(child)
