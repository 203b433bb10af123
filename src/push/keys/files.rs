//! The key directory's files, written atomically: a crash leaves the old file or the new
//! one, never a partial key.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{KeyError, io_err};

/// A temporary file next to `path`, written and synced, with `mode`.
fn write_temp(path: &Path, contents: &[u8], mode: u32) -> Result<PathBuf, KeyError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&tmp)(e));
    }
    Ok(tmp)
}

/// Creates `path` with `contents` (mode 0600) atomically; `AlreadyExists` if it exists.
pub(super) fn create_exclusive(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = write_temp(path, contents, 0o600).map_err(|e| match e {
        KeyError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    })?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_dir(path);
    Ok(())
}

/// Replaces `path` with `contents` atomically (write a temporary file, rename).
pub(super) fn replace_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    let tmp = write_temp(path, contents, mode)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    sync_dir(path);
    Ok(())
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}
