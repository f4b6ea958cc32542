import re
from unittest import mock


def words(text):
    return re.compile(r"\w+").findall(text)


def check():
    with mock.patch("re.compile"):
        return words("a b")
