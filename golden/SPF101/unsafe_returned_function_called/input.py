"""Adder factory used by the pairwise summer."""


def make_adder():
    def add(a, b):
        return a + b
    return add


def total(pairs):
    add = make_adder()
    return [add(a, b) for a, b in pairs]
