"""What makes a password acceptable: long enough, and hard to guess by zxcvbn's estimate.

zxcvbn scores 0..4 by the guesses an attacker would need, knowing common passwords, words, names,
keyboard patterns and the user's own details; 3 ("safely unguessable" against an online attack,
~10^8 guesses) is the bar, as NIST SP 800-63B asks for a check against known-bad passwords rather
than composition rules.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_SCORE = 3


def password_problems(password: str, user_inputs: list[str]) -> list[str]:
    """Why `password` is refused; empty when it is acceptable. `user_inputs` (the sign-in name,
    the expert id) count as known to an attacker."""
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    # zxcvbn's cost grows with length; the first 100 characters decide its score well enough.
    verdict = zxcvbn(password[:100], user_inputs=user_inputs)
    if verdict["score"] >= MIN_SCORE:
        return []
    feedback = verdict["feedback"]
    problems = [feedback["warning"]] if feedback.get("warning") else ["This password is too easy to guess."]
    problems += list(feedback.get("suggestions") or [])
    return problems
