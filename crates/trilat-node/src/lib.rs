//! trilat-node (skeleton; being built).
