-- Balancers (SPEC §1, §3.7) and the pools vr renders for them. A pool's nodes are vr's own
-- record of what it routes; each balancer host's copy is tracked apart, so a host that missed an
-- update shows as drift until it is applied again.

CREATE TABLE balancers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    -- `vr_app::balancer::BalancerSpec` as JSON (its name is the column above).
    spec        TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE pools (
    balancer_id INTEGER NOT NULL REFERENCES balancers (id) ON DELETE CASCADE,
    pool        TEXT    NOT NULL,
    -- `Vec<vr_app::balancer::Node>` as JSON, and the fingerprint of the file rendered from it.
    nodes       TEXT    NOT NULL,
    wanted      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (balancer_id, pool)
) STRICT;

CREATE TABLE pool_hosts (
    balancer_id INTEGER NOT NULL,
    pool        TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    -- The fingerprint of the file the host was last seen to accept ('' = never).
    applied     TEXT    NOT NULL DEFAULT '',
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    message     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (balancer_id, pool, host),
    FOREIGN KEY (balancer_id, pool) REFERENCES pools (balancer_id, pool) ON DELETE CASCADE
) STRICT;
