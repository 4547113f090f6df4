"""The word-attribution measurement: trials, captions in both orders, scoring and the model-card section."""

from __future__ import annotations

from clipdemo.training import word_hits


def test_trials_name_a_present_and_an_absent_object():
    trials = word_hits.make_trials(8, seed=2, size=48)
    for tr in trials:
        (c1, s1), (c2, s2) = tr.present, tr.absent
        assert c1 != c2 and s1 != s2 and tr.image.size == (48, 48)
    text, present, absent = word_hits.caption(trials[0], word_hits.ORDERS[1])
    words = text.split()
    assert [words[i] for i in present] == list(trials[0].present)
    assert [words[i] for i in absent] == list(trials[0].absent)


def test_scores_count_every_trial_in_both_orders(bundled_encoder):
    scores = word_hits.evaluate(bundled_encoder, word_hits.make_trials(3, seed=1))
    assert {(s.method, s.order) for s in scores} == {(m, o) for m in ("gradient_x_input", "leave_one_word_out")
                                                     for o in word_hits.ORDERS}
    for s in scores:
        assert s.n == 3 and 0 <= s.both <= s.total <= 3  # both words above implies the pair's sum above
    assert sum(s.both for s in scores) >= 6  # the bundled model reads colours and shapes: most trials are hits


def test_card_section_replaces_itself(tmp_path, bundled_encoder):
    scores = [word_hits.Score("leave_one_word_out", word_hits.ORDERS[0], 4, 3, 4)]
    (tmp_path / "README.md").write_text("# card\n")
    word_hits.write_card(tmp_path, word_hits.card_section(scores, "m", 4, 0), (word_hits.CARD_START, word_hits.CARD_END))
    word_hits.write_card(tmp_path, word_hits.card_section(scores, "m", 4, 0), (word_hits.CARD_START, word_hits.CARD_END))
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("# card") and text.count(word_hits.CARD_START) == 1 and "3/4 = 75.0%" in text


def test_table_has_a_row_per_method_and_order():
    rows = word_hits.table([word_hits.Score("a", "b", 2, 1, 2)]).splitlines()
    assert len(rows) == 3 and "1/2 = 50.0%" in rows[2]
