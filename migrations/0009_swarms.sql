-- Swarms: the desired state of N procs of one app over a squad (SPEC §1), and dispatches, the
-- durable jobs that make the hosts hold it.

CREATE TABLE swarms (
    id          INTEGER PRIMARY KEY,
    app_id      INTEGER NOT NULL REFERENCES apps (id) ON DELETE RESTRICT,
    proc_type   TEXT    NOT NULL,
    config      TEXT    NOT NULL,
    squad_id    INTEGER NOT NULL REFERENCES squads (id) ON DELETE RESTRICT,
    -- The rest of the operator's settings (`vr_app::swarm::SwarmSpec` as JSON; the identity
    -- above wins over its copy there). Secret env values are kept as given, like releases'.
    spec        TEXT    NOT NULL,
    -- The release its last successful dispatch made it run.
    release_id  INTEGER REFERENCES releases (id) ON DELETE RESTRICT,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (app_id, proc_type, config, squad_id)
) STRICT;

CREATE TABLE dispatches (
    id               INTEGER PRIMARY KEY,
    swarm_id         INTEGER NOT NULL REFERENCES swarms (id) ON DELETE CASCADE,
    version          TEXT    NOT NULL,
    dry_run          INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    status           TEXT    NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    build_id         INTEGER,
    release_id       INTEGER,
    -- `vr_app::plan::Plan` of the first round, as JSON.
    plan             TEXT,
    steps            TEXT    NOT NULL DEFAULT '[]',
    -- Ids of the deploys it made, as a JSON list.
    deploys          TEXT    NOT NULL DEFAULT '[]',
    short            INTEGER NOT NULL DEFAULT 0,
    -- The swarm's spec as dispatched (`SwarmSpec` JSON, secrets as stored: never answered),
    -- what changed since the previous dispatch (masked), and for a rollback, its target and
    -- the build it runs again.
    spec             TEXT    NOT NULL,
    changes          TEXT    NOT NULL DEFAULT '[]',
    rollback_of      INTEGER,
    pinned_build     INTEGER,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    requested_by     TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
) STRICT;
CREATE INDEX dispatches_swarm ON dispatches (swarm_id, id);
CREATE INDEX dispatches_status ON dispatches (status);
