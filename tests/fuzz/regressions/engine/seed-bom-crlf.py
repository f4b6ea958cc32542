def outer(xs):
    def key(x):
        return -x
    return sorted(xs, key=key)
