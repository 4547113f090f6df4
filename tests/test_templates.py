from clipdemo.core.templates import IMAGENET_TEMPLATES, IMAGENET_TEMPLATES_7, TEMPLATE_SETS


def test_openai_template_sets():
    assert len(IMAGENET_TEMPLATES) == 80 and len(set(IMAGENET_TEMPLATES)) == 80
    assert set(IMAGENET_TEMPLATES_7) <= set(IMAGENET_TEMPLATES)
    assert all(t.count("{}") == 1 for t in IMAGENET_TEMPLATES)
    assert TEMPLATE_SETS["single"] == ("a photo of a {}.",)


def test_chinese_template_sets():
    from clipdemo.core.templates import ZH_DEFAULT_TEMPLATE, ZH_TEMPLATES, is_chinese

    assert TEMPLATE_SETS["zh_single"] == ("一张{}的照片。",) == (ZH_DEFAULT_TEMPLATE,)
    assert TEMPLATE_SETS["zh_ensemble"][0] == ZH_DEFAULT_TEMPLATE
    assert len(set(ZH_TEMPLATES)) == len(ZH_TEMPLATES) > 30  # no article in Chinese: "a"/"the" pairs merge
    assert all(t.count("{}") == 1 and is_chinese(t) for t in ZH_TEMPLATES)
    assert is_chinese("red, 红色圆形") and not is_chinese("red circle")
