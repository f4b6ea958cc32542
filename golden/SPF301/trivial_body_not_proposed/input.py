def answer():
    return 42


def pair():
    return (1, 2)
