def _weighted(weights):
    return sum(w * i for i, w in enumerate(weights)) + sum(range(100))


def run():
    return _weighted([1, 2, 3])
