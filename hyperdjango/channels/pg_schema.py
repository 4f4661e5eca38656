"""The PostgreSQL channel layer's tables and statements (its DDL lives only here).

- ``hyperdjango_channel_messages``: every published message (the history, and
  the payload of a message too large for a NOTIFY), trimmed by ``CLEANUP``;
- ``hyperdjango_channel_presence``: one row per (channel, user, process) with
  its join count and metadata;
- ``hyperdjango_channel_groups``: group members.

Each change is one statement that stores it and NOTIFYs in the same
transaction, so an announcement never precedes what it announces. The
changes written together go in one transaction (one commit, one round of
notifications), which takes the locks of all its channels first (``LOCK_CHANNELS``).

A publish first takes a transaction-level advisory lock on its channel, so
the publishes of one channel commit one at a time, in the order of their
ids: the history (ordered by id) is the order in which the notifications
reach every listener (commit order).

A process's connections are named ``hyperdjango_channels:<sender id>``
(``application_name``); ``SWEEP_DEAD_PRESENCE`` removes the presence rows of
senders with no session left in ``pg_stat_activity``.
"""

from __future__ import annotations

MESSAGES = "hyperdjango_channel_messages"
PRESENCE = "hyperdjango_channel_presence"
GROUPS = "hyperdjango_channel_groups"

#: The ``application_name`` of a layer's connections is this, ``:``, its sender id.
APPLICATION_NAME = "hyperdjango_channels"

#: Serialises concurrent ``connect()``s creating the tables (CREATE ... IF NOT
#: EXISTS is not safe against a concurrent CREATE of the same table).
DDL_LOCK = "SELECT pg_advisory_xact_lock(hashtext('hyperdjango_channel_layer'))"

DDL = [
    f"""CREATE TABLE IF NOT EXISTS {MESSAGES} (
        id bigserial PRIMARY KEY,
        channel text NOT NULL,
        message_id text NOT NULL UNIQUE,
        payload text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    f"CREATE INDEX IF NOT EXISTS {MESSAGES}_channel_id ON {MESSAGES} (channel, id)",
    f"""CREATE TABLE IF NOT EXISTS {PRESENCE} (
        channel text NOT NULL,
        user_id text NOT NULL,
        sender text NOT NULL,
        joins integer NOT NULL,
        metadata text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel, user_id, sender)
    )""",
    f"""CREATE TABLE IF NOT EXISTS {GROUPS} (
        group_name text NOT NULL,
        channel text NOT NULL,
        PRIMARY KEY (group_name, channel)
    )""",
]

# $1 channel, $2 message id, $3 message JSON, $4 NOTIFY channel, $5 envelope.
# The lock (held to commit) is taken before the id is drawn; the two-key form
# keeps it apart from one-key advisory locks such as DDL_LOCK's.
PUBLISH = (
    f"WITH locked AS (SELECT pg_advisory_xact_lock(hashtext('{MESSAGES}'), hashtext($1))), "
    f"stored AS (INSERT INTO {MESSAGES} (channel, message_id, payload) SELECT $1, $2, $3 FROM locked RETURNING id) "
    "SELECT pg_notify($4, $5) FROM stored"
)
# $1 the channels a batch publishes to. A batch is one transaction that
# holds each of its channels' locks until it commits: taking them all first,
# in one order every process follows, keeps two batches from deadlocking.
LOCK_CHANNELS = (
    f"SELECT count(pg_advisory_xact_lock(hashtext('{MESSAGES}'), hashtext(c))) "
    "FROM (SELECT DISTINCT c FROM unnest($1::text[]) AS c ORDER BY c) AS channels"
)
# $1 channel, $2 user id, $3 sender, $4 joins, $5 metadata JSON, $6 NOTIFY channel, $7 envelope
PRESENCE_SET = (
    f"WITH stored AS (INSERT INTO {PRESENCE} (channel, user_id, sender, joins, metadata) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (channel, user_id, sender) DO UPDATE SET joins = EXCLUDED.joins, metadata = EXCLUDED.metadata, "
    "updated_at = now() RETURNING 1) SELECT pg_notify($6, $7) FROM stored"
)
# $1 channel, $2 user id, $3 sender, $4 NOTIFY channel, $5 envelope
PRESENCE_DELETE = (
    f"WITH removed AS (DELETE FROM {PRESENCE} WHERE channel = $1 AND user_id = $2 AND sender = $3) "
    "SELECT pg_notify($4, $5)"
)
# $1 group, $2 channel, $3 NOTIFY channel, $4 envelope
GROUP_ADD = (
    f"WITH stored AS (INSERT INTO {GROUPS} (group_name, channel) VALUES ($1, $2) ON CONFLICT DO NOTHING) "
    "SELECT pg_notify($3, $4)"
)
GROUP_DISCARD = f"WITH removed AS (DELETE FROM {GROUPS} WHERE group_name = $1 AND channel = $2) SELECT pg_notify($3, $4)"

FETCH_MESSAGE = f"SELECT payload FROM {MESSAGES} WHERE message_id = $1"

# $1 messages kept per channel
LOAD_HISTORY = (
    f"SELECT channel, message_id, payload FROM (SELECT id, channel, message_id, payload, "
    f"row_number() OVER (PARTITION BY channel ORDER BY id DESC) AS newest FROM {MESSAGES}) AS recent "
    "WHERE newest <= $1 ORDER BY id"
)
LOAD_PRESENCE = f"SELECT channel, user_id, sender, joins, metadata FROM {PRESENCE} WHERE joins > 0"
LOAD_GROUPS = f"SELECT group_name, channel FROM {GROUPS}"

# $1 NOTIFY channel. Each removed row is announced as a leave by its (dead)
# sender, in the envelope shape of distributed.py.
SWEEP_DEAD_PRESENCE = (
    f"WITH dead AS (DELETE FROM {PRESENCE} AS p WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a "
    f"WHERE a.application_name = '{APPLICATION_NAME}:' || p.sender) RETURNING channel, user_id, sender) "
    "SELECT pg_notify($1, json_build_object('s', sender, 'k', 'pres', 'c', channel, 'u', user_id, 'n', 0, "
    "'m', json_build_object())::text) FROM dead"
)

# $1 messages kept per channel, $2 seconds a message is kept at least (for
# receivers still fetching one announced by reference)
CLEANUP = (
    f"DELETE FROM {MESSAGES} WHERE id IN (SELECT id FROM (SELECT id, created_at, "
    f"row_number() OVER (PARTITION BY channel ORDER BY id DESC) AS newest FROM {MESSAGES}) AS ranked "
    "WHERE newest > $1 AND created_at < now() - make_interval(secs => $2))"
)
