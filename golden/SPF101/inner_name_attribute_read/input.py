"""Steps that log their own name."""

LOG = []


def run_step(value):
    def double(x):
        return x * 2

    LOG.append("running " + double.__name__)
    return double(value)
