"""Entry writers and changes of structure kept apart, on PostgreSQL (SQLite runs one writer
at a time anyway).

What an entry adds to the roll-ups depends on the structure: the node its team or village
hangs from, that node's ancestors, and whether a distinct-households indicator counts its
activity. A change of structure (a team or village moving, a node moving under another
parent, an indicator counting other activities) recounts the roll-up rows of the nodes or
activities whose figures it moves (worklog.tallies.receivers). So:

- a writer holds its teams, villages and activities in share, in one statement before it
  reads anything of the structure (`hold_for_writing`);
- a change takes its turn and, before it changes anything, holds every team or village
  under the nodes whose rows it recounts, or the activities it recounts
  (`hold_for_change`); it recounts in the same transaction.

Each waits for the other, so an entry is counted under the structure it commits with: the
team or village of a writer whose figures a change moves hangs under a node the change
recounts. Nothing else waits: writers hold in share, a change only what hangs under the
nodes it recounts (FOR NO KEY UPDATE, as its save does, so that foreign-key checks go on).
Changes take turns (a transaction-level advisory lock), as two recounts of overlapping rows
would collide; a new team or village takes the turn too, so that none is put under a node
while it is recounted. Every transaction holds each table's rows in id order, so no two
wait for each other in a circle.

Chains are read by parent, in one statement: a moving node's descendants have their paths
rewritten after it is saved, and two statements could see two different trees.
"""

from collections import defaultdict

from django.db import connection

from teams import statements
from worklog.models import Activity
from worklog.tallies.keys import ROLLUPS

# The advisory lock on which changes of structure take their turns (any number no other
# advisory lock of the programme uses).
TURN = 120003


def _listed(count):
    """A parenthesised list of `count` parameters."""
    return f"({', '.join(['%s'] * count)})"


def _hold_sql(model, mode, where):
    """Hold the rows of `model` that `where` selects, in id order."""
    return f"SELECT id FROM {model._meta.db_table} WHERE {where} ORDER BY id FOR {mode}"


def _chain_sql(rollup, name, count):
    """A recursive CTE `name` (via_id, node_id): each of `count` teams or villages with its
    node and the node's ancestors."""
    tree = rollup.tree._meta.db_table
    return (
        f"{name} (via_id, node_id) AS ("
        f"SELECT id, {rollup.node_column} FROM {rollup.via_table} WHERE id IN {_listed(count)} "
        f"UNION SELECT {name}.via_id, node.parent_id FROM {name} JOIN {tree} node ON node.id = {name}.node_id "
        f"WHERE node.parent_id IS NOT NULL)"
    )


def read_chains_of(via_ids, extra=None):
    """{rollup: {team or village id: {ids of its node and of the node's ancestors}}} of
    `via_ids` ({rollup: ids}), in one statement; `extra`: (sql, params) of another read
    of one column whose values come back too, as the list `extra_values`:
    (chains, extra_values)."""
    wanted = [(rollup, sorted(via_ids.get(rollup, ()))) for rollup in ROLLUPS]
    wanted = [(rollup, ids) for rollup, ids in wanted if ids]
    chains = {rollup: defaultdict(set) for rollup in ROLLUPS}
    if not wanted and extra is None:
        return chains, []
    ctes = [_chain_sql(rollup, f"chain{index}", len(ids)) for index, (rollup, ids) in enumerate(wanted)]
    parts = [f"SELECT {index + 1}, via_id, node_id FROM chain{index}" for index in range(len(wanted))]
    params = [id_ for _rollup, ids in wanted for id_ in ids]
    if extra is not None:
        parts.append(f"SELECT 0, extra.*, NULL FROM ({extra[0]}) extra")
        params += list(extra[1])
    with_ = f"WITH RECURSIVE {', '.join(ctes)} " if ctes else ""
    extra_values = []
    with connection.cursor() as cursor:
        statements.execute(cursor, with_ + " UNION ALL ".join(parts), params)
        for part, via_id, node_id in cursor.fetchall():
            if part:
                chains[wanted[part - 1][0]][via_id].add(node_id)
            else:
                extra_values.append(via_id)
    return chains, extra_values


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


def hold_for_writing(keys):
    """Hold, for a writer of the tallies, the teams, villages and activities of these tally
    keys in share, till the transaction ends."""
    if connection.vendor != "postgresql" or not keys:
        return
    held = [(rollup.via, {getattr(key, rollup.via_column) for key in keys}) for rollup in ROLLUPS]
    held.append((Activity, {key.activity_id for key in keys}))
    holds = ", ".join(f"held{index} AS ({_hold_sql(model, 'SHARE', 'id IN ' + _listed(len(ids)))})"
                      for index, (model, ids) in enumerate(held))
    with connection.cursor() as cursor:
        statements.execute(
            cursor, f"WITH {holds} " + " UNION ALL ".join(f"SELECT id FROM held{index}" for index in range(len(held))),
            [id_ for _model, ids in held for id_ in sorted(ids)],
        )


def take_turn():
    """Wait till no other change of structure is under way, and keep the others waiting
    till this transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TURN])


def hold_for_change(rollup=None, *, node_ids=(), activity_ids=()):
    """Hold, for a change of structure that has taken its turn, what it moves till the
    transaction ends: every team or village under these nodes of `rollup`'s tree, and
    these activities. Outside a transaction (a save in autocommit) nothing can be held:
    the recount holds it all in a transaction of its own."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        if node_ids:
            tree = rollup.tree._meta.db_table
            cursor.execute(
                f"WITH RECURSIVE below (id) AS (SELECT id FROM {tree} WHERE id IN {_listed(len(node_ids))} "
                f"UNION SELECT node.id FROM {tree} node JOIN below ON node.parent_id = below.id) "
                + _hold_sql(rollup.via, "NO KEY UPDATE", f"{rollup.node_column} IN (SELECT id FROM below)"),
                sorted(node_ids),
            )
        if activity_ids:
            cursor.execute(_hold_sql(Activity, "NO KEY UPDATE", f"id IN {_listed(len(activity_ids))}"),
                           sorted(activity_ids))
