-- Ingredients (reusable settings + env) and releases (a build plus merged configuration).

CREATE TABLE ingredients (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    -- As the operator wrote them, and parsed (JSON).
    settings_yaml TEXT    NOT NULL DEFAULT '',
    env_yaml      TEXT    NOT NULL DEFAULT '',
    settings      TEXT    NOT NULL DEFAULT '{}',
    env           TEXT    NOT NULL DEFAULT '{}',
    notes         TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
) STRICT;

-- Immutable once made. `config` is the merged, canonical vr_app::release::ReleaseConfig as JSON;
-- identical inputs give the same hash and so the same row.
CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    app_id      INTEGER NOT NULL REFERENCES apps (id) ON DELETE RESTRICT,
    build_id    INTEGER NOT NULL REFERENCES builds (id) ON DELETE RESTRICT,
    hash        TEXT    NOT NULL,
    config      TEXT    NOT NULL,
    ingredients TEXT    NOT NULL DEFAULT '[]',
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (app_id, hash)
) STRICT;
CREATE INDEX releases_build ON releases (build_id);
