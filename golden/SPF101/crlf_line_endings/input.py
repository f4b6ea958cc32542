"""Inventory helpers (file saved with Windows line endings)."""


def restock(levels, minimum):
    def shortfall(have, want):
        return max(want - have, 0)

    orders = {}
    for item, have in levels.items():
        need = shortfall(have, minimum)
        if need:
            orders[item] = need
    return orders
