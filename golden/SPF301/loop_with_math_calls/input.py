import math


def _norm_table(scale):
    total = 0.0
    for k in range(16):
        total += math.sqrt(k * scale)
    return total


def norms():
    return _norm_table(2), _norm_table(3)
