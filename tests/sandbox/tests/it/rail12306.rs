//! Tests of the rail12306 simulator (filled in by its engineer).
