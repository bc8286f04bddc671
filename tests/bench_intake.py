"""Intake benchmark (`make bench`): how fast the service takes in a real IMAP mailbox, against a floor.

One run starts a private Dovecot (tests.servers.Dovecot) in a temporary directory and appends 5,000
varied messages to the INBOX of its user: copies of the labelled corpus, each with a fresh Message-ID
and a recent Date, mixed (deterministically) with messages carrying a PDF attachment of a few hundred
KB, HTML-only ones, auto-replies and bounces, and copies of the public MIME test corpus in
../shared/corpus/mime when it exists (read at run time, never copied into the repository).
Then, each phase in a child process of its own (so its peak memory is its own):

* raw floor: imapclient fetches BODY.PEEK[] in chunks of 50 UIDs and the standard `email` library
  parses each message and finds its text: the least any intake in Python can do;
* service end to end: `triage.pipeline.poll_once` on the same mailbox, from a settings file, as the
  service runs it (fetch, parse, classify, draft, store in SQLite, acknowledgement queued, keyword set).
  Loading the model is timed apart. (The service reads batches ahead of the one it stores: on a thread,
  and for a backlog in its backlog worker, a second process that parses and classifies; the worker's
  start is inside the timed poll, and its CPU time and peak memory are reported.)

Both rates count from sign-in to the last message. Prints a Markdown table (append time is setup, not a
figure to aim at). With `--profile`, it also runs the service once more under cProfile on 1,000 of the
messages (a fresh folder and data directory) and prints the time by stage and the top functions by
cumulative and by own time. The run fails (non-zero exit) if the service lost a message, or if a poll
raised (it would stop at the same message every time: the run names it; `--leave-out FILE` then gives
figures without that MIME corpus file, and says so).

Each phase's CPU time (its process and the attachment readers it started, from os.times) is printed beside
the wall-clock rates: on a shared machine the rates move with whatever else runs, the CPU time much less.

Peak memory is the child's VmHWM from /proc/self/status: on Linux, `ru_maxrss` of a spawned child
starts from its parent's peak (the vfork before exec carries it over), so it would count the parent's
5,000 messages too.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime as dt
import email
import email.policy
import html
import io
import multiprocessing
import os
import platform
import pstats
import quopri
import random
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from imapclient import IMAPClient

from tests.servers import Dovecot

MESSAGES = 5_000
PROFILE_MESSAGES = 1_000
SEED = 7
FETCH_CHUNK = 50
APPEND_CHUNK_BYTES = 4 * 1024 * 1024  # per MULTIAPPEND command
USER = "bench"
PASSWORD_ENV = "BENCH_IMAP_PASSWORD"
PROFILE_FOLDER = "Profile"
REPO = Path(__file__).resolve().parents[1]
MIME_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "mime"
DOMAIN = "bench.brackenford.example.gov.uk"
TEAM = "ehc.assessment@brackenford.example.gov.uk"

# The mix, as shares of the messages (the rest are corpus copies), and copies of each MIME corpus file.
ATTACHMENT_SHARE = 0.02
HTML_ONLY_SHARE = 0.05
AUTOMATIC_SHARE = 0.01
MIME_COPIES = 2
RECENT_DAYS = 14

SETTINGS_TOML = """\
[service]
data_dir = "{data_dir}"
backlog_worker = {backlog_worker}
[imap]
host = "127.0.0.1"
port = {port}
ssl = false
username = "{user}"
password_env = "{password_env}"
folder = "{folder}"
"""


# --- building the messages -----------------------------------------------------------------------

@dataclass(frozen=True)
class Mail:
    raw: bytes
    date: dt.datetime
    kind: str
    origin: str  # the corpus file it is, or was made from (printed when the service stops at it)


_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _split(raw: bytes) -> tuple[list[bytes], bytes, bytes]:
    """(header fields, each with its continuation lines; the blank line; the body), byte for byte.

    An mbox "From " separator line is dropped: it is not part of the message, and no IMAP server keeps it.
    """
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    end = _HEADER_END.search(raw)
    head, blank, body = (raw[:end.start()], end.group(), raw[end.end():]) if end else (raw, b"", b"")
    fields: list[bytes] = []
    for line in head.split(b"\n") if head else []:
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    return fields, blank, body


def _name(field: bytes) -> bytes:
    return field.split(b":", 1)[0].strip().lower()


def _eol(raw: bytes) -> bytes:
    first = raw.find(b"\n")
    return b"\r\n" if first > 0 and raw[first - 1:first] == b"\r" else b"\n"


def _head(fields: list[bytes], eol: bytes) -> bytes:
    return eol.join(f.rstrip(b"\r") for f in fields)


def _restamp(raw: bytes, message_id: str, date: dt.datetime) -> bytes:
    """The message with a new Message-ID and Date in place of its own; every other byte kept."""
    eol = _eol(raw)
    fields, blank, body = _split(raw)
    kept = [f for f in fields if _name(f) not in (b"message-id", b"date")]
    stamp = [f"Message-ID: <{message_id}>".encode(), f"Date: {format_datetime(date)}".encode()]
    return _head(stamp + kept, eol) + (blank or eol * 2) + body


_CONTENT_FIELDS = (b"content-type", b"content-transfer-encoding", b"content-disposition", b"mime-version")


def _with_body(raw: bytes, content: list[str], body: bytes) -> bytes:
    """The message's own headers (not its Content-* ones) over a new content and body (in the message's line ends)."""
    eol = _eol(raw)
    fields, blank, _ = _split(raw)
    kept = [f for f in fields if _name(f) not in _CONTENT_FIELDS]
    return _head(kept + [line.encode() for line in ["MIME-Version: 1.0", *content]], eol) + (blank or eol * 2) + body


def _fake_pdf(rng: random.Random) -> bytes:
    return b"%PDF-1.4\n" + rng.randbytes(rng.randint(150_000, 400_000)) + b"\n%%EOF\n"


def with_attachment(raw: bytes, rng: random.Random) -> bytes:
    """The message wrapped in multipart/mixed, its own content first, then a PDF of a few hundred KB."""
    eol = _eol(raw)
    fields, _, body = _split(raw)
    own = [f for f in fields if _name(f) in _CONTENT_FIELDS[:3]] or [b"Content-Type: text/plain; charset=us-ascii"]
    boundary = f"=_bench_{rng.getrandbits(64):016x}"
    pdf = base64.encodebytes(_fake_pdf(rng)).replace(b"\n", eol)
    name = rng.choice(["decision-letter.pdf", "EHCP-draft.pdf", "school-report.pdf", "scan0001.pdf"])
    parts = b"".join([
        f"--{boundary}".encode() + eol, _head(own, eol) + eol + eol, body.rstrip(b"\r\n") + eol,
        f"--{boundary}".encode() + eol,
        f'Content-Type: application/pdf; name="{name}"'.encode() + eol,
        f'Content-Disposition: attachment; filename="{name}"'.encode() + eol,
        b"Content-Transfer-Encoding: base64" + eol + eol, pdf,
        f"--{boundary}--".encode() + eol,
    ])
    return _with_body(raw, [f'Content-Type: multipart/mixed; boundary="{boundary}"'], parts)


def html_only(raw: bytes) -> bytes:
    """The message's text as HTML (as a webmail client might send it): no text/plain part at all."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        text = message.get_body(preferencelist=("plain",)).get_content()
    except Exception:
        text = "Please see my earlier email about my son's plan."
    paragraphs = "".join(f"<p>{'<br>'.join(html.escape(l) for l in p.splitlines())}</p>\n"
                         for p in text.split("\n\n") if p.strip())
    page = ('<html><head><meta charset="utf-8"><style>p { font-family: Calibri, sans-serif; }</style></head>\n'
            f'<body><div dir="ltr">\n{paragraphs}</div></body></html>\n')
    return _with_body(raw, ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable"],
                      quopri.encodestring(page.encode("utf-8")).replace(b"\n", _eol(raw)))


OUT_OF_OFFICE = """\
From: {name} <{address}>
To: EHC Assessment Team <{team}>
Subject: Automatic reply: {subject}
Auto-Submitted: auto-replied
X-Autoreply: yes
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Thank you for your email. I am out of the office until {back:%A %d %B} with no access to email.
For anything urgent please contact the school office.
"""

BOUNCE = """\
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx1.brackenford.example.gov.uk>
To: {team}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

This is a MIME-encapsulated message.

--{boundary}
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered to <{address}>: the mailbox does not exist.

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.brackenford.example.gov.uk

Final-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: User unknown

--{boundary}
Content-Type: text/rfc822-headers

From: EHC Assessment Team <{team}>
To: {address}
Subject: {subject}

--{boundary}--
"""


def automatic(rng: random.Random, subject: str) -> bytes:
    """An out-of-office reply or a bounce (both fictional), as real mailboxes get them."""
    first = rng.choice(["Sam", "Priya", "Tom", "Aisha", "Gareth", "Chloe"])
    address = f"{first.lower()}.{rng.randint(1, 999)}@school{rng.randint(1, 40)}.example.org"
    template = rng.choice([OUT_OF_OFFICE, BOUNCE])
    return template.format(name=f"{first} Example", address=address, team=TEAM, subject=subject[:120],
                           back=dt.date.today() + dt.timedelta(days=rng.randint(1, 20)),
                           boundary=f"bench.{rng.getrandbits(48):012x}").encode()


def _subject(raw: bytes) -> str:
    fields, _, _ = _split(raw)
    found = next((f for f in fields if _name(f) == b"subject"), b"Subject: your email")
    return found.split(b":", 1)[1].decode("ascii", "replace").replace("\r", "").replace("\n", "").strip()


def _corpus_files() -> list[tuple[str, bytes]]:
    from classifier.corpus import DATA_DIR, load_labels  # here: the child processes never need it

    return [(r["file"], (DATA_DIR / r["file"]).read_bytes()) for r in load_labels(DATA_DIR / "labels.jsonl")]


def _mime_files(leave_out: set[str]) -> list[tuple[str, bytes]]:
    if not MIME_DIR.is_dir():
        return []
    return [(p.name, p.read_bytes()) for p in sorted(MIME_DIR.glob("*.eml")) if p.name not in leave_out]


def build_messages(n: int, seed: int = SEED, leave_out: set[str] = frozenset()) -> list[Mail]:
    """n messages: the mix above, each with its own Message-ID and a Date in the last two weeks, shuffled.

    `leave_out` names MIME corpus files not to include (for a figure while the service cannot take one).
    """
    rng = random.Random(seed)
    corpus = _corpus_files()

    def made(kind: str, make) -> tuple[str, str, bytes]:
        origin, raw = rng.choice(corpus)
        return kind, f"made from {origin}", make(raw)

    sources = [("mime corpus", f"{MIME_DIR}/{name}", raw) for name, raw in _mime_files(leave_out) * MIME_COPIES]
    sources += [made("with attachment", lambda raw: with_attachment(raw, rng))
                for _ in range(round(n * ATTACHMENT_SHARE))]
    sources += [made("HTML only", html_only) for _ in range(round(n * HTML_ONLY_SHARE))]
    sources += [made("auto-reply/bounce", lambda raw: automatic(rng, _subject(raw)))
                for _ in range(round(n * AUTOMATIC_SHARE))]
    sources += [("corpus", origin, raw) for origin, raw in (rng.choice(corpus) for _ in range(n - len(sources)))]
    rng.shuffle(sources)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    mails = []
    for number, (kind, origin, raw) in enumerate(sources[:n]):
        date = now - dt.timedelta(seconds=rng.randint(0, RECENT_DAYS * 86400))
        message_id = f"bench.{number:05d}.{rng.getrandbits(40):010x}@{DOMAIN}"
        mails.append(Mail(_restamp(raw, message_id, date), date, kind, origin))
    return mails


# --- the mailbox ---------------------------------------------------------------------------------

def _client(port: int, password: str) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=120)
    client.login(USER, password)
    return client


def _chunks(mails: list[Mail], max_bytes: int) -> list[list[Mail]]:
    chunks: list[list[Mail]] = [[]]
    size = 0
    for mail in mails:
        if chunks[-1] and size + len(mail.raw) > max_bytes:
            chunks.append([])
            size = 0
        chunks[-1].append(mail)
        size += len(mail.raw)
    return chunks


def append(port: int, password: str, mails: list[Mail], folder: str = "INBOX") -> tuple[int, float, str]:
    """Append the messages (MULTIAPPEND when offered); (messages now in the folder, seconds, how)."""
    started = time.perf_counter()
    with _client(port, password) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        multi = client.has_capability("MULTIAPPEND")
        for chunk in _chunks(mails, APPEND_CHUNK_BYTES):
            if multi:
                client.multiappend(folder, [{"msg": m.raw, "date": m.date} for m in chunk])
            else:
                for m in chunk:
                    client.append(folder, m.raw, msg_time=m.date)
        exists = client.select_folder(folder, readonly=True)[b"EXISTS"]
    return exists, time.perf_counter() - started, "MULTIAPPEND" if multi else "APPEND"


# --- the phases (each in a child process) --------------------------------------------------------

def peak_rss_kib() -> int:
    """This process's own peak resident memory (VmHWM), in KiB; ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the attachment readers), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _minimal_parse(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        return message.get_body(preferencelist=("plain", "html")).get_content()
    except Exception:
        return ""


def raw_floor(port: int, password: str) -> dict:
    """Fetch every message in chunks of 50 and parse it with the standard library, nothing more."""
    started, cpu = time.perf_counter(), cpu_seconds()
    messages = no_text = 0
    with _client(port, password) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        for start in range(0, len(uids), FETCH_CHUNK):
            for parts in client.fetch(uids[start:start + FETCH_CHUNK], ["BODY.PEEK[]"]).values():
                messages += 1
                no_text += not _minimal_parse(parts[b"BODY[]"]).strip()
    return {"messages": messages, "seconds": time.perf_counter() - started, "peak_kib": peak_rss_kib(),
            "no_text": no_text, "cpu": cpu_seconds() - cpu}


def _settings(workdir: Path, port: int, password: str, folder: str, backlog_worker: bool = True):
    from triage.settings import load_settings

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "settings.toml"
    path.write_text(SETTINGS_TOML.format(data_dir=workdir / "data", port=port, user=USER, password_env=PASSWORD_ENV,
                                         folder=folder, backlog_worker=str(backlog_worker).lower()))
    return load_settings(path, environ={PASSWORD_ENV: password})


REPORT_FIELDS = ("fetched", "stored", "queued", "duplicates", "recorded_only", "failed_parse", "marked", "skipped")


def service_end_to_end(port: int, password: str, workdir: str, folder: str = "INBOX", profile: bool = False,
                       backlog_worker: bool = True) -> dict:
    """poll_once over the whole folder, from a fresh data directory, as the service runs it."""
    from triage import pipeline, service
    from triage.backlog_worker import BacklogWorker

    workers: list[BacklogWorker] = []

    class Recorded(BacklogWorker):  # the same worker, kept to read its batches and peak memory
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            workers.append(self)

    pipeline.BacklogWorker = Recorded  # this child process only
    settings = _settings(Path(workdir), port, password, folder, backlog_worker)
    store = service.open_store(settings)
    started = time.perf_counter()
    triage = service.build_triage(settings, store)
    model_seconds = time.perf_counter() - started
    sources = service.mail_sources(settings)
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), cpu_seconds()
    if profiler:
        profiler.enable()
    try:
        reports = [pipeline.poll_once(source, triage) for source in sources]
    except Exception:  # the poll stopped: say where, the parent names the message
        state = store.folders.folder_state(sources[0].name, sources[0].folder)
        return {"error": traceback.format_exc(), "last_stored_uid": state[1] if state else 0}
    finally:
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - started
    from triage import reader_zygote

    reader_zygote._client.close()  # reap the reader zygote, so its CPU time (and its children's) is counted
    result = {"seconds": seconds, "model_seconds": model_seconds, "peak_kib": peak_rss_kib(),
              "worker_batches": sum(w.batches for w in workers),
              "worker_peak_kib": max((w.peak_kib or 0 for w in workers), default=0),
              "batch_size": sources[0].batch_size,
              "cpu": cpu_seconds() - cpu,
              "report": {f: sum(getattr(r, f) for r in reports) for f in REPORT_FIELDS if hasattr(reports[0], f)}}
    if profiler:
        result["profile"] = {key: _top(profiler, key) for key in ("cumulative", "tottime")}
        result["stages"] = _stage_seconds(profiler)
    return result


# Where a poll's time goes: the cumulative time of each step's function (file, name) under the profiler.
STAGES = (
    # Batches are read ahead on a thread, or (a backlog) parsed and classified in the backlog worker, which
    # cProfile does not see: this row is the main thread's IMAP fetch (BODY.PEEK[], batches of 50), the
    # worker's start, and the wait for a batch still being read.
    ("fetch + wait for batches read ahead (thread or backlog worker)", "triage/pipeline.py", "_parsed_ahead"),
    ("duplicate check (Store.known_keys, per batch)", "triage/store/__init__.py", "known_keys"),
    ("classify here (batches the backlog worker did not classify)", "triage/classifying.py", "classify_all"),
    ("draft (deadlines + route template)", "triage/route_drafts.py", "draft_for_route"),
    ("acknowledgement window (AcknowledgementWindow.current, per batch)", "triage/acknowledging.py", "current"),
    ("acknowledgement (decide, render, compose)", "triage/acknowledging.py", "acknowledgement"),
    ("store (Store.add_batch: bulk rows, events, one commit per batch)", "triage/store/batch.py", "add_batch"),
    ("keyword on the server (IMAP STORE)", "triage/intake.py", "mark"),
)


def _stage_seconds(profiler: cProfile.Profile) -> list[tuple[str, float | None]]:
    """(stage, cumulative seconds) for each of STAGES, then the whole poll; None for a function not found."""
    by_name: dict[tuple[str, str], float] = {}
    for (filename, _, function), (_, _, _, cumulative, _) in pstats.Stats(profiler).stats.items():
        key = (filename, function)
        by_name[key] = by_name.get(key, 0.0) + cumulative
    def seconds(suffix: str, function: str) -> float | None:
        found = [t for (f, name), t in by_name.items() if name == function and f.endswith(suffix)]
        return sum(found) if found else None

    return [(label, seconds(suffix, function)) for label, suffix, function in STAGES] + \
        [("whole poll (poll_once)", seconds("triage/pipeline.py", "poll_once"))]


def _top(profiler: cProfile.Profile, key: str, limit: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(limit)
    text = out.getvalue()
    for prefix in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"], str(REPO)):
        text = text.replace(prefix + "/", "")
    return text[text.find("   ncalls"):].rstrip()


def in_child(function, *args, **kwargs):
    """Run function in a fresh spawned process, so what it measures (time, memory) is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args, **kwargs).result()


# --- the run --------------------------------------------------------------------------------------

def check_poll_finished(result: dict, mails: list[Mail]) -> None:
    """A poll that raised stops at the same message every time after: the mailbox is stuck. Name it."""
    if "error" not in result:
        return
    uid = result["last_stored_uid"] + 1  # a fresh folder: UID n is the n-th message appended
    stuck = mails[uid - 1] if uid <= len(mails) else None
    print(result["error"], file=sys.stderr)
    where = f"{stuck.kind}, {stuck.origin}" if stuck else "unknown"
    raise SystemExit(f"SERVICE POLL FAILED at UID {uid} ({where}): {len(mails) - uid + 1:,} of {len(mails):,} "
                     f"messages not taken in, and every later poll stops at the same message")


def check_nothing_lost(report: dict, appended: int) -> None:
    """Every appended message must be fetched, then stored or recognised as already known."""
    fetched, accounted = report.get("fetched", 0), report.get("stored", 0) + report.get("duplicates", 0)
    if fetched != appended or accounted != appended:
        raise SystemExit(f"MESSAGES LOST: {appended:,} appended, {fetched:,} fetched, {report.get('stored', 0):,} "
                         f"stored + {report.get('duplicates', 0):,} already known; report {report}")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    dovecot = subprocess.run([shutil.which("dovecot") or "/usr/sbin/dovecot", "--version"], capture_output=True,
                             text=True).stdout.split()[:1]
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.platform()}, "
            f"Dovecot {dovecot[0] if dovecot else '?'}")


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def table(mails: list[Mail], appended: tuple[int, float, str], raw: dict, svc: dict) -> list[tuple[str, str]]:
    n = appended[0]
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in Counter(m.kind for m in mails).most_common())
    raw_rate, svc_rate = n / raw["seconds"], n / svc["seconds"]
    size = sum(len(m.raw) for m in mails)
    return [
        ("messages", f"{n:,} ({kinds}; {size / 2**20:,.0f} MiB)"),
        (f"append to Dovecot ({appended[2]}, setup)", f"{appended[1]:.1f} s"),
        ("raw floor: fetch in 50s + stdlib parse", f"{raw_rate:,.0f} msg/s ({raw['seconds']:.1f} s)"),
        ("raw floor: peak RSS", _mib(raw["peak_kib"])),
        ("service: poll_once end to end", f"{svc_rate:,.1f} msg/s ({svc['seconds']:.1f} s)"),
        ("service: peak RSS", _mib(svc["peak_kib"])),
        ("service: backlog worker (a second process: parse + classify)",
         f"read {svc['worker_batches']:,} of {-(-n // svc['batch_size']):,} batches, peak RSS "
         f"{_mib(svc['worker_peak_kib'])}" if svc["worker_batches"] else "not used"),
        ("service: model load (not in msg/s)", f"{svc['model_seconds']:.2f} s"),
        ("ratio service / raw", f"{svc_rate / raw_rate:.3f} ({raw_rate / svc_rate:,.0f}x slower)"),
        # CPU time says what the work costs whatever else the machine is running (wall rates do not).
        ("CPU ms a message: raw floor / service (attachment readers included)",
         f"{1000 * raw['cpu'] / n:.2f} / {1000 * svc['cpu'] / n:.2f} (ratio {raw['cpu'] / svc['cpu']:.3f})"),
    ]


def stage_table(stages: list[tuple[str, float | None]], count: int) -> str:
    """The profiled poll's time by stage: seconds, ms per message, share of the poll."""
    total = stages[-1][1] or 1.0
    known = sum(t or 0.0 for _, t in stages[:-1])
    rows = [*stages[:-1], ("other (IMAP login/search, report merging, ...)", total - known), stages[-1]]
    lines = ["", "| stage (cumulative, under cProfile) | seconds | ms/msg | share |", "|---|---|---|---|"]
    for label, t in rows:
        lines.append(f"| {label} | – | – | – |" if t is None else
                     f"| {label} | {t:.2f} | {1000 * t / count:.1f} | {100 * t / total:.0f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_intake", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--profile", action="store_true",
                        help=f"also profile the service on {PROFILE_MESSAGES:,} messages (cProfile, top 25)")
    parser.add_argument("--one-process", action="store_true",
                        help="the service with `[service] backlog_worker = false` (no second process)")
    parser.add_argument("--leave-out", action="append", default=[], metavar="FILE",
                        help="a MIME corpus file (name) to leave out; repeatable; the output says so")
    args = parser.parse_args(argv)

    mails = build_messages(args.messages, leave_out=set(args.leave_out))
    password = f"bench-{random.Random(SEED).getrandbits(64):x}"
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        root = Path(tmp)  # Dovecot's own root too: it opens it to its mail processes, which run as nobody
        dovecot = Dovecot(root, users={USER: password}).start()
        try:
            appended = append(dovecot.port, password, mails)
            if appended[0] != len(mails):
                raise SystemExit(f"Dovecot holds {appended[0]:,} messages after appending {len(mails):,}")
            raw = in_child(raw_floor, dovecot.port, password)
            svc = in_child(service_end_to_end, dovecot.port, password, str(root / "bench-service"),
                           backlog_worker=not args.one_process)
            profiled = None
            if args.profile and "error" not in svc:
                count, _, _ = append(dovecot.port, password, mails[:PROFILE_MESSAGES], folder=PROFILE_FOLDER)
                profiled = in_child(service_end_to_end, dovecot.port, password, str(root / "bench-profile"),
                                    folder=PROFILE_FOLDER, profile=True)
        finally:
            dovecot.stop()

    print(f"machine: {machine()}\n")
    check_poll_finished(svc, mails)
    print("| measure | result |\n|---|---|")
    for name, value in table(mails, appended, raw, svc):
        print(f"| {name} | {value} |")
    if args.leave_out:
        print(f"\nMIME corpus files left out: {', '.join(sorted(args.leave_out))}")
    print(f"\nraw floor: {raw['messages']:,} parsed, {raw['no_text']:,} without a text body")
    print("service PollReport: " + ", ".join(f"{k} {v:,}" for k, v in svc["report"].items()))
    if profiled:
        check_poll_finished(profiled, mails)
        print(f"\n## cProfile: service on {count:,} messages ({count / profiled['seconds']:,.1f} msg/s under the "
              f"profiler)")
        print("PollReport: " + ", ".join(f"{k} {v:,}" for k, v in profiled["report"].items()))
        print(stage_table(profiled["stages"], count))
        for key, text in profiled["profile"].items():
            print(f"\n### top 25 by {key}\n\n```\n{text}\n```")
        check_nothing_lost(profiled["report"], count)
    check_nothing_lost(svc["report"], appended[0])


if __name__ == "__main__":
    main()
