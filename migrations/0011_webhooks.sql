-- Notifications: outgoing webhooks, and every delivery to them with its attempts. The notifier
-- turns activity-log events into deliveries; `notify_cursor` is the last event it looked at, moved
-- in the same transaction that records the deliveries, so none is lost or sent twice.

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    url         TEXT    NOT NULL,
    -- Comma-separated `vr_app::notify::NotifyEvent` names.
    events      TEXT    NOT NULL,
    format      TEXT    NOT NULL CHECK (format IN ('json', 'slack')),
    -- The HMAC-SHA256 signing key, as the receiver knows it (it cannot be hashed: it signs).
    secret      TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    object          TEXT    NOT NULL,
    -- The body as sent (the same bytes on every attempt, so the signature is too).
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    response_status INTEGER,
    error           TEXT,
    created_at      INTEGER NOT NULL,
    next_at         INTEGER,
    finished_at     INTEGER
) STRICT;

CREATE INDEX deliveries_due ON deliveries (status, next_at);
CREATE INDEX deliveries_of_webhook ON deliveries (webhook_id, id);

CREATE TABLE notify_cursor (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
) STRICT;
