//! The service configuration shared by the relay and the milter.
