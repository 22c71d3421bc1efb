-- Uptest results: each run of a proc's uptests replaces that proc's previous results.

CREATE TABLE uptest_results (
    id      INTEGER PRIMARY KEY,
    host    TEXT    NOT NULL,
    program TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    passed  INTEGER NOT NULL CHECK (passed IN (0, 1)),
    output  TEXT    NOT NULL,
    ms      INTEGER NOT NULL,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX uptest_results_proc ON uptest_results (host, program);
