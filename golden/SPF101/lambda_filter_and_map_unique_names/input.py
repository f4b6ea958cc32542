"""Filter and transform log records."""

LEVELS = ("debug", "info", "error")


def error_messages(records):
    errors = filter(lambda r: r.get("level") == "error", records)
    return list(map(lambda r: r["msg"].upper(), errors))


def count_levels(records):
    return {lvl: sum(1 for r in records if r.get("level") == lvl) for lvl in LEVELS}
