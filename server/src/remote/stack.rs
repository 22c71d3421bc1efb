//! Building a stack image on a builder host (issue 16): mmdebstrap makes a root filesystem
//! tarball from a Debian suite and packages, its output streamed to the image's log; the
//! tarball is then copied back like a build's artifact (`build::download_file`).
//!
//! The script is constant text; the suite, variant, packages and mirror reach it as
//! positional parameters, each quoted, and mmdebstrap gets each as one argument.

use super::build::{BuildError, Made, build_root};
use super::deploy::line;
use super::ssh::Connection;
use super::supervisor::Layout;
use std::collections::BTreeMap;
use std::time::Duration;
use vr_app::stack::NewStackBuild;

/// `$1` root, `$2` image id, `$3` suite, `$4` variant, `$5` packages (comma-separated, may be
/// empty), `$6` mirror (may be empty).
const MMDEBSTRAP: &str = r#"set -eu
umask 022
root=$1; id=$2; suite=$3; variant=$4; packages=$5; mirror=$6
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "the builder needs mmdebstrap (Debian package mmdebstrap) to build a stack image" >&2; exit 72
fi
work="$root/stacks/$id"
rm -rf "$work"
mkdir -p "$work"
chmod 700 "$root/stacks"
set -- --variant="$variant" --mode=root
if [ -n "$packages" ]; then set -- "$@" --include="$packages"; fi
set -- "$@" "$suite" "$work/image.tar.gz"
if [ -n "$mirror" ]; then set -- "$@" "$mirror"; fi
echo "-----> mmdebstrap $*"
mmdebstrap "$@" 2>&1
sha=$(sha256sum "$work/image.tar.gz" | cut -d' ' -f1)
size=$(wc -c < "$work/image.tar.gz")
printf 'sha256=%s\nsize=%s\n' "$sha" "$size" > "$work/result"
echo "-----> Packed $size bytes, sha256 $sha"
"#;

/// Runs mmdebstrap for image `id`, sending its output to `log` as it comes; returns the
/// tarball on the builder and the folder to remove afterwards.
pub fn build_image(
    conn: &mut Connection,
    layout: &Layout,
    id: i64,
    recipe: &NewStackBuild,
    deadline: Duration,
    log: &mut dyn FnMut(&[u8]),
) -> Result<(Made, String), BuildError> {
    let root = build_root(layout);
    let work = format!("{root}/stacks/{id}");
    let packages = recipe.packages.join(",");
    let mut tail = Vec::new();
    let status = conn.exec_streaming(
        &line(
            layout,
            MMDEBSTRAP,
            &[
                &root,
                &id.to_string(),
                &recipe.suite,
                recipe.variant(),
                &packages,
                &recipe.mirror,
            ],
        ),
        deadline,
        &mut |_, bytes| {
            log(bytes);
            tail.extend_from_slice(bytes);
            let cut = tail.len().saturating_sub(2000);
            tail.drain(..cut);
            Ok(())
        },
    )?;
    if status != 0 {
        let text = String::from_utf8_lossy(&tail);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("mmdebstrap failed");
        super::build::cleanup(conn, layout, &work);
        return Err(BuildError::Failed(format!("{last} (exit status {status})")));
    }
    let read = format!("cat {}/result", super::shell::quote(&work));
    let out = conn.exec(&layout.privileged(&read))?;
    let result: BTreeMap<&str, &str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    let sha256 = result
        .get("sha256")
        .map(|s| s.trim().to_string())
        .filter(|s| s.len() == 64)
        .ok_or_else(|| {
            BuildError::Failed("the builder did not report the image's sha256".into())
        })?;
    let size = result
        .get("size")
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| BuildError::Failed("the builder did not report the image's size".into()))?;
    Ok((
        Made {
            path: format!("{work}/image.tar.gz"),
            sha256,
            size,
        },
        work,
    ))
}
