"""Multiply a base value by each factor."""


def multiples(factors, base=10):
    out = []
    for i in factors:
        def f(x, i=i):
            return x * i
        out.append(f(base))
    return out
