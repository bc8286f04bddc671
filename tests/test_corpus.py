"""The labelled corpus: big enough, hard enough, fictional, and a frozen test split with no near-copies in training."""

from __future__ import annotations

import collections
import email
import email.policy
import email.utils
import re

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from classifier.corpus import DATA_DIR, LABELS_FILE, assign_split, load_corpus, load_labels

ROWS = load_labels(LABELS_FILE)
NEAR_DUPLICATE = 0.8


def test_at_least_150_emails_per_label_and_a_third_of_each_hard():
    per_label = collections.Counter(r["label"] for r in ROWS)
    hard = collections.Counter(r["label"] for r in ROWS if r.get("hard"))
    for label in ("disagreement_resolution", "mediation", "tribunal", "other"):
        assert per_label[label] >= 150, per_label
        assert hard[label] >= per_label[label] / 3, (label, hard[label])


def test_every_file_is_listed_once_and_every_listed_file_exists():
    listed = [r["file"] for r in ROWS]
    assert len(listed) == len(set(listed))
    on_disk = {str(p.relative_to(DATA_DIR)) for p in (DATA_DIR / "emails").glob("*/*.eml")}
    assert on_disk == set(listed)


def test_the_split_is_frozen_by_path():
    assert all(r["split"] == assign_split(r["file"]) for r in ROWS)
    test_share = sum(r["split"] == "test" for r in ROWS) / len(ROWS)
    assert 0.12 < test_share < 0.28


def test_no_test_email_is_a_near_copy_of_a_training_email():
    examples = load_corpus()
    train = [e for e in examples if e.split != "test"]
    test = [e for e in examples if e.split == "test"]
    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([e.document.text for e in examples])
    similarity = cosine_similarity(vectors.transform([e.document.text for e in test]),
                                   vectors.transform([e.document.text for e in train]))
    worst = similarity.max(axis=1)
    pairs = [(test[i].file, train[int(similarity[i].argmax())].file, round(float(worst[i]), 3))
             for i in np.where(worst >= NEAR_DUPLICATE)[0]]
    assert not pairs


def test_only_fictional_addresses():
    allowed = re.compile(r"@([\w.-]+\.)?(example\.(com|org|net)|example|[\w-]+\.example(\.[\w.]+)?)$", re.I)
    for row in ROWS:
        msg = email.message_from_bytes((DATA_DIR / row["file"]).read_bytes(), policy=email.policy.compat32)
        for header in ("From", "To", "Cc"):
            for _, address in email.utils.getaddresses(msg.get_all(header, [])):
                if "@" in address:
                    assert allowed.search(address), (row["file"], header, address)
