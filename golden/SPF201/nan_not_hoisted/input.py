from decimal import Decimal


def missing():
    return Decimal("NaN")


def cent():
    return Decimal("0.01")
