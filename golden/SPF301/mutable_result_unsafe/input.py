def table():
    return [i * i for i in range(100)]


def report():
    return len(table())
