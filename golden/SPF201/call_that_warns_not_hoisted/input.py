import re


def nested_set(text):
    return re.compile("[[a]").findall(text)
