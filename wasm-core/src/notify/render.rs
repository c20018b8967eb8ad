//! Event → Notice rendering (placeholder; being written).
