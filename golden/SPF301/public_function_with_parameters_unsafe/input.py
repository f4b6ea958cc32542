def scaled_total(k):
    return sum(range(100)) * k


def show():
    return scaled_total(3)
