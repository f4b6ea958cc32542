import re


def parse(line):
    return re.compile(
        r"^(?P<date>\d{4}-\d{2}-\d{2})\s+(?P<level>[A-Z]+)\s+(?P<logger>[\w.]+):\s+(?P<message>.*)$"
    ).match(line)
