import math


def huge():
    return math.factorial(10**7)


def big_comb():
    return math.comb(10**7, 10**6)


def small():
    return math.factorial(20)
