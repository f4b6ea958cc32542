def total_length(groups):
    def size(g):
        return len(g)

    n = 0
    for g in groups:
        n += size(g)
    return n + size(groups)
