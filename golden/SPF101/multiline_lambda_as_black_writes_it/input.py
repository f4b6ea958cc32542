def order(items):
    return sorted(
        items,
        key=lambda item: (
            item["priority"],
            item["name"],
        ),
    )


def order_short(items):
    return sorted(items, key=lambda item: (item["priority"],
                                           item["name"]))
