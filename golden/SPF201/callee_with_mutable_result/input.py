def letters():
    return list("abc")


def options():
    return dict(verbose=True, depth=3)
