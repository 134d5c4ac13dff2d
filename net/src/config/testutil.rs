//! Helpers shared by the configuration tests.

use std::fs;
use std::path::PathBuf;

use super::table::path_text;
use super::{Config, Param};

pub(super) fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub(super) fn set(cfg: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<Param>, String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    let changed = cfg.set(&pairs).map_err(|e| e.to_string())?;
    Ok(changed.into_iter().map(|c| c.param).collect())
}

pub(super) fn get(cfg: &Config, patterns: &[&str]) -> Vec<(String, String)> {
    let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
    cfg.get(&patterns)
}

pub(super) fn get1(cfg: &Config, name: &str) -> String {
    match get(cfg, &[name]).as_slice() {
        [(_, value)] => value.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

pub(super) fn cwd() -> String {
    path_text(&std::env::current_dir().unwrap())
}

/// A fresh directory under the system temp dir, removed on drop.
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("ringcache-config-{tag}-{}-{nanos}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(super) fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
