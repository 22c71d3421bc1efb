-- Squads, hosts, and the poller's snapshot of every Supervisor process on them.

CREATE TABLE squads (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;

-- NULL overrides mean "the default" (see vr_app::fleet::defaults), so changing a default in a
-- later version reaches every host that never overrode it.
CREATE TABLE hosts (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL UNIQUE,
    address            TEXT    NOT NULL,
    port               INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    ssh_user           TEXT    NOT NULL,
    squad_id           INTEGER REFERENCES squads (id) ON DELETE RESTRICT,
    active             INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    builder            INTEGER NOT NULL DEFAULT 0 CHECK (builder IN (0, 1)),
    supervisorctl      TEXT,
    supervisor_socket  TEXT,
    include_dir        TEXT,
    apps_root          TEXT,
    port_min           INTEGER,
    port_max           INTEGER,
    notes              TEXT    NOT NULL DEFAULT '',
    host_key           TEXT,
    host_key_pinned_at INTEGER,
    created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX hosts_squad ON hosts (squad_id);

-- The last poll of each host. One row per host, written by the poller only.
CREATE TABLE host_status (
    host_id            INTEGER PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    health             TEXT    NOT NULL,
    error              TEXT,
    error_since        INTEGER,
    last_ok_at         INTEGER,
    last_poll_at       INTEGER,
    supervisor_version TEXT,
    via                TEXT,
    presented_key      TEXT
) STRICT;

-- Every Supervisor program last seen on each host, managed (meta = its proc.json) or not.
-- `expected` rows outlive their program: when Supervisor forgets one, it stays as MISSING.
CREATE TABLE procs (
    host_id      INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    pid          INTEGER,
    started_at   INTEGER,
    meta         TEXT,
    expected     INTEGER NOT NULL DEFAULT 0 CHECK (expected IN (0, 1)),
    state_since  INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (host_id, name)
) STRICT;

-- State changes per proc, for the detail panel; trimmed to the newest rows per proc.
CREATE TABLE proc_history (
    id          INTEGER PRIMARY KEY,
    host_id     INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX proc_history_proc ON proc_history (host_id, name, id);
