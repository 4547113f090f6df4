from clipdemo.templates import IMAGENET_TEMPLATES, IMAGENET_TEMPLATES_7, TEMPLATE_SETS


def test_openai_template_sets():
    assert len(IMAGENET_TEMPLATES) == 80 and len(set(IMAGENET_TEMPLATES)) == 80
    assert set(IMAGENET_TEMPLATES_7) <= set(IMAGENET_TEMPLATES)
    assert all(t.count("{}") == 1 for t in IMAGENET_TEMPLATES)
    assert TEMPLATE_SETS["single"] == ("a photo of a {}.",)
