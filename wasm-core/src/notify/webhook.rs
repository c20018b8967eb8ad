//! Notice → webhook HttpRequest (placeholder; being written).
