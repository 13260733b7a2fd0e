"""The real-question dev set loads, points at real records, and is split by story."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.realset import (
    KINDS,
    SPLITS,
    QuestionFileError,
    load_questions,
    missing_answers,
    real_records,
    related_stories,
)
from tests.helpers import needs_corpus


def test_question_file_loads_with_valid_kinds_and_splits() -> None:
    questions = load_questions()
    assert len(questions) >= 250
    kinds = Counter(q.kind for q in questions)
    assert set(kinds) == set(KINDS)
    assert min(kinds.values()) >= 20, kinds
    assert {q.split for q in questions} == set(SPLITS)
    assert all(q.question and q.answer.startswith("https://") for q in questions)


def test_split_is_by_story_about_two_thirds_dev() -> None:
    dev = load_questions(split="dev")
    test = load_questions(split="test")
    assert not {q.answer for q in dev} & {q.answer for q in test}
    stories = len({q.answer for q in dev}) + len({q.answer for q in test})
    assert 0.55 <= len({q.answer for q in dev}) / stories <= 0.75


@needs_corpus
def test_every_answer_is_a_real_record() -> None:
    records = real_records()
    assert missing_answers(load_questions(), records) == []
    # Every record is asked about: the set covers the whole corpus and the seed.
    assert {q.answer for q in load_questions()} == {a.url for a in records}


@needs_corpus
def test_related_coverage_becomes_distinct_stories() -> None:
    records = real_records()
    extra = related_stories(records)
    urls = [a.canonical_url for a in extra]
    assert len(urls) == len(set(urls))
    assert not set(urls) & {a.canonical_url for a in records}
    assert len(extra) >= 40


def test_malformed_file_names_the_story_and_question(tmp_path: Path) -> None:
    bad = tmp_path / "q.yaml"
    bad.write_text(
        "- answer: https://example.com/a\n  split: dev\n  questions:\n"
        "    - {kind: question, question: fine}\n"
        "    - {kind: riddle, question: what}\n",
        encoding="utf-8",
    )
    with pytest.raises(QuestionFileError, match=r"story 1 .*question 2: kind 'riddle'"):
        load_questions(bad)
    bad.write_text("- answer: https://example.com/a\n  split: train\n  questions: []\n")
    with pytest.raises(QuestionFileError, match=r"`split` must be one of dev, test"):
        load_questions(bad)
