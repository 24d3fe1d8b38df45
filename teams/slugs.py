"""Slugs made from a name in Chinese: the pinyin of its characters, without tones.

A slug is the name of a place or a team in a URL (`?village=kaiganqi`). Django's own slugify
drops Chinese characters, so a slug typed in by no one would be empty. Here each run of
Chinese characters is written as its syllables run together ("开干齐" → "kaiganqi", as the
demo's slugs are), and a run of other characters as Django slugifies it, runs joined by
hyphens ("开干齐2队" → "kaiganqi-2-dui").
"""

import re

from django.utils.text import slugify
from pypinyin import lazy_pinyin

HAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def _pinyin_slug(name):
    parts = []
    for number, run in enumerate(HAN.split(name)):
        # re.split with a group: Chinese runs at odd places, the text between at even ones
        part = slugify("".join(lazy_pinyin(run))) if number % 2 else slugify(run)
        if part:
            parts.append(part)
    return "-".join(parts)


def slug_from(name, model, *, pk=None):
    """A slug for a `model` row named `name`, free among the model's other rows (those but
    the row `pk`): the name's pinyin, cut to the slug field's length, followed by -2, -3…
    when it is taken. A name with nothing to spell (only symbols) takes the model's name."""
    max_length = model._meta.get_field("slug").max_length
    base = _pinyin_slug(name)[:max_length].strip("-") or model._meta.model_name
    taken = set(
        model._default_manager.exclude(pk=pk).filter(slug__startswith=base[: max_length - 6])
        .values_list("slug", flat=True)
    )
    slug, number = base, 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = base[: max_length - len(suffix)].rstrip("-") + suffix
    return slug
