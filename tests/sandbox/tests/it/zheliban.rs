//! Tests of the zheliban simulator (filled in by its engineer).
