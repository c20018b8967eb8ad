//! Tests of the open91160 simulator (filled in by its engineer).
