"""Validators built on demand."""


def make_validator(minimum_text):
    def is_positive(x):
        return x > 0

    return is_positive


CHECK = make_validator("0")
OTHER = make_validator("0")
SAME = CHECK is OTHER
