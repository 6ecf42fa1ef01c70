"""Follow-up questions (issue 34): how a question is taken after earlier turns, and the
conversation through the real engine. Examples are invented (not from the seeds or the gold
set); the method's quality is pinned on the SQuAD-made follow-ups (qa eval --followups)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answers.followup import Turn, depends_on_context, understand


def turn(question: str, answer: str | None, doc: str | None = None) -> Turn:
    return Turn(question=question, standalone=question, answer=answer, doc_id=doc)


WHO = turn("Who leads the Falcon project?", "Priya Raman", "notes.md#1")


@pytest.mark.parametrize(
    "question, turns, read",
    [
        ("When did she join the company?", [WHO], "When did Priya Raman join the company?"),
        ("Who hired her?", [WHO], "Who hired Priya Raman?"),
        ("What was her first job?", [WHO], "What was Priya Raman's first job?"),
        ("Where was he born?", [turn("When did Tomas Berg win the award?", "2021")], "Where was Tomas Berg born?"),
        ("What did they build?", [turn("Who bought the mill?", "the Harlow brothers")], "What did the Harlow brothers build?"),
        ("What happened there?", [turn("Where did the strike begin?", "Gdansk")], "What happened in Gdansk?"),
        ("Who was mayor then?", [turn("When did the bridge open?", "1932")], "Who was mayor in 1932?"),
        ("Why?", [turn("When did Priya Raman resign?", "in March")], "Why did Priya Raman resign?"),
        ("Since when?", [turn("Who has led the Falcon project?", "Priya Raman")], "Since when has Priya Raman led the Falcon project?"),
        ("And in 2019?", [turn("How many people moved to Oslo in 2022?", "4,000")], "How many people moved to Oslo in 2019?"),
        ("What about Bergen?", [turn("How many people moved to Oslo in 2022?", "4,000")], "How many people moved to Bergen in 2022?"),
        # a clear person two turns back beats a lone capitalised word (a place?) in the last turn
        ("Where was she born?", [turn("When did Priya Raman join?", "2019"), turn("Where is the Lisbon office?", "Rua Augusta")], "Where was Priya Raman born?"),
    ],
)
def test_a_follow_up_is_read_with_its_referent(question: str, turns: list[Turn], read: str) -> None:
    u = understand(question, turns)
    assert u.depends and u.standalone == read


@pytest.mark.parametrize(
    "question",
    [
        "When did Boluarte say she would resign?",  # the pronoun's person is in the question
        "How many people died in the protests?",
        "What is the capital of Norway?",
        "Who wrote the report about the strike?",
    ],
)
def test_a_question_that_stands_alone_is_asked_as_it_is(question: str) -> None:
    u = understand(question, [WHO])
    assert not depends_on_context(question)
    assert (u.depends, u.standalone, u.search, u.context, u.prefer_doc) == (False, question, question, (), None)


def test_a_pronoun_nothing_fills_is_left_to_the_search_words() -> None:
    """After a turn that named nobody and found nothing, "he" cannot be filled in: the question is
    read as typed (not glued to the earlier question's words) and searched with them."""
    u = understand("Where is he from?", [turn("Who won the first round of the election?", None)])
    assert u.depends and u.standalone == "Where is he from?"
    assert "election" in u.search


def test_she_after_an_unanswered_who_question_is_not_a_name_it_held() -> None:
    """"Who is the mayor of Lima?" found nothing: "she" is that unknown mayor, not Lima."""
    u = understand("When did she take office?", [turn("Who is the mayor of Lima?", None)])
    assert "Lima" not in u.standalone and u.standalone == "When did she take office?"
    assert "mayor" in u.search and "Lima" in u.search


def test_the_first_question_never_depends() -> None:
    u = understand("When did she join?", [])
    assert not u.depends and u.standalone == u.search == "When did she join?"


def test_the_search_carries_the_earlier_turn_and_prefers_its_document() -> None:
    u = understand("When did she join the company?", [WHO])
    assert u.search.startswith(u.standalone)
    assert "Priya Raman" in u.context and "Falcon" in u.search
    assert u.prefer_doc == "notes.md#1"


def test_an_ellipsis_searches_its_own_question_only() -> None:
    """The earlier answer (and the year it replaces) would pull the search back to the earlier passage."""
    u = understand("And in 2019?", [turn("How many people moved to Oslo in 2022?", "4,000")])
    assert u.context == () and "2022" not in u.search and "4,000" not in u.search


# ------------------------------------------------------------------ through the engine


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


TEAM = {
    "falcon.md": "# Falcon project\n\nThe Falcon project is led by Priya Raman, an engineer from Pune.\n\n"
    "Priya Raman joined the company in 2016 after six years at a shipping firm.\n",
    "heron.md": "# Heron project\n\nThe Heron project is led by Marcus Webb, a chemist from Leeds.\n\n"
    "Marcus Webb joined the company in 2011 as a laboratory assistant.\n",
}


@pytest.fixture(scope="module")
def team_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from qa.engine import Engine

    root = write(tmp_path_factory.mktemp("team") / "notes", TEAM)
    return Engine.open([root], root.parent / "idx", build_missing=True)


@pytest.mark.slow
def test_a_conversation_answers_the_follow_up_about_the_earlier_answer(team_engine) -> None:  # type: ignore[no-untyped-def]
    from qa.conversation import Conversation

    chat = Conversation(team_engine)
    first = chat.ask("Who leads the Heron project?", min_score=0.0)
    assert first.text == "Marcus Webb" and first.standalone_question is None
    follow = chat.ask("When did he join the company?", min_score=0.0)
    assert follow.standalone_question == "When did Marcus Webb join the company?"
    assert follow.text == "2011" and follow.question == "When did he join the company?"
    assert follow.sources[0].passage.path == "heron.md"
    assert follow.to_json()["standalone_question"] == "When did Marcus Webb join the company?"


@pytest.mark.slow
def test_a_fresh_topic_forgets_the_earlier_turns(team_engine) -> None:  # type: ignore[no-untyped-def]
    from qa.conversation import Conversation

    chat = Conversation(team_engine)
    chat.ask("Who leads the Heron project?", min_score=0.0)
    chat.reset()
    again = chat.ask("When did he join the company?", min_score=0.0)
    assert again.standalone_question is None and again.context == ()


@pytest.mark.slow
def test_many_conversations_at_once_answer_as_one_by_one(team_engine) -> None:  # type: ignore[no-untyped-def]
    from qa.conversation import Conversation, answer_conversations

    talks = [["Who leads the Heron project?", "When did he join the company?"], ["Who leads the Falcon project?", "Where is she from?", ""]]
    together = answer_conversations(team_engine, talks, min_score=0.0)
    for talk, answers in zip(talks, together, strict=True):
        chat = Conversation(team_engine)
        alone = [chat.ask(q, min_score=0.0) if q else None for q in talk]
        assert [a.text for a in answers[: len(talk) - (not talk[-1])]] == [a.text for a in alone if a is not None]
    assert together[1][1].text == "Pune" and together[1][2].error  # an empty follow-up: its own error, the others answered


@pytest.mark.slow
def test_a_standalone_question_gets_the_same_answer_inside_a_conversation(team_engine) -> None:  # type: ignore[no-untyped-def]
    from qa.conversation import Conversation

    alone = team_engine.ask("When did Priya Raman join the company?", min_score=0.0)
    chat = Conversation(team_engine)
    chat.ask("Who leads the Heron project?", min_score=0.0)
    inside = chat.ask("When did Priya Raman join the company?", min_score=0.0)
    assert (inside.text, inside.confidence, inside.standalone_question) == (alone.text, alone.confidence, None)


# ------------------------------------------------------------------ the SQuAD-made follow-ups


@pytest.mark.parametrize(
    "question, mention, pronoun, written",
    [
        ("When did Tomas Berg win the award?", "Tomas Berg", "he", "When did he win the award?"),
        ("Who trained Tomas Berg?", "Tomas Berg", "he", "Who trained him?"),
        ("What was Tomas Berg's first book?", "Tomas Berg", "she", "What was her first book?"),
        ("Who signed the Antarctic Treaty?", "Antarctic Treaty", "it", "Who signed it?"),
        ("Tomas Berg wrote what book?", "Tomas Berg", "he", "He wrote what book?"),
    ],
)
def test_a_question_is_rewritten_with_the_pronoun_in_its_form(question: str, mention: str, pronoun: str, written: str) -> None:
    from qa.eval.followups import rewrite

    assert rewrite(question, mention, pronoun) == written


def test_no_pronoun_where_the_name_modifies_a_noun_stands_twice_or_is_all_there_is() -> None:
    from qa.eval.followups import rewrite

    assert rewrite("How much did the Princess Elizabeth station cost?", "Princess Elizabeth", "it") is None
    assert rewrite("Did Oslo grow faster than Oslo's suburbs?", "Oslo", "it") is None
    assert rewrite("Who is Tomas Berg?", "Tomas Berg", "he") is None  # "Who is he?" keeps no word of its own


def test_the_pronoun_follows_how_the_paragraph_refers_back() -> None:
    from qa.eval.followups import pronoun_for

    assert pronoun_for("Ada Lovelace", "Ada Lovelace wrote notes. She published them in 1843.") == "she"
    assert pronoun_for("Tomas Berg", "Tomas Berg was born in Oslo; his father was a baker.") == "he"
    assert pronoun_for("The Treaty", "The Treaty was signed in 1959 by twelve countries.") == "it"


def test_follow_ups_are_made_from_consecutive_questions_of_a_paragraph() -> None:
    from qa.eval.followups import make_followups

    paragraph = {
        "pid": "p1",
        "context": "Tomas Berg founded the Harlow Mill in 1901. He sold it in 1920 to a cooperative.",
        "qas": [
            {"id": "q1", "question": "Who founded the Harlow Mill?", "answers": ["Tomas Berg"]},
            {"id": "q2", "question": "When did Tomas Berg sell the mill?", "answers": ["1920"]},
            {"id": "q3", "question": "When was the Harlow Mill founded?", "answers": ["1901"]},
        ],
    }
    made = make_followups([paragraph])
    assert [(f.qid, f.followup, f.kind) for f in made] == [("q2", "When did he sell the mill?", "answer")]
    assert made[0].first == "Who founded the Harlow Mill?" and made[0].full == "When did Tomas Berg sell the mill?"


@pytest.mark.slow
@pytest.mark.bench
def test_follow_up_quality_on_squad_test_articles_is_pinned() -> None:
    """The issue's target on the test split (reported, never tuned on): follow-ups asked in
    conversation find their passage within 0.10 of the same questions asked in full; a full
    question keeps its answer when asked after another. Measured at stop 33 (sample 100, seed 0,
    full-pass step-3,000 reader): conversation hit@1 0.94 (alone 0.80, full 0.94), best-answer F1
    67.7 (full 70.2), unchanged 1.00 (round 10: F1 63.2, unchanged 0.99)."""
    from qa.eval.followups import load_followups, run_followups
    from qa.eval.public import open_bench_engine

    bench, items = load_followups(which="test", sample=100, seed=0)
    r = run_followups(open_bench_engine(bench), items)
    assert r["conversation"]["passage_hit@1"] >= r["full"]["passage_hit@1"] - 0.10
    assert r["conversation"]["passage_hit@1"] == pytest.approx(0.94, abs=0.03)
    assert r["conversation"]["passage_hit@1"] > r["alone"]["passage_hit@1"]
    assert r["conversation"]["best_answer_f1"] == pytest.approx(67.73, abs=3.0)
    assert r["full_unchanged"] >= 0.97
