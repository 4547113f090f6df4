import random

import numpy as np

from clipdemo.core import toyworld


def test_world_has_required_vocabulary():
    assert len(toyworld.COLOURS) >= 8 and len(toyworld.SHAPES) >= 8
    assert {"red", "green", "blue", "yellow"} <= set(toyworld.COLOURS)
    assert {"circle", "square", "triangle"} <= set(toyworld.SHAPES)


def test_held_out_combinations_never_drawn_for_training():
    rng = random.Random(0)
    seen = set()
    for _ in range(400):
        scene = toyworld.sample_scene(rng)
        seen |= {(o.colour, o.shape) for o in scene.objects}
    assert not seen & toyworld.HELD_OUT
    # every colour and every shape still appears in training
    assert {c for c, _ in seen} == set(toyworld.COLOURS) and {s for _, s in seen} == set(toyworld.SHAPES)


def test_generation_is_deterministic_and_seed_dependent():
    a = toyworld.generate(3, seed=5, size=64)
    b = toyworld.generate(3, seed=5, size=64)
    c = toyworld.generate(3, seed=6, size=64)
    assert [x[1] for x in a] == [x[1] for x in b]
    assert all(np.array_equal(np.asarray(x[0]), np.asarray(y[0])) for x, y in zip(a, b))
    assert [x[1] for x in a] != [x[1] for x in c]


def test_objects_do_not_overlap_and_stay_inside():
    rng = random.Random(1)
    for _ in range(200):
        scene = toyworld.sample_scene(rng, kind="mixed", n_objects=3)
        masks = [toyworld.object_mask(scene, i, 128) for i in range(len(scene.objects))]
        total = sum(m.astype(int) for m in masks)
        assert total.max() == 1
        assert all(m.sum() > 20 for m in masks)


def test_equal_area_shapes_do_not_give_shape_away_by_size():
    # every shape at the same radius covers a similar area, so area is no cue for shape
    areas = {}
    for shape in toyworld.SHAPES:
        obj = toyworld.SceneObject("red", shape, "large", 0.5, 0.5, 0.2, 0.0, (255, 0, 0), False)
        scene = toyworld.Scene((obj,), ("flat", (128, 128, 128)))
        areas[shape] = toyworld.object_mask(scene, 0, 256).sum()
    lo, hi = min(areas.values()), max(areas.values())
    assert hi / lo < 1.5, areas


def test_captions_name_what_is_drawn():
    rng = random.Random(2)
    for _ in range(100):
        scene = toyworld.sample_scene(rng)
        cap = toyworld.full_caption(scene)
        for o in scene.objects:
            assert o.colour in cap and (o.shape in cap or toyworld.plural(o.shape) in cap)
        if scene.kind == "count":
            assert cap.startswith(toyworld.COUNT_WORDS[len(scene.objects)])


def test_render_colours_match_caption():
    rng = random.Random(3)
    scene = toyworld.sample_scene(rng, kind="single", combos=[("red", "square")])
    img = np.asarray(toyworld.render(scene, 128)).astype(int)
    mask = toyworld.object_mask(scene, 0, 128)
    inner = img[mask].mean(axis=0)
    assert inner[0] > 150 and inner[1] < 90 and inner[2] < 90


def test_chinese_captions_name_what_is_drawn_in_chinese_only():
    from clipdemo.core.templates import ZH_TEMPLATES

    rng = random.Random(3)
    for _ in range(300):
        scene = toyworld.sample_scene(rng)
        for cap in (toyworld.zh_full_caption(scene), toyworld.zh_training_caption(scene, rng, ZH_TEMPLATES)):
            assert not any(ch.isascii() and ch.isalpha() for ch in cap.replace("JPEG", "")), cap
            for o in scene.objects:  # every object's shape is named (in one of its words) or only its colour is
                named_shape = any(w in cap for w in toyworld.ZH_SHAPES[o.shape])
                named_colour = any(w in cap for w in toyworld.ZH_COLOURS[o.colour])
                assert named_shape or named_colour, (cap, o)
            other_shapes = {s for s in toyworld.SHAPES if s not in {o.shape for o in scene.objects}}
            # no word for a shape that is not there ("圆" would also match 圆形/圆圈: compare canonical words)
            assert not any(toyworld.zh_shape(s) in cap for s in other_shapes), cap


def test_chinese_full_caption_is_the_twin_of_the_english_one():
    rng = random.Random(4)
    for _ in range(100):
        scene = toyworld.sample_scene(rng)
        zh = toyworld.zh_full_caption(scene)
        for o in scene.objects:
            assert toyworld.zh_describe(o) in zh
        if scene.kind == "count":
            assert zh.startswith(toyworld.ZH_COUNT_WORDS[len(scene.objects)] + "个")
        if len(scene.objects) == 1:
            assert zh.startswith(toyworld.ZH_POSITIONS[scene.objects[0].position])


def test_chinese_training_captions_are_written_many_ways():
    from clipdemo.core.templates import ZH_TEMPLATES

    rng = random.Random(5)
    scene = toyworld.sample_scene(rng, kind="single", combos=[("red", "circle")])
    caps = {toyworld.zh_training_caption(scene, rng, ZH_TEMPLATES) for _ in range(400)}
    for form in ("红色圆形", "红色的圆形", "一个红色的圆"):
        assert any(form in c for c in caps), form
    assert any(c.startswith("一张") and c.endswith("的照片。") for c in caps)


def test_varied_shades_stay_nearest_their_own_colour_word():
    """Domain randomisation widens each colour's shades, never into another colour's: every varied shade's
    hue is closer to its own word's reference tint than to any other's."""
    import colorsys

    def hue(rgb):
        return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0] * 360

    rng = random.Random(4)
    for colour in toyworld.COLOURS:
        for _ in range(200):
            h = hue(toyworld.varied_shade(colour, rng))
            dist = {c: min(abs(h - hue(ref)), 360 - abs(h - hue(ref))) for c, ref in toyworld.COLOURS.items()}
            assert min(dist, key=dist.get) == colour, (colour, h)


def test_varied_scenes_vary_size_edges_and_keep_counts_identical():
    rng = random.Random(5)
    scenes = [toyworld.sample_scene(rng, varied=True) for _ in range(300)]
    radii = [o.radius for s in scenes for o in s.objects]
    assert min(radii) < 0.1 and max(radii) > 0.2  # wider than the plain renderer's 0.10-0.23
    assert {s.extra["resample"] for s in scenes} == {"box", "bicubic", "nearest"}
    counts = [s for s in scenes if s.kind == "count"]
    assert counts and all(len({o.radius for o in s.objects}) == 1 for s in counts)
    # small and large copies alike: how much of the picture is covered does not give the count away
    two_large = [s for s in counts if len(s.objects) == 2 and s.objects[0].size == "large"]
    assert two_large
    assert not any(set(o) & toyworld.HELD_OUT for o in [[(x.colour, x.shape) for x in s.objects] for s in scenes])
    # rendering honours the edge style: a nearest-neighbour picture has no in-between edge pixels
    scene = next(s for s in scenes if s.extra["resample"] == "nearest" and s.blur == 0 and s.background[0] == "flat"
                 and not any(o.outline for o in s.objects))
    img = np.asarray(toyworld.render(scene, 64)).reshape(-1, 3)
    assert len({tuple(p) for p in img}) <= 1 + len(scene.objects)


def test_plain_scenes_unchanged_by_the_varied_option():
    a = toyworld.sample_scene(random.Random(9))
    b = toyworld.sample_scene(random.Random(9), varied=False)
    assert a == b and a.extra == {}
