"""Cost table with a cached helper."""
import functools


def cost_table(n):
    @functools.lru_cache(maxsize=None)
    def cost(k):
        return k * k + 1

    return [cost(i % 5) for i in range(n)]


def total_cost(n):
    return sum(cost_table(n))
