"""The reader zygote: one long-lived helper process per service process that imports the PDF and DOCX
readers once and forks a fresh, limited child for every file.

The zygote is started like the one-off reader (``sys.executable -I -B -c``), never forked from the
service, so no lock or thread of the service is copied into it. It is single-threaded, so forking it
is safe. Each child applies the same limits as the one-off reader (address space, CPU time, no file
writes, no core), reads the payload and writes the same JSON records to a pipe; the zygote relays
them with the child's exit status, killing the child when it overruns its wall-clock budget, and
reaps every child before it answers.

Protocol on the zygote's stdin/stdout: once started it writes ``{"ready": true}``. A request is one
JSON line ``{kind, max_pages, max_chars, max_memory, cpu_seconds, seconds, length}`` and ``length``
payload bytes; the answer is one JSON line ``{code, timed_out, length}`` (code: the exit code, a
negative signal number, or null when killed for time) and ``length`` bytes of the child's output.

In the service, `run_in_zygote` returns None whenever the zygote cannot serve a file (it could not
start, died, broke the protocol, did not answer within the budget plus 2 s, or is busy with another
thread's file): the caller then reads that file in a fresh reader process as before. A zygote that
failed is killed and a new one started for the next file.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from triage.reader_zygote import zygote_main; zygote_main()")
_START_SECONDS = 10.0  # how long a starting zygote may take to import the readers
_SLACK_SECONDS = 2.0  # how much longer than a file's budget the zygote may take to answer
_RETRY_AFTER = 30.0  # after a zygote that could not start, fresh processes only for this long

ENABLED = True


class ZygoteClient:
    """The service's end: one zygote, used by one thread at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.retry_at = 0.0
        self.ready_by: float | None = None  # started by warm() and not yet heard ready: by when it must be

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def run(self, kind: str, payload: bytes, max_pages: int, max_chars: int, max_memory: int,
            cpu_seconds: int, seconds: float) -> tuple[bytes, int | None, bool] | None:
        """(output, exit code, timed out) of one read in a forked child, or None: read it elsewhere."""
        if not self.lock.acquire(blocking=False):
            return None  # another thread's file is being read: don't wait behind it
        try:
            if self.process is not None and self.process.poll() is not None:
                self._kill()  # died since the last file: this one elsewhere, a new zygote next time
                return None
            if self.process is None and not self._start():
                return None
            if self.ready_by is not None and not self._await_ready():
                return None
            header = {"kind": kind, "max_pages": max_pages, "max_chars": max_chars, "max_memory": max_memory,
                      "cpu_seconds": cpu_seconds, "seconds": seconds, "length": len(payload)}
            request = json.dumps(header).encode() + b"\n" + payload
            answer = self._exchange(request, time.monotonic() + seconds + _SLACK_SECONDS)
            if answer is None:
                self._kill()
            return answer
        except Exception:
            self._kill()
            return None
        finally:
            self.lock.release()

    def close(self) -> None:
        """Stop the zygote (at exit): its input closed, it exits; killed if it does not within 1 s."""
        locked = self.lock.acquire(timeout=10)  # a file being read: wait for it, within reason
        try:
            process, self.process = self.process, None
            if process is None:
                return
            try:
                assert process.stdin is not None
                process.stdin.close()  # end of input: the zygote exits
                process.wait(timeout=1)
            except Exception:
                process.kill()
                process.wait()
            finally:
                if process.stdout is not None:
                    process.stdout.close()
        finally:
            if locked:
                self.lock.release()

    def warm(self) -> None:
        """Start the zygote now without waiting for it (a backlog is about to be read), so its imports
        overlap the first fetch instead of delaying the first attachment. Never blocks, never raises."""
        if not self.lock.acquire(blocking=False):
            return  # in use: it is running already
        try:
            if self.process is None:
                self._spawn()
        except Exception:
            self._failed()
        finally:
            self.lock.release()

    def _start(self) -> bool:
        return self._spawn() and self._await_ready()

    def _spawn(self) -> bool:
        """Start the zygote process; `_await_ready` then waits for its first line."""
        if time.monotonic() < self.retry_at:
            return False
        try:
            self.process = subprocess.Popen([sys.executable, "-I", "-B", "-c", _BOOT, str(_ROOT)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, bufsize=0)
            assert self.process.stdin is not None and self.process.stdout is not None
            os.set_blocking(self.process.stdin.fileno(), False)
            os.set_blocking(self.process.stdout.fileno(), False)
        except Exception:
            self._failed()
            return False
        self.ready_by = time.monotonic() + _START_SECONDS
        return True

    def _await_ready(self) -> bool:
        assert self.ready_by is not None
        try:
            ready = self._read_line(bytearray(), self.ready_by)
            if ready is not None and not ready[1] and json.loads(ready[0]) == {"ready": True}:
                self.ready_by = None
                return True
        except Exception:
            pass
        self._failed()
        return False

    def _failed(self) -> None:
        """The zygote could not start: fresh reader processes only, for a while."""
        self._kill()
        self.retry_at = time.monotonic() + _RETRY_AFTER

    def _exchange(self, request: bytes, deadline: float) -> tuple[bytes, int | None, bool] | None:
        assert self.process is not None and self.process.stdin is not None
        to_zygote = self.process.stdin.fileno()
        view, sent = memoryview(request), 0
        while sent < len(request):
            if not select.select([], [to_zygote], [], max(deadline - time.monotonic(), 0))[1]:
                return None
            sent += os.write(to_zygote, view[sent:sent + 65536])
        got = self._read_line(bytearray(), deadline)
        if got is None:
            return None
        line, rest = got
        header = json.loads(line)
        length, code, timed_out = int(header["length"]), header["code"], bool(header["timed_out"])
        if code is not None and not isinstance(code, int):
            return None
        output = self._read_exactly(rest, length, deadline)
        return None if output is None else (output, code, timed_out)

    def _read_line(self, buffer: bytearray, deadline: float) -> tuple[bytes, bytearray] | None:
        while b"\n" not in buffer:
            if not self._read_more(buffer, deadline):
                return None
        line, _, rest = bytes(buffer).partition(b"\n")
        return line, bytearray(rest)

    def _read_exactly(self, buffer: bytearray, length: int, deadline: float) -> bytes | None:
        while len(buffer) < length:
            if not self._read_more(buffer, deadline):
                return None
        return bytes(buffer[:length]) if len(buffer) == length else None

    def _read_more(self, buffer: bytearray, deadline: float) -> bool:
        assert self.process is not None and self.process.stdout is not None
        from_zygote = self.process.stdout.fileno()
        if not select.select([from_zygote], [], [], max(deadline - time.monotonic(), 0))[0]:
            return False
        chunk = os.read(from_zygote, 1 << 20)
        buffer += chunk
        return bool(chunk)

    def _kill(self) -> None:
        process, self.process = self.process, None
        self.ready_by = None
        if process is None:
            return
        try:
            process.kill()
        except OSError:
            pass
        process.wait()
        for pipe in (process.stdin, process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


_client = ZygoteClient()
atexit.register(_client.close)


def run_in_zygote(kind: str, payload: bytes, max_pages: int, max_chars: int, max_memory: int,
                  cpu_seconds: int, seconds: float) -> tuple[bytes, int | None, bool] | None:
    if not ENABLED:
        return None
    return _client.run(kind, payload, max_pages, max_chars, max_memory, cpu_seconds, seconds)


def warm() -> None:
    """Start the reader zygote in the background (see ZygoteClient.warm)."""
    if ENABLED:
        _client.warm()


def zygote_pid() -> int | None:
    """The current zygote's process id (None when there is none): for tests."""
    return _client.pid


# The zygote process ------------------------------------------------------------------------------

def zygote_main() -> None:
    """Import the readers once, then serve requests on stdin until it closes. Only run by the client."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service stops it by closing its input
    import docx  # noqa: F401  (imported here once, so each child starts with them loaded)
    import pypdf  # noqa: F401

    from .attachment_reader import read_payload

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b'{"ready": true}\n')
    stdout.flush()
    while True:
        line = stdin.readline()
        if not line:
            return
        request = json.loads(line)
        payload = stdin.read(int(request["length"]))
        output, code, timed_out = _fork_child(request, payload, read_payload)
        stdout.write(json.dumps({"code": code, "timed_out": timed_out, "length": len(output)}).encode()
                     + b"\n" + output)
        stdout.flush()


def _fork_child(request: dict[str, Any], payload: bytes, read_payload: Any) -> tuple[bytes, int | None, bool]:
    seconds = max(float(request["seconds"]), 0.0)
    started = time.monotonic()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)  # the zygote's requests are not the child's to read
            os.dup2(write_end, 1)
            os.close(null)
            os.close(write_end)
            out = open(1, "w", encoding="utf-8", closefd=False)
            read_payload(str(request["kind"]), payload, int(request["max_pages"]), int(request["max_chars"]),
                         int(request["max_memory"]), int(request["cpu_seconds"]), out)
            out.flush()
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = started + seconds
    chunks: list[bytes] = []
    timed_out, status = False, None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                timed_out = True
                break
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        while not timed_out:  # output closed: wait for the exit, still within the budget
            done, exit_status = os.waitpid(pid, os.WNOHANG)
            if done:
                status = exit_status
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(0.0005)
    finally:
        os.close(read_end)
        if status is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
    if timed_out:
        return b"".join(chunks), None, True
    return b"".join(chunks), os.waitstatus_to_exitcode(status), False
