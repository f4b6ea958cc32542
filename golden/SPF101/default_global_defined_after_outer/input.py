"""Prices with tax."""


def price_with_tax(amount):
    def apply(value, rate=TAX_RATE):
        return round(value * (1 + rate), 2)

    return apply(amount)


TAX_RATE = 0.2
