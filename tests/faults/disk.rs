//! Small file systems to break on purpose: a size-limited tmpfs to fill up, and an ext4 image
//! on a loop device whose files can be made immutable (`chattr +i`), which makes every write
//! through an already open descriptor fail with EPERM — SQLite's `disk I/O error`
//! (SQLITE_IOERR_WRITE) — until `chattr -i`. Both need root (mount); the tests say so if not.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// A mounted file system in a temporary folder, unmounted when dropped.
pub struct Mount {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed (the fault tests need root to mount file systems): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Mount {
    /// A tmpfs of `kib` KiB.
    pub fn tmpfs(kib: u64) -> Mount {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&path));
        Mount { path, _dir: dir }
    }

    /// An ext4 file system of `mib` MiB on a loop device (the image lives beside the mount).
    pub fn ext4(mib: u64) -> Mount {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("fs.img");
        File::create(&image)
            .unwrap()
            .set_len(mib * 1024 * 1024)
            .unwrap();
        run(Command::new("mkfs.ext4")
            .args(["-q", "-m", "0"])
            .arg(&image));
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&path));
        Mount { path, _dir: dir }
    }

    /// Fills the file system to the last byte; the returned file frees it when removed.
    pub fn fill(&self) -> Filler {
        let path = self.path.join("filler");
        let mut f = File::create(&path).unwrap();
        for chunk in [1 << 16, 4096, 512, 1] {
            let buf = vec![0u8; chunk];
            while f.write_all(&buf).is_ok() {}
        }
        let _ = f.sync_all();
        Filler(path)
    }

    /// `chattr ±i` on every file of the database (`yavka.db`, its WAL and shared memory).
    pub fn set_immutable(&self, on: bool) {
        for entry in std::fs::read_dir(&self.path).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            // The shared-memory file is mapped, not written: leave it, as a real broken
            // disk would leave memory alone.
            if name.starts_with("yavka.db") && !name.ends_with("-shm") {
                run(Command::new("chattr")
                    .arg(if on { "+i" } else { "-i" })
                    .arg(&p));
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("chattr")
            .arg("-R")
            .arg("-i")
            .arg(&self.path)
            .output();
        // Lazy: a pool that still holds a file open must not keep the mount (or the test) alive.
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}

/// The file that fills a disk.
pub struct Filler(PathBuf);

impl Filler {
    pub fn free(self) {
        std::fs::remove_file(&self.0).unwrap();
    }
}
