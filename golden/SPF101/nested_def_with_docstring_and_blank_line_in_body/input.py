"""Slug generation."""
import re


def slugify(title):
    def squash(text):
        """Collapse runs of non-alphanumerics into one dash."""

        return re.sub(r"[^a-z0-9]+", "-", text).strip("-")

    return squash(title.lower())


def slugs(titles):
    return [slugify(t) for t in titles]
