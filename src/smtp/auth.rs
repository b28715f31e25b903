//! SMTP AUTH users: a file of `user:PHC-hash` lines with argon2 hashes, as
//! `argon2` tools print them. Verification is slow by design, so it runs on
//! a blocking thread; failures are paced by the connection task.

use std::collections::HashMap;
use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordVerifier};

/// Errors reading the users file.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `user:hash` with a valid PHC string.
    #[error("{path}:{line}: {reason}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The users allowed to authenticate.
#[derive(Debug, Clone, Default)]
pub struct Users {
    hashes: HashMap<String, String>,
}

impl Users {
    /// Reads the users file; blank lines and `#` comments are skipped.
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| UsersError::Read { path: path.display().to_string(), source })?;
        Users::parse(&text, &path.display().to_string())
    }

    /// Parses users-file text; `label` names the file in errors.
    pub fn parse(text: &str, label: &str) -> Result<Users, UsersError> {
        let mut hashes = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: &str| UsersError::Line {
                path: label.to_string(),
                line: i + 1,
                reason: reason.to_string(),
            };
            let (user, hash) = line.split_once(':').ok_or_else(|| err("expected `user:hash`"))?;
            PasswordHash::new(hash).map_err(|_| err("not an argon2 PHC hash ($argon2id$...)"))?;
            if hashes.insert(user.to_string(), hash.to_string()).is_some() {
                return Err(err("user listed twice"));
            }
        }
        Ok(Users { hashes })
    }

    /// Whether the password is right. Unknown users cost a hash too, so
    /// timing does not tell which user names exist.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0n6hHz5tKjVq3o3Ufy6w7m2J3Lw9B0hM2c9g6nHqY2Q";
        let (hash, known) = match self.hashes.get(user) {
            Some(h) => (h.as_str(), true),
            None => (DUMMY, false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else { return false };
        let ok = argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        ok && known
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, SaltString};

    use super::*;

    fn hash(pw: &str) -> String {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        argon2::Argon2::default().hash_password(pw.as_bytes(), &salt).unwrap().to_string()
    }

    #[test]
    fn verifies_known_users_only() {
        let text = format!("# users\nann:{}\n\nbob:{}\n", hash("s3cret"), hash("other"));
        let users = Users::parse(&text, "users").unwrap();
        assert!(users.verify("ann", "s3cret"));
        assert!(!users.verify("ann", "wrong"));
        assert!(!users.verify("carol", "s3cret"));
    }

    #[test]
    fn bad_lines_have_line_numbers() {
        let err = Users::parse("\nann:plaintext\n", "users").unwrap_err().to_string();
        assert_eq!(err, "users:2: not an argon2 PHC hash ($argon2id$...)");
        let err = Users::parse("ann\n", "users").unwrap_err().to_string();
        assert!(err.contains("users:1"), "{err}");
    }
}
