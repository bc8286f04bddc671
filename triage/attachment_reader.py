"""The reader process: PDFs and DOCX are read in a separate, fresh Python process with its memory,
CPU time and file writes limited, and killed when it overruns its wall-clock budget.

The process is started with -I -B, not forked from the service, so no lock or thread of the service is
copied into it. Normally the reading is done by a child forked for the file by the reader zygote
(triage.reader_zygote: one such process per service process, with pypdf and python-docx imported once),
under the same limits; when the zygote cannot serve a file, a fresh reader process reads it. It writes one JSON record a line (text, pages, truncated, error, done); the service
keeps what it read before it stopped. A file built to hang, crash or exhaust the reader costs only
that attachment's text, never the service.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .document_readers import read_docx, read_pdf
from .domain import AttachmentText
from .extracted_text import cut_text, normalise_text
from .reader_zygote import run_in_zygote

if TYPE_CHECKING:
    from .attachment_text import AttachmentLimits

_ROOT = Path(__file__).resolve().parents[1]  # the directory that holds the triage package
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from triage.attachment_reader import reader_main; reader_main(sys.argv[2:])")


def read_in_reader(filename: str, kind: str, payload: bytes, limits: AttachmentLimits) -> AttachmentText:
    """Run the reader process on the payload, killing it when it overruns its time; keep what it read."""
    seconds = max(limits.seconds, 0.0)
    command = [sys.executable, "-I", "-B", "-c", _BOOT, str(_ROOT), kind, str(limits.max_pages),
               str(limits.max_chars), str(limits.max_memory_bytes), str(math.ceil(seconds) + 1)]
    timed_out = False
    served = run_in_zygote(kind, payload, limits.max_pages, limits.max_chars, limits.max_memory_bytes,
                           math.ceil(seconds) + 1, seconds)
    if served is not None:  # a fresh child forked by the zygote read it
        output, code, timed_out = served
    else:
        try:
            done = subprocess.run(command, input=payload, capture_output=True, timeout=seconds, check=False)
            output, code = done.stdout, done.returncode
        except subprocess.TimeoutExpired as exc:  # run() has killed and reaped the reader
            timed_out, output, code = True, exc.output or b"", None
        except OSError as exc:
            return AttachmentText(filename, kind, error=f"the reader could not start ({exc.strerror or exc})")
    result, finished = _collect(filename, kind, output, limits)
    if result.error:
        return result
    if timed_out:
        return replace(result, truncated=True, error=f"stopped after the {seconds:g} s allowed for reading it")
    if code != 0 or not finished:
        how = f"was stopped by signal {-code}" if code is not None and code < 0 else f"failed (exit code {code})"
        return replace(result, truncated=bool(result.text),
                       error=f"the reader {how}: the file may be too big, or built to break readers")
    if not result.text and kind == "pdf":
        return replace(result, error="no text in it: a scanned image? (pictures are not read)")
    return result


def _collect(filename: str, kind: str, output: bytes, limits: AttachmentLimits) -> tuple[AttachmentText, bool]:
    """Put together the reader's records (one JSON object a line; a cut last line is ignored)."""
    texts: list[str] = []
    pages, truncated, error, finished = 0, False, "", False
    for line in output.split(b"\n"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        pages = int(record.get("pages", pages) or 0)
        texts.append(str(record.get("text", "")))
        truncated = truncated or bool(record.get("truncated"))
        error = error or str(record.get("error", ""))
        finished = finished or bool(record.get("done"))
    text, cut = cut_text(normalise_text("\n\n".join(t for t in texts if t)), limits.max_chars)
    return AttachmentText(filename, kind, text, truncated or cut, error, pages), finished


def reader_main(argv: list[str]) -> None:
    """The reader process: payload on stdin, records on stdout. Only run by read_in_reader."""
    kind, max_pages, max_chars, max_memory, cpu_seconds = argv[0], *map(int, argv[1:5])
    read_payload(kind, None, max_pages, max_chars, max_memory, cpu_seconds, sys.stdout)


def read_payload(kind: str, payload: bytes | None, max_pages: int, max_chars: int, max_memory: int,
                 cpu_seconds: int, out: Any) -> None:
    """Confine this process, read the payload (None: from stdin) and write its records to `out`.

    Run by the one-off reader process and by each child the reader zygote forks."""

    def emit(**record: Any) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()

    try:
        read = read_pdf if kind == "pdf" else read_docx
        if payload is None:
            payload = sys.stdin.buffer.read()
        _confine(max_memory, cpu_seconds)  # after the imports, which need more than the reading
        read(payload, max_pages, max_chars, emit)
        emit(done=True)
    except MemoryError:
        emit(error="too big to read within the reader's memory limit")
    except RecursionError:
        emit(error="broken file: nested too deeply to read")
    except Exception as exc:
        emit(error=_reason(kind, exc))


def _confine(max_memory: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not a POSIX system: the wall-clock kill still applies
        return
    for limit, value in ((resource.RLIMIT_AS, max_memory), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, 0), (resource.RLIMIT_CORE, 0)):
        try:
            soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(limit, (value, hard))
        except (ValueError, OSError):
            pass


def _reason(kind: str, exc: Exception) -> str:
    detail = " ".join(str(exc).split())[:200]
    return f"broken {kind.upper()}: {type(exc).__name__}" + (f": {detail}" if detail else "")
