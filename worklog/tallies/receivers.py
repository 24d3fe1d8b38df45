"""Keeping the roll-ups right when figures move without an entry changing: the signal
receivers that worklog.apps connects.

A team or village moving to another organisation or area, a node of either tree moving
under another parent, an indicator starting or stopping to count distinct households or
counting other activities: each queues a recount of what moved for when the change is
committed. A save that moves nothing (a renamed team, a reordered indicator) queues
nothing. The `*_saving` receivers remember, before the save, what the `*_saved` ones
compare with.
"""

from django.db import transaction

from worklog.models import Indicator, Measure
from worklog.tallies.keys import ROLLUPS
from worklog.tallies.rollups import chain_ids, recount_reach, recount_rollup_sums


def _stored(instance, field):
    """The stored value of an instance's field (None for an instance not saved yet)."""
    if instance.pk is None:
        return None
    return type(instance).objects.filter(pk=instance.pk).values_list(field, flat=True).first()


def _rollup_via(instance):
    return next(rollup for rollup in ROLLUPS if isinstance(instance, rollup.via))


def _rollup_of_tree(node):
    return next(rollup for rollup in ROLLUPS if isinstance(node, rollup.tree))


def team_or_village_saving(sender, instance, **kwargs):
    """Before a team or village is saved: remember the organisation or area it hangs from."""
    instance._node_before = _stored(instance, _rollup_via(instance).node_column)


def team_or_village_saved(sender, instance, created, **kwargs):
    """A team moved to another organisation, or a village to another area: once that is
    committed, recount both nodes' roll-ups (its tallies now add up under the new one)."""
    rollup = _rollup_via(instance)
    before, now = getattr(instance, "_node_before", None), getattr(instance, rollup.node_column)
    if created or before is None or before == now:
        return

    def recount():
        recount_rollup_sums(rollup, (before, now))
        recount_reach([rollup], chain_ids(rollup, before, now))

    transaction.on_commit(recount)


def node_saving(sender, instance, **kwargs):
    """Before an organisation or area is saved: remember its parent."""
    instance._parent_before = _stored(instance, "parent_id")


def node_saved(sender, instance, created, **kwargs):
    """An organisation or area moved under another parent: its subtree's households now
    count towards other ancestors, so recount that tree's households reached once
    committed. (Sums are kept per node and read by path: they need nothing.)"""
    if not created and getattr(instance, "_parent_before", None) != instance.parent_id:
        rollup = _rollup_of_tree(instance)
        transaction.on_commit(lambda: recount_reach([rollup]))


def indicator_saving(sender, instance, **kwargs):
    """Before an indicator is saved: remember what it measured."""
    instance._measure_before = _stored(instance, "measure")


def indicator_saved(sender, instance, created, **kwargs):
    """An indicator starts or stops counting distinct households: recount the households
    reached once committed. Its label or order changes no figure, and a new indicator
    counts nothing until its activities are linked (indicator_activities_changed)."""
    before = getattr(instance, "_measure_before", None)
    if not created and before != instance.measure and Measure.HOUSEHOLDS in {before, instance.measure}:
        transaction.on_commit(recount_reach)


def indicator_activities_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A distinct-households indicator counts other activities (`instance` is the indicator,
    or an activity when the links were changed from its side): recount once committed.
    Links added again or of other indicators change nothing."""
    if not action.startswith("post_") or pk_set == set():
        return
    if reverse:  # an activity's indicators; a clear names none of them
        counts = pk_set is None or Indicator.objects.filter(pk__in=pk_set, measure=Measure.HOUSEHOLDS).exists()
    else:
        counts = instance.measure == Measure.HOUSEHOLDS
    if counts:
        transaction.on_commit(recount_reach)


def indicator_deleted(sender, instance, **kwargs):
    """A distinct-households indicator is gone: its activities may no longer be counted."""
    if instance.measure == Measure.HOUSEHOLDS:
        transaction.on_commit(recount_reach)
