"""Plain-text report rendering."""


def build_report(records, title):
    def render(record):
        def pad(text, width=10):
            return str(text).ljust(width)

        return title + ": " + pad(record["name"]) + pad(record["qty"], 4) + "|"

    return "\n".join(render(r) for r in records)


def print_report(records):
    print(build_report(records, "stock"))
