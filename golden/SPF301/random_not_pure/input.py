import random


def noise():
    return sum(random.random() for _ in range(100))
