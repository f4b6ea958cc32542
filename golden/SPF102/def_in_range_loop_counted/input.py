"""Ten rounds of scoring: the helper is rebuilt on each of them."""


def score(values):
    total = 0
    for round_no in range(10):
        def weight(v):
            return v * 2 + 1

        total += sum(weight(v) for v in values) + round_no
    return total
