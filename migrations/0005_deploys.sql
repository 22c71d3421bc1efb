-- Deploys of one proc: the durable record of each deploy job and its steps.

CREATE TABLE deploys (
    id           INTEGER PRIMARY KEY,
    release_id   INTEGER NOT NULL REFERENCES releases (id) ON DELETE RESTRICT,
    proc_type    TEXT    NOT NULL,
    config       TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    port         INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
    program      TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error        TEXT,
    steps        TEXT    NOT NULL DEFAULT '[]',
    requested_by TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;
CREATE INDEX deploys_program ON deploys (host, program);
