import threading

import pytest

from clipdemo.core import limits
from clipdemo.core.pipeline import batched, prefetched


def test_results_come_in_order_and_are_prepared_in_worker_threads():
    main = threading.get_ident()
    out = list(prefetched(range(20), lambda x: (x * x, threading.get_ident())))
    assert [v for v, _ in out] == [x * x for x in range(20)]
    assert all(t != main for _, t in out)


def test_reads_at_most_depth_items_ahead():
    pulled = []

    def source():
        for i in range(1000):
            pulled.append(i)
            yield i

    stream = prefetched(source(), lambda x: x, depth=3)
    assert next(stream) == 0
    assert len(pulled) == 4  # the one handed out and three ahead; never the whole stream
    assert next(stream) == 1 and len(pulled) == 5
    stream.close()


def test_an_error_in_prepare_arrives_at_its_item():
    def prepare(x):
        if x == 3:
            raise ValueError("bad item 3")
        return x

    got = []
    with pytest.raises(ValueError, match="bad item 3"):
        for v in prefetched(range(10), prepare):
            got.append(v)
    assert got == [0, 1, 2]


def test_the_request_budget_travels_into_the_worker_threads():
    budget = limits.RequestBudget(max_images=2)
    with limits.request_scope(budget):
        list(prefetched(range(2), lambda i: limits.charge_image(f"img{i}", 10)))
        assert budget.images == 2
        with pytest.raises(limits.LimitError):
            list(prefetched(range(1), lambda i: limits.charge_image("one too many", 10)))


def test_batched_cuts_consecutive_lists():
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []
