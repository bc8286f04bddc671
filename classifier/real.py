"""The real-derived corpus: merge its two blind labellings into data/real/labels.jsonl.

    data/real/texts/<site>/<id>.txt|.eml   close rewrites of real public writing (see README, "The corpus")
    data/real/sources/<batch>.jsonl        per text: source address, site, kind, what was changed, first label
    data/real/labels_b/<batch>.jsonl       the second, blind label of each text
    data/real/settled.jsonl                the decision on each text where the two labels disagreed
    data/real/labels.jsonl                 written by `python -m classifier.real`: what training reads

A text is used only when both labels agree or the disagreement is settled; the merge refuses to
write while any disagreement is unsettled, and names them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .errors import CorpusError
from .labels import LABELS

REAL_DIR = Path(__file__).parent / "data" / "real"
# Mirrors and sister domains of one organisation count as one site, so leaving a site out leaves
# out every copy of its writing.
SAME_SITE = {
    "accountabilityindex.uk": "lgo.org.uk",
    "thewriterstown.com": "bbc.co.uk", "feeds.bbci.co.uk": "bbc.co.uk",
    "supportsendkids.sandbox.senatesense.com": "supportsendkids.org",
    "csapps.norfolk.gov.uk": "norfolk.gov.uk",
    "sendiass.leeds.gov.uk": "leeds.gov.uk", "leedslocaloffer.org.uk": "leeds.gov.uk",
    "community.autism.org.uk": "autism.org.uk",
    "forum.scope.org.uk": "scope.org.uk",
    "westsussex.local-offer.org": "westsussex", "westsussexsendias.org": "westsussex",
    "test.senguru.co.uk": "senguru.co.uk",
}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _by_id(paths: list[Path]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in paths:
        for row in _rows(path):
            if row["id"] in found:
                raise CorpusError(f"{path}: id {row['id']} given twice")
            found[row["id"]] = row
    return found


def merge(real_dir: Path = REAL_DIR) -> dict[str, int]:
    """Write labels.jsonl from the sources, the second labels and the settled disagreements."""
    sources = _by_id(sorted((real_dir / "sources").glob("*.jsonl")))
    second = _by_id(sorted((real_dir / "labels_b").glob("*.jsonl")))
    settled_file = real_dir / "settled.jsonl"
    settled = _by_id([settled_file]) if settled_file.exists() else {}
    out, unsettled, counts = [], [], Counter()
    for key, src in sorted(sources.items()):
        b = second.get(key)
        if b is None:
            counts["unlabelled"] += 1
            continue
        a_label, b_label = src["label_a"], b["label_b"]
        a_sg, b_sg = bool(src.get("safeguarding_a")), bool(b.get("safeguarding_b"))
        agreed = a_label == b_label and a_sg == b_sg
        if agreed:
            label, safeguarding, how = a_label, a_sg, "agreed"
        elif key in settled:
            label, safeguarding, how = settled[key]["label"], bool(settled[key]["safeguarding"]), "settled"
        else:
            unsettled.append(f"{key}: {a_label}/{b_label} sg {a_sg}/{b_sg}")
            continue
        if label not in LABELS:
            raise CorpusError(f"{key}: label {label!r} is not one of {', '.join(LABELS)}")
        if not (real_dir / src["file"]).exists():
            raise CorpusError(f"{key}: {src['file']} does not exist")
        counts[how] += 1
        out.append({
            "file": src["file"], "label": label, "safeguarding": safeguarding, "origin": "real",
            "site": SAME_SITE.get(src["site"], src["site"]), "domain": src["site"], "kind": src["kind"], "shape": src.get("shape", "plain"), "url": src["url"],
            "borderline": bool(src.get("borderline_a") or b.get("borderline_b") or how == "settled"),
            "labelled": {"a": a_label, "b": b_label, "safeguarding_a": a_sg, "safeguarding_b": b_sg, "how": how,
                         **({"why": settled[key].get("why", "")} if how == "settled" else {})},
        })
    if unsettled:
        raise CorpusError(f"{len(unsettled)} disagreement(s) not settled in {settled_file.name}: " + "; ".join(unsettled))
    (real_dir / "labels.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out))
    return dict(counts, written=len(out))


def disagreements(real_dir: Path = REAL_DIR) -> list[dict]:
    """Texts whose two labels differ (route or safeguarding), with both labellers' notes."""
    sources = _by_id(sorted((real_dir / "sources").glob("*.jsonl")))
    second = _by_id(sorted((real_dir / "labels_b").glob("*.jsonl")))
    found = []
    for key, src in sorted(sources.items()):
        b = second.get(key)
        if b and (src["label_a"] != b["label_b"] or bool(src.get("safeguarding_a")) != bool(b.get("safeguarding_b"))):
            found.append({"id": key, "file": src["file"], "a": src["label_a"], "b": b["label_b"],
                          "sg_a": bool(src.get("safeguarding_a")), "sg_b": bool(b.get("safeguarding_b")),
                          "note_a": src.get("note_a", ""), "note_b": b.get("note_b", "")})
    return found


if __name__ == "__main__":
    print(merge())
