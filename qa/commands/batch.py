"""`qa batch`: answer a file of questions into a JSONL or CSV file, row by row.

Rows are written and flushed as soon as their chunk is answered, in input order, so a crash
or Ctrl+C loses nothing already done and `--resume` carries on from the ids already written.
A bad row (an empty question, a broken JSON line) gets an `error` field; the batch goes on.

Rows that share a "conversation" are one conversation (qa.conversation): each is answered
after the rows before it, with their turns as context, and the n-th turns of different
conversations are answered in one chunk. A resumed run rebuilds those earlier turns from
the rows already written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import click

from qa.commands.ask import answer_options
from qa.commands.common import corpus_options, notify, open_engine, plural, retrieval_options, stderr_console
from qa.errors import UsageError
from qa.jsonl import jsonl_lines
from qa.outputs import check_new_output, create_new

_n = plural

INPUTS = (".txt", ".jsonl", ".csv")
OUTPUTS = (".jsonl", ".csv")
CSV_FIELDS = ("id", "question", "answer", "confidence", "abstained", "sentence", "location", "title", "date", "conflicts", "error")
# the CSV columns when the questions hold conversations: the standalone question beside each
# follow-up, a note for one that follows nothing, and the top passage, which --resume needs to
# rebuild a conversation's earlier turns (files without conversations keep CSV_FIELDS)
CONVERSATION_CSV_FIELDS = (
    "id", "conversation", "question", "standalone_question", "context", "answer", "confidence", "abstained", "sentence",
    "location", "title", "date", "conflicts", "error", "note", "passage_id",
)
CHUNK = 16  # questions embedded and answered together
WINDOW = 8 * CHUNK  # rows looked ahead of the first unwritten one for a chunk (bounds what waits to be written)


@dataclass(frozen=True)
class Row:
    id: str
    question: str
    error: str | None = None  # the row could not be read: written with this error, not asked
    line: int = 0  # where the row stands in the input (line, or CSV row), for messages
    conversation: str | None = None  # rows sharing one are answered in order, each after the others


# --------------------------------------------------------------------------- input


def read_questions(path: Path) -> list[Row]:
    """The rows of a .txt / .jsonl / .csv question file; unreadable rows carry an error."""
    suffix = path.suffix.lower()
    if suffix not in INPUTS:
        raise UsageError(f"{path}: questions must be a .txt, .jsonl or .csv file")
    from qa.documents.ingest import decode

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")  # a NUL or control character is a bad row, not a bad file
    except UnicodeDecodeError:
        decoded, note = decode(data)  # as documents are read: UTF-16, Latin-1
        if decoded is None:
            raise UsageError(f"cannot read {path}: {note}") from None
        notify(f"warning: {path}: {note}")
        text = decoded
    if suffix == ".txt":
        # one question a line; blank lines separate, they are not questions
        return [Row(str(n), line.strip(), line=n) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if suffix == ".jsonl":
        return list(_jsonl_rows(text))
    return _csv_rows(path, text)


def unique_ids(rows: list[Row]) -> tuple[list[Row], list[str]]:
    """(rows with unique ids, one note per renamed row).

    --resume skips by id, so two rows sharing one (an explicit "id": "2" and an id-less row
    on line 2) would make the second look done and drop it. The first keeps its id; each
    later one becomes "<id>~<n>", the same on every run of the same file.
    """
    taken = {r.id for r in rows}
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}  # per id, the suffix to try next: every lower one is taken for good
    out: list[Row] = []
    notes: list[str] = []
    for r in rows:
        if r.id not in seen:
            seen.add(r.id)
            out.append(r)
            continue
        # linear over all rows: starting again from ~2 for each copy was quadratic (30,000 null ids: 97 s)
        n = next_suffix.get(r.id, 2)
        while f"{r.id}~{n}" in taken:
            n += 1
        next_suffix[r.id] = n + 1
        new = f"{r.id}~{n}"
        taken.add(new)
        seen.add(new)
        notes.append(f"line {r.line}: id {r.id!r} → {new!r}")
        out.append(replace(r, id=new))
    return out, notes


def _jsonl_rows(text: str) -> Iterator[Row]:
    for n, line in enumerate(jsonl_lines(text), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield Row(str(n), "", f"line {n}: not valid JSON ({exc.msg})", n)
            continue
        if not isinstance(obj, dict):
            yield Row(str(n), "", f"line {n}: expected an object with a 'question'", n)
            continue
        rid, bad_id = row_id(obj.get("id"), n)
        question = obj.get("question")
        if not isinstance(question, str):
            yield Row(rid, "", f"line {n}: 'question' must be a string", n)
            continue
        conversation, bad_conversation = conversation_id(obj.get("conversation"), n)
        yield Row(rid, question, bad_id or bad_conversation, n, conversation)


def row_id(value: Any, line: int) -> tuple[str, str | None]:
    """(the row's id, an error when the id cannot be one).

    A missing, null or blank id is the line number (README); a string is kept as written and
    a number as JSON writes it. Anything else (an object, a list, true/false) has no one
    obvious spelling — `{'x': 1}` was Python's, not the file's — so the row gets its line
    number and an error naming the line, and is written unanswered like any broken row.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return str(line), None
    if isinstance(value, str):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value), None
    kind = {dict: "an object", list: "a list", bool: "true/false"}.get(type(value), type(value).__name__)
    return str(line), f"line {line}: 'id' must be a string or a number, not {kind}"


def conversation_id(value: Any, line: int) -> tuple[str | None, str | None]:
    """(the conversation a row belongs to, an error when the value cannot name one).

    Missing, null or blank: the row stands alone. A string is kept as written; a number is
    accepted and written as JSON writes it (so `1` and `"1"` are one conversation, as with
    ids) because files made by scripts number their conversations, and a number has one
    spelling. An object, a list or true/false names nothing — `true` does not say which
    conversation — so the row is an error naming its line, written unanswered, and the rest
    of the batch goes on.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, str):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value), None
    kind = {dict: "an object", list: "a list", bool: "true/false"}.get(type(value), type(value).__name__)
    return None, f"line {line}: 'conversation' must be a string or a number, not {kind}"


def _csv_rows(path: Path, text: str) -> list[Row]:
    # a StringIO, not splitlines(): a quoted field may hold a line break
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "question" not in fields:
        raise UsageError(f"{path}: the CSV file needs a 'question' column (found: {', '.join(fields) or 'none'})")
    reader.fieldnames = fields
    rows = []
    for n, rec in enumerate(reader, start=1):
        rid = (rec.get("id") or "").strip() or str(n)
        conversation = (rec.get("conversation") or "").strip() or None
        rows.append(Row(rid, rec.get("question") or "", line=n, conversation=conversation))
    return rows


def leading_followups(rows: list[Row]) -> dict[str, str]:
    """{row id: note} for each follow-up that opens its conversation ("When did she join?"
    with no question before it): it is answered as it stands, and says that it follows nothing.

    Decided from the file alone (the rows before it, not what was answered), so a resumed run
    gives the same notes as a whole one.
    """
    from qa.answers.followup import depends_on_context
    from qa.answers.retrieve import check_question
    from qa.errors import QAError

    asked: set[str] = set()  # conversations that already have a question that can be asked
    notes: dict[str, str] = {}
    for r in rows:
        if r.conversation is None or r.error is not None:
            continue
        try:
            question = check_question(r.question)
        except QAError:
            continue  # an empty row: an error of its own, no turn
        if r.conversation not in asked and depends_on_context(question):
            notes[r.id] = f"line {r.line}: follows nothing: the first question of conversation {r.conversation!r}; answered as it stands"
        asked.add(r.conversation)
    return notes


# --------------------------------------------------------------------------- output


def done_ids(path: Path) -> set[str]:
    """Ids already answered in an output file (for --resume); a torn last record is not counted."""
    return resume_point(path)[0]


def resume_point(path: Path) -> tuple[set[str], int]:
    """(ids of the complete records in an output file, the byte offset where they end).

    A crash can cut the file anywhere — inside a quoted CSV cell that holds a line break too,
    where the file then ends with a newline that is not the end of a record: looking only for
    a final newline counted that row as done, and the rows appended next landed inside its
    open quote. So the file is parsed as records (CSV with its quotes, JSONL as JSON) and
    everything after the last complete one is to be cut (by Writer, when the batch writes).
    Read as utf-8-sig: a spreadsheet that re-saves the CSV adds a byte-order mark, which
    would otherwise turn the "id" header into "\ufeffid" and make every row look undone.
    """
    if not path.exists():
        return set(), 0
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path} to resume: {exc.strerror or exc}") from None
    keep = _jsonl_end(data) if path.suffix.lower() == ".jsonl" else _csv_end(data)
    try:
        text = data[:keep].decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {path} to resume: {exc}") from None
    if path.suffix.lower() == ".jsonl":
        ids = set()
        for line in jsonl_lines(text):
            try:
                ids.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return ids, keep
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if not fields:
        return set(), keep
    if "id" not in fields:
        raise UsageError(f"{path} has no 'id' column, so --resume cannot tell which questions are done; choose another --out")
    reader.fieldnames = fields
    return {str(r["id"]) for r in reader if r.get("id") is not None}, keep


def _csv_record_ends(data: bytes) -> list[int]:
    """Byte offsets just past each complete CSV record: a newline outside quotes.

    Quotes are counted per line (`""` inside a quoted cell counts twice, so parity is the
    state); '"' and '\\n' never occur inside a UTF-8 multi-byte character, so bytes will do.
    """
    ends: list[int] = []
    pos, quoted = 0, False
    while (nl := data.find(b"\n", pos)) >= 0:
        quoted ^= bool(data.count(b'"', pos, nl) & 1)
        pos = nl + 1
        if not quoted:
            ends.append(pos)
    return ends


def _csv_end(data: bytes) -> int:
    """Where the last complete CSV record ends; a last record with fewer cells than the header is torn too."""
    ends = _csv_record_ends(data)
    if len(ends) < 2:
        return ends[0] if ends else 0
    header = next(csv.reader(io.StringIO(data[: ends[0]].decode("utf-8-sig", "replace"), newline="")), [])
    last = next(csv.reader(io.StringIO(data[ends[-2] : ends[-1]].decode("utf-8", "replace"), newline="")), [])
    return ends[-1] if len(last) >= len(header) else ends[-2]


def _jsonl_end(data: bytes) -> int:
    """Where the last complete JSONL record ends: after a newline, and the line before it a JSON object."""
    end = data.rfind(b"\n") + 1
    if end == 0:
        return 0
    start = data.rfind(b"\n", 0, end - 1) + 1
    try:
        whole = isinstance(json.loads(data[start:end]), dict)
    except ValueError:
        whole = False
    return end if whole else start


def written_answers(path: Path, keep: int) -> dict[str, dict[str, str | None]]:
    """{id: what a conversation's next turn needs of the row} for the complete records of an
    output file: the standalone question read, the answer (None when abstained), the document
    of the top source and the error. --resume rebuilds a conversation's earlier turns from it."""
    text = path.read_bytes()[:keep].decode("utf-8-sig", "replace")
    out: dict[str, dict[str, str | None]] = {}
    if path.suffix.lower() == ".jsonl":
        for line in jsonl_lines(text):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict) or rec.get("id") is None:
                continue
            rid = str(rec["id"])
            sources = rec.get("sources") or []
            found = not rec.get("abstained") and bool(sources) and isinstance(sources[0], dict)
            out[rid] = {
                "standalone_question": rec.get("standalone_question"),
                "answer": rec.get("answer") if found else None,
                "passage_id": sources[0].get("passage_id") if found else None,
                "error": rec.get("error"),
            }
        return out
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
    for rec in reader:
        if rec.get("id") is None:
            continue
        found = rec.get("abstained") == "false"
        out[str(rec["id"])] = {
            "standalone_question": cell_text(rec.get("standalone_question") or "") or None,
            "answer": cell_text(rec.get("answer") or "") if found else None,
            "passage_id": (rec.get("passage_id") or None) if found else None,
            "error": rec.get("error") or None,
        }
    return out


def csv_header(path: Path) -> list[str] | None:
    """The columns of an existing CSV output (None: no file or no header yet)."""
    if not path.exists():
        return None
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return [f.strip().lower() for f in header] if header else None


def output_fields(out: Path, rows: list[Row], resume: bool) -> tuple[str, ...]:
    """The CSV columns to write: the conversation ones when any row has a conversation, else
    today's; a resumed file keeps the columns it has (refused when they cannot hold the rows)."""
    wanted = CONVERSATION_CSV_FIELDS if any(r.conversation is not None for r in rows) else CSV_FIELDS
    if not resume or out.suffix.lower() != ".csv":
        return wanted
    have = csv_header(out)
    if have is None:
        return wanted
    if tuple(have) == CONVERSATION_CSV_FIELDS:
        return CONVERSATION_CSV_FIELDS
    if wanted == CONVERSATION_CSV_FIELDS:
        raise UsageError(
            f"{out} has no 'conversation' columns, but the questions have conversations: --resume would lose their "
            "standalone questions; choose another --out"
        )
    return CSV_FIELDS


def check_out_path(questions: Path, out: Path, resume: bool = False) -> None:
    """Refuse an --out that would replace something (the questions, an earlier export, an
    index file) or cannot be a file, with what is wrong; --resume adds to an existing one."""
    if out.suffix.lower() not in OUTPUTS:
        raise UsageError(f"{out}: answers must go to a .jsonl or .csv file")
    check_new_output(out, "--out", inputs=[("questions file", questions)], append=resume, resume_hint=", or --resume to carry on answering into it")


def json_row(row: Row, answer: Any | None, note: str | None = None) -> dict[str, Any]:
    """The JSONL record: a row of a conversation also carries it and a `note` (else as always)."""
    if answer is None:
        body = {"question": row.question, "answer": None, "abstained": None, "error": row.error}
    else:
        body = answer.to_json()
    if row.conversation is None:
        return {"id": row.id, **body}
    return {"id": row.id, "conversation": row.conversation, **body, "note": note}


_NUMBER = re.compile(r"[+-]?\d[\d,.]*%?")


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell a spreadsheet will show, not run: text from a document or a question file
    that starts like a formula ("=HYPERLINK(…)", "@SUM(…)", "+cmd|…") gets a leading "'"
    (OWASP's advice for CSV injection); a plain signed number ("-5", "+2.5%") is left alone.
    The JSONL output always keeps the exact text."""
    if cell[:1] in ("=", "@", "\t", "\r") or (cell[:1] in ("+", "-") and not _NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell


def csv_row(row: Row, answer: Any | None, fields: tuple[str, ...] = CSV_FIELDS, note: str | None = None) -> dict[str, Any]:
    """One CSV row with `fields`; every cell but the id (which --resume matches as written) spreadsheet-safe."""
    cells = _csv_cells(row, answer, note)
    return {k: spreadsheet_safe(cells[k]) if isinstance(cells[k], str) and k != "id" else cells[k] for k in fields}


def cell_text(cell: str) -> str:
    """The text a CSV cell was written from: the "'" spreadsheet_safe put before it taken off."""
    return cell[1:] if cell.startswith("'") and spreadsheet_safe(cell[1:]) == cell else cell


def _csv_cells(row: Row, answer: Any | None, note: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {f: "" for f in CONVERSATION_CSV_FIELDS}
    out.update(id=row.id, question=row.question, conversation=row.conversation or "", note=note or "")
    if answer is None or answer.error:
        out["error"] = row.error if answer is None else answer.error
        return out
    top = answer.sources[0] if answer.sources and not answer.abstained else None
    out.update(
        standalone_question=answer.standalone_question or answer.question,
        context="; ".join(answer.context),
        passage_id=top.passage.pid if top else "",
        answer="" if answer.text is None else answer.text,
        confidence=f"{answer.confidence:.4f}",
        abstained="true" if answer.abstained else "false",
        sentence=answer.sentence or "",
        location=top.location if top else "",
        title=top.passage.title if top else "",
        date=(top.passage.date or "") if top else "",
        conflicts="; ".join(f"{c.text} ({', '.join(s.location for s in c.sources)})" for c in answer.conflicts),
    )
    return out


class Writer:
    """Appends rows to the output, flushing each one (JSONL or CSV by extension)."""

    def __init__(self, path: Path, append: bool, keep: int | None = None, fields: tuple[str, ...] = CSV_FIELDS) -> None:
        """`keep` (with append): the byte offset where the complete records end (resume_point); a torn tail beyond it is cut.
        `fields`: the CSV columns (CONVERSATION_CSV_FIELDS when the questions hold conversations)."""
        self.path = path
        self.fields = fields
        self.csv = path.suffix.lower() == ".csv"
        newline = "" if self.csv else None
        if append and path.exists():
            try:
                if keep is not None and path.stat().st_size > keep:
                    with path.open("r+b") as raw:
                        raw.truncate(keep)  # the torn record goes; it is answered again
                self.fh: TextIO = path.open("a", encoding="utf-8", newline=newline)
            except OSError as exc:  # a read-only place: one line, not a traceback
                raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        else:
            self.fh = create_new(path, newline)
        self._csv = csv.DictWriter(self.fh, fieldnames=fields) if self.csv else None
        if self._csv is not None and self.fh.tell() == 0:
            self._csv.writeheader()
            self.fh.flush()

    def write(self, row: Row, answer: Any | None, note: str | None = None) -> None:
        if self._csv is not None:
            self._csv.writerow(csv_row(row, answer, self.fields, note))
        else:
            self.fh.write(json.dumps(json_row(row, answer, note), ensure_ascii=False) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()


# --------------------------------------------------------------------------- the command


@click.command("batch")
@click.argument("questions", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", "-o", "out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="Answers file: .jsonl or .csv.")
@click.option("--resume", is_flag=True, help="Skip questions whose id is already in the output; append the rest.")
@retrieval_options(default_k=5)
@answer_options
@corpus_options
def command(
    questions: Path,
    out: Path,
    resume: bool,
    k: int,
    retriever: str,
    min_score: float | None,
    answers: int,
    corpus: tuple[Path, ...],
    index_dir: Path | None,
) -> None:
    """Answer every question in QUESTIONS (.txt: one a line; .jsonl: objects with 'question'
    and optional 'id'; .csv: a 'question' column, optional 'id') into --out (.jsonl or .csv),
    one row per question in input order.

    Conversations: rows with the same 'conversation' (a JSONL field or a CSV column) are
    answered in file order, each follow-up ("When did she join?") with the earlier rows of its
    conversation as context; each row gives the question as it was understood
    (standalone_question). In JSONL a conversation is a string, or a number (scripts number
    their conversations; kept as JSON writes it, so 1 and "1" are one); an object, a list or
    true/false is an error in that row. Rows without one stand alone, answered as before.
    """
    check_out_path(questions, out, resume)
    rows, renamed = unique_ids(read_questions(questions))
    if renamed:
        more = f" and {len(renamed) - 1} more" if len(renamed) > 1 else ""
        notify(f"warning: {questions}: {_n(len(renamed), 'duplicate id')} renamed so each row is answered once ({renamed[0]}{more})")
    fields = output_fields(out, rows, resume)
    skip, keep = resume_point(out) if resume else (set(), None)
    todo = [r for r in rows if r.id not in skip]
    notes = leading_followups(rows)
    _say_leading(questions, [notes[r.id] for r in todo if r.id in notes])
    turns = done_turns(rows, skip, out, keep) if skip else {}
    if todo:
        from qa.answers.answer import reader

        reader()  # a missing or damaged reader model is one line now, not after a first-run index build
    engine = open_engine(corpus, index_dir)
    if todo:
        engine.warm_up()  # load the encoder before the clock starts: the rate is answering speed
    writer = Writer(out, append=resume, keep=keep, fields=fields)
    started = time.perf_counter()
    counts = {"answered": 0, "abstained": 0, "errors": 0}
    options = {"k": k, "retriever": retriever, "min_score": min_score, "answers": answers}
    try:
        with _progress(len(todo)) as advance:
            for row, answer in answer_rows(engine, rows, skip, turns, options):
                writer.write(row, answer, notes.get(row.id))
                if answer is None or answer.error:
                    counts["errors"] += 1
                else:
                    counts["answered"] += 1
                    counts["abstained"] += int(answer.abstained)
                advance(1)
    finally:
        writer.close()
    seconds = time.perf_counter() - started
    asked = counts["answered"] + counts["errors"]
    rate = counts["answered"] / seconds if seconds > 0 else 0.0
    from rich.text import Text

    stderr_console().print(
        Text(
            f"{_n(asked, 'row')} written to {out} ({counts['abstained']} not found in the sources, "
            f"{_n(counts['errors'], 'error')}, {len(rows) - len(todo)} skipped as already done) "
            f"in {seconds:.1f} s — {rate:.1f} questions/s",
        ),
        soft_wrap=True,  # one line however narrow the terminal (logs grep it)
    )
    if todo and not counts["answered"]:
        raise UsageError(f"no question of {questions} could be asked: every row is an error (see the 'error' field in {out})")


def _say_leading(questions: Path, notes: list[str]) -> None:
    """One warning line for the follow-ups that open their conversation (the first named)."""
    if notes:
        more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
        notify(f"warning: {questions}: {notes[0]}{more}")


def done_turns(rows: list[Row], done: set[str], out: Path, keep: int | None) -> dict[str, Any]:
    """{row id: its Turn, or None} for the rows of conversations already written to `out`, so a
    resumed run answers the next follow-ups with the turns before them (an error row has none)."""
    from qa.answers.followup import Turn
    from qa.answers.retrieve import check_question
    from qa.conversation import doc_id_of
    from qa.errors import QAError

    wanted = [r for r in rows if r.conversation is not None and r.id in done]
    if not wanted:
        return {}
    written = written_answers(out, keep if keep is not None else out.stat().st_size)
    turns: dict[str, Any] = {}
    for r in wanted:
        rec = written.get(r.id)
        try:
            question = check_question(r.question)
        except QAError:
            question = None
        if rec is None or rec["error"] or question is None:
            turns[r.id] = None
            continue
        turns[r.id] = Turn(
            question=question,
            standalone=rec["standalone_question"] or question,
            answer=rec["answer"],
            doc_id=doc_id_of(rec["passage_id"]) if rec["passage_id"] else None,
        )
    return turns


def answer_rows(engine: Any, rows: list[Row], done: set[str], turns: dict[str, Any], options: dict[str, Any]) -> Iterator[tuple[Row, Any]]:
    """(row, answer) for each row not in `done`, in input order, answered a chunk at a time.

    A chunk takes up to CHUNK rows from the first unwritten one on (within WINDOW rows): every
    row standing alone, and of each conversation its next row — the one whose earlier rows are
    all answered — so the n-th turns of different conversations are read together and a
    follow-up is never read before the question it follows. `turns`: the turns of rows already
    written (--resume). Without conversations the chunks are the consecutive rows, as always.
    """
    answered: dict[int, Any] = {}  # row position -> its answer (None: a row that could not be read)
    turns = dict(turns)  # row id -> Turn or None, for the rows of conversations
    positions: dict[str, list[int]] = {}  # conversation -> its rows' positions
    for i, r in enumerate(rows):
        if r.conversation is not None and r.error is None:
            positions.setdefault(r.conversation, []).append(i)
    histories: dict[str, list[Any]] = {c: [] for c in positions}
    taken: dict[str, int] = dict.fromkeys(positions, 0)  # how many of a conversation's rows are in its history
    front = 0
    while front < len(rows):
        if rows[front].id in done:
            front += 1
            continue
        chunk = _next_chunk(rows, done, answered, front)
        alone = [i for i in chunk if rows[i].error is None and rows[i].conversation is None]
        talk = [i for i in chunk if rows[i].error is None and rows[i].conversation is not None]
        for i in chunk:
            if rows[i].error is not None:
                answered[i] = None
        for i, a in zip(alone, _answer_chunk(engine, [rows[i] for i in alone], **options), strict=True):
            answered[i] = a
        items = []
        for i in talk:
            c = rows[i].conversation
            while positions[c][taken[c]] < i:  # every earlier row of c is answered: their turns, in order
                t = turns.get(rows[positions[c][taken[c]]].id)
                if t is not None:
                    histories[c].append(t)
                taken[c] += 1
            items.append((rows[i].question, list(histories[c])))
        for i, (a, t) in zip(talk, _answer_turns(engine, items, options), strict=True):
            answered[i] = a
            turns[rows[i].id] = t
        while front < len(rows) and (rows[front].id in done or front in answered):
            if rows[front].id not in done:
                yield rows[front], answered.pop(front)
            front += 1


def _next_chunk(rows: list[Row], done: set[str], answered: dict[int, Any], front: int) -> list[int]:
    """Positions of the rows to answer next (see answer_rows); always holds `front`."""
    chunk: list[int] = []
    waiting: set[str] = set()  # conversations with an unanswered row already seen
    for i in range(front, min(len(rows), front + WINDOW)):
        r = rows[i]
        if r.id in done or i in answered:
            continue
        c = r.conversation if r.error is None else None
        if c is not None and c in waiting:
            continue
        if c is not None:
            waiting.add(c)
        chunk.append(i)
        if len(chunk) >= CHUNK:
            break
    return chunk


def _one_at_a_time_on_failure(batch: Callable[[list[Any]], list[Any]], items: list[Any], failed: Callable[[Any, Exception], Any]) -> list[Any]:
    """`batch(items)`; when it breaks (a UsageError aside), each item alone, and one that breaks
    alone gets `failed(item, error)` — so the item that broke a chunk does not cost the others."""
    if not items:
        return []
    try:
        return batch(items)
    except UsageError:
        raise
    except Exception:
        got = []
        for item in items:
            try:
                got.append(batch([item])[0])
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the batch
                got.append(failed(item, exc))
        return got


def _error_answer(question: str, exc: Exception) -> Any:
    from qa.records import Answer

    return Answer(question, None, None, 0.0, True, (), error=f"{type(exc).__name__}: {exc}")


def _answer_turns(engine: Any, items: list[tuple[str, list[Any]]], options: dict[str, Any]) -> list[tuple[Any, Any]]:
    """answer_turns for a chunk of conversation rows; a row that breaks gets an error and no turn."""
    from qa.conversation import answer_turns

    return _one_at_a_time_on_failure(lambda some: answer_turns(engine, some, **options), items, lambda item, exc: (_error_answer(item[0], exc), None))


def _answer_chunk(engine: Any, chunk: list[Row], k: int, retriever: str, min_score: float | None, answers: int) -> list[Any]:
    """Answers for a chunk (one embedding batch); rows that could not be read get None."""
    readable = [r.question for r in chunk if r.error is None]
    got = iter(
        _one_at_a_time_on_failure(
            lambda some: engine.ask_many(some, k=k, retriever=retriever, min_score=min_score, answers=answers), readable, _error_answer
        )
    )
    return [None if r.error is not None else next(got) for r in chunk]


class _progress:
    """A progress bar with rate and ETA on stderr (nothing when stderr is not a terminal)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not sys.stderr.isatty() or self.total == 0:
            return lambda n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        class Rate(TextColumn):
            def render(self, task):  # type: ignore[no-untyped-def]
                from rich.text import Text

                speed = task.finished_speed or task.speed
                return Text("–" if not speed else f"{speed:.1f} q/s")

        self.bar = Progress(
            TextColumn("Answering"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            Rate(""),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=stderr_console(),
            transient=True,
        )
        self.bar.__enter__()
        task = self.bar.add_task("answering", total=self.total)
        return lambda n: self.bar.update(task, advance=n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
