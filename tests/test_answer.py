"""The extractive answer layer: spans verbatim with true file:lines, abstention, conflicts,
the `qa ask` command. Slow tests use the real bundled model on the seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.answer_types import DATE, DURATION, NAME, NUMBER, PLACE, SENTENCE, canonical, compatible, expected_kind, find_spans
from qa.spans import align

from conftest import SEEDS, words_in_lines, write_corpus

# --------------------------------------------------------------------------- fast: rules


@pytest.mark.parametrize(
    "question, kind",
    [
        ("How many people died in the protests?", NUMBER),
        ("How much did the government spend?", NUMBER),
        ("When did the protests begin?", DATE),
        ("In what year was Castillo elected?", DATE),
        ("How long did Castillo stay in power?", DURATION),
        ("Who replaced Castillo?", NAME),
        ("Which sociologist spoke to La República?", NAME),
        ("Where did the highland protest spread?", PLACE),
        ("Which city was occupied?", PLACE),
        ("Why did the protesters march?", SENTENCE),
        ("Why was the state unprepared when the pandemic arrived?", SENTENCE),
        ("According to the minister, how does the law treat investors?", SENTENCE),
        ("How did the soldier die?", SENTENCE),
        ("What was the president's approval rating in May?", NUMBER),
        ("By what margin did she win the runoff?", NUMBER),
        ("What fraction of the population lives in the capital?", NUMBER),
        ("Which sociology professor spoke to the newspaper?", NAME),
        ("Which former Bolivian president was banned?", NAME),
        # the main wh-word decides, not a later one; a leading clause is skipped
        ("When violence is used, what is civil disobedience sometimes called?", SENTENCE),
        ("What did the Shah do when he was defeated?", SENTENCE),
        ("What did the people who protested want?", SENTENCE),
        ("In 2021, who won the election?", NAME),
        ("Where and when did the march start?", PLACE),
        ("How high is the volcano?", NUMBER),
        ("How far is Puno from Juliaca?", NUMBER),
        ("How wide is the river at Iquitos?", NUMBER),
    ],
)
def test_expected_kind(question: str, kind: str) -> None:
    assert expected_kind(question) == kind


def _spans(sentence: str, kind: str) -> list[str]:
    return [sentence[s.start : s.end] for s in find_spans(sentence, kind)]


def test_span_finders_are_verbatim_and_typed() -> None:
    s = "In six weeks 54 people have been killed and more than 1,300 wounded in Lima on January 15, 2023, said Dina Boluarte."
    assert "54" in _spans(s, NUMBER) and "1,300" in _spans(s, NUMBER)
    assert "2023" not in _spans(s, NUMBER)  # inside a date
    assert _spans(s, DATE) == ["January 15, 2023"]
    assert _spans(s, DURATION) == ["six weeks"]
    assert "Dina Boluarte" in _spans(s, NAME)
    places = sorted(find_spans(s, PLACE), key=lambda x: -x.prior)
    assert s[places[0].start : places[0].end] == "Lima"  # "in Lima": the place cue wins
    assert "In" not in _spans(s, NAME)


def test_canonical_merges_equal_answers() -> None:
    assert canonical("1,300", NUMBER) == canonical("1300", NUMBER)
    assert canonical("six", NUMBER) == canonical("6", NUMBER)
    assert canonical("54", NUMBER) != canonical("56", NUMBER)
    assert canonical("the Congress", NAME) == canonical("Congress", NAME)


def test_align_maps_passage_offsets_to_lines() -> None:
    lines = ["Title", "", "First sentence here. Second", "sentence wraps.", "caption dropped", "Third line."]
    text = "Second sentence wraps.\n\nThird line."
    segs = align(text, lines, 3, 6)
    by_line = {line: text[a:b] for a, b, line in segs}
    assert by_line == {3: "Second", 4: "sentence wraps.", 6: "Third line."}


# --------------------------------------------------------------------------- slow: real model


def _raw(path: str) -> str:
    return (SEEDS / path).read_text(encoding="utf-8")


def _stands_in_lines(text: str, raw: str, a: int, b: int) -> bool:
    """Is `text` a verbatim stretch of lines a..b (normalised as ingest does, joined by a space)?"""
    from qa.clean import normalize_line, split_lines

    joined = " ".join(n for n in (normalize_line(x) for x in split_lines(raw)[a - 1 : b]) if n)
    return " ".join(text.split()) in joined


def _check_verbatim(answer) -> None:  # type: ignore[no-untyped-def]
    """Span and sentence are slices of the excerpt, and the file holds them at `lines`."""
    src = answer.sources[0]
    p = src.passage
    assert p.text[src.span_start : src.span_end] == answer.text
    assert p.text[src.sentence_start : src.sentence_end] == answer.sentence == src.sentence
    assert src.sentence_start <= src.span_start < src.span_end <= src.sentence_end
    a, b = src.lines
    assert p.line_start <= a <= b <= p.line_end
    raw = _raw(p.path)
    assert words_in_lines(answer.sentence, raw, a, b)
    assert _stands_in_lines(answer.sentence, raw, a, b)
    assert _stands_in_lines(answer.text, raw, a, b)


@pytest.mark.slow
@pytest.mark.parametrize(
    "question, expected, kind",
    [
        ("How many roadblocks were reported on Friday?", "46", NUMBER),
        ("When did Peru's government declare a state of emergency in Lima?", "January 15", DATE),
        ("Where was the highland protest extended to by January 19?", "Lima", PLACE),
        ("Which sociologist said the demonstrators do not express support for Castillo?", "Maritza Paredes", NAME),
    ],
)
def test_factoid_spans_are_verbatim_with_true_lines(seeds_engine, question: str, expected: str, kind: str) -> None:
    answer = seeds_engine.ask(question)
    assert not answer.abstained, answer
    assert answer.text == expected
    assert 0.5 <= answer.confidence <= 1.0
    _check_verbatim(answer)


@pytest.mark.slow
def test_hard_wrapped_file_gets_narrow_lines(seeds_engine) -> None:
    """002 is hard-wrapped: the sentence spans two or three lines, not the passage's dozen."""
    answer = seeds_engine.ask("How many roadblocks were reported on Friday?")
    src = answer.sources[0]
    assert src.passage.path.startswith("002_")
    a, b = src.lines
    assert b - a <= 3 < src.passage.line_end - src.passage.line_start


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    ["What is the best recipe for lasagna?", "Who won the 2018 FIFA World Cup final?", "How do I change a bicycle tyre?"],
)
def test_off_topic_abstains_with_closest_excerpts(seeds_engine, question: str) -> None:
    answer = seeds_engine.ask(question)
    assert answer.abstained and answer.text is None and answer.sentence is None
    assert answer.confidence < 0.35
    assert answer.sources, "abstentions still list the closest excerpts"
    assert all(s.answer is None for s in answer.sources)
    data = answer.to_json()
    assert data["answer"] is None and data["abstained"] is True and data["span"] is None


@pytest.mark.slow
def test_conflicting_death_tolls_are_reported(seeds_engine) -> None:
    answer = seeds_engine.ask("How many people died in the protests?")
    assert not answer.abstained
    assert len(answer.conflicts) >= 2
    values = {canonical(c.text, NUMBER) for c in answer.conflicts}
    assert len(values) == len(answer.conflicts) >= 2
    files = {s.passage.path for c in answer.conflicts for s in c.sources}
    assert len(files) >= 2
    for cand in answer.conflicts:
        for src in cand.sources:
            assert src.passage.text[src.span_start : src.span_end] == cand.text
            assert _stands_in_lines(src.sentence, _raw(src.passage.path), *src.lines)
    assert answer.conflicts[0].text == answer.text


@pytest.mark.slow
def test_answers_option_gives_distinct_candidates(seeds_engine) -> None:
    answer = seeds_engine.ask("How many people died in the protests?", answers=3)
    texts = [canonical(c.text, NUMBER) for c in answer.candidates]
    assert len(texts) == 3 and len(set(texts)) == 3
    confs = [c.confidence for c in answer.candidates]
    assert confs == sorted(confs, reverse=True)


@pytest.mark.slow
def test_batch_answers_match_single_answers(seeds_engine) -> None:
    qs = ["How many roadblocks were reported on Friday?", "", "What is the best recipe for lasagna?"]
    many = seeds_engine.ask_many(qs)
    assert many[0].text == seeds_engine.ask(qs[0]).text
    assert many[1].error and many[1].abstained
    assert many[2].abstained and many[2].error is None


@pytest.mark.slow
def test_bm25_retriever_answers_too(seeds_engine) -> None:
    answer = seeds_engine.ask("How many roadblocks were reported on Friday?", retriever="bm25")
    assert answer.text == "46"


# --------------------------------------------------------------------------- the command


def _run(argv: list[str], capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    from qa.cli import run

    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_ask_json_schema(seeds_engine, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _run(["ask", "How many people died in the protests?", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"question", "answer", "span", "sentence", "confidence", "abstained", "sources", "conflicts", "answers"}
    src = data["sources"][0]
    assert src["excerpt"][src["span_offsets"][0] : src["span_offsets"][1]] == data["answer"]
    assert src["excerpt"][src["sentence_offsets"][0] : src["sentence_offsets"][1]] == data["sentence"]
    assert {"file", "title", "lines", "location", "date", "retrieval_score", "rank"} <= set(src)
    assert len(data["conflicts"]) >= 2


@pytest.mark.slow
def test_ask_human_output(seeds_engine, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _run(["ask", "How many people died in the protests?"], capsys)
    assert code == 0
    assert "Answer:" in out and "Sources disagree:" in out and ".txt:" in out
    code, out, _ = _run(["ask", "What is the best recipe for lasagna?"], capsys)
    assert code == 0 and "Not found in the sources." in out and "Closest excerpts" in out


@pytest.mark.slow
def test_ask_min_score_forces_abstention(seeds_engine, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _run(["ask", "How many roadblocks were reported on Friday?", "--json", "--min-score", "1.0"], capsys)
    assert code == 0 and json.loads(out)["abstained"] is True


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["ask", "   "], "the question is empty"),
        (["ask", "x", "--min-score", "2"], "--min-score"),
        (["ask", "x", "--answers", "0"], "--answers"),
        (["ask", "x", "-r", "magic"], "--retriever"),
    ],
)
def test_ask_bad_input_is_one_line_exit_2(argv: list[str], fragment: str, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_answer_module_imports_no_torch() -> None:
    """`qa ask --help` and the answer rules must not pay for torch."""
    import subprocess
    import sys

    code = "import sys, qa.answer, qa.commands.ask, qa.commands.batch; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Dec 7", "December 7, 2022", True),  # one is less specific
        ("January", "January 9, 2023", True),
        ("December 7", "January 9", False),
        ("December 8", "December 7, 2022", False),
        ("2021", "December 7, 2022", False),
    ],
)
def test_dates_that_can_both_be_true_are_not_a_conflict(a: str, b: str, same: bool) -> None:
    assert compatible(a, b, DATE) is same
    assert compatible(b, a, DATE) is same


def test_figures_listed_in_one_document_are_not_a_conflict(seeds_engine) -> None:
    """Every conflict answer comes from a document that does not give the top answer."""
    for question in ("How many people died in the protests?", "When was Pedro Castillo removed from office?"):
        answer = seeds_engine.ask(question)
        if not answer.conflicts:
            continue
        top_docs = {s.passage.doc_id for s in answer.conflicts[0].sources}
        for rival in answer.conflicts[1:]:
            assert {s.passage.doc_id for s in rival.sources} - top_docs, rival.text


def test_who_is_a_named_person_asks_for_a_description() -> None:
    assert expected_kind("Who is Dina Boluarte?") == SENTENCE
    assert expected_kind("Who is the president of Peru?") == NAME


def test_place_cue_at_sentence_start_and_possessive_modifier() -> None:
    sentence = "In Arequipa, Peru’s second city, police clashed with protesters."
    spans = sorted(find_spans(sentence, PLACE), key=lambda s: -s.prior)
    assert sentence[spans[0].start : spans[0].end] == "Arequipa"


def test_adjectives_of_origin_before_a_noun_are_weak_names() -> None:
    sentence = "Indigenous Peruvian women marched to Lima, said Dina Boluarte."
    spans = {sentence[x.start : x.end]: x.prior for x in find_spans(sentence, NAME)}
    assert spans["Dina Boluarte"] > spans["Indigenous Peruvian"] + 0.3
    # the same word standing alone as a noun phrase is not penalised as an adjective
    alone = {("The Peruvian said no.")[x.start : x.end]: x.prior for x in find_spans("The Peruvian said no.", NAME)}
    assert alone["Peruvian"] > 0.35


def test_fractions_are_numbers_and_vague_quantities_rank_low() -> None:
    sentence = "About one third of Peru lives in Lima, and thousands marched; 912 were injured."
    spans = {sentence[x.start : x.end]: x.prior for x in find_spans(sentence, NUMBER)}
    assert "one third" in spans
    assert spans["thousands"] < spans["912"]
    assert not _spans("It was the third time.", NUMBER)


def test_durations_in_clock_units() -> None:
    sentence = "HNSW over 1M vectors took 7.6 min; a query takes 5 ms and a reload 30 seconds."
    assert _spans(sentence, DURATION) == ["7.6 min", "5 ms", "30 seconds"]


def test_headings_are_recognised() -> None:
    from qa.answer import _is_heading

    assert _is_heading("## Staff") and _is_heading("Staff numbers") and _is_heading("Three Traumas: Neoliberalism, COVID")
    assert not _is_heading("Twelve scientists work there.") and not _is_heading("He said:")


def ask_one_file(tmp_path: Path, name: str, text: str, question: str):  # type: ignore[no-untyped-def]
    """Index a one-file corpus with the real model and ask it `question`."""
    from qa.engine import Engine

    root = write_corpus(tmp_path / "c", {name: text})
    return Engine.open([root], tmp_path / "idx", build_missing=True).ask(question)


@pytest.mark.slow
def test_a_section_sentence_is_read_under_its_heading(tmp_path: Path) -> None:
    """The question's key word stands only in the heading: the section's first sentence answers."""
    doc = (
        "# The observatory\n\n## Visitors\n\nAbout 300 technicians from other observatories visit each year.\n\n"
        "## Staff\n\nTwelve scientists and 40 technicians work there.\n"
    )
    answer = ask_one_file(tmp_path, "obs.md", doc, "How many technicians are on the staff?")
    assert not answer.abstained and answer.text == "40"


@pytest.mark.slow
def test_list_markers_are_not_part_of_the_answer_sentence(tmp_path: Path) -> None:
    doc = "# Tools\n\n- The hammer weighs 2 kilos.\n- The old saw is 60 cm long.\n"
    answer = ask_one_file(tmp_path, "tools.md", doc, "How much does the hammer weigh?")
    assert not answer.abstained and answer.sentence is not None
    assert answer.sentence.startswith("The hammer weighs"), answer.sentence
    top = answer.sources[0]
    assert top.passage.text[top.sentence_start : top.sentence_end] == answer.sentence  # still verbatim


def test_discourse_adverbs_and_dash_ranges_are_not_answers() -> None:
    assert _spans("Instead, he took the conquered tribe under his protection.", NAME) == []
    assert _spans("The plague returned in 1360–63 and 1438–39.", NUMBER) == ["1360", "1438"]


def test_a_measurement_keeps_its_unit_and_compares_by_value() -> None:
    sentence = "Misti stands 5,822 metres high; the pass is at 4,313 m; 54 people and 2 million sheep live there."
    assert _spans(sentence, NUMBER) == ["5,822 metres", "4,313 m", "54", "2 million"]
    assert compatible("5,822 metres", "5822 m", NUMBER) and not compatible("2 million", "2", NUMBER)


def test_acronym_questions_and_their_expansions() -> None:
    from qa.answer_types import EXPANSION, acronym_in, find_expansions

    assert acronym_in("What does CGTP stand for?") == "CGTP" and expected_kind("what does MAAG stand for") == EXPANSION
    assert acronym_in("What is the full name of the CGTP?") == "CGTP"
    assert acronym_in("What does the government mean by terrorism?") is None
    after = "Workers marched with the CGTP (the General Confederation of Workers of Peru) on Monday."
    before = "Mariano Alvarado, of the Military Assistance and Advisory Group (MAAG), met them."
    assert [after[s.start : s.end] for s in find_expansions(after, "CGTP")] == ["General Confederation of Workers of Peru"]
    assert [before[s.start : s.end] for s in find_expansions(before, "MAAG")] == ["Military Assistance and Advisory Group"]
    assert find_expansions("The MAAG met them.", "MAAG") == []


@pytest.mark.slow
def test_what_an_acronym_stands_for(tmp_path: Path) -> None:
    doc = (
        "The Andean railway\n\nThe Andean Railway Company (ARC) runs the line from Cusco to Puno. "
        "Its trains stand in the station for an hour. The ARC was founded in 1999.\n"
    )
    answer = ask_one_file(tmp_path, "rail.txt", doc, "What does ARC stand for?")
    assert not answer.abstained and answer.text == "Andean Railway Company"


@pytest.mark.slow
def test_who_is_prefers_a_sentence_that_defines_the_person(tmp_path: Path) -> None:
    doc = (
        "The herd\n\nYesterday Ana Ruiz went to the market in Puno with her sister. "
        "Ana Ruiz, a shepherd, has kept alpacas in the hills for twenty years.\n"
    )
    answer = ask_one_file(tmp_path, "herd.txt", doc, "Who is Ana Ruiz?")
    assert not answer.abstained and answer.text is not None and answer.text.startswith("Ana Ruiz, a shepherd")


@pytest.mark.slow
def test_why_prefers_the_sentence_after_the_one_restating_the_question(tmp_path: Path) -> None:
    doc = (
        "The bridge\n\nThe old stone bridge over the river closed to all traffic in March last year. "
        "Floods from the river had cracked the pillars of the bridge.\n"
    )
    answer = ask_one_file(tmp_path, "bridge.txt", doc, "Why did the bridge over the river close?")
    assert not answer.abstained and answer.text is not None and answer.text.startswith("Floods"), answer.text
