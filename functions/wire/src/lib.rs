//! The wire between the relay and the functions: the types and names both sides use.
