//! Host protocol over raw frames (lead engineer).
