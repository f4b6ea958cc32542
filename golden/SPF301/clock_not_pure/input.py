import time


def stamp():
    return time.time() + sum(range(100))
