"""Title-case names into a bucket."""


def group_names(names):
    def bucket(name, acc=[]):
        acc.append(name.title())
        return acc

    result = None
    for name in names:
        result = bucket(name)
    return list(result or [])
