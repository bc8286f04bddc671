"""Benchmarks (`make bench`): figures for the README, not pass/fail tests.

Prints a Markdown table: model load time, classification throughput over 10,000 messages
(parse + prepare + classify, with and without explanations), and peak memory.
"""

from __future__ import annotations

import random
import resource
import statistics
import time

import classifier
from classifier.corpus import DATA_DIR, load_labels
from classifier.text import prepare_document
from triage.parsing import parse_message

MESSAGES = 10_000


def _corpus_messages(n: int) -> list[bytes]:
    raws = [(DATA_DIR / r["file"]).read_bytes() for r in load_labels(DATA_DIR / "labels.jsonl")]
    rng = random.Random(7)
    return [rng.choice(raws) for _ in range(n)]


def bench_classifier() -> list[tuple[str, str]]:
    loads = []
    for _ in range(3):
        started = time.perf_counter()
        model = classifier.load()
        loads.append(time.perf_counter() - started)
    raws = _corpus_messages(MESSAGES)

    started = time.perf_counter()
    documents = []
    for raw in raws:
        parsed = parse_message(raw)
        documents.append(prepare_document(parsed.subject, parsed.text))
    parse_seconds = time.perf_counter() - started

    results = {}
    for explain in (False, True):
        started = time.perf_counter()
        for start in range(0, len(documents), 500):
            model.predict_documents(documents[start:start + 500], explain=explain)
        results[explain] = time.perf_counter() - started
    one_by_one = time.perf_counter()
    for document in documents[:500]:
        model.predict_documents([document], explain=True)
    single = (time.perf_counter() - one_by_one) / 500
    return [
        ("model load (median of 3)", f"{statistics.median(loads):.2f} s"),
        (f"parse + prepare {MESSAGES:,} messages", f"{MESSAGES / parse_seconds:,.0f} msg/s"),
        (f"classify {MESSAGES:,} messages, batches of 500, no explanation", f"{MESSAGES / results[False]:,.0f} msg/s"),
        (f"classify {MESSAGES:,} messages, batches of 500, with explanation", f"{MESSAGES / results[True]:,.0f} msg/s"),
        ("classify one message at a time (as intake does), with explanation", f"{single * 1000:.1f} ms/msg"),
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
