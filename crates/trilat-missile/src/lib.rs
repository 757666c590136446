//! trilat-missile (skeleton; being built).
