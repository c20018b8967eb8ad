//! Test-only crate: see `tests/it/` for the integration tests.
