"""Weighted totals per batch (SPF102 and SPF101 on the same def)."""


def batch_totals(batches):
    results = []
    for batch in batches:
        def weighted(items, factor=2):
            return sum(item * factor for item in items)
        results.append(weighted(batch))
    return results


def grand_total(batches):
    return sum(batch_totals(batches))
