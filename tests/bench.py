"""Benchmarks (`make bench`): figures for the README, not pass/fail tests.

Prints a Markdown table: model load time and files' size, classification throughput over 10,000
messages drawn from both corpora (fictional emails and the real-derived letters and posts, which
are longer), in one process and in two (one per core), with and without evidence sentences, one
message at a time, and peak memory.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import statistics
import time

import classifier
from classifier.corpus import DATA_DIR, REAL_LABELS_FILE, load_labels
from classifier.registry import Registry
from triage.parsing import classifiable_document, parse_message

MESSAGES = 10_000
BATCH = 500


def _corpus_messages(n: int) -> list[bytes]:
    raws = [(DATA_DIR / r["file"]).read_bytes() for r in load_labels(DATA_DIR / "labels.jsonl")]
    raws += [(REAL_LABELS_FILE.parent / r["file"]).read_bytes() for r in load_labels(REAL_LABELS_FILE)]
    rng = random.Random(7)
    return [rng.choice(raws) for _ in range(n)]


def _classify_all(documents: list, explain: bool) -> float:
    model = classifier.load()
    started = time.perf_counter()
    for start in range(0, len(documents), BATCH):
        model.predict_documents(documents[start:start + BATCH], explain=explain)
    return time.perf_counter() - started


def bench_classifier() -> list[tuple[str, str]]:
    loads = []
    for _ in range(5):
        started = time.perf_counter()
        model = classifier.load()
        loads.append(time.perf_counter() - started)
    folder = Registry().current_dir()
    size = sum(f.stat().st_size for f in folder.iterdir())
    raws = _corpus_messages(MESSAGES)

    started = time.perf_counter()
    documents = [classifiable_document(parse_message(raw, attachment_limits=None)) for raw in raws]
    parse_seconds = time.perf_counter() - started
    chars = sum(len(d.text) for d in documents) / len(documents)

    results = {explain: _classify_all(documents, explain) for explain in (False, True)}
    halves = [documents[: MESSAGES // 2], documents[MESSAGES // 2:]]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        started = time.perf_counter()
        pool.starmap(_classify_all, [(half, False) for half in halves])
        two = time.perf_counter() - started
    singles = {}
    for explain in (False, True):
        times = []
        for document in documents[:1000]:
            one = time.perf_counter()
            model.predict_documents([document], explain=explain)
            times.append(time.perf_counter() - one)
        singles[explain] = statistics.median(times), sorted(times)[int(len(times) * 0.95)]
    return [
        ("model load (median of 5)", f"{statistics.median(loads) * 1000:.0f} ms"),
        ("model files", f"{size / 1e6:.1f} MB"),
        (f"parse + prepare {MESSAGES:,} messages (mean {chars:,.0f} characters of new text)",
         f"{MESSAGES / parse_seconds:,.0f} msg/s"),
        (f"classify, batches of {BATCH}, one process, no evidence", f"{MESSAGES / results[False]:,.0f} msg/s"),
        (f"classify, batches of {BATCH}, one process, with evidence", f"{MESSAGES / results[True]:,.0f} msg/s"),
        (f"classify, batches of {BATCH}, two processes (two cores), no evidence", f"{MESSAGES / two:,.0f} msg/s"),
        ("one message at a time, no evidence: median / p95",
         f"{singles[False][0] * 1000:.1f} / {singles[False][1] * 1000:.1f} ms"),
        ("one message at a time, with evidence (as intake does): median / p95",
         f"{singles[True][0] * 1000:.1f} / {singles[True][1] * 1000:.1f} ms"),
    ]


def main() -> None:
    rows = bench_classifier()
    rows.append(("peak memory (max RSS of the benchmark process)",
                 f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"))
    print("| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
