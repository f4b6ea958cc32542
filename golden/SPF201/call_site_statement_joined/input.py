import re


def count(text):
    return text.highlight_regex(
        re.compile(r"(?P<yellow>Ada|Alan)|(?P<red>Lovelace|Turing)|(?P<never>x{10})")
    )


def spans(text):
    return text.highlight(
        re.compile(r"(?P<yellow>Ada|Alan)|(?P<red>Lovelace|Turing)|(?P<never>x{10})"),
    )
