-- Ports promised to jobs in flight (a deploy now, dispatches later), so that two jobs never pick
-- the same port on one host. Written in the transaction that records the job; removed when the
-- job ends and, at start-up, for jobs a stopped server left behind.

CREATE TABLE port_reservations (
    host  TEXT    NOT NULL,
    port  INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    -- The job holding it: `deploy:ID`.
    owner TEXT    NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (host, port)
) STRICT;
CREATE INDEX port_reservations_owner ON port_reservations (owner);
