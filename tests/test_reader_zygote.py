"""The reader zygote: one helper process with the readers imported forks a fresh, limited child per
PDF or DOCX; it survives a hostile file, a killed zygote falls back to a fresh reader process and is
started again, and what it reads is exactly what the fresh reader process reads.
"""

from __future__ import annotations

import os
import signal
import time
import zlib

import pytest

from triage import reader_zygote
from triage.attachment_text import AttachmentLimits, extract_text

from .faults import alive
from .test_attachment_text import DOCX_TYPE, REFUSAL, make_docx, make_pdf, pdf_bytes


def inflating_pdf(size: int) -> bytes:
    """A one-page PDF whose content stream is small compressed and `size` bytes inflated."""
    packer = zlib.compressobj(9)
    stream = b"".join(packer.compress(b" " * 1_000_000) for _ in range(size // 1_000_000))
    stream += packer.compress(b"\nBT /F1 11 Tf 72 760 Td (Hello) Tj ET\n") + packer.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
               b"/Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    return pdf_bytes(objects)


def read_pdf(pdf: bytes, limits: AttachmentLimits | None = None):
    return extract_text("letter.pdf", "application/pdf", pdf, limits or AttachmentLimits())


def fresh(monkeypatch, *args):
    """extract_text through the one-off reader process, as before the zygote."""
    with monkeypatch.context() as m:
        m.setattr(reader_zygote, "ENABLED", False)
        return extract_text(*args)


def no_zombie_children(pid: int) -> bool:
    """True when the zygote has no child left (running or unreaped)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().strip() == ""
    except OSError:
        return True  # no /proc: not checked


def test_one_zygote_serves_two_reads():
    pdf = make_pdf([REFUSAL])
    first = read_pdf(pdf)
    pid = reader_zygote.zygote_pid()
    assert pid is not None and alive(pid)
    second = read_pdf(pdf)
    assert reader_zygote.zygote_pid() == pid
    assert first == second and "First-tier Tribunal" in first.text and not first.error
    assert no_zombie_children(pid)


def test_warm_starts_the_zygote_without_waiting_and_the_first_read_uses_it():
    reader_zygote._client.close()  # none running: warm() must start one
    reader_zygote.warm()
    assert reader_zygote._client.ready_by is not None  # started, its "ready" not yet waited for
    pid = reader_zygote.zygote_pid()
    assert pid is not None and alive(pid)
    reader_zygote.warm()  # running already: nothing new
    assert reader_zygote.zygote_pid() == pid
    read = read_pdf(make_pdf([REFUSAL]))
    assert "First-tier Tribunal" in read.text and not read.error
    assert reader_zygote.zygote_pid() == pid  # the warmed zygote served it


def test_a_child_over_its_time_memory_or_cpu_leaves_the_zygote_serving():
    read_pdf(make_pdf([REFUSAL]))
    pid = reader_zygote.zygote_pid()
    long_pdf = make_pdf([[f"Line {n} of a long letter." for n in range(40)] for _ in range(30)])

    slow = read_pdf(long_pdf, AttachmentLimits(seconds=0.01))
    assert slow.truncated and "stopped after the 0.01 s allowed" in slow.error
    starved = read_pdf(inflating_pdf(60_000_000), AttachmentLimits(max_memory_bytes=20_000_000))
    assert "memory limit" in starved.error
    # CPU: a child allowed 1 s of CPU on a file that needs more is stopped by SIGXCPU (or SIGKILL)
    huge = make_pdf([[f"Line {n} of a very long letter, read to the end." for n in range(60)]
                     for _ in range(3000)])
    output, code, timed_out = reader_zygote.run_in_zygote("pdf", huge, 100_000, 10_000_000, 1_000_000_000,
                                                          1, 60.0)
    assert not timed_out and code in (-signal.SIGXCPU, -signal.SIGKILL)
    assert reader_zygote.zygote_pid() == pid and alive(pid) and no_zombie_children(pid)

    after = read_pdf(make_pdf([REFUSAL]))
    assert reader_zygote.zygote_pid() == pid
    assert "First-tier Tribunal" in after.text and not after.error


def test_a_killed_zygote_falls_back_to_a_fresh_reader_then_is_started_again(monkeypatch):
    pdf = make_pdf([REFUSAL])
    expected = read_pdf(pdf)
    pid = reader_zygote.zygote_pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:  # alive() counts a zombie as gone
        time.sleep(0.01)

    assert read_pdf(pdf) == expected  # read by a fresh reader process
    assert reader_zygote.zygote_pid() is None  # the dead zygote was reaped, not replaced yet
    with pytest.raises(ProcessLookupError):  # reaped: not even a zombie is left
        os.kill(pid, 0)

    assert read_pdf(pdf) == expected  # a new zygote
    new_pid = reader_zygote.zygote_pid()
    assert new_pid is not None and new_pid != pid and alive(new_pid)


def test_a_zygote_that_cannot_start_falls_back(monkeypatch):
    pdf = make_pdf([REFUSAL])
    expected = fresh(monkeypatch, "letter.pdf", "application/pdf", pdf)
    reader_zygote._client.close()
    client = reader_zygote._client
    monkeypatch.setattr(reader_zygote, "_BOOT", "import sys; sys.exit(3)")
    monkeypatch.setattr(client, "retry_at", 0.0)
    assert read_pdf(pdf) == expected
    assert reader_zygote.zygote_pid() is None and client.retry_at > time.monotonic()
    monkeypatch.setattr(client, "retry_at", 0.0)


@pytest.mark.parametrize("name, kind, payload, limits", [
    ("letter.pdf", "application/pdf", make_pdf([REFUSAL, REFUSAL[:3], ["Page three."]]), AttachmentLimits()),
    ("letter.pdf", "application/pdf", make_pdf([REFUSAL] * 5), AttachmentLimits(max_pages=2)),
    ("letter.pdf", "application/pdf", make_pdf([REFUSAL] * 3), AttachmentLimits(max_chars=120)),
    ("blank.pdf", "application/pdf", make_pdf([[]]), AttachmentLimits()),
    ("broken.pdf", "application/pdf", make_pdf([REFUSAL])[:300], AttachmentLimits()),
    ("junk.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20, AttachmentLimits()),
    ("letter.docx", DOCX_TYPE, make_docx(REFUSAL, [["Child", "Amir"], ["Decision", "refused"]]),
     AttachmentLimits()),
    ("letter.docx", DOCX_TYPE, make_docx(REFUSAL * 20), AttachmentLimits(max_chars=300)),
    ("broken.docx", DOCX_TYPE, b"PK\x03\x04 broken", AttachmentLimits()),
])
def test_the_zygote_reads_exactly_what_a_fresh_reader_reads(monkeypatch, name, kind, payload, limits):
    served = extract_text(name, kind, payload, limits)
    assert reader_zygote.zygote_pid() is not None
    assert served == fresh(monkeypatch, name, kind, payload, limits)
