//! Mintlify's API as the gate speaks to it: the HTTP client and its TLS, the answers it reads
//! (an agent job, a deployment's status, a trigger's answer), and the one classifier that
//! decides what each answer or failure means (retried, refused, trusted).

pub(crate) mod body;
pub(crate) mod classify;
pub(crate) mod client;
pub(crate) mod deployment;
pub(crate) mod failure;
pub(crate) mod fields;
pub(crate) mod job;
pub(crate) mod resource;
pub(crate) mod tls;
