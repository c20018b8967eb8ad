//! 91160 open platform (seed `001_*.txt`): being built.
