import re


def install(engine):
    global re
    re = engine


def find_a(text):
    return re.compile("a+").search(text)
