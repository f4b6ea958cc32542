"""A PEP 701 f-string (Python 3.12): the same quotes inside the replacement field."""


def joined(xs):
    def show(x):
        return f"<{x}>"

    return f"{", ".join(show(x) for x in xs)}"
