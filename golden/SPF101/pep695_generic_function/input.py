"""PEP 695 generics (Python 3.12): the function is built inside its annotation scope."""


def first[T](xs: list[T]) -> T:
    def by_size(x):
        return len(str(x))

    def typed(x: T) -> T:
        return x

    return typed(sorted(xs, key=by_size)[0])


class Box[T]:
    def __init__(self, items: list[T]):
        self.items = items

    def sizes(self):
        def size(x):
            return len(str(x))

        return [size(x) for x in self.items]
