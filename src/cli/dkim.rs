//! `courtesy dkim`: key management for re-signing rewritten mail.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::dkim::{KeyAlgorithm, keys};

/// Arguments of `courtesy dkim`.
#[derive(Debug, clap::Args)]
pub struct DkimArgs {
    #[command(subcommand)]
    command: DkimCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DkimCommand {
    /// Generate a signing key pair and print the DNS TXT record to publish.
    Keygen(KeygenArgs),
}

/// Arguments of `courtesy dkim keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// The signing domain (`d=`), e.g. hoekstra-advies.nl.
    #[arg(long)]
    domain: String,
    /// The selector, e.g. courtesy2026; the record goes to SELECTOR._domainkey.DOMAIN.
    #[arg(long)]
    selector: String,
    /// Key algorithm; ed25519 is not yet verified by every receiver, so sign with rsa as well.
    #[arg(long, value_enum, default_value = "rsa")]
    algorithm: AlgorithmArg,
    /// RSA key size in bits (2048 to 8192).
    #[arg(long, default_value_t = 2048)]
    bits: usize,
    /// Folder for DOMAIN.SELECTOR.key (mode 0600) and DOMAIN.SELECTOR.txt.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AlgorithmArg {
    Rsa,
    Ed25519,
}

/// Runs `courtesy dkim`.
pub fn run(args: DkimArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DkimCommand::Keygen(args) => keygen(args),
    }
}

fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let domain = args.domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let selector = args.selector.trim().to_string();
    let label_ok = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    anyhow::ensure!(label_ok(&domain), "--domain {:?} is not a domain name", args.domain);
    anyhow::ensure!(label_ok(&selector), "--selector {:?} is not a DNS label", args.selector);
    let algorithm = match args.algorithm {
        AlgorithmArg::Rsa => KeyAlgorithm::Rsa,
        AlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
    };
    let key = keys::generate(algorithm, args.bits)?;
    let files = keys::write_files(&args.out_dir, &domain, &selector, &key)
        .context("cannot write the key pair")?;
    let line =
        keys::dns_zone_line(&domain, &selector, &keys::dns_record(algorithm, &key.public_key));
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    let mut stderr = std::io::stderr().lock();
    writeln!(stderr, "private key: {} (mode 0600)", files.private_key.display())?;
    writeln!(stderr, "DNS record:  {}", files.dns_record.display())?;
    writeln!(
        stderr,
        "Publish the record above, then add to the dkim: section:\n  {domain}:\n    selector: {selector}\n    key: {}\n    on_signed: resign",
        files.private_key.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
