-- Stacks (issue 16): root filesystem images an app's builds compile in and its sandboxed procs
-- run on. A stack is a name; each image of it is uploaded or built by mmdebstrap on a builder
-- host, and stored once by sha256.

CREATE TABLE stack_images (
    id          INTEGER PRIMARY KEY,
    stack       TEXT    NOT NULL,
    status      TEXT    NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'expired')),
    source      TEXT    NOT NULL CHECK (source IN ('upload', 'mmdebstrap')),
    -- What mmdebstrap builds: the request as JSON (vr_app::stack::NewStackBuild); '' for uploads.
    recipe      TEXT    NOT NULL DEFAULT '',
    sha256      TEXT,
    size        INTEGER,
    host        TEXT,
    error       TEXT,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;
CREATE INDEX stack_images_stack ON stack_images (stack, id);
CREATE INDEX stack_images_sha ON stack_images (sha256);

-- The stack an app's builds compile in (a name: its newest image at build time).
ALTER TABLE apps ADD COLUMN stack TEXT;
-- The image a build compiled in; its releases carry it in their config.
ALTER TABLE builds ADD COLUMN stack TEXT;
ALTER TABLE builds ADD COLUMN stack_sha256 TEXT;
