//! Tests of the pati simulator (filled in by its engineer).
