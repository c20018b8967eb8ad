//! Installer tests (installer engineer).
