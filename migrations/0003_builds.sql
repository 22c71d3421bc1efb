-- Apps, buildpacks and builds. A build row is the durable record of a build job.

CREATE TABLE buildpacks (
    id          INTEGER PRIMARY KEY,
    url         TEXT    NOT NULL UNIQUE,
    ord         INTEGER NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE apps (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    repo_url   TEXT    NOT NULL,
    -- URL of a pinned buildpack; NULL = detect over the buildpack list.
    buildpack  TEXT,
    notes      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE builds (
    id               INTEGER PRIMARY KEY,
    app_id           INTEGER NOT NULL REFERENCES apps (id) ON DELETE RESTRICT,
    version          TEXT    NOT NULL,
    commit_sha       TEXT,
    status           TEXT    NOT NULL
                     CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'expired')),
    error            TEXT,
    buildpack        TEXT,
    buildpack_commit TEXT,
    host             TEXT,
    sha256           TEXT,
    size             INTEGER,
    procfile         TEXT    NOT NULL DEFAULT '{}',
    env              TEXT    NOT NULL DEFAULT '{}',
    prebuilt         INTEGER NOT NULL DEFAULT 0 CHECK (prebuilt IN (0, 1)),
    forced           INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    reused_from      INTEGER REFERENCES builds (id) ON DELETE SET NULL,
    requested_by     TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
) STRICT;
CREATE INDEX builds_app ON builds (app_id, id);
CREATE INDEX builds_sha ON builds (sha256);
