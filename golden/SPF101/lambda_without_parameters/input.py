"""Retry settings."""


def settings(overrides):
    defaults = lambda: {"retries": 3, "backoff": 0.5}
    merged = defaults()
    merged.update(overrides)
    fresh = defaults()
    return merged, fresh


def retries(overrides):
    return settings(overrides)[0]["retries"]
