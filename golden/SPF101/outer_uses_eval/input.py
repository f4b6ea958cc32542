"""Evaluate a formula against a local helper."""


def evaluate(formula, x):
    def square(v):
        return v * v

    return eval(formula)


RESULT = evaluate("square(x) + 1", 4)
