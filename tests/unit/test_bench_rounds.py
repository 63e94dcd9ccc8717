"""The benchmark's store comparison runs every store once a round, in turn, and reports medians."""
from __future__ import annotations

from bench.stores import in_rounds


def test_every_store_runs_once_a_round_the_order_turning_and_each_figure_is_its_median(tmp_path):
    order, figures = [], {"a": iter([10, 30, 20]), "b": iter([1.0, 5.0, 2.0])}

    def run(name):
        def one(folder):
            assert folder.is_dir() and not any(folder.iterdir())  # fresh files every time
            order.append(name)
            value = next(figures[name])
            return {"rate": value, "cpu": {"rate": value * 2}, "synchronous": "NORMAL", "ok": True}
        return one

    found = in_rounds(tmp_path, 3, {"a": run("a"), "b": run("b")})

    assert order == ["a", "b", "b", "a", "a", "b"]
    assert found["a"]["rate"] == 20 and found["a"]["cpu"] == {"rate": 40}
    assert found["b"]["rate"] == 2.0 and found["b"]["synchronous"] == "NORMAL" and found["b"]["ok"] is True
    assert [r["rate"] for r in found["a"]["rounds"]] == [10, 30, 20]
    assert not any(tmp_path.iterdir())  # each round's files removed
