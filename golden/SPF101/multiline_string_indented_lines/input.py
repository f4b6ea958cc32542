"""Command line help text."""


def usage(prog):
    def banner(name):
        text = """\
    %s - batch renamer
        usage: %s [-n] PATTERN...
    """
        return text % (name, name)

    return banner(prog).rstrip() + "\n"


def short_usage(prog):
    return usage(prog).splitlines()[0].strip()
