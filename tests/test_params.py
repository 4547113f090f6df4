"""Parameters checked at the door: the type and range each takes, and a message naming the parameter."""

from __future__ import annotations

import pytest

from clipdemo.core import params
from clipdemo.core.errors import InputError


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e400, "abc", [2], {"a": 2}, True, 2.5,
                                   "2.5", 4, 1])
def test_a_bad_number_is_refused_naming_the_parameter(value):
    with pytest.raises(InputError, match=r"^dims must (be a whole number|lie between) .*2.*3"):
        params.integer("dims", value, 2, 3)


@pytest.mark.parametrize("value, expected", [(2, 2), (3.0, 3), ("2", 2), (" 3 ", 3), (None, 2), ("", 2)])
def test_whole_numbers_as_json_clients_send_them(value, expected):
    assert params.integer("dims", value, 2, 3, default=2) == expected


def test_texts_and_choices():
    assert params.text("labels", None) == "" and params.text("labels", "a, b") == "a, b"
    with pytest.raises(InputError, match="^labels must be a text .*list"):
        params.text("labels", ["a", "b"])
    assert params.choice("method", None, ("umap", "pca"), "umap") == "umap"
    with pytest.raises(InputError, match="^method must be one of umap, pca"):
        params.choice("method", "mds", ("umap", "pca"), "umap")


def test_a_huge_bad_value_is_not_echoed_whole():
    with pytest.raises(InputError) as e:
        params.text("texts", ["x" * 7_000_000])
    assert len(str(e.value)) < 300 and "characters" in str(e.value)
