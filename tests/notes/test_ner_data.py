"""Word and sentence splitting, word-piece windows, IOB label ids and mention scoring of the tagger."""

from __future__ import annotations

import pytest

from medai.notes.ner_data import encode_words, ids_to_iob, iob_to_ids, sentence_spans, window_labels, word_spans
from medai.notes.ner_eval import mention_scores


class _Pieces:
    """A stand-in tokenizer: every word is one piece per 3 characters; ids 101/102/100 = CLS/SEP/UNK."""

    def token_to_id(self, token):
        return {"[CLS]": 101, "[SEP]": 102, "[UNK]": 100}[token]

    def encode(self, words, is_pretokenized, add_special_tokens):
        class _E:
            pass
        encoding = _E()
        encoding.ids, encoding.word_ids = [], []
        for w, word in enumerate(words):
            n = max(1, (len(word) + 2) // 3)
            encoding.ids += [1000 + w] * n
            encoding.word_ids += [w] * n
        return encoding


def test_word_spans_follow_conll_tokenisation():
    text = "Parkinson's disease (PD), 3beta-HSD"
    assert [text[a:b] for a, b in word_spans(text)] == ["Parkinson", "'", "s", "disease", "(", "PD", ")", ",", "3beta", "-", "HSD"]


def test_sentence_spans_cover_the_text_and_split_headings():
    text = "CHIEF COMPLAINT: Chest pain.\nHISTORY: He has CHF. Denies fever!\n\nPLAN: e.g. rest."
    parts = [text[a:b] for a, b in sentence_spans(text)]
    assert parts == ["CHIEF COMPLAINT: Chest pain.", "HISTORY: He has CHF.", "Denies fever!", "PLAN: e.g. rest."]


def test_windows_never_split_a_word_and_keep_every_word():
    words = ["alpha", "betagamma", "d"] * 20
    windows = encode_words(_Pieces(), words, max_len=10)
    assert all(len(w.input_ids) <= 10 for w in windows)
    covered = [i for w in windows for i in w.word_index if i >= 0]
    assert covered == list(range(len(words)))
    assert windows[0].input_ids[0] == 101 and windows[0].input_ids[-1] == 102


def test_window_labels_sit_on_first_pieces():
    window = encode_words(_Pieces(), ["abcdef", "x"], max_len=16)[0]
    assert window_labels(window, [1, 0]) == [-100, 1, -100, 0, -100]


def test_iob_ids_round_trip_and_repair_orphan_inside():
    assert iob_to_ids(["O", "B-Disease", "I-Disease"]) == [0, 1, 2]
    assert ids_to_iob([0, 2, 2, 0, 1]) == ["O", "B-Disease", "I-Disease", "O", "B-Disease"]


def test_mention_scores_are_exact_span():
    gold = [["O", "B-Disease", "I-Disease"], ["B-Disease", "O"]]
    predicted = [["O", "B-Disease", "O"], ["B-Disease", "O"]]
    scores = mention_scores(gold, predicted, n_boot=50)
    assert scores["precision"] == pytest.approx(0.5) and scores["recall"] == pytest.approx(0.5)
    assert scores["f1_ci"][0] <= scores["f1"] <= scores["f1_ci"][1]
