"""Checks built per limit; each reads the loop variable."""


def make_checks(limits):
    results = []
    for limit in limits:
        def check(v):
            return v <= limit
        results.append(check(limit - 1))
    return results
