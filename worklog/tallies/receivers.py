"""Keeping the roll-ups right when figures move without an entry changing: the signal
receivers that worklog.apps connects.

A team or village moving to another organisation or area, a node of either tree moving
under another parent, an indicator starting or stopping to count distinct households or
counting other activities. Before the change is saved, the `*_saving` receivers remember
where things stood and hold what the change moves against entry writers
(worklog.tallies.structure); once it is saved, the `*_saved` ones recount what moved in the
same transaction, so that no entry written meanwhile is counted under the old structure
and missed by the recount. A save that moves nothing (a renamed team, a reordered
indicator) holds and recounts nothing.

A recount that fails is logged and raised: the change is rolled back with it (the admin
saves in a transaction). A change saved outside a transaction stays saved; the roll-ups it
left behind are what `totals --verify` reports, and `totals --rebuild` mends.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from worklog.models import Indicator, Measure
from worklog.tallies.keys import ROLLUPS
from worklog.tallies.rollups import recount_reach, recount_rollup_sums
from worklog.tallies.structure import chain_ids, hold_for_change, take_turn

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recount:
    """What a change of structure moves: the roll-up rows it recounts once saved, whose
    writers it holds off from before it is saved (with those under a moving node)."""

    rollup: object = None
    sums_nodes: frozenset = frozenset()  # whose sums change: the moving team's or village's nodes
    reach_nodes: frozenset = frozenset()  # whose households reached change
    activity_ids: frozenset = frozenset()  # counted by a distinct-households indicator or not now
    moving: frozenset = frozenset()  # a moving node: what hangs under it counts elsewhere

    def hold(self):
        hold_for_change(self.rollup, node_ids=self.sums_nodes | self.reach_nodes | self.moving,
                        activity_ids=self.activity_ids)

    def run(self):
        if self.sums_nodes:
            recount_rollup_sums(self.rollup, self.sums_nodes)
        if self.reach_nodes:
            recount_reach([self.rollup], node_ids=self.reach_nodes)
        if self.activity_ids:
            recount_reach(activity_ids=self.activity_ids)


def _hold(plan):
    """Before a change is saved: take the turn of changes of structure, then hold what
    `plan()` says the change moves (read in turn: no other change moves things meanwhile)."""
    take_turn()
    plan().hold()


def _recount(what, plan):
    """Once a change is saved: take the turn, hold what `plan()` says moved and recount it,
    in the change's transaction (where all this was held already) or, after a save in
    autocommit, in a transaction of its own (what keeps writers off then). A failure is
    logged and raised."""
    try:
        with transaction.atomic():
            take_turn()
            recount = plan()
            recount.hold()
            recount.run()
    except Exception:
        logger.exception("recounting the roll-ups after %s failed", what)
        raise


def _stored(instance, *fields):
    """The stored values of an instance's fields (None for an instance not saved yet)."""
    if instance.pk is None:
        return None
    return type(instance).objects.filter(pk=instance.pk).values_list(*fields).first()


def _rollup_via(instance):
    return next(rollup for rollup in ROLLUPS if isinstance(instance, rollup.via))


def _rollup_of_tree(node):
    return next(rollup for rollup in ROLLUPS if isinstance(node, rollup.tree))


def _via_move(instance):
    """(the roll-up, the node it hung from, its node now) of a team or village that moved,
    or None."""
    rollup = _rollup_via(instance)
    before, now = instance._node_before, getattr(instance, rollup.node_column)
    return (rollup, before, now) if before is not None and before != now else None


def _via_recount(instance):
    rollup, before, now = _via_move(instance)
    return Recount(rollup, sums_nodes=frozenset({before, now}),
                   reach_nodes=frozenset(chain_ids(rollup, before) ^ chain_ids(rollup, now)))


def team_or_village_saving(sender, instance, **kwargs):
    """Before a team or village is saved: remember the organisation or area it hangs from,
    and hold its move; a new one waits for a change of structure under way (its writers
    would be held by none)."""
    stored = _stored(instance, _rollup_via(instance).node_column)
    instance._node_before = stored and stored[0]
    if instance.pk is None:
        take_turn()
    elif _via_move(instance):
        _hold(lambda: _via_recount(instance))


def team_or_village_saved(sender, instance, created, **kwargs):
    """A team moved to another organisation, or a village to another area: recount both
    nodes' sums, and the households reached of the nodes on one of their chains only."""
    move = not created and _via_move(instance)
    if move:
        _recount(f"{instance._meta.model_name} {instance.pk} moved from {move[1]} to {move[2]}",
                 lambda: _via_recount(instance))


def _node_recount(node):
    """A node's move from its parent to its new one: the households reached change on the
    nodes on one of the two parents' chains only. (Sums are kept per node and read by path:
    they need nothing.)"""
    rollup = _rollup_of_tree(node)
    chains = [chain_ids(rollup, parent) if parent else set() for parent in (node._parent_before, node.parent_id)]
    return Recount(rollup, reach_nodes=frozenset(chains[0] ^ chains[1]), moving=frozenset({node.pk}))


def node_saving(sender, instance, **kwargs):
    """Before an organisation or area is saved: remember its parent, and hold its move."""
    stored = _stored(instance, "parent_id")
    instance._parent_before = stored and stored[0]
    if stored and instance._parent_before != instance.parent_id:
        _hold(lambda: _node_recount(instance))


def node_saved(sender, instance, created, **kwargs):
    """An organisation or area moved under another parent: its subtree's households now
    count towards other ancestors."""
    if not created and instance._parent_before != instance.parent_id:
        _recount(f"{instance._meta.model_name} {instance.pk} moved from {instance._parent_before} "
                 f"to {instance.parent_id}", lambda: _node_recount(instance))


def _counted_by(indicator):
    return frozenset(indicator.activities.values_list("pk", flat=True))


def _measure_changes_counting(indicator):
    """Whether a saved indicator starts or stops counting distinct households."""
    before = indicator._measure_before
    return before is not None and before != indicator.measure and Measure.HOUSEHOLDS in {before, indicator.measure}


def indicator_saving(sender, instance, **kwargs):
    """Before an indicator is saved: remember what it measured, and hold its activities if
    it starts or stops counting distinct households. Its label or order changes no figure,
    and a new indicator counts nothing until its activities are linked."""
    stored = _stored(instance, "measure")
    instance._measure_before = stored and stored[0]
    if _measure_changes_counting(instance):
        _hold(lambda: Recount(activity_ids=_counted_by(instance)))


def indicator_saved(sender, instance, created, **kwargs):
    """An indicator started or stopped counting distinct households: recount its activities'."""
    if _measure_changes_counting(instance):
        _recount(f"indicator {instance.code} measured {instance.measure}",
                 lambda: Recount(activity_ids=_counted_by(instance)))


def _activities_moving(instance, reverse, pk_set):
    """The activities whose counting a change of links changes: those linked to or unlinked
    from a distinct-households indicator (`instance`, or an activity when the links are
    changed from its side; a clear names no indicator or activity)."""
    if reverse:
        indicators = Indicator.objects.filter(pk__in=pk_set) if pk_set is not None else instance.indicators.all()
        return frozenset({instance.pk}) if indicators.filter(measure=Measure.HOUSEHOLDS).exists() else frozenset()
    if instance.measure != Measure.HOUSEHOLDS:
        return frozenset()
    return frozenset(pk_set) if pk_set is not None else _counted_by(instance)


def indicator_activities_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Links between distinct-households indicators and activities added or removed: the
    activities held before (`pre_*`), recounted after (`post_*`). Links added again (Django
    leaves them out of `pk_set`) or of other indicators change nothing."""
    if action.startswith("pre_"):
        moving = instance._activities_moving = _activities_moving(instance, reverse, pk_set)
        if moving:
            _hold(lambda: Recount(activity_ids=moving))
    elif instance._activities_moving:
        moving = instance._activities_moving
        _recount(f"{instance} {action} of activities {sorted(moving)}", lambda: Recount(activity_ids=moving))


def indicator_deleting(sender, instance, **kwargs):
    """Before an indicator is deleted: hold the activities it counted distinct households of."""
    moving = instance._activities_moving = (
        _counted_by(instance) if instance.measure == Measure.HOUSEHOLDS else frozenset())
    if moving:
        _hold(lambda: Recount(activity_ids=moving))


def indicator_deleted(sender, instance, **kwargs):
    """A distinct-households indicator is gone: its activities may no longer be counted."""
    if instance._activities_moving:
        _recount(f"indicator {instance.code} was deleted", lambda: Recount(activity_ids=instance._activities_moving))
