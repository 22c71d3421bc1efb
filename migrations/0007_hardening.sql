-- Hardening: API token expiry, secret env keys of ingredients (a release keeps its secret keys
-- inside its `config` JSON).

-- Unix ms after which the token no longer works; NULL = never expires.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

-- JSON list of env keys whose values are secret (masked everywhere they are shown).
ALTER TABLE ingredients ADD COLUMN secret_keys TEXT NOT NULL DEFAULT '[]';

-- The unprivileged uid each app builds as on builders, given at its first build: unique in this
-- installation, and drawn from the installation's key so two installations sharing a builder
-- are unlikely to share uids.
ALTER TABLE apps ADD COLUMN build_uid INTEGER;
CREATE UNIQUE INDEX apps_build_uid ON apps (build_uid) WHERE build_uid IS NOT NULL;

-- A random key of this installation: a release's hash covers its secret values only through
-- it, so a hash anyone may read cannot be tested against guesses of a secret.
CREATE TABLE instance (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    hash_key BLOB    NOT NULL
) STRICT;
