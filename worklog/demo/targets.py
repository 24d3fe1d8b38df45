"""What the demo's years must add up to, read from `seeds/indicators.toml`: shared by the
demo notebook (seeding) and the benchmark notebooks (scale), which draws its activities
in the proportions of the demo's 2017."""

from collections import defaultdict
from decimal import Decimal

from worklog.models import Measure


class SeedError(Exception):
    """The seed files contradict themselves, e.g. a target no plausible entries can reach."""


def activity_targets(indicator_items, hints, year):
    """{activity code: {measure: total}} the year's entries must add up to.

    An indicator over several activities is split between them by their `weight`.
    """
    targets = defaultdict(dict)
    for item in indicator_items:
        total = indicator_target(item, year)
        if total is None:
            continue
        codes = item["activities"]
        shares = split_by_weight(total, [hints.get(code, {}).get("weight", 1) for code in codes])
        for code, share in zip(codes, shares):
            if targets[code].setdefault(item["measure"], share) != share:
                raise SeedError(f"two indicators want different {item['measure']} totals of {code}")
    return targets


def indicator_target(item, year):
    """The year's figure, in fen for funds. Where the report only gives a range ("…余"),
    the demo generates the `demo_<year>` value chosen inside it."""
    if f"target_{year}" in item:
        total = item[f"target_{year}"]
    elif f"demo_{year}" in item:
        total = item[f"demo_{year}"]
        if not item["target_min"] <= total <= item["target_max"]:
            raise SeedError(f"{item['code']}: demo_{year} lies outside target_min..target_max")
    else:
        return None
    return in_fen(total) if item["measure"] == Measure.FUNDS else total


def in_fen(yuan):
    return int(Decimal(yuan) * 100)


def split_by_weight(total, weights):
    """`total` split in proportion to `weights` (largest remainder, so the sum is exact)."""
    whole = sum(weights)
    shares = [total * weight // whole for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares
