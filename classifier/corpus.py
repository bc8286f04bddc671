"""The labelled corpus: labels.jsonl rows pointing at .eml or .txt files, read into Examples."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .labels import LABELS
from .text import Document, prepare_document

DATA_DIR = Path(__file__).parent / "data"
LABELS_FILE = DATA_DIR / "labels.jsonl"
# Texts derived from real public writing (model letters, FAQs, forum posts, testimonies), by site.
REAL_LABELS_FILE = DATA_DIR / "real" / "labels.jsonl"


@dataclass(frozen=True)
class Example:
    file: str
    document: Document
    label: str
    safeguarding: bool
    split: str = "train"
    hard: bool = False
    writer: str = ""
    # Where the text comes from: "fiction" (written for this project) or "real" (derived from a site).
    origin: str = "fiction"
    site: str = ""
    kind: str = ""
    borderline: bool = False


def read_document(path: Path) -> Document:
    """Model input for one file: an .eml (subject + body) or a .txt (the body itself)."""
    data = path.read_bytes()
    if path.suffix.lower() == ".txt":
        return prepare_document("", data.decode("utf-8", errors="replace"))
    return prepare_email_bytes(data)


def prepare_email_bytes(data: bytes) -> Document:
    """Model input from raw email bytes, read by the service's own parser, so the model trains on the
    text it is given in service (attachments' text included)."""
    from triage.parsing import classifiable_document, parse_message  # imported here: triage imports classifier

    return classifiable_document(parse_message(data))


def load_labels(labels_file: Path) -> list[dict]:
    """The rows of a labels.jsonl file, checked for the fields and labels every row needs."""
    try:
        lines = labels_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CorpusError(f"cannot read labels file {labels_file}: {exc.strerror}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{labels_file}:{number}: not JSON ({exc.msg})") from None
        if "file" not in row or row.get("label") not in LABELS:
            raise CorpusError(f"{labels_file}:{number}: needs 'file' and a 'label' among {', '.join(LABELS)}")
        rows.append(row)
    return rows


def load_corpus(labels_file: Path = LABELS_FILE) -> list[Example]:
    """Every example in a labels file, paths taken relative to the file's folder.

    Raises CorpusError naming every file that is missing or unreadable, not just the first.
    """
    base = labels_file.parent
    examples, problems = [], []
    for row in load_labels(labels_file):
        try:
            document = read_document(base / row["file"])
        except OSError as exc:
            problems.append(f"{row['file']}: {exc.strerror or exc}")
            continue
        examples.append(Example(
            file=row["file"], document=document, label=row["label"], safeguarding=bool(row.get("safeguarding", False)),
            split=row.get("split", "train"), hard=bool(row.get("hard", False)), writer=row.get("writer", ""),
            origin=row.get("origin", "fiction"), site=row.get("site", "") or _batch(row["file"]),
            kind=row.get("kind", ""), borderline=bool(row.get("borderline", False)),
        ))
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise CorpusError(f"{len(problems)} file(s) in {labels_file} cannot be read: {shown}")
    return examples


def _batch(file: str) -> str:
    """The fictional corpus's writer batch ("emails/p1/x.eml" -> "fiction/p1"): its 'site'."""
    parts = file.split("/")
    return f"fiction/{parts[1]}" if len(parts) > 2 and parts[0] == "emails" else "fiction"


def corpus_hash(labels_file: Path = LABELS_FILE) -> str:
    """A hash of the labels file and every file it names: part of the model version."""
    digest = hashlib.sha256(labels_file.read_bytes())
    for row in load_labels(labels_file):
        digest.update(row["file"].encode())
        digest.update((labels_file.parent / row["file"]).read_bytes())
    return digest.hexdigest()


def assign_split(file: str, test_fraction: float = 0.2) -> str:
    """The frozen split of a file, from a hash of its path: stable as the corpus grows."""
    bucket = int(hashlib.sha256(file.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test_fraction else "train"


def merge_batches(data_dir: Path = DATA_DIR) -> int:
    """Rebuild data/labels.jsonl from each batch's emails/<batch>/labels.jsonl, with frozen splits.

    Run `python -m classifier.corpus` after adding or relabelling a batch. A file keeps its split
    forever (it is a hash of its path), so the test split never leaks into training.
    """
    rows = []
    for batch_labels in sorted((data_dir / "emails").glob("*/labels.jsonl")):
        batch = batch_labels.parent.name
        for row in load_labels(batch_labels):
            file = f"emails/{batch}/{row['file']}"
            rows.append({
                "file": file, "label": row["label"], "safeguarding": bool(row.get("safeguarding", False)),
                "split": assign_split(file), "hard": bool(row.get("hard", False)), "writer": row.get("writer", ""),
            })
    (data_dir / "labels.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return len(rows)


if __name__ == "__main__":
    print(f"{merge_batches()} rows written to {LABELS_FILE}")
