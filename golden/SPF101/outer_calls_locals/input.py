"""Template rendering from local variables."""


def render_template(template, name, count):
    def plural(n):
        return "" if n == 1 else "s"

    suffix = plural(count)
    return template.format(**locals())


GREETING = render_template("{name} has {count} item{suffix}", "ann", 2)
