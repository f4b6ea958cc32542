"""Version sorting."""


def sort_versions(versions):
    items = list(versions)
    items.sort(key=lambda v: tuple(int(p) for p in v.split(".")))
    return items


def latest(versions):
    ordered = sort_versions(versions)
    return ordered[-1] if ordered else None
