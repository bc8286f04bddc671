"""Attachments are read: PDF, DOCX and plain-text letters become text that is classified, stored, searched
and shown, within limits of size, pages, characters and time, and a hostile file costs only its own text.

Every file here is built at test time: PDFs by hand (or with pypdf), DOCX with python-docx.
"""

from __future__ import annotations

import io
import time
import zipfile
from email.message import EmailMessage

import pytest
from sqlalchemy import text

import classifier
from replies import DEFAULT_ROUTES_FILE, load_routes
from triage.attachment_text import AttachmentLimits, attachment_kind, extract_text
from triage.extracted_text import normalise_text
from triage.domain import AttachmentText, FetchedMail
from classifier.text import prepare_document
from triage.parsing import classifiable_document, classifiable_text, parse_message
from triage.pipeline import Triage, process
from triage.store import Store
from triage.store.records import QueueQuery

from .factories import make_email, store_at_revision
from .webapp import add_item, add_user, make_app, signed_in

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REFUSAL = [
    "Brackenford Council, SEND Assessment Team",
    "Dated 3 October 2026",
    "Dear Ms Lindqvist,",
    "Following your request for an education, health and care needs assessment for Amir,",
    "the local authority has decided not to carry out an EHC needs assessment.",
    "You have the right to appeal this decision to the First-tier Tribunal (SEND).",
    "Before appealing you must contact a mediation adviser.",
]


def make_pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF with one page of Helvetica text lines per entry of `pages`, written by hand."""
    n = len(pages)
    font = 3 + 2 * n
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{3 + 2 * i} 0 R' for i in range(n))}] /Count {n} >>".encode()]
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
        ops += ["(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for line in lines]
        stream = "\n".join(ops + ["ET"]).encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 {font} 0 R "
                       f">> >> /Contents {4 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_bytes(objects)



def pdf_bytes(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (1 is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def email_with(*attachments: tuple[str, str, bytes], body: str = "Please see my attached letter.") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Rosa Lindqvist <rosa.lindqvist@example.com>"
    msg["To"] = "ehc.assessment@brackenford.example.gov.uk"
    msg["Subject"] = "Letter from the council"
    msg["Date"] = "Mon, 02 Nov 2026 09:30:00 +0000"
    msg["Message-ID"] = f"<att-{time.monotonic_ns()}@example.com>"
    msg.set_content(body)
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


# -- one attachment ------------------------------------------------------------------------------

def test_a_pdf_letter_is_read_back_page_by_page():
    pdf = make_pdf([REFUSAL, ["Page two: what happens next."]])
    found = extract_text("letter.pdf", "application/pdf", pdf)
    assert found == AttachmentText("letter.pdf", "pdf", found.text, False, "", 2)
    assert "decided not to carry out an EHC needs assessment" in found.text
    assert "Page two: what happens next." in found.text
    assert found.heading == "--- letter.pdf (PDF, 2 pages) ---"


def test_a_pdf_made_by_pypdf_with_no_text_says_so():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    found = extract_text("scan.pdf", "application/pdf", buffer.getvalue())
    assert found.text == "" and "no text" in found.error and found.pages == 1


def test_only_the_first_pages_of_a_long_pdf_are_read():
    pdf = make_pdf([[f"This is page {n}."] for n in range(1, 8)])
    found = extract_text("long.pdf", "application/octet-stream", pdf, AttachmentLimits(max_pages=3))
    assert found.truncated and found.pages == 7 and not found.error
    assert "page 3." in found.text and "page 4." not in found.text


def test_encrypted_pdfs_are_opened_with_the_empty_password_or_reported_encrypted():
    from pypdf import PdfReader, PdfWriter

    def encrypted(user: str) -> bytes:
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(make_pdf([REFUSAL]))))
        writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="AES-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    assert "Dear Ms Lindqvist" in extract_text("open.pdf", "application/pdf", encrypted("")).text
    locked = extract_text("locked.pdf", "application/pdf", encrypted("the-parents-password"))
    assert (locked.text, locked.error) == ("", "encrypted")


def test_a_docx_letter_is_read_with_its_table():
    data = make_docx(REFUSAL, table=[["Child", "Amir Lindqvist"], ["Decision", "Not to assess"]])
    assert attachment_kind("letter.bin", "application/octet-stream", data) == "docx"  # by its contents
    found = extract_text("letter.docx", DOCX_TYPE, data)
    assert found.kind == "docx" and not found.error and not found.truncated
    assert "decided not to carry out an EHC needs assessment" in found.text
    assert "Amir Lindqvist" in found.text and "Not to assess" in found.text
    assert found.heading == "--- letter.docx (DOCX) ---"


def test_a_plain_text_attachment_is_read_without_nuls_and_with_whitespace_normalised():
    data = "Dated 3 October 2026\r\n\r\n\r\n\r\nWe   will not\x00 assess.\tThank you".encode("utf-8")
    found = extract_text("notes.txt", "text/plain", data)
    assert found == AttachmentText("notes.txt", "text", "Dated 3 October 2026\n\nWe will not assess. Thank you")
    assert extract_text("notes.csv", "application/octet-stream", b"a,b\n1,2").text == "a,b\n1,2"
    assert extract_text("utf16.txt", "text/plain", "héllo".encode("utf-16")).text == "héllo"
    assert "binary" in extract_text("x.txt", "text/plain", bytes(range(256)) * 40).error


def test_other_files_are_not_read():
    assert attachment_kind("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0rest") == ""
    assert extract_text("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0rest").error


@pytest.mark.parametrize("payload", [
    b"%PDF-1.7\n" + bytes(range(256)) * 20,  # garbage after a PDF header
    make_pdf([REFUSAL])[:300],  # truncated
    b"this is not a pdf at all",  # named and typed as a PDF
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",  # loops
])
def test_a_broken_pdf_gives_an_error_never_an_exception(payload):
    found = extract_text("letter.pdf", "application/pdf", payload)
    assert found.kind == "pdf" and found.error and found.text == ""


def test_a_broken_docx_gives_an_error():
    assert "not a zip" in extract_text("letter.docx", DOCX_TYPE, b"PK\x03\x04 broken").error
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<not-word/>")
    found = extract_text("letter.docx", DOCX_TYPE, buffer.getvalue())
    assert found.kind == "docx" and found.error.startswith("broken DOCX") and found.text == ""


def test_an_attachment_over_the_byte_limit_is_not_read():
    big = ("The decision letter. " * 600_000).encode()  # 12.6 MB
    found = extract_text("huge.txt", "text/plain", big)
    assert found.text == "" and found.error == "not read: 12.6 MB is over the 10.0 MB limit for attachments"
    pdf = make_pdf([REFUSAL])
    assert "over the 100 bytes limit" in extract_text("letter.pdf", "application/pdf", pdf,
                                                      AttachmentLimits(max_bytes=100)).error


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as member:
            for _ in range(60):
                member.write(b" " * 1_000_000)  # 60 MB of spaces: about 60 KB zipped
    bomb = buffer.getvalue()
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    found = extract_text("letter.docx", DOCX_TYPE, bomb)
    assert found.text == "" and "zip bomb" in found.error and "60.0 MB" in found.error
    assert time.monotonic() - started < 1


def test_a_pdf_that_takes_too_long_is_stopped_by_the_time_budget():
    pdf = make_pdf([[f"Line {n} of a long letter." for n in range(40)] for _ in range(30)])
    started = time.monotonic()
    found = extract_text("slow.pdf", "application/pdf", pdf, AttachmentLimits(seconds=0.01))
    assert time.monotonic() - started < 2
    assert found.kind == "pdf" and found.truncated and "stopped after the 0.01 s allowed" in found.error


def test_text_is_cut_at_the_character_limit():
    found = extract_text("long.txt", "text/plain", b"word " * 1000, AttachmentLimits(max_chars=100))
    assert found.truncated and len(found.text) <= 100 and found.text.endswith("word")
    pdf = make_pdf([["A fairly long line of text on every page."] * 30] * 3)
    found = extract_text("long.pdf", "application/pdf", pdf, AttachmentLimits(max_chars=500))
    assert found.truncated and len(found.text) <= 500


def test_normalise_text():
    assert normalise_text(" a \x00b\u00a0 c\r\n\x0c\n\n\nd\ud800 ") == "a b c\n\nd"


# -- one message ---------------------------------------------------------------------------------

def test_see_attached_is_classified_on_the_letter(model_dir):
    raw = email_with(("letter.docx", DOCX_TYPE, make_docx(REFUSAL)))
    parsed = parse_message(raw)
    assert parsed.ok and parsed.text.strip() == "Please see my attached letter."
    assert [(a.filename, a.kind, a.error) for a in parsed.attachment_texts] == [("letter.docx", "docx", "")]
    document = classifiable_document(parsed)
    assert "Please see my attached letter." in document.text
    assert "decided not to carry out an EHC needs assessment" in document.text
    assert "First-tier Tribunal" in document.full_text
    # Training reads the same words: prepare_document on classifiable_text gives the same route text.
    assert prepare_document(parsed.subject, classifiable_text(parsed)).text == document.text
    # The letter (a refusal to assess) moves the model away from `other`: the email alone says nothing.
    model = classifier.load(model_dir)
    alone, with_letter = model.predict_documents([prepare_document(parsed.subject, parsed.text), document])
    assert with_letter.scores["other"] < alone.scores["other"]
    assert with_letter.label in ("mediation", "tribunal")


def test_without_attachment_text_the_classifier_input_is_unchanged():
    parsed = parse_message(make_email(body="We disagree.\n\nSent from my iPhone", attachment=("x.jpg", "image/jpeg", b"\xff")))
    assert parsed.attachment_texts == () and classifiable_text(parsed) == parsed.text
    assert classifiable_document(parsed) == prepare_document(parsed.subject, parsed.text)


def test_the_letter_is_kept_after_a_signature_that_ends_the_new_text():
    raw = email_with(("letter.pdf", "application/pdf", make_pdf([REFUSAL])),
                     body="Please see my attached letter.\n\nSent from my iPhone\n\nOn Monday the council wrote:\n> hi")
    document = classifiable_document(parse_message(raw))
    assert "decided not to carry out" in document.text and "iPhone" not in document.text
    assert "> hi" in document.full_text and "decided not to carry out" in document.full_text


def test_a_message_reads_its_attachments_within_its_own_limits():
    raw = email_with(*[(f"letter{n}.txt", "text/plain", b"x" * 400) for n in range(5)],
                     ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0"))
    limits = AttachmentLimits(max_message_chars=1000, max_attachments=4)
    parsed = parse_message(raw, limits)
    assert [len(a.text) for a in parsed.attachment_texts] == [400, 400, 200, 0, 0]
    assert parsed.attachment_texts[2].truncated
    assert "already gave the 1,000 characters" in parsed.attachment_texts[3].error
    assert "only the first 4 attachments" in parsed.attachment_texts[4].error
    assert len(parsed.attachments) == 6  # the photo is still listed, just not read
    assert parse_message(raw, None).attachment_texts == ()


def test_a_message_with_a_broken_pdf_still_parses_classifies_and_is_queued(tmp_path, model_dir):
    raw = email_with(("letter.pdf", "application/pdf", b"%PDF-1.5\n" + b"\x00garbage" * 100))
    parsed = parse_message(raw)
    assert parsed.ok and parsed.attachment_texts[0].error.startswith("broken PDF")
    store = Store(f"sqlite:///{tmp_path / 'broken.db'}")
    store.migrate()
    triage = Triage(store, classifier.load(model_dir), load_routes(DEFAULT_ROUTES_FILE))
    report = process(FetchedMail("test", "INBOX", 1, 1, raw, None), triage)
    assert report.queued == 1 and report.failed_parse == 0
    assert not [e for e in store.events.chain() if e.name in ("triage_failed", "classification_failed")]
    store.close()


def test_the_letter_is_stored_searched_and_classified_through_the_pipeline(tmp_path, model_dir):
    store = Store(f"sqlite:///{tmp_path / 'letters.db'}")
    store.migrate()
    triage = Triage(store, classifier.load(model_dir), load_routes(DEFAULT_ROUTES_FILE))
    raw = email_with(("letter.pdf", "application/pdf", make_pdf([REFUSAL])))
    report = process(FetchedMail("test", "INBOX", 1, 1, raw, None), triage)
    assert report.queued == 1
    item = report.item_ids[0]
    detail = store.items.detail(item)
    [letter] = detail.message.attachment_texts
    assert (letter.filename, letter.kind, letter.pages, letter.error) == ("letter.pdf", "pdf", 1, "")
    assert letter.text == normalise_text("\n".join(REFUSAL))
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT attachment_text FROM messages")).scalar_one()
    assert stored.startswith("--- letter.pdf (PDF, 1 page) ---\nBrackenford Council")
    found = store.items.queue_page(QueueQuery(search="First-tier Tribunal"))
    assert [row.id for row in found.rows] == [item]
    assert store.items.queue_page(QueueQuery(search="not in any letter")).total == 0
    store.close()


def test_messages_stored_before_migration_0006_keep_an_empty_attachment_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = store_at_revision(url, "0005")
    add = "INSERT INTO messages (dedupe_key, source, folder, uidvalidity, uid, message_id, content_sha256, raw, " \
          "from_name, from_address, subject, received_at, body_text, body_html, headers, is_automatic, parse_error, " \
          "recorded_only) VALUES ('k', 's', 'f', 1, 1, '<m>', 'h', x'00', '', 'a@b', 'old', '2026-11-02 09:30:00', " \
          "'old text', '', '{}', 0, '', 0)"
    with store.engine.begin() as conn:
        conn.execute(text(add))
    store.migrate()
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT attachment_text FROM messages")).scalar_one() == ""
    store.close()


# -- the item page -------------------------------------------------------------------------------

def test_the_item_page_shows_each_attachments_text_escaped(tmp_path, filled_routes):
    app, store, _ = make_app(tmp_path, routes_file=filled_routes)
    add_user(store, "casey")
    letter = make_docx(REFUSAL + ["<script>window.__pwned=1</script> & more"])
    raw = email_with(("letter.docx", DOCX_TYPE, letter), ("broken.pdf", "application/pdf", b"%PDF-1.4 nothing"))
    item = add_item(store, raw=raw, routes_file=filled_routes)
    page = signed_in(app, "casey").get(f"/items/{item}").get_data(as_text=True)
    assert "Text read from the attachments" in page
    assert "<summary>letter.docx (DOCX)</summary>" in page
    assert "decided not to carry out an EHC needs assessment" in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; more" in page and "<script>window.__pwned" not in page
    assert "broken.pdf (PDF) – broken PDF" in page
    assert f'href="/items/{item}/attachments/0"' in page  # the download link stays
    store.close()


def test_the_deadline_reader_finds_the_attached_letters_own_date():
    import datetime as dt

    from triage.route_drafts import draft_for_route

    parsed = parse_message(email_with(("letter.pdf", "application/pdf", make_pdf([REFUSAL]))))
    drafted = draft_for_route(parsed, "tribunal", "EHC-261102-TEST1",
                              dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc), load_routes(DEFAULT_ROUTES_FILE))
    assert drafted.meta["decision"]["date"] == "2026-10-03"
