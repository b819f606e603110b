//! What a scenario found: figures, targets met or missed, and the conditions
//! of the run (load average, sizes), printed as a table and kept as JSON
//! under `target/bench/`.

use anyhow::Result;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub what: String,
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub title: String,
    pub backend: String,
    pub smoke: bool,
    pub started_at: String,
    pub load_before: String,
    pub load_after: String,
    pub figures: Vec<Figure>,
    pub targets: Vec<Target>,
    pub notes: Vec<String>,
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

impl Report {
    pub fn new(scenario: &str, title: &str, backend: &str, smoke: bool) -> Self {
        Self {
            scenario: scenario.into(),
            title: title.into(),
            backend: backend.into(),
            smoke,
            started_at: chrono::Utc::now().to_rfc3339(),
            load_before: load_average(),
            load_after: String::new(),
            figures: Vec::new(),
            targets: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn figure(&mut self, name: &str, value: f64, unit: &str) {
        self.figures.push(Figure {
            name: name.into(),
            value,
            unit: unit.into(),
        });
    }

    pub fn target(&mut self, what: impl Into<String>, met: bool) {
        self.targets.push(Target {
            what: what.into(),
            met,
        });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn finish(&mut self) {
        self.load_after = load_average();
    }

    pub fn print(&self) {
        println!(
            "\n== {} {} [{}{}] (load {} -> {})",
            self.scenario,
            self.title,
            self.backend,
            if self.smoke { ", smoke" } else { "" },
            self.load_before,
            self.load_after
        );
        for f in &self.figures {
            let value = if f.value.fract() == 0.0 && f.value.abs() < 1e12 {
                format!("{}", f.value as i64)
            } else if f.value.abs() >= 100.0 {
                format!("{:.0}", f.value)
            } else {
                format!("{:.2}", f.value)
            };
            println!("  {:<46} {:>12} {}", f.name, value, f.unit);
        }
        for t in &self.targets {
            println!("  [{}] {}", if t.met { "met" } else { "MISSED" }, t.what);
        }
        for n in &self.notes {
            println!("  note: {n}");
        }
    }

    /// Writes `target/bench/SCENARIO-BACKEND[-smoke].json`.
    pub fn save(&self) -> Result<PathBuf> {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
            .join("bench");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!(
            "{}-{}{}.json",
            self.scenario,
            self.backend,
            if self.smoke { "-smoke" } else { "" }
        ));
        std::fs::write(&path, serde_json::to_string_pretty(self)?)?;
        Ok(path)
    }
}
