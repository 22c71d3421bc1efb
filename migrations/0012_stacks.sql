-- Stacks (issue 16): root filesystem images an app's builds compile in and its sandboxed procs
-- run on. A stack is a name; each upload is an image, stored once by sha256.

CREATE TABLE stack_images (
    id         INTEGER PRIMARY KEY,
    stack      TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('succeeded', 'expired')),
    sha256     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX stack_images_stack ON stack_images (stack, id);
CREATE INDEX stack_images_sha ON stack_images (sha256);

-- The stack an app's builds compile in (a name: its newest image at build time).
ALTER TABLE apps ADD COLUMN stack TEXT;
-- The image a build compiled in; its releases carry it in their config.
ALTER TABLE builds ADD COLUMN stack TEXT;
ALTER TABLE builds ADD COLUMN stack_sha256 TEXT;
