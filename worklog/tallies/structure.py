"""Entry writers and changes of structure kept apart, on PostgreSQL (SQLite runs one writer
at a time anyway).

What an entry adds to the roll-ups depends on the structure: the nodes on its team's and
its village's chains (each one's node and that node's ancestors) and whether a
distinct-households indicator counts its activity. A change of structure (a team or
village moving, a node moving under another parent, an indicator counting other
activities) recounts the roll-up rows of the nodes or activities whose figures it moves
(worklog.tallies.receivers). So:

- a writer holds the nodes on its chains and its activities (FOR KEY SHARE) before it
  reads anything else of them, then reads its chains again and holds any node a move
  committed meanwhile put on them (`hold_for_writing`);
- a change takes its turn, then holds what it moves and recounts (FOR UPDATE) before it
  changes anything, and recounts in the same transaction (`hold_for_change`).

Each waits for the other, so an entry is counted under the structure it commits with.
Nothing else waits: writers hold in share, and a change holds only the nodes whose rows it
recounts. Changes take turns (a transaction-level advisory lock) because two recounts of
overlapping rows would collide. Rows are held in one order by all — the teams (the month
locks' share lock, worklog.locking) or the moving team or village, organisations, areas,
activities, each by id — so no two transactions wait for each other in a circle.

Chains are read by parent, in one statement: a moving node's descendants have their paths
rewritten after it is saved, and two statements could see two different trees.
"""

from collections import defaultdict

from django.db import connection

from worklog.models import Activity
from worklog.tallies.keys import ROLLUPS

# The advisory lock on which changes of structure take their turns (any number no other
# advisory lock of the programme uses).
TURN = 120003


def _listed(count):
    """A parenthesised list of `count` parameters."""
    return f"({', '.join(['%s'] * count)})"


def _chain_cte(rollup, name, count):
    """A recursive query `name (via_id, node_id)`: for each of `count` teams or villages
    (parameters), its node and every ancestor of that node."""
    tree = rollup.tree._meta.db_table
    return (
        f"{name} (via_id, node_id) AS ("
        f"SELECT id, {rollup.node_column} FROM {rollup.via_table} WHERE id IN {_listed(count)} "
        f"UNION SELECT {name}.via_id, node.parent_id FROM {name} JOIN {tree} node ON node.id = {name}.node_id "
        f"WHERE node.parent_id IS NOT NULL)"
    )


def read_chains(rollup, via_ids):
    """{team or village id: {ids of its node and of the node's ancestors}}."""
    via_ids = sorted(via_ids)
    chains = defaultdict(set)
    if via_ids:
        with connection.cursor() as cursor:
            cursor.execute(f"WITH RECURSIVE {_chain_cte(rollup, 'chain', len(via_ids))} "
                           f"SELECT via_id, node_id FROM chain", via_ids)
            for via_id, node_id in cursor.fetchall():
                chains[via_id].add(node_id)
    return chains


def chain_ids(rollup, *node_ids):
    """The ids of these nodes and of all their ancestors."""
    tree = rollup.tree._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE chain (node_id) AS (SELECT id FROM {tree} WHERE id IN {_listed(len(node_ids))} "
            f"UNION SELECT node.parent_id FROM chain JOIN {tree} node ON node.id = chain.node_id "
            f"WHERE node.parent_id IS NOT NULL) SELECT node_id FROM chain",
            node_ids,
        )
        return {node_id for (node_id,) in cursor.fetchall()}


def _hold_sql(model, mode, ids_sql):
    """Hold the rows of `model` whose ids `ids_sql` (a subquery or list) gives, by id."""
    return f"SELECT id FROM {model._meta.db_table} WHERE id IN {ids_sql} ORDER BY id FOR {mode}"


def hold_for_writing(keys):
    """Hold, for a writer of the tallies, the nodes on the chains of these tally keys' teams
    and villages and the keys' activities, till the transaction ends. Two statements: the
    first holds what it reads; the second reads the chains again, as they stand once held
    (a move committed while the first waited shows there), and whatever it names that is
    not held yet is held in turn."""
    if connection.vendor != "postgresql" or not keys:
        return
    vias = [sorted({getattr(key, rollup.via_column) for key in keys}) for rollup in ROLLUPS]
    activity_ids = sorted({key.activity_id for key in keys})
    chains = ", ".join(_chain_cte(rollup, f"chain{index}", len(vias[index])) for index, rollup in enumerate(ROLLUPS))
    chain_params = [via_id for ids in vias for via_id in ids]
    held_nodes = [
        f"held{index} AS ({_hold_sql(rollup.tree, 'KEY SHARE', f'(SELECT node_id FROM chain{index})')})"
        for index, rollup in enumerate(ROLLUPS)
    ]
    held_activities = f"held_activities AS ({_hold_sql(Activity, 'KEY SHARE', _listed(len(activity_ids)))})"
    held = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE {chains}, {', '.join(held_nodes)}, {held_activities} "
            + " UNION ALL ".join([f"SELECT {index}, id FROM held{index}" for index in range(len(ROLLUPS))]
                                 + ["SELECT -1, id FROM held_activities"]),
            chain_params + activity_ids,
        )
        for index, node_id in cursor.fetchall():
            held[index].add(node_id)
        while True:
            cursor.execute(
                f"WITH RECURSIVE {chains} "
                + " UNION ALL ".join(f"SELECT {index}, node_id FROM chain{index}" for index in range(len(ROLLUPS))),
                chain_params,
            )
            missing = defaultdict(set)
            for index, node_id in cursor.fetchall():
                if node_id not in held[index]:
                    missing[index].add(node_id)
            if not missing:
                return
            for index, node_ids in sorted(missing.items()):
                cursor.execute(_hold_sql(ROLLUPS[index].tree, "KEY SHARE", _listed(len(node_ids))),
                               sorted(node_ids))
                held[index] |= node_ids


def take_turn():
    """Wait till no other change of structure is under way, and keep the others waiting
    till this transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TURN])


def hold_for_change(rollup=None, *, via_ids=(), node_ids=(), activity_ids=()):
    """Hold, for a change of structure that has taken its turn, what it moves till the
    transaction ends: its team or village (FOR NO KEY UPDATE, as its save does: foreign-key
    checks go on), nodes of `rollup`'s tree and activities (FOR UPDATE). Outside a
    transaction (a save in autocommit) nothing can be held: the recount holds it all in a
    transaction of its own."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model, ids, mode in ((rollup and rollup.via, via_ids, "NO KEY UPDATE"),
                                 (rollup and rollup.tree, node_ids, "UPDATE"),
                                 (Activity, activity_ids, "UPDATE")):
            if ids:
                cursor.execute(_hold_sql(model, mode, _listed(len(ids))), sorted(ids))
