"""PDF, HTML and DOCX test documents, generated in code (no binary fixtures in the repository).

Each writer returns the path written. The facts in them are distinct per page/section so a
test can ask a question whose answer stands in exactly one place.
"""

from __future__ import annotations

from pathlib import Path

RUNNING_HEADER = "Andean Water Board - Annual Report 2025"

# page -> body lines (each drawn as one line of the page, so line numbers are known)
PDF_PAGES = [
    [
        "Reservoirs of the southern highlands",
        "The board inspected the Lagunillas reservoir in March and found that the",
        "water level had fallen by forty centimetres since the previous inspec-",
        "tion, which the engineers attributed to the long dry season.",
    ],
    [
        "Pumping stations",
        "The pumps at the Chiguata station were replaced in May after a failure",
        "that left the district of Characato without water for six days.",
        "The new pumps were bought from a firm in Lima.",
    ],
    [
        "Water quality",
        "Samples taken in the river Chili contained arsenic above the legal limit",
        "on eleven occasions, mostly during the rainy months of the year.",
        "The board asked the mining companies upstream to report their discharges.",
    ],
    [
        "Budget",
        "The regional government granted the board 4.2 million soles for the",
        "repair of irrigation canals, to be spent before the end of 2026.",
        "Auditors from the comptroller will review the accounts in January.",
    ],
]


def make_pdf(
    path: Path, pages: list[list[str]] = PDF_PAGES, header: str = RUNNING_HEADER, title: str | None = "Annual Report 2025", author: str = "Board secretariat"
) -> Path:
    """A PDF with a text layer: a running header and a 'Page N of M' footer on every page."""
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:  # noqa: D102 - fpdf2 hook
            if header:
                self.set_font("Helvetica", "I", 9)
                self.cell(0, 8, header, align="C")
                self.ln(14)

        def footer(self) -> None:  # noqa: D102 - fpdf2 hook
            self.set_y(-15)
            self.set_font("Helvetica", "I", 9)
            self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Report()
    if title:
        pdf.set_title(title)
        pdf.set_author(author)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for line in lines:
            pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def make_long_pdf(path: Path, pages: int) -> Path:
    """A PDF of `pages` short pages (one numbered fact each), for page-count limits and speed."""
    body = [[f"Gauge {n} on the river Chili read {n % 97 + 3} centimetres on the day of the count."] for n in range(1, pages + 1)]
    return make_pdf(path, body, title=None)


def make_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF whose pages hold only drawings: what a scan without OCR looks like to a text reader."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.set_fill_color(120, 120, 120)
        pdf.rect(20, 20, 150, 200, style="F")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path) -> Path:
    """A PDF that needs a password to open."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 7, "The secret reservoir holds nine million cubic metres.")
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Llama herders of Puno plan a cooperative | The Andes Post</title>
<meta name="author" content="Ana Ruiz">
<meta property="article:published_time" content="2024-03-05">
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/economy">Economy</a></li><li><a href="/about">About us</a></li></ul></nav></header>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience on our site.
<button>Accept all cookies</button></div>
<main><article>
<h1>Llama herders of Puno plan a cooperative</h1>
<p class="byline">By Ana Ruiz</p>
<p>The llama herders of Puno met in the town square on Tuesday to discuss the price of fleece,
which has fallen for three years in a row and now barely covers the cost of shearing.</p>
<h2>A cooperative plan</h2>
<p>The herders decided to sell their fleece directly to the weavers of Arequipa. Their president,
Rosa Quispe, said the cooperative would raise the incomes of its 230 families by a fifth.</p>
<ul><li>Fleece is sheared once a year, in November.</li><li>Each llama gives about two kilograms of fleece.</li></ul>
<h2>What comes next</h2>
<p>The cooperative will hold its first auction in the village of Acora in June, when the
buyers from Arequipa are expected to attend.</p>
<table><tr><th>Year</th><th>Price per kilogram</th></tr><tr><td>2022</td><td>8 soles</td></tr>
<tr><td>2023</td><td>6 soles</td></tr></table>
</article></main>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a>
<a href="#">Email this story</a></div>
<aside class="related"><h3>Related stories</h3><ul>
<li><a href="/a">Alpacas in danger after a cold winter in the Andes</a></li>
<li><a href="/b">Condors return to the Colca canyon for the season</a></li></ul></aside>
<section id="comments" class="comments"><h3>3 comments</h3>
<div class="comment"><p>Pedro wrote: what a great idea, the herders deserve better prices for their fleece.</p></div></section>
<footer><p>Copyright 2024 The Andes Post. All rights reserved.</p><p>Contact us | Privacy policy | Terms of use</p></footer>
</body></html>
"""
HTML_BOILERPLATE = ("Accept all cookies", "Related stories", "Alpacas in danger", "Share on Facebook", "Pedro wrote", "All rights reserved", "About us")


def make_html(path: Path, html: str = HTML_PAGE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


DOCX_HEADER = "Internal memo - not for circulation"
DOCX_FOOTER = "Printed copies are uncontrolled"


def make_docx(path: Path, title: str = "Field report from Cusco", author: str = "Luis Mamani") -> Path:
    """A Word file with headings, paragraphs, a list, a table, and a page header and footer."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    section = document.sections[0]
    section.header.paragraphs[0].text = DOCX_HEADER
    section.footer.paragraphs[0].text = DOCX_FOOTER
    document.add_heading("Field report from Cusco", level=1)
    document.add_paragraph(
        "The survey team spent nine days in the Sacred Valley counting terraces that are still farmed. "
        "They found that most terraces near Pisac are planted with maize and potatoes."
    )
    document.add_heading("Water channels", level=2)
    document.add_paragraph(
        "The old stone channels above Ollantaytambo still carry water to the fields. "
        "Farmers clean them every August in a communal work day called the yarqa aspiy."
    )
    document.add_paragraph("Repairs are needed at the Pumamarca intake.", style="List Bullet")
    document.add_paragraph("The Patacancha channel lost a wall in the February floods.", style="List Bullet")
    document.add_heading("Harvest figures", level=2)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Village", "Crop", "Tonnes"), ("Pisac", "maize", "310"), ("Urubamba", "potatoes", "540")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("The figures were collected by the district agricultural office in May.")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def make_docx_body(path: Path, body_xml: str) -> Path:
    """A Word file made by python-docx whose body is `body_xml` (WordprocessingML with the w:
    prefix), for what python-docx cannot write: tracked changes, content controls."""
    import docx
    from lxml import etree

    document = docx.Document()
    body = document.element.body
    section = body[-1]  # the w:sectPr stays last
    for child in etree.fromstring(f'<w:body xmlns:w="{W_NS}" xmlns:mc="{MC_NS}">{body_xml}</w:body>'):
        section.addprevious(child)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def make_inflating_docx(path: Path, *, document_xml: bytes | None = None, extra: dict[str, bytes] | None = None) -> Path:
    """A good Word file rewritten with its document part replaced and/or members added,
    compressed as hard as zip can: small on disk, large once inflated."""
    import io
    import zipfile

    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("A harmless first paragraph.")
    document.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            out.writestr(info.filename, document_xml if document_xml is not None and info.filename == "word/document.xml" else data)
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return path


def document_xml(paragraphs: str) -> bytes:
    """A word/document.xml whose body is `paragraphs` (WordprocessingML, w: prefix)."""
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W_NS}"><w:body>{paragraphs}<w:sectPr/></w:body></w:document>'.encode()
