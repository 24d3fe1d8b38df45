"""The demo's and the benchmark's people: synthetic heads of household, and one password
for every demo account."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password


def head_name(names, rng):
    """A synthetic name: Han style, or Uyghur/Kazakh style "given·father" in characters."""
    if rng.random() < names["han_share"]:
        given = "".join(rng.choice(names["han_given"]) for _ in range(rng.choice((1, 2, 2))))
        return rng.choice(names["han_surnames"]) + given
    return f"{rng.choice(names['transcribed_given'])}·{rng.choice(names['transcribed_father'])}"


def give_password(users, password):
    """Give every user the password, with one PBKDF2 hash for all: they share it anyway,
    and a thousand hashes would take minutes. A rerun with the same password writes nothing."""
    current = next((user.password for user in users if user.has_usable_password()), None)
    encoded = current if current and check_password(password, current) else make_password(password)
    get_user_model().objects.filter(pk__in=[user.pk for user in users]).exclude(
        password=encoded).update(password=encoded)
