//! Values of this installation itself.

use super::{Store, StoreError};
use rusqlite::params;

impl Store {
    /// The installation's key for release hashes (see `ReleaseConfig::hash_keyed`): `fresh` is
    /// stored the first time, and the stored one returned ever after.
    pub async fn instance_hash_key(&self, fresh: [u8; 32]) -> Result<Vec<u8>, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO instance (id, hash_key) VALUES (1, ?1)",
                params![fresh.to_vec()],
            )?;
            Ok(
                c.query_row("SELECT hash_key FROM instance WHERE id = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_support::store;

    #[tokio::test]
    async fn the_hash_key_is_made_once() {
        let s = store();
        let first = s.instance_hash_key([1; 32]).await.expect("key");
        let again = s.instance_hash_key([2; 32]).await.expect("key");
        assert_eq!(first, vec![1; 32]);
        assert_eq!(again, first);
    }
}
