def _describe(kinds):
    total = 0
    for i in range(50):
        total += i * i
    return (int, str) if len(kinds) > total else (str, int)


def run():
    return _describe(["a", "b"])
