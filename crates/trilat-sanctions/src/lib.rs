//! trilat-sanctions (skeleton; being built).
