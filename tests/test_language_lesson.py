from types import SimpleNamespace

from clipdemo.teach.language_lesson import language_comparison


def test_same_pictures_are_asked_in_both_languages(tiny_encoder):
    probe = language_comparison(tiny_encoder, n_images=4)
    assert probe.groups() == ["en", "zh"] and len(probe.items) == 8
    en, zh = probe.items[:4], probe.items[4:]
    for a, b in zip(en, zh, strict=True):
        assert a.image is b.image and a.truth == b.truth and len(a.options) == len(b.options) == 8
        assert a.options[a.truth].replace(" ", "").isascii() and not b.options[b.truth].isascii()
        assert abs(sum(a.probs) - 1) < 1e-4 and abs(sum(b.probs) - 1) < 1e-4
    assert probe.chance("zh") == 1 / 8
    assert 0 <= probe.notes["same_answer"] <= 1 and 0 <= probe.notes["zh_true_probability"] <= 1


def test_lesson_handler_shows_both_answers_per_picture(tiny_encoder):
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService
    from clipdemo.ui.lessons import export as lessons_export
    from clipdemo.ui.lessons import languages as lesson_languages

    request = SimpleNamespace(headers={"accept-language": "zh-CN"})
    summary, fig, table, gallery, probe = lesson_languages.run_languages(language_comparison(tiny_encoder), request)
    assert "英文标签" in summary and len(gallery) == len(probe.items) // 2
    assert all(" · " in caption for _, caption in gallery)
    registry = ModelRegistry()
    registry.add("tiny", tiny_encoder.loaded)
    payload = lessons_export.payload("languages", ClipService(registry).describe("tiny"), "tiny", fig, probe)
    assert payload is not None
