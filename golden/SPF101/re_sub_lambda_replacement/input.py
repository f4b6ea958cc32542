"""Bump every number in a string."""
import re


def bump_numbers(text, step=1):
    bumped = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), text)
    for _ in range(step - 1):
        bumped = bump_numbers(bumped)
    return bumped


def bump_all(lines):
    return [bump_numbers(line) for line in lines]
