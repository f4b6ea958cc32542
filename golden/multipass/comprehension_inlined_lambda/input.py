"""A closure-free lambda inside a list comprehension in a function: on 3.11 its parent code object
is the comprehension's <listcomp>, on 3.12+ (PEP 709) the function itself; either way the lambda
is built once per item, and lifted."""


def scaled(xs):
    return [(lambda v: v * 2)(x) for x in xs]


def keyed(rows):
    return {k: sorted(v, key=lambda r: r[1]) for k, v in rows.items()}
