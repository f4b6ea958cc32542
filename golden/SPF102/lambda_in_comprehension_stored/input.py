"""Identity functions, one per slot."""


def make_identities(n):
    funcs = [lambda q: q for i in range(n)]
    return [f(i) for i, f in enumerate(funcs)]


def distinct_count(n):
    funcs = [lambda q: q for _ in range(n)]
    return len(set(map(id, funcs)))
