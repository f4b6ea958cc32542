"""Leaderboard helpers."""


def rank_players(scores):
    """Names ordered by score (desc), then name."""
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [name for name, _ in ordered]


def podium(scores, n=3):
    ranked = rank_players(scores)
    return ranked[:n], ranked[n:]
