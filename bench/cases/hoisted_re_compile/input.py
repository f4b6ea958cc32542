"""A constant re.compile call inside a function: hoisted to a module constant."""
import re


def is_word(text):
    return re.compile(r"[a-z]+").fullmatch(text) is not None
