"""Word splitting."""
import re


def words(text):
    return re.compile(r"[A-Za-z]+").findall(text)


def count_words(text):
    return len(words(text))
