def setup():
    global CONST
    CONST = 3


def outer():
    def inner(x=CONST):
        return x
    return inner()
