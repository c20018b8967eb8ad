//! Tests of the yygh114 simulator (filled in by its engineer).
