//! The engine behind the milter protocol, for Postfix and Sendmail.
