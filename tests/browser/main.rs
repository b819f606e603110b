//! Browser tests in a real headless Chromium driven through ChromeDriver,
//! one module per feature. Every page visited is checked for console errors,
//! a skip link reachable by keyboard, a layout that fits a phone screen, and
//! (when axe-core is available) accessibility violations.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`. Without them
//! the tests are skipped with a message, except under CI (`CI=true`), where
//! they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod accounts;
mod across;
mod events;
mod groups;
mod portal;
mod posts;
mod reports;
mod resources;
