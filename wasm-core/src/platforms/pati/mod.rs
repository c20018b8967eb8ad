//! pati_service (seed `002_*.txt`): being built.
