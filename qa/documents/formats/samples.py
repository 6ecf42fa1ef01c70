"""Generated PDF and HTML documents for `qa bench`'s extraction speed (no test extras needed).

The PDF is written by hand — a few hundred bytes of PDF syntax per page, standard Helvetica —
because `qa bench` must run on a plain install, where the test-only fpdf2 is absent. Pages
look like a report: a running header, a page-number footer, about 40 wrapped body lines with a
hyphenated line end. The HTML page carries the usual furniture (navigation, cookie banner,
share row, related links, comments, footer) around a ~600-word article.
"""

from __future__ import annotations

_WORDS = (
    "the board inspected reservoir level engineers season irrigation canal district water pumps "
    "station council report budget river samples arsenic limit mining upstream discharge repair "
    "gauge valley highland farmers channel terrace harvest village cooperative fleece price market"
).split()


def _sentence(seed: int, n: int = 14) -> str:
    import random

    rng = random.Random(seed)
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + f" in {1990 + seed % 35}."


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _page_stream(page: int, lines_per_page: int) -> bytes:
    rows = [(750, 9, "Andean Water Board - Annual Report")]
    body = " ".join(_sentence(page * 100 + i) for i in range(lines_per_page))
    words, line, y = body.split(), "", 720
    for w in words:
        if len(line) + len(w) + 1 > 88:
            if len(w) >= 6:  # break the word with a hyphen, as typeset text does
                line, w = f"{line} {w[:3]}-", w[3:]
            rows.append((y, 11, line))
            y -= 16
            line = ""
            if y < 80:
                break
        line = f"{line} {w}".strip()
    rows.append((40, 9, f"Page {page}"))
    ops = [f"BT /F1 {size} Tf 1 0 0 1 60 {y0} Tm ({_escape(t)}) Tj ET" for y0, size, t in rows]
    return "\n".join(ops).encode("latin-1")


def sample_pdf(pages: int, lines_per_page: int = 40) -> bytes:
    """A valid PDF of `pages` text pages (header, ~40 body lines, footer)."""
    objects: list[bytes] = []  # object i + 1
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # the page tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for page in range(1, pages + 1):
        stream = _page_stream(page, lines_per_page)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content)
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), pages)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def sample_html(seed: int = 0, paragraphs: int = 12) -> bytes:
    """A news-like web page: ~600 words of article among navigation, banners and comments."""
    body = "\n".join(
        (f"<h2>Part {i // 4 + 1}</h2>" if i % 4 == 0 else "") + f"<p>{' '.join(_sentence(seed * 50 + i * 3 + j) for j in range(3))}</p>"
        for i in range(paragraphs)
    )
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Report {seed} | The Andes Post</title>
<meta name="author" content="Ana Ruiz"><meta property="article:published_time" content="2024-03-05"></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/economy">Economy</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<main><article><h1>Report number {seed} on the water board</h1><p class="byline">By Ana Ruiz</p>
{body}
</article></main>
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Tweet</a></div>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/a">Alpacas in danger</a></li><li><a href="/b">Condors return</a></li></ul></aside>
<section class="comments"><h3>2 comments</h3><p>Great report, thanks.</p></section>
<footer><p>Copyright 2024 The Andes Post.</p></footer></body></html>"""
    return page.encode("utf-8")
