"""Sort every group by length, then text."""


def sort_each(groups):
    out = []
    for group in groups:
        out.append(sorted(group, key=lambda s: (len(s), s)))
    return out


def flat(groups):
    return [s for g in sort_each(groups) for s in g]
